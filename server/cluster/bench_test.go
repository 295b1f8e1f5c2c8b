package cluster

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"fhirlink/agent/pgtest"
	"fhirlink/server/api"
	"fhirlink/server/cluster/natstest"
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
	url := natstest.URL(b)
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
	p50 := medians(b, func() { post(b, env.URL(), env, body) }, func() { post(b, nodeB, env, body) })
	b.ReportMetric(float64(p50[0].Microseconds()), "holder-p50-µs")
	b.ReportMetric(float64(p50[1].Microseconds()), "routed-p50-µs")
	b.ReportMetric(float64((p50[1] - p50[0]).Microseconds()), "added-p50-µs")
}

func BenchmarkRoutedTenThousandRows(b *testing.B) {
	env, nodeB := benchNodes(b)
	body, _ := json.Marshal(fhirlinktest.Command(`SELECT g AS id, 'patient ' || g AS name, md5(g::text) AS hash FROM generate_series(1, 10000) g`))
	h := []string{"Accept", "application/x-ndjson"}
	p50 := medians(b, func() { post(b, env.URL(), env, body, h...) }, func() { post(b, nodeB, env, body, h...) })
	b.ReportMetric(10000/p50[0].Seconds(), "holder-rows/s")
	b.ReportMetric(10000/p50[1].Seconds(), "routed-rows/s")
	b.ReportMetric(100*p50[0].Seconds()/p50[1].Seconds(), "%-of-holder")
}

// medians runs each function b.N times, taking turns, after one warming
// run each, and returns the median duration of each.
func medians(b *testing.B, fns ...func()) []time.Duration {
	times := make([][]time.Duration, len(fns))
	for _, fn := range fns {
		fn()
	}
	b.ResetTimer()
	for range b.N {
		for i, fn := range fns {
			start := time.Now()
			fn()
			times[i] = append(times[i], time.Since(start))
		}
	}
	p50 := make([]time.Duration, len(fns))
	for i, d := range times {
		slices.Sort(d)
		p50[i] = d[len(d)/2]
	}
	return p50
}

func post(b *testing.B, base string, env *fhirlinktest.Env, body []byte, header ...string) {
	status, _, got, err := fhirlinktest.Do(context.Background(), http.MethodPost, base+"/integrator/sites/"+env.SiteID+"/queries/immediate", env.Key, body, header...)
	if err != nil || status != http.StatusOK || len(got) == 0 {
		b.Fatalf("status %d, %d bytes, %v", status, len(got), err)
	}
}
