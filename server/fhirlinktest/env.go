// Package fhirlinktest starts a whole fhirlink on loopback for tests: a
// server with its state store, and an agent connected to it through a real
// WebSocket tunnel, serving a real practice database. It keeps integration
// tests short.
package fhirlinktest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent"
	"fhirlink/agent/executor"
	"fhirlink/agent/grants"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/api"
	"fhirlink/server/hub"
	"fhirlink/server/metrics"
	"fhirlink/server/results"
	"fhirlink/server/sqlite"
)

// Options choose the practice database and the limits under test.
type Options struct {
	Engine string // postgres, sqlite, ...
	DSN    string
	// AllowWrites lets the site run nonQuery commands; the paired
	// integrator is granted writes (Env.GrantWrites) on both sides.
	AllowWrites bool
	// ConsoleGrants lets the console grant writes at the agent
	// (--console-grants).
	ConsoleGrants bool
	// Journal is the agent's execution journal file (default: in memory,
	// which a restarted agent does not keep).
	Journal     string
	Concurrency int
	// Limits of immediate queries (default: the documented ones).
	ImmediateTimeout  time.Duration
	ImmediateMaxBytes int64
	// KeepAlive and UnreachableAfter tune the tunnel's heartbeats,
	// StatusInterval the status heartbeats refreshing the agent's report.
	KeepAlive, UnreachableAfter, StatusInterval time.Duration
	// Proxy puts a [Proxy] between agent and server (Env.Proxy).
	Proxy bool
	// TimeZone is the practice's zone (default Australia/Sydney).
	TimeZone string
	// PMSType is the site's practice management system (default
	// BestPractice), which picks its FHIR mapping; Catalogue names its
	// database (default BPSPatients).
	PMSType, Catalogue string
	// Configure, when set, adjusts the API server before it serves (limits,
	// for instance).
	Configure func(*api.Server)
	// ServerLog and AgentLog, when set, receive the server's log as JSON
	// lines and the agent's as text lines (as fhirlink server and agent
	// write them by default), at level info. They must be safe for
	// concurrent writes.
	ServerLog, AgentLog io.Writer
}

// Env is a running server and agent. Everything stops in t.Cleanup.
type Env struct {
	t    testing.TB
	opt  Options
	addr string

	Store        server.Store
	Hub          *hub.Hub
	API          *api.Server
	SiteID       string
	IntegratorID string
	// Key is the paired integrator's key.
	Key string
	// Proxy relays the tunnel when Options.Proxy is set.
	Proxy *Proxy
	// Metrics are the server's, served at MetricsURL (each server restart
	// makes new ones, as a restarted process does).
	Metrics    *metrics.Metrics
	metricsURL string
	// Grants is the agent's record of write grants.
	Grants *grants.File

	mu          sync.Mutex
	srv         *http.Server
	agent       *agent.Agent
	agentCancel context.CancelFunc
	agentDone   chan struct{}
	// Results keeps async results, across server restarts.
	Results     *results.Dir
	stopWorkers func()
}

// Start starts a server on 127.0.0.1 and an agent for opt's database, pairs
// one integrator with the site and waits until the site is online.
func Start(t testing.TB, opt Options) *Env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &Env{t: t, opt: opt, Store: store, SiteID: uuid.NewString()}
	if err := store.CreateSite(ctx, &server.Site{ID: e.SiteID, Name: "Test Practice", PMSType: cmp.Or(opt.PMSType, wire.PMSBestPractice)}, server.HashSecret("site-secret")); err != nil {
		t.Fatal(err)
	}
	e.IntegratorID, e.Key = e.NewIntegrator(true)
	e.Grants = grants.Open(filepath.Join(t.TempDir(), "write-grants.json"))
	if opt.AllowWrites {
		e.GrantWrites(e.IntegratorID)
	}
	if e.Results, err = results.NewDir(filepath.Join(t.TempDir(), "results")); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	e.serve(ln)
	t.Cleanup(e.stopServer)
	if opt.Proxy {
		e.Proxy = newProxy(t, e.addr)
	}
	e.StartAgent()
	t.Cleanup(e.StopAgent)
	e.WaitAvailability(hub.Online)
	return e
}

// URL is the server's base URL.
func (e *Env) URL() string { return "http://" + e.addr }

// SiteURL is the base of the site's integrator API.
func (e *Env) SiteURL() string { return e.URL() + "/integrator/sites/" + e.SiteID }

// MetricsURL is where the server's metrics are served.
func (e *Env) MetricsURL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.metricsURL
}

func (e *Env) serve(ln net.Listener) {
	log := logger()
	if e.opt.ServerLog != nil {
		log = slog.New(server.LogHandler(slog.NewJSONHandler(e.opt.ServerLog, nil)))
	}
	m := metrics.New()
	e.API = &api.Server{Store: e.Store, Logger: log, Mappings: api.DefaultMappings(), Metrics: m,
		ImmediateTimeout: e.opt.ImmediateTimeout, ImmediateMaxBytes: e.opt.ImmediateMaxBytes}
	e.Hub = &hub.Hub{Authenticate: e.API.AuthenticateAgent, CredentialChanges: e.Store.CredentialChanges, Connected: e.API.SyncWriteGrants, Logger: log, Metrics: m,
		KeepAlive: e.opt.KeepAlive, UnreachableAfter: e.opt.UnreachableAfter, StatusInterval: e.opt.StatusInterval}
	e.API.Hub = e.Hub
	m.WatchAgents(e.Hub.Agents)
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	msrv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go msrv.Serve(mln)
	e.t.Cleanup(func() { msrv.Close() })
	e.API.Async.Results = e.Results
	if e.opt.Configure != nil {
		e.opt.Configure(e.API)
	}
	srv := &http.Server{Handler: e.API.Handler(), ReadHeaderTimeout: 10 * time.Second}
	stopWorkers := e.API.StartWorkers()
	go srv.Serve(ln)
	e.mu.Lock()
	e.srv, e.stopWorkers = srv, stopWorkers
	e.Metrics, e.metricsURL = m, "http://"+mln.Addr().String()+"/metrics"
	e.mu.Unlock()
}

func (e *Env) stopServer() {
	e.mu.Lock()
	srv, stopWorkers := e.srv, e.stopWorkers
	e.srv, e.stopWorkers = nil, nil
	e.mu.Unlock()
	if srv == nil {
		return
	}
	stopWorkers() // first: async queries running here are queued again
	e.Hub.Close()
	e.API.CloseExports()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if srv.Shutdown(ctx) != nil {
		srv.Close()
	}
	e.API.FlushAudit(ctx) // the audit writer ends with its queue
}

// RestartServer stops the server (dropping every agent session) and starts
// a new one on the same address with the same state.
func (e *Env) RestartServer() {
	e.t.Helper()
	e.stopServer()
	var ln net.Listener
	var err error
	// The old listener's port may linger for a moment after it closes.
	waittest.For(e.t, 5*time.Second, "the server's address "+e.addr+" to be free again", func() bool {
		ln, err = net.Listen("tcp", e.addr)
		return err == nil
	})
	e.serve(ln)
}

// StartAgent starts the site's agent.
func (e *Env) StartAgent() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	agentLog := logger()
	if e.opt.AgentLog != nil {
		agentLog = slog.New(slog.NewTextHandler(e.opt.AgentLog, nil))
	}
	serverURL := e.URL()
	if e.Proxy != nil {
		serverURL = "http://" + e.Proxy.Addr()
	}
	a, err := agent.New(ctx, agent.Config{
		ServerURL: serverURL, SiteID: e.SiteID, Secret: "site-secret", KeepAlive: e.opt.KeepAlive, Journal: e.opt.Journal,
		WriteGrants: e.Grants.Path(), ConsoleGrants: e.opt.ConsoleGrants,
		Database: executor.Config{Engine: e.opt.Engine, AllowWrites: e.opt.AllowWrites,
			Catalogues: []executor.Catalogue{{Name: cmp.Or(e.opt.Catalogue, "BPSPatients"), DSN: e.opt.DSN, IsDefault: true}}},
		Concurrency: e.opt.Concurrency, TimeZone: e.opt.TimeZone,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
		// Tests stop agents with queries still running (pg_sleep): drain
		// briefly, well inside StopAgent's bound.
		DrainTimeout: 2 * time.Second,
		Logger:       agentLog,
	})
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer a.Close()
		a.Run(ctx)
	}()
	e.mu.Lock()
	e.agent, e.agentCancel, e.agentDone = a, cancel, done
	e.mu.Unlock()
}

// AgentLoad reports how many queries run in the site's agent and how many
// wait for an execution slot, so that a test can wait for a query to be
// queued. It is zero while no agent was started.
func (e *Env) AgentLoad() (running, queued int) {
	e.mu.Lock()
	a := e.agent
	e.mu.Unlock()
	if a == nil {
		return 0, 0
	}
	return a.Load()
}

// StopAgent stops the agent, closing its session cleanly.
func (e *Env) StopAgent() {
	e.mu.Lock()
	cancel, done := e.agentCancel, e.agentDone
	e.agentCancel = nil
	e.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		e.t.Error("agent did not stop within 10 s")
	}
}

// WaitAvailability waits (at most 15 s) until the site has the given
// availability.
func (e *Env) WaitAvailability(want string) {
	e.t.Helper()
	waittest.For(e.t, 15*time.Second, "the site's availability to become "+want, func() bool {
		return e.Hub.Status(e.SiteID).Availability == want
	})
}

// WaitReconnected waits (at most 15 s) until the site is online on a
// session that opened after since.
func (e *Env) WaitReconnected(since time.Time) {
	e.t.Helper()
	waittest.For(e.t, 15*time.Second, "the site to be online on a new session", func() bool {
		st := e.Hub.Status(e.SiteID)
		return st.Availability == hub.Online && st.ConnectedAt.After(since)
	})
}

// NewIntegrator creates an integrator, paired with the site or not, and
// returns its id and primary key.
func (e *Env) NewIntegrator(paired bool) (id, key string) {
	e.t.Helper()
	ctx := context.Background()
	id = uuid.NewString()
	if err := e.Store.CreateIntegrator(ctx, &server.Integrator{ID: id, Name: "Integrator " + id[:8]}); err != nil {
		e.t.Fatal(err)
	}
	key, hash := server.NewSecret()
	if err := e.Store.SetIntegratorKey(ctx, id, server.KeyPrimary, hash); err != nil {
		e.t.Fatal(err)
	}
	if paired {
		if err := e.Store.Pair(ctx, id, e.SiteID); err != nil {
			e.t.Fatal(err)
		}
	}
	return id, key
}

// GrantWrites grants the integrator writes at the site, in the agent's
// record and the server's, as 'fhirlink agent grant-writes' does.
func (e *Env) GrantWrites(integratorID string) {
	e.t.Helper()
	if err := e.Grants.Grant(integratorID); err != nil {
		e.t.Fatal(err)
	}
	if err := e.Store.GrantWrites(context.Background(), integratorID, e.SiteID); err != nil {
		e.t.Fatal(err)
	}
}

// Do sends a request with the key (if not empty) and returns the status and
// body. A body that is not []byte or string is sent as JSON.
func (e *Env) Do(ctx context.Context, method, url, key string, body any, header ...string) (int, http.Header, []byte, error) {
	return Do(ctx, method, url, key, body, header...)
}

// Do sends a request to any server (several nodes, a load balancer) as
// [Env.Do] does.
func Do(ctx context.Context, method, url, key string, body any, header ...string) (int, http.Header, []byte, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return 0, nil, nil, err
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, nil, nil, err
	}
	if key != "" {
		req.Header.Set(api.KeyHeader, key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json") // a header argument may override it
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// FHIR sends a FHIR request as the paired integrator to path under the
// site's FHIR base (or to an absolute URL, such as a next link) and returns
// the status, headers and body.
func (e *Env) FHIR(method, path string, body string, header ...string) (int, http.Header, []byte) {
	e.t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = e.SiteURL() + "/fhir/R4/" + strings.TrimPrefix(path, "/")
	}
	var b any
	if body != "" {
		b = body
		header = append(header, "Content-Type", "application/x-www-form-urlencoded")
	}
	status, h, resp, err := e.Do(context.Background(), method, u, e.Key, b, header...)
	if err != nil {
		e.t.Fatal(err)
	}
	return status, h, resp
}

// Immediate runs an immediate query as the paired integrator and decodes
// the answer.
func (e *Env) Immediate(body any) (int, *QueryObject) {
	e.t.Helper()
	status, _, b, err := e.Do(context.Background(), http.MethodPost, e.SiteURL()+"/queries/immediate", e.Key, body)
	if err != nil {
		e.t.Fatal(err)
	}
	var q QueryObject
	if err := json.Unmarshal(b, &q); err != nil {
		e.t.Fatalf("status %d, undecodable body %s: %v", status, b, err)
	}
	q.Raw = b
	return status, &q
}

// QueryObject is the passthrough API's query object as a client decodes it.
type QueryObject struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	StatusTiming map[string]struct {
		StartTime time.Time `json:"startTime"`
		EndTime   time.Time `json:"endTime"`
	} `json:"statusTiming"`
	Metrics *struct {
		SQLExecutionDuration int64 `json:"sqlExecutionDuration"`
	} `json:"metrics"`
	Result *struct {
		Rows         *int64 `json:"rows"`
		RowsAffected *int64 `json:"rowsAffected"`
		Size         int64  `json:"size"`
		Data         []byte `json:"data"`
		Columns      []struct {
			Name, Type, DBType string
		} `json:"columns"`
	} `json:"result"`
	ErrorDetails *struct {
		ErrorType    string `json:"errorType"`
		ErrorCode    int    `json:"errorCode"`
		ErrorMessage string `json:"errorMessage"`
		SQLState     string `json:"sqlState"`
	} `json:"errorDetails"`
	// Error is the request error shape.
	Error *struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
	Raw []byte `json:"-"`
}

// Rows decodes result.data as an array of row objects, keeping numbers
// exact.
func (q *QueryObject) Rows(t testing.TB) []map[string]any {
	t.Helper()
	if q.Result == nil {
		t.Fatalf("no result in %s", q.Raw)
	}
	dec := json.NewDecoder(bytes.NewReader(q.Result.Data))
	dec.UseNumber()
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("result.data %s: %v", q.Result.Data, err)
	}
	return rows
}

// Command builds a query request body.
func Command(text string, params ...map[string]any) map[string]any {
	cmd := map[string]any{"text": text}
	if len(params) > 0 {
		cmd["parameters"] = params
	}
	return map[string]any{"command": cmd}
}

func logger() *slog.Logger {
	if os.Getenv("FHIRLINK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
