package api_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
)

// The benchmarks run each query directly with the driver and through
// server + tunnel + agent in alternation, so both see the same machine, and
// report medians and their ratio. Nothing is asserted: these machines are
// shared and noisy.

const tenKRows = `SELECT g AS id, 'patient ' || g AS name, (g * 1.25)::numeric(12,2) AS balance,
	DATE '2000-01-01' + g AS dob, g % 2 = 0 AS active, md5(g::text) AS hash
	FROM generate_series(1, 10000) g`

func BenchmarkOneRow(b *testing.B) {
	env, db := benchEnv(b)
	body := fhirlinktest.Command("SELECT 1 AS one")
	direct, through := measure(b, func() { scanAll(b, db, "SELECT 1 AS one") }, func() { postOK(b, env, body) })
	b.ReportMetric(us(median(direct)), "direct-p50-µs")
	b.ReportMetric(us(median(through)), "fhirlink-p50-µs")
	b.ReportMetric(us(median(through)-median(direct)), "added-p50-µs")
	b.ReportMetric(us(percentile(through, 99)-percentile(direct, 99)), "added-p99-µs")
}

func BenchmarkTenThousandRows(b *testing.B) {
	env, db := benchEnv(b)
	for _, mode := range []struct {
		name   string
		header []string
	}{{"json", nil}, {"ndjson", []string{"Accept", "application/x-ndjson"}}} {
		b.Run(mode.name, func(b *testing.B) {
			body := fhirlinktest.Command(tenKRows)
			direct, through := measure(b, func() { scanAll(b, db, tenKRows) }, func() { postOK(b, env, body, mode.header...) })
			b.ReportMetric(10000/median(direct).Seconds(), "direct-rows/s")
			b.ReportMetric(10000/median(through).Seconds(), "fhirlink-rows/s")
			b.ReportMetric(100*float64(median(direct))/float64(median(through)), "%-of-direct")
		})
	}
}

func benchEnv(b *testing.B) (*fhirlinktest.Env, *sql.DB) {
	dsn, db := practice(b)
	return fhirlinktest.Start(b, fhirlinktest.Options{Engine: "postgres", DSN: dsn}), db
}

// measure runs both functions b.N times, alternating, and returns their
// durations.
func measure(b *testing.B, direct, through func()) (d, t []time.Duration) {
	direct() // warm connections and caches
	through()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		direct()
		d = append(d, time.Since(start))
		start = time.Now()
		through()
		t = append(t, time.Since(start))
	}
	return d, t
}

func scanAll(b *testing.B, db *sql.DB, query string, args ...any) {
	rows, err := db.Query(query, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
}

// postOK posts an immediate query and reads the whole answer into a reused
// buffer, so the figures are the server's and not the test client's
// allocations.
func postOK(b *testing.B, env *fhirlinktest.Env, body any, header ...string) {
	req, _ := http.NewRequest(http.MethodPost, env.SiteURL()+"/queries/immediate", bytes.NewReader(mustJSON(b, body)))
	req.Header.Set(api.KeyHeader, env.Key)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	respBuf.Reset()
	if _, err := respBuf.ReadFrom(resp.Body); err != nil || resp.StatusCode != http.StatusOK ||
		(len(header) == 0 && !strings.Contains(string(respBuf.Bytes()[:min(respBuf.Len(), 400)]), `"successful"`)) {
		b.Fatalf("status %d %v %.300s", resp.StatusCode, err, respBuf.Bytes())
	}
}

var respBuf bytes.Buffer

func mustJSON(b *testing.B, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return j
}

func median(ds []time.Duration) time.Duration { return percentile(ds, 50) }

// percentile is the p-th percentile of ds (nearest rank).
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// reportRatios reports the p50 and p99 of both sides and their ratios.
func reportRatios(b *testing.B, direct, through []time.Duration) {
	for _, p := range []int{50, 99} {
		d, t := percentile(direct, p), percentile(through, p)
		q := strconv.Itoa(p)
		b.ReportMetric(us(d), "direct-p"+q+"-µs")
		b.ReportMetric(us(t), "fhirlink-p"+q+"-µs")
		b.ReportMetric(float64(t)/float64(d), "ratio-p"+q)
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
