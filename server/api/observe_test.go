package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/server/api"
	"fhirlink/server/bulk"
	"fhirlink/server/fhirlinktest"
	"fhirlink/server/quota"
)

const (
	routeSearch = "/integrator/sites/:siteId/fhir/R4/:type"
	routeRead   = "/integrator/sites/:siteId/fhir/R4/:type/:id"
)

// TestMetricsThroughTheTunnel scrapes a real server's /metrics after real
// requests through the tunnel: a FHIR search (200) and a read of an
// unknown patient (404) counted under their route patterns, an unknown
// path under "unmatched", a quota refusal under its integrator, an async
// query queued and ended, and the connected agent counted until it stops.
func TestMetricsThroughTheTunnel(t *testing.T) {
	env := quotaEnv(t, func(s *api.Server) { s.Limits = quota.Limits{DailyQueries: 3} })
	m := fhirlinktest.Scrape(t, env.MetricsURL())
	if v, _ := m.Value("fhirlink_agents_connected"); v != 1 {
		t.Fatalf("agents connected = %v, want 1", v)
	}
	if _, ok := m.Value("fhirlink_agent_queries_queued", "site", env.SiteID); !ok {
		t.Errorf("no queue gauge for the connected site")
	}
	if _, ok := m.Value("go_goroutines"); !ok {
		t.Errorf("no Go runtime metrics")
	}

	status, _, b := env.FHIR(http.MethodGet, "Patient?_count=2", "")
	if status != http.StatusOK {
		t.Fatalf("search: %d %s", status, b)
	}
	fhirvalidate.Bundle(t, b)
	if status, _, b = env.FHIR(http.MethodGet, "Patient/999999999", ""); status != http.StatusNotFound {
		t.Fatalf("read of an unknown patient: %d %s", status, b)
	}
	fhirvalidate.Resources(t, b)
	if status, _, _, _ := env.Do(t.Context(), http.MethodGet, env.URL()+"/no/such/path/123", env.Key, nil); status != http.StatusNotFound {
		t.Fatalf("unknown path: %d", status)
	}
	createAsync(t, env, fhirlinktest.Command("SELECT 1 AS one")) // the third query of the day
	if status, _, b = env.FHIR(http.MethodGet, "Patient?_count=2", ""); status != http.StatusTooManyRequests {
		t.Fatalf("over the daily quota: %d %s", status, b)
	}
	fhirvalidate.Resources(t, b)

	want := []struct {
		name   string
		labels []string
		value  float64
	}{
		{"fhirlink_http_requests_total", []string{"route", routeSearch, "method", "GET", "code", "200"}, 1},
		{"fhirlink_http_requests_total", []string{"route", routeRead, "method", "GET", "code", "404"}, 1},
		{"fhirlink_http_requests_total", []string{"route", "unmatched", "code", "404"}, 1},
		{"fhirlink_http_requests_total", []string{"route", routeSearch, "code", "429"}, 1},
		{"fhirlink_http_request_duration_seconds", []string{"route", routeSearch, "class", "2xx"}, 1},
		{"fhirlink_http_request_duration_seconds", []string{"route", routeRead, "class", "4xx"}, 1},
		{"fhirlink_quota_refusals_total", []string{"integrator", env.IntegratorID, "limit", "daily"}, 1},
		{"fhirlink_jobs_queued_total", []string{"kind", "async"}, 1},
		{"fhirlink_jobs_ended_total", []string{"kind", "async", "state", "successful"}, 1},
		{"fhirlink_jobs_running", []string{"kind", "async"}, 0},
	}
	// A request is recorded once its answer is complete, a moment after
	// the client has it; the async query ends in its own time.
	waittest.For(t, 15*time.Second, "the metrics to count the requests", func() bool {
		m = fhirlinktest.Scrape(t, env.MetricsURL())
		for _, w := range want {
			if v, _ := m.Value(w.name, w.labels...); v != w.value {
				return false
			}
		}
		return true
	})
	for name := range m {
		if strings.Contains(name, env.SiteID) {
			t.Errorf("a site id in a metric name: %s", name)
		}
	}
	if _, ok := m.Value("fhirlink_http_requests_total", "route", "/no/such/path/123"); ok {
		t.Errorf("a raw path became a route label")
	}

	env.StopAgent()
	waittest.For(t, 15*time.Second, "the stopped agent to leave the metrics", func() bool {
		m := fhirlinktest.Scrape(t, env.MetricsURL())
		v, _ := m.Value("fhirlink_agents_connected")
		_, queued := m.Value("fhirlink_agent_queries_queued", "site", env.SiteID)
		return v == 0 && !queued
	})
}

// TestExportJobMetricsAndRequestID runs an export: it is counted queued,
// running and completed, and its queries reach the agent under the
// kick-off's request id.
func TestExportJobMetricsAndRequestID(t *testing.T) {
	dsn, _ := bpPractice(t)
	var agentLog fhirlinktest.LogBuffer
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "postgres", DSN: dsn, AgentLog: &agentLog, Configure: func(s *api.Server) {
		s.Exports = &bulk.Manager{PollInterval: exportPoll}
	}})
	status, h, b := env.FHIR(http.MethodGet, "$export?_type=Practitioner", "", "Prefer", "respond-async", api.RequestIDHeader, "export-kick-1")
	if status != http.StatusAccepted {
		t.Fatalf("kick-off: %d %s", status, b)
	}
	if m := awaitExport(t, env, h.Get("Content-Location")); len(m.Output) == 0 {
		t.Fatalf("no output: %+v", m)
	}
	waittest.For(t, 10*time.Second, "the export counted queued and completed", func() bool {
		m := fhirlinktest.Scrape(t, env.MetricsURL())
		q, _ := m.Value("fhirlink_jobs_queued_total", "kind", "export")
		e, _ := m.Value("fhirlink_jobs_ended_total", "kind", "export", "state", "completed")
		r, _ := m.Value("fhirlink_jobs_running", "kind", "export")
		return q == 1 && e == 1 && r == 0
	})
	if agentLine(agentLog.String(), "export-kick-1") == "" {
		t.Errorf("no agent log line of the export's queries under the kick-off's request id:\n%s", agentLog.String())
	}
}

// TestAgentQueueInMetrics fills a one-slot agent with a running and a
// queued query and reads both in the site's gauges, which follow the
// agent's status heartbeats, until the queries are cancelled.
func TestAgentQueueInMetrics(t *testing.T) {
	env, db := start(t, fhirlinktest.Options{Concurrency: 1, StatusInterval: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	sleep := func(tag string) {
		defer wg.Done()
		rows, err := env.Hub.Query(ctx, env.SiteID, wire.QueryRequest{Text: "SELECT pg_sleep(30) /* " + tag + " */", Mode: wire.ModeReader,
			Type: wire.CommandText, Priority: wire.PriorityInteractive, TimeoutMS: 30000, MaxTimeInQueueMS: 30000})
		if err == nil {
			for rows.Next() {
			}
			rows.Close()
		}
	}
	wg.Add(2)
	go sleep("first")
	waittest.For(t, 10*time.Second, "the first query to run in the database", func() bool {
		return activeQueries(t, db, "%/* first */%") > 0
	})
	go sleep("second")
	gauges := func(running, queued float64) func() bool {
		return func() bool {
			m := fhirlinktest.Scrape(t, env.MetricsURL())
			r, _ := m.Value("fhirlink_agent_queries_running", "site", env.SiteID)
			q, _ := m.Value("fhirlink_agent_queries_queued", "site", env.SiteID)
			return r == running && q == queued
		}
	}
	waittest.For(t, 10*time.Second, "the metrics to show 1 query running and 1 queued at the agent", gauges(1, 1))
	cancel()
	waittest.For(t, 10*time.Second, "the metrics to show the agent idle", gauges(0, 0))
}

// TestRequestIDInServerAndAgentLogs sends requests with and without a
// usable X-Request-Id through the real tunnel and finds the id in the
// answer, in the server's JSON log line of the request and in the agent's
// log line of the query it ran.
func TestRequestIDInServerAndAgentLogs(t *testing.T) {
	var serverLog, agentLog fhirlinktest.LogBuffer
	env, _ := start(t, fhirlinktest.Options{ServerLog: &serverLog, AgentLog: &agentLog})

	cases := []struct {
		name, sent string
		kept       bool
	}{
		{"sane id kept", "req-7f3a.42:abc_DEF", true},
		{"spaces replaced", "not a sane id", false},
		{"too long replaced", strings.Repeat("a", 129), false},
		{"none made", "", false},
	}
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var header []string
			if c.sent != "" {
				header = []string{api.RequestIDHeader, c.sent}
			}
			status, h, b, err := env.Do(t.Context(), http.MethodPost, env.SiteURL()+"/queries/immediate", env.Key,
				fhirlinktest.Command("SELECT surname FROM patients ORDER BY id"), header...)
			if err != nil || status != http.StatusOK {
				t.Fatalf("query: %d %v %s", status, err, b)
			}
			id := h.Get(api.RequestIDHeader)
			switch {
			case c.kept && id != c.sent:
				t.Fatalf("answered request id %q, want the client's %q", id, c.sent)
			case !c.kept && !generated.MatchString(id):
				t.Fatalf("answered request id %q, want a generated one (32 hex digits)", id)
			}
			waittest.For(t, 10*time.Second, "the request's log lines", func() bool {
				return serverLine(serverLog.String(), id) != nil && agentLine(agentLog.String(), id) != ""
			})
			line := serverLine(serverLog.String(), id)
			if line["route"] != "/integrator/sites/:siteId/queries/immediate" || line["status"] != float64(200) || line["site"] != env.SiteID {
				t.Errorf("server log line %v", line)
			}
			if a := agentLine(agentLog.String(), id); !strings.Contains(a, " rows=2 ") {
				t.Errorf("agent log line %q: want rows=2", a)
			}
			if strings.Contains(serverLog.String(), "SELECT surname") || strings.Contains(agentLog.String(), "SELECT surname") {
				t.Errorf("SQL text in a log")
			}
		})
	}

	// An async query runs later, without a request, under the id of the
	// request that submitted it.
	status, h, b := do(t, env, http.MethodPost, "/queries/async", fhirlinktest.Command("SELECT surname FROM patients ORDER BY id"),
		api.RequestIDHeader, "async-submit-1")
	if status != http.StatusCreated || h.Get(api.RequestIDHeader) != "async-submit-1" {
		t.Fatalf("async: %d %q %s", status, h.Get(api.RequestIDHeader), b)
	}
	waittest.For(t, 15*time.Second, "the async query's agent log line", func() bool {
		return agentLine(agentLog.String(), "async-submit-1") != ""
	})
}

// serverLine is the server's JSON log line of the request id, or nil.
func serverLine(log, id string) map[string]any {
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "request" && line["requestId"] == id {
			return line
		}
	}
	return nil
}

// agentLine is the agent's text log line of a query under the request id.
func agentLine(log, id string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, " msg=query ") && strings.Contains(l, " requestId="+id+" ") {
			return l
		}
	}
	return ""
}

// TestRequestIDInAuditRecords: each audit record keeps its request's id,
// the client's or the one the server made, and the practice's audit API
// returns it, so the record, the logs and the answer's header meet.
func TestRequestIDInAuditRecords(t *testing.T) {
	env, _ := start(t, fhirlinktest.Options{})
	ids := map[string]string{} // request id → path
	for _, sent := range []string{"audit-req-1", ""} {
		var header []string
		if sent != "" {
			header = []string{api.RequestIDHeader, sent}
		}
		status, h, b, err := env.Do(t.Context(), http.MethodGet, env.SiteURL()+"/fhir/R4/metadata", env.Key, nil, header...)
		if err != nil || status != http.StatusOK {
			t.Fatalf("metadata: %d %v %s", status, err, b)
		}
		ids[h.Get(api.RequestIDHeader)] = "/integrator/sites/" + env.SiteID + "/fhir/R4/metadata"
	}
	if _, ok := ids["audit-req-1"]; !ok || len(ids) != 2 {
		t.Fatalf("answered ids %v", ids)
	}
	if err := env.API.FlushAudit(t.Context()); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, env.URL()+api.PathAgentAudit, nil)
	req.SetBasicAuth(env.SiteID, "site-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Records []struct{ Path, RequestID string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("audit: %d %v", resp.StatusCode, err)
	}
	for _, r := range got.Records {
		if p, ok := ids[r.RequestID]; ok && p == r.Path {
			delete(ids, r.RequestID)
		}
	}
	if len(ids) != 0 {
		t.Fatalf("no audit record with request ids %v in %+v", ids, got.Records)
	}
}
