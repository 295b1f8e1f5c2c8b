package cluster

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"fhirlink/agent/pgtest"
	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
	"fhirlink/server/hub"
)

// The benchmarks send the same passthrough request to the node holding the
// agent and to a second node that routes it there through NATS, in
// alternation so both see the same machine, and report medians. Nothing is
// asserted: these machines are shared and noisy.

// benchNodes is a fhirlinktest server (node a, holding the agent) and a
// second API node b on the same state store, both routing through one NATS
// server.
func benchNodes(b *testing.B) (env *fhirlinktest.Env, nodeB string) {
	url := startNATS(b)
	env = fhirlinktest.Start(b, fhirlinktest.Options{Engine: "postgres", DSN: pgtest.DSN(b),
		Configure: func(s *api.Server) {
			nc, err := Connect(url, "a", nil)
			if err != nil {
				b.Fatal(err)
			}
			r, err := New(s.Hub.(*hub.Hub), nc, Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { r.Close(); nc.Close() })
			s.Hub = r
		}})
	nb := startNode(b, url, Options{})
	srvB := httptest.NewServer((&api.Server{Store: env.Store, Mappings: api.DefaultMappings(), Hub: nb.r}).Handler())
	b.Cleanup(srvB.Close)
	waitStatus(b, nb, env.SiteID, hub.Online)
	return env, srvB.URL
}

func BenchmarkRoutedOneRow(b *testing.B) {
	env, nodeB := benchNodes(b)
	body, _ := json.Marshal(fhirlinktest.Command("SELECT 1 AS one"))
	holder, routed := alternate(b, func() { post(b, env.URL(), env, body) }, func() { post(b, nodeB, env, body) })
	b.ReportMetric(us(median(holder)), "holder-p50-µs")
	b.ReportMetric(us(median(routed)), "routed-p50-µs")
	b.ReportMetric(us(median(routed)-median(holder)), "added-p50-µs")
}

func BenchmarkRoutedTenThousandRows(b *testing.B) {
	env, nodeB := benchNodes(b)
	body, _ := json.Marshal(fhirlinktest.Command(`SELECT g AS id, 'patient ' || g AS name, md5(g::text) AS hash FROM generate_series(1, 10000) g`))
	h := []string{"Accept", "application/x-ndjson"}
	holder, routed := alternate(b, func() { post(b, env.URL(), env, body, h...) }, func() { post(b, nodeB, env, body, h...) })
	b.ReportMetric(10000/median(holder).Seconds(), "holder-rows/s")
	b.ReportMetric(10000/median(routed).Seconds(), "routed-rows/s")
	b.ReportMetric(100*float64(median(holder))/float64(median(routed)), "%-of-holder")
}

// alternate runs both functions b.N times, alternating, and returns their
// durations.
func alternate(b *testing.B, first, second func()) (f, s []time.Duration) {
	first() // warm connections and caches
	second()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		first()
		f = append(f, time.Since(start))
		start = time.Now()
		second()
		s = append(s, time.Since(start))
	}
	return f, s
}

func post(b *testing.B, base string, env *fhirlinktest.Env, body []byte, header ...string) {
	req, _ := http.NewRequest(http.MethodPost, base+"/integrator/sites/"+env.SiteID+"/queries/immediate", bytes.NewReader(body))
	req.Header.Set(api.KeyHeader, env.Key)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if n, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != http.StatusOK || n == 0 {
		b.Fatalf("status %d, %d bytes, %v", resp.StatusCode, n, err)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
