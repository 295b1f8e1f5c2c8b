// Package metrics is the server's Prometheus instrumentation: every metric
// fhirlink exports is defined here, once, and the rest of the server reports
// to it through a few narrow hooks ([Metrics.ObserveRequest],
// [Metrics.QuotaRefused], [Metrics.AuditDropped], [Metrics.JobQueued],
// [Metrics.JobStarted], [Metrics.WatchAgents], [Metrics.CredentialReads]).
// Operators scrape it at /metrics on a listener of its own (fhirlink server
// --metrics-addr); the names and labels are documented in server/README.md.
//
// Each [Metrics] has its own registry rather than Prometheus's global one,
// so several servers in one process (tests, a demo) do not clash. A nil
// *Metrics is valid and records nothing, so the hooks need no checks.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Job kinds, the kind label of the job metrics.
const (
	JobAsync      = "async"      // async passthrough queries
	JobRegistered = "registered" // runs of registered queries
	JobExport     = "export"     // FHIR Bulk Data exports
)

// Quota limits, the limit label of fhirlink_quota_refusals_total.
const (
	LimitDaily = "daily" // the daily query or data quota at a site
	LimitRate  = "rate"  // the per-integrator rate limit
)

// RouteUnmatched is the route label of requests that matched no route
// (404s for unknown paths), so that raw URLs never become label values.
const RouteUnmatched = "unmatched"

// Buckets of the request latency histogram, in seconds: FHIR reads and
// small passthrough queries take milliseconds, searches with includes and
// large results seconds, and an immediate query may run up to its 60 s
// deadline.
var Buckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Agent is what a node knows of one agent session it holds, as of the
// agent's last status heartbeat.
type Agent struct {
	SiteID string
	// Running and Queued are the queries running on the practice database
	// and waiting for an execution slot in the agent.
	Running, Queued int
}

// Metrics holds a server node's metrics and their registry.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	quota        *prometheus.CounterVec
	auditDropped prometheus.Counter
	jobsQueued   *prometheus.CounterVec
	jobsRunning  *prometheus.GaugeVec
	jobsEnded    *prometheus.CounterVec
	credReads    prometheus.Counter

	agentsMu sync.Mutex
	agents   func() []Agent
}

// New returns a node's metrics on a registry of their own, with the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fhirlink_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fhirlink_http_request_duration_seconds",
			Help:    "Time from receiving an HTTP request to the end of its answer, by route pattern, method and status class (2xx, 4xx, ...).",
			Buckets: Buckets,
		}, []string{"route", "method", "class"}),
		quota: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fhirlink_quota_refusals_total",
			Help: "Requests refused with 429 by a daily quota or the rate limit, by integrator id and limit (daily, rate).",
		}, []string{"integrator", "limit"}),
		auditDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fhirlink_audit_records_dropped_total",
			Help: "Audit records dropped because the audit queue was full (the store could not keep up).",
		}),
		jobsQueued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fhirlink_jobs_queued_total",
			Help: "Jobs accepted by this node, by kind (async, export).",
		}, []string{"kind"}),
		jobsRunning: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fhirlink_jobs_running",
			Help: "Jobs running on this node now, by kind (async, registered, export).",
		}, []string{"kind"}),
		jobsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fhirlink_jobs_ended_total",
			Help: "Job runs that ended on this node, by kind and the state they ended in.",
		}, []string{"kind", "state"}),
		credReads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fhirlink_agent_credential_reads_total",
			Help: "State store reads made to re-check the credentials of the agents connected to this node.",
		}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.quota, m.auditDropped, m.jobsQueued, m.jobsRunning, m.jobsEnded, m.credReads,
		agentCollector{m},
	)
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveRequest records one answered HTTP request. route is the router's
// pattern (/integrator/sites/:siteId/fhir/R4/:type), never the raw path,
// or "" for a request that matched no route. A request that is not over
// yet (an agent's WebSocket session) must not be recorded.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = RouteUnmatched
	}
	method = boundedMethod(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method, strconv.Itoa(status/100)+"xx").Observe(d.Seconds())
}

// boundedMethod keeps the method label to the standard methods: a client
// can send any token as its method.
func boundedMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// QuotaRefused counts a request of integratorID refused by limit
// ([LimitDaily] or [LimitRate]). integratorID is an authenticated
// integrator's id: integrators are few (tens to hundreds), so the label
// stays bounded.
func (m *Metrics) QuotaRefused(integratorID, limit string) {
	if m == nil {
		return
	}
	m.quota.WithLabelValues(integratorID, limit).Inc()
}

// AuditDropped counts one audit record dropped from a full queue.
func (m *Metrics) AuditDropped() {
	if m == nil {
		return
	}
	m.auditDropped.Inc()
}

// CredentialReads counts n state store reads of the agents' credential
// sweep (server/hub): one a sweep, plus one per session re-validated.
func (m *Metrics) CredentialReads(n int) {
	if m == nil {
		return
	}
	m.credReads.Add(float64(n))
}

// JobQueued counts a job of kind accepted by this node.
func (m *Metrics) JobQueued(kind string) {
	if m == nil {
		return
	}
	m.jobsQueued.WithLabelValues(kind).Inc()
}

// JobStarted records that a job of kind started running on this node; call
// ended once with the state it ended in (a bounded set per kind: the
// passthrough statuses for async queries, completed or failed for exports).
func (m *Metrics) JobStarted(kind string) (ended func(state string)) {
	if m == nil {
		return func(string) {}
	}
	g := m.jobsRunning.WithLabelValues(kind)
	g.Inc()
	var once sync.Once
	return func(state string) {
		once.Do(func() {
			g.Dec()
			m.jobsEnded.WithLabelValues(kind, state).Inc()
		})
	}
}

// WatchAgents sets the function that lists the agent sessions this node
// holds; it is called at each scrape for fhirlink_agents_connected and the
// per-site queue gauges.
func (m *Metrics) WatchAgents(agents func() []Agent) {
	if m == nil {
		return
	}
	m.agentsMu.Lock()
	m.agents = agents
	m.agentsMu.Unlock()
}

var (
	agentsDesc = prometheus.NewDesc("fhirlink_agents_connected",
		"Agent sessions held by this node (sum over the nodes for a cluster's total).", nil, nil)
	queuedDesc = prometheus.NewDesc("fhirlink_agent_queries_queued",
		"Queries waiting for an execution slot in a site's agent, as of its last status heartbeat (every 60 s).", []string{"site"}, nil)
	runningDesc = prometheus.NewDesc("fhirlink_agent_queries_running",
		"Queries running on a site's practice database, as of its agent's last status heartbeat (every 60 s).", []string{"site"}, nil)
)

// agentCollector reads the agent sessions at scrape time, so a site's
// series go with its session and nothing has to be kept in step.
type agentCollector struct{ m *Metrics }

func (c agentCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- agentsDesc
	ch <- queuedDesc
	ch <- runningDesc
}

func (c agentCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.agentsMu.Lock()
	list := c.m.agents
	c.m.agentsMu.Unlock()
	var agents []Agent
	if list != nil {
		agents = list()
	}
	ch <- prometheus.MustNewConstMetric(agentsDesc, prometheus.GaugeValue, float64(len(agents)))
	for _, a := range agents {
		ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(a.Queued), a.SiteID)
		ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, float64(a.Running), a.SiteID)
	}
}
