package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fhirlink/agent/pgtest"
	"fhirlink/mappings/bppremier/bpsynth"
	"fhirlink/server/api"
	"fhirlink/server/bulk"
	"fhirlink/server/fhirlinktest"
)

// BenchmarkFHIRExport exports every type of the synthetic practice at
// 10,000 and at 50,000 patients through the whole path (kick-off, the
// server's worker, keyset pages through the tunnel, the agent and
// PostgreSQL, rows → resources → NDJSON files on disk, then the downloads)
// and reports resources per second and the peak heap. Server and agent
// run in this one test process: peak-heap-MB is the process's HeapInuse,
// sampled every 20 ms from kick-off to the last byte downloaded, so it
// covers both (and the database driver of the agent).
func BenchmarkFHIRExport(b *testing.B) {
	for _, size := range []struct {
		name string
		dsn  func(*testing.B) string
	}{
		{"10000-patients", func(b *testing.B) string { return practiceOf(b, 10000) }},
		{"50000-patients", bigPractice},
	} {
		b.Run(size.name, func(b *testing.B) {
			dsn := size.dsn(b)
			env := fhirlinktest.Start(b, fhirlinktest.Options{Engine: "postgres", DSN: dsn, Configure: func(s *api.Server) {
				s.Exports = &bulk.Manager{PollInterval: 100 * time.Millisecond}
			}})
			for b.Loop() {
				runtime.GC()
				var base runtime.MemStats
				runtime.ReadMemStats(&base)
				peak := sampleHeap()
				began := time.Now()
				m := benchExport(b, env)
				took := time.Since(began)
				var end runtime.MemStats
				runtime.ReadMemStats(&end)
				var resources int64
				for _, o := range m.Output {
					resources += o.Count
				}
				dlBegan := time.Now()
				var bytes int64
				for _, o := range m.Output {
					bytes += benchDownload(b, env, o.URL, o.Count)
				}
				dl := time.Since(dlBegan)
				maxHeap := peak()
				// Allocations are steady where timings are not: a change in
				// the per-resource work shows here first.
				b.ReportMetric(float64(end.Mallocs-base.Mallocs)/float64(resources), "allocs/resource")
				b.ReportMetric(float64(resources)/took.Seconds(), "resources/s")
				b.ReportMetric(float64(resources), "resources")
				b.ReportMetric(took.Seconds(), "export-s")
				b.ReportMetric(float64(bytes)/(1<<20)/dl.Seconds(), "download-MB/s")
				b.ReportMetric(float64(maxHeap)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(base.HeapInuse)/(1<<20), "heap-before-MB")
				b.Logf("%s: %d resources (%.0f MB NDJSON, %d files) in %v; downloads %v; heap in use %.0f MB before, peak %.0f MB during; process VmHWM %s",
					size.name, resources, float64(bytes)/(1<<20), len(m.Output), took.Round(time.Millisecond), dl.Round(time.Millisecond),
					float64(base.HeapInuse)/(1<<20), float64(maxHeap)/(1<<20), vmHWM())
			}
		})
	}
}

// practiceOf generates (once per size) a practice of n patients.
var practices sync.Map

func practiceOf(b *testing.B, n int) string {
	b.Helper()
	if dsn, ok := practices.Load(n); ok {
		return dsn.(string)
	}
	dsn := pgtest.DSN(keep{b})
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := bpsynth.Apply(ctx, db, "postgres"); err != nil {
		b.Fatal(err)
	}
	if err := bpsynth.Generate(ctx, db, "postgres", bpsynth.Options{Seed: 1, Patients: n}); err != nil {
		b.Fatal(err)
	}
	// VACUUM too: a practice's tables are long settled, where right after
	// the bulk load the first reads set hint bits and autovacuum runs
	// through the measurement.
	if _, err := db.Exec("VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	practices.Store(n, dsn)
	return dsn
}

// sampleHeap samples HeapInuse every 20 ms until the returned function is
// called, which returns the peak.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// benchExport runs an export of every type and returns its manifest.
func benchExport(b *testing.B, env *fhirlinktest.Env) *manifest {
	b.Helper()
	status, h, body := env.FHIR(http.MethodGet, "$export", "", "Prefer", "respond-async")
	if status != http.StatusAccepted {
		b.Fatalf("kick-off: %d %s", status, body)
	}
	loc := h.Get("Content-Location")
	for range 100000 {
		time.Sleep(100 * time.Millisecond)
		status, _, body, err := env.Do(context.Background(), http.MethodGet, loc, env.Key, nil)
		if err != nil {
			b.Fatal(err)
		}
		switch status {
		case http.StatusAccepted:
			continue
		case http.StatusOK:
			var m manifest
			if err := json.Unmarshal(body, &m); err != nil {
				b.Fatal(err)
			}
			if len(m.Error) > 0 {
				b.Fatalf("export errors: %s", body)
			}
			return &m
		}
		b.Fatalf("status: %d %s", status, body)
	}
	b.Fatal("export did not finish")
	return nil
}

// benchDownload streams a file, counting its lines, and returns its size.
func benchDownload(b *testing.B, env *fhirlinktest.Env, url string, want int64) int64 {
	b.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set(api.KeyHeader, env.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %s", url, resp.Status)
	}
	cr := &countingReader{r: resp.Body}
	n, err := readLines(cr)
	if err != nil || n != want {
		b.Fatalf("%s: %d lines (%v), manifest says %d", url, n, err, want)
	}
	return cr.n
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// vmHWM is the process's peak resident set (Linux), for the log.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
