package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"fhirlink/server/fhirlinktest"
	"fhirlink/server/metrics"
)

// A nil *Metrics takes every hook and records nothing, so that code
// without metrics needs no checks.
func TestNilRecordsNothing(t *testing.T) {
	var m *metrics.Metrics
	m.ObserveRequest("/x", http.MethodGet, 200, time.Millisecond)
	m.QuotaRefused("i", metrics.LimitRate)
	m.AuditDropped()
	m.JobQueued(metrics.JobAsync)
	m.JobStarted(metrics.JobExport)("completed")
	m.WatchAgents(nil)
}

// Label values stay bounded whatever the client sends, a job's end is
// counted once however often it is reported, and two instances do not
// share series.
func TestBoundedLabelsAndOwnRegistry(t *testing.T) {
	m, other := metrics.New(), metrics.New()
	m.ObserveRequest("", "BREW", 404, time.Millisecond)
	m.ObserveRequest("/a/:id", http.MethodGet, 200, 3*time.Second)
	ended := m.JobStarted(metrics.JobExport)
	ended("completed")
	ended("completed")
	m.WatchAgents(func() []metrics.Agent { return []metrics.Agent{{SiteID: "s1", Running: 2, Queued: 5}} })

	got := scrape(t, m)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"fhirlink_http_requests_total", []string{"route", metrics.RouteUnmatched, "method", "other", "code", "404"}, 1},
		{"fhirlink_http_request_duration_seconds", []string{"route", "/a/:id", "class", "2xx"}, 1},
		{"fhirlink_jobs_ended_total", []string{"kind", "export", "state", "completed"}, 1},
		{"fhirlink_jobs_running", []string{"kind", "export"}, 0},
		{"fhirlink_agents_connected", nil, 1},
		{"fhirlink_agent_queries_running", []string{"site", "s1"}, 2},
		{"fhirlink_agent_queries_queued", []string{"site", "s1"}, 5},
	} {
		if v, ok := got.Value(c.name, c.labels...); !ok || v != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	if _, ok := got.Value("fhirlink_http_requests_total", "method", "BREW"); ok {
		t.Errorf("a client's method became a label value")
	}
	if v, _ := scrape(t, other).Value("fhirlink_http_requests_total"); v != 0 {
		t.Errorf("another instance counted %v requests", v)
	}
}

func scrape(t *testing.T, m *metrics.Metrics) fhirlinktest.Metrics {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	return fhirlinktest.Scrape(t, srv.URL)
}
