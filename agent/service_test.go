package agent_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"fhirlink/agent"
	"fhirlink/agent/executor"
	"fhirlink/agent/fbtest"
	"fhirlink/agent/grants"
	"fhirlink/agent/pgtest"
	"fhirlink/agent/tunnel"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/fhirlinktest"
	"fhirlink/server/hub"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	fbtest.Stop()
	os.Exit(code)
}

// sqliteFile returns a small SQLite practice database.
func sqliteFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "practice.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE patients (id INTEGER PRIMARY KEY, surname TEXT); INSERT INTO patients VALUES (1, 'Smith');`); err != nil {
		t.Fatal(err)
	}
	return path
}

// running is an agent run by a test.
type running struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // Run's error, once done
}

// runAgent runs an agent for env's site with secret until the test ends or
// its cancel is called.
func runAgent(t *testing.T, env *fhirlinktest.Env, secret string, mod func(*agent.Config)) *running {
	t.Helper()
	cfg := agent.Config{ServerURL: env.URL(), SiteID: env.SiteID, Secret: secret,
		Database:     executor.Config{Engine: "sqlite", Catalogues: []executor.Catalogue{{Name: "BPSPatients", DSN: sqliteFile(t)}}},
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	a, err := agent.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer a.Close()
		r.err = a.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(40 * time.Second):
			t.Error("agent did not stop")
		}
	})
	return r
}

// wait waits for Run to return and gives its error.
func (r *running) wait(t *testing.T, what string) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(15 * time.Second):
		t.Fatalf("%s: the agent kept running", what)
		return nil
	}
}

func newCode(t *testing.T, env *fhirlinktest.Env, expires time.Time) string {
	t.Helper()
	code, hash := server.NewEnrollmentCode()
	if err := env.Store.CreateEnrollmentCode(context.Background(), env.SiteID, hash, expires); err != nil {
		t.Fatal(err)
	}
	return code
}

// TestEnrollment goes through the real server: a code gives a fresh
// credential that retires the old one at once (its session is closed and it
// cannot reconnect), a code works once, and expired or unknown codes are
// refused with a message saying so.
func TestEnrollment(t *testing.T) {
	ctx := context.Background()
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "sqlite", DSN: sqliteFile(t)})
	env.StopAgent() // the harness's agent is replaced by ones under the test's control
	old := runAgent(t, env, "site-secret", nil)
	env.WaitAvailability(hub.Online)

	code := newCode(t, env, time.Now().Add(time.Hour))
	res, err := agent.Enroll(ctx, env.URL(), strings.ToLower(code), "practice-server", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.SiteID != env.SiteID || res.Secret == "" || res.Name != "Test Practice" {
		t.Fatalf("enrollment = %+v", res)
	}
	// The agent holding the old credential was disconnected and is refused.
	if err := old.wait(t, "old credential"); !errors.Is(err, tunnel.ErrUnauthorized) {
		t.Fatalf("the agent with the old credential ended with %v, want ErrUnauthorized", err)
	}
	if err := env.API.AuthenticateAgent(ctx, env.SiteID, "site-secret"); err == nil {
		t.Fatal("the old secret still authenticates")
	}

	// The new credential connects.
	since := time.Now()
	fresh := runAgent(t, env, res.Secret, nil)
	env.WaitReconnected(since)

	// A code works once.
	if _, err := agent.Enroll(ctx, env.URL(), code, "", nil); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("reused code: %v", err)
	}
	// Expired and unknown codes.
	expired := newCode(t, env, time.Now().Add(-time.Second))
	if _, err := agent.Enroll(ctx, env.URL(), expired, "", nil); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired code: %v", err)
	}
	if _, err := agent.Enroll(ctx, env.URL(), "ABCD-EFGH-JKMN-PQRS-TVWX", "", nil); err == nil || !strings.Contains(err.Error(), "unknown enrollment code") {
		t.Fatalf("unknown code: %v", err)
	}
	// None of the refusals touched the credential in use.
	if err := env.API.AuthenticateAgent(ctx, env.SiteID, res.Secret); err != nil {
		t.Fatalf("a refused enrollment changed the credential: %v", err)
	}

	// Re-enrolling (a migrated practice server) retires the first new
	// credential the same way.
	res2, err := agent.Enroll(ctx, env.URL(), newCode(t, env, time.Now().Add(time.Hour)), "new-server", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.wait(t, "re-enrolled credential"); !errors.Is(err, tunnel.ErrUnauthorized) {
		t.Fatalf("the agent with the re-enrolled credential ended with %v", err)
	}
	since = time.Now()
	runAgent(t, env, res2.Secret, nil)
	env.WaitReconnected(since)
}

// TestPushedSettings: a concurrency the server pushes takes effect on the
// running agent: with one slot a second query cannot start, with two it can.
func TestPushedSettings(t *testing.T) {
	dsn := pgtest.DSN(t)
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "postgres", DSN: dsn, Concurrency: 1})
	db := openPG(t, dsn)
	ctx := context.Background()
	concurrent := func() (int, string) {
		hold := make(chan struct{})
		go func() {
			defer close(hold)
			env.Immediate(fhirlinktest.Command("SELECT pg_sleep(1)"))
		}()
		defer func() { <-hold }()
		waittest.For(t, 10*time.Second, "the first query to take the slot", func() bool { return active(t, db, "pg_sleep(1)") > 0 })
		status, q := env.Immediate(map[string]any{"command": map[string]any{"text": "SELECT 1"}, "maxTimeInQueue": 100})
		return status, q.Status
	}
	if status, st := concurrent(); status != http.StatusServiceUnavailable || st != "expiredInQueue" {
		t.Fatalf("with concurrency 1, a second query got %d %s", status, st)
	}
	got, err := env.Hub.PushSettings(ctx, env.SiteID, wire.Settings{Concurrency: 2})
	if err != nil || got.Concurrency != 2 {
		t.Fatalf("push: %+v, %v", got, err)
	}
	if status, st := concurrent(); status != http.StatusOK {
		t.Fatalf("with concurrency 2, a second query got %d %s", status, st)
	}
	// A timeout cap applies to the next query.
	if _, err := env.Hub.PushSettings(ctx, env.SiteID, wire.Settings{MaxTimeoutMS: 200}); err != nil {
		t.Fatal(err)
	}
	if status, q := env.Immediate(fhirlinktest.Command("SELECT pg_sleep(2)")); status == http.StatusOK || !strings.Contains(strings.ToLower(string(q.Raw)), "time") {
		t.Fatalf("a 2 s query under a 200 ms cap: %d %s", status, q.Raw)
	}
	if _, err := env.Hub.PushSettings(ctx, env.SiteID, wire.Settings{Concurrency: 1000}); err == nil {
		t.Fatal("an absurd concurrency was accepted")
	}
}

// TestDrainOnShutdown: a query running when shutdown starts completes if it
// ends within the drain bound; one that would not is cancelled at the bound,
// and the agent stops then.
func TestDrainOnShutdown(t *testing.T) {
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "postgres", DSN: pgtest.DSN(t)})
	env.StopAgent()
	dsn := pgtest.DSN(t)
	start := func() *running {
		since := time.Now()
		r := runAgent(t, env, "site-secret", func(c *agent.Config) {
			c.Database = executor.Config{Engine: "postgres", Catalogues: []executor.Catalogue{{Name: "BPSPatients", DSN: dsn}}}
			c.DrainTimeout = 1500 * time.Millisecond
		})
		env.WaitReconnected(since)
		return r
	}
	query := func(sql string) <-chan *fhirlinktest.QueryObject {
		ch := make(chan *fhirlinktest.QueryObject, 1)
		go func() {
			_, _, b, err := env.Do(context.Background(), http.MethodPost, env.SiteURL()+"/queries/immediate", env.Key, fhirlinktest.Command(sql))
			q := &fhirlinktest.QueryObject{}
			if err == nil {
				json.Unmarshal(b, q)
			}
			q.Raw = b
			ch <- q
		}()
		return ch
	}

	db := openPG(t, dsn)

	// Within the bound: completes.
	r := start()
	res := query("SELECT pg_sleep(0.8)")
	waittest.For(t, 10*time.Second, "the short query to run in PostgreSQL", func() bool { return active(t, db, "pg_sleep(0.8)") > 0 })
	shutdown := time.Now()
	r.cancel()
	if q := <-res; q.Status != "successful" {
		t.Fatalf("a query ending within the drain bound: %s", q.Raw)
	}
	if err := r.wait(t, "drain"); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(shutdown); d > 1400*time.Millisecond {
		t.Errorf("the agent took %s to stop after its only query ended", d)
	}

	// Beyond the bound: cancelled at the bound.
	r = start()
	res = query("SELECT pg_sleep(20)")
	waittest.For(t, 10*time.Second, "the long query to start in PostgreSQL", func() bool { return active(t, db, "pg_sleep(20)") > 0 })
	shutdown = time.Now()
	r.cancel()
	if err := r.wait(t, "drain"); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(shutdown); d < 1400*time.Millisecond || d > 5*time.Second {
		t.Errorf("the agent stopped %s after shutdown began, want about the 1.5 s bound", d)
	}
	if q := <-res; q.Status == "successful" {
		t.Fatalf("a query beyond the drain bound succeeded: %s", q.Raw)
	}
	// Cancelled in the database itself, not only abandoned.
	waittest.For(t, 5*time.Second, "the query beyond the drain bound to stop running in PostgreSQL", func() bool { return active(t, db, "pg_sleep(20)") == 0 })
}

// openPG opens dsn for watching what runs in PostgreSQL.
func openPG(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// active counts the statements running in PostgreSQL whose text contains
// fragment, other than this one.
func active(t *testing.T, db *sql.DB, fragment string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE strpos(query, $1) > 0 AND state = 'active' AND pid <> pg_backend_pid()`, fragment).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReconnectAfterNetworkLoss: the agent comes back by itself after its
// connection is cut, and serves queries again on the new session.
func TestReconnectAfterNetworkLoss(t *testing.T) {
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "sqlite", DSN: sqliteFile(t), Proxy: true})
	for i := range 2 {
		since := time.Now()
		env.Proxy.Cut()
		env.WaitReconnected(since)
		if status, q := env.Immediate(fhirlinktest.Command("SELECT surname FROM patients")); status != http.StatusOK || len(q.Rows(t)) != 1 {
			t.Fatalf("after cut %d: %d %s", i+1, status, q.Raw)
		}
	}
}

// TestDoctor checks a reachable and an unreachable database and server.
func TestDoctor(t *testing.T) {
	ctx := context.Background()
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "sqlite", DSN: sqliteFile(t)})
	good := agent.Config{ServerURL: env.URL(), SiteID: env.SiteID, Secret: "site-secret",
		Database: executor.Config{Engine: "sqlite", Catalogues: []executor.Catalogue{{Name: "BPSPatients", DSN: sqliteFile(t)}}}}
	checks := agent.Doctor(ctx, good, nil)
	verdicts := byName(checks)
	for _, name := range []string{"configuration", "database connection", "database read", "server reachable", "clock"} {
		if verdicts[name].Verdict != agent.OK {
			t.Errorf("%s: %+v", name, verdicts[name])
		}
	}
	if v := verdicts["TLS"]; v.Verdict != agent.Warn || !strings.Contains(v.Detail, "unencrypted") {
		t.Errorf("TLS over http://: %+v", v)
	}
	if agent.Failed(checks) {
		t.Fatalf("a healthy set-up failed: %+v", checks)
	}
	if _, ok := verdicts["database writes"]; ok {
		t.Error("a read-only agent reports on writes")
	}
	rw := good
	rw.Database.AllowWrites = true
	rw.WriteGrants = filepath.Join(t.TempDir(), "write-grants.json")
	if v := byName(agent.Doctor(ctx, rw, nil))["database writes"]; v.Verdict != agent.OK || !strings.Contains(v.Detail, "enabled") {
		t.Errorf("writes allowed: %+v", v)
	}
	if v := byName(agent.Doctor(ctx, rw, nil))["write grants"]; v.Verdict != agent.Warn || !strings.Contains(v.Fix, "grant-writes") {
		t.Errorf("writes allowed, nobody granted: %+v", v)
	}
	grants.Open(rw.WriteGrants).Grant("integrator-1")
	if v := byName(agent.Doctor(ctx, rw, nil))["write grants"]; v.Verdict != agent.OK || !strings.Contains(v.Detail, "integrator-1") ||
		!strings.Contains(v.Detail, "the web console may only revoke them") {
		t.Errorf("one integrator granted: %+v", v)
	}
	rw.ConsoleGrants = true
	if v := byName(agent.Doctor(ctx, rw, nil))["write grants"]; v.Verdict != agent.OK || !strings.Contains(v.Detail, "web console may grant writes too (--console-grants)") {
		t.Errorf("console grants on: %+v", v)
	}
	rw.ConsoleGrants = false
	os.WriteFile(rw.WriteGrants, []byte("{"), 0o644)
	if v := byName(agent.Doctor(ctx, rw, nil))["write grants"]; v.Verdict != agent.Fail {
		t.Errorf("unreadable grants: %+v", v)
	}

	// A closed port: nothing listens on it once the listener is closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	bad := good
	bad.ServerURL = "http://" + closed
	bad.Database = executor.Config{Engine: "postgres", Catalogues: []executor.Catalogue{{Name: "BPSPatients", DSN: "postgres://u:p@" + closed + "/db?connect_timeout=5"}}}
	checks = agent.Doctor(ctx, bad, nil)
	verdicts = byName(checks)
	if v := verdicts["database connection"]; v.Verdict != agent.Fail || v.Fix == "" {
		t.Errorf("unreachable database: %+v", v)
	}
	if v := verdicts["server reachable"]; v.Verdict != agent.Fail || v.Fix == "" {
		t.Errorf("unreachable server: %+v", v)
	}
	// A missing SQLite file is an unreachable database too (opened read-only).
	bad.Database = executor.Config{Engine: "sqlite", Catalogues: []executor.Catalogue{{Name: "X", DSN: filepath.Join(t.TempDir(), "missing.db")}}}
	if v := byName(agent.Doctor(ctx, bad, nil))["database connection"]; v.Verdict != agent.Fail {
		t.Errorf("missing SQLite file: %+v", v)
	}
	if !agent.Failed(checks) {
		t.Fatal("Failed is false with FAIL checks")
	}
}

// TestDoctorTLSAndClock: an unverifiable certificate fails the TLS check,
// a verified one passes with its details, and a server clock 5 minutes off
// is a warning.
func TestDoctorTLSAndClock(t *testing.T) {
	offset := 5 * time.Minute
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(wire.TimeResponse{Time: time.Now().Add(offset)})
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	ts.StartTLS()
	defer ts.Close()
	cfg := agent.Config{ServerURL: ts.URL, SiteID: "s", Secret: "x",
		Database: executor.Config{Engine: "sqlite", Catalogues: []executor.Catalogue{{Name: "BPSPatients", DSN: sqliteFile(t)}}}}
	ctx := context.Background()
	if v := byName(agent.Doctor(ctx, cfg, nil))["TLS"]; v.Verdict != agent.Fail || !strings.Contains(v.Detail, "certificate") || v.Fix == "" {
		t.Errorf("self-signed certificate: %+v", v)
	}
	checks := byName(agent.Doctor(ctx, cfg, ts.Client()))
	if v := checks["TLS"]; v.Verdict != agent.OK || !strings.Contains(v.Detail, "verified") {
		t.Errorf("trusted certificate: %+v", v)
	}
	if v := checks["clock"]; v.Verdict != agent.Warn || !strings.Contains(v.Detail, "behind") || !strings.Contains(v.Fix, "w32tm") {
		t.Errorf("clock 5 min behind: %+v", v)
	}
	offset = 2 * time.Second
	if v := byName(agent.Doctor(ctx, cfg, ts.Client()))["clock"]; v.Verdict != agent.OK {
		t.Errorf("clock 2 s off: %+v", v)
	}
}

// TestDoctorProxy: the server is reached through the proxy, and a proxy
// that does not answer is named as the failure.
func TestDoctorProxy(t *testing.T) {
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "sqlite", DSN: sqliteFile(t)})
	var proxied int
	var mu sync.Mutex
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied++
		mu.Unlock()
		out := r.Clone(r.Context())
		out.RequestURI = ""
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	cfg := agent.Config{ServerURL: env.URL(), SiteID: env.SiteID, Secret: "site-secret",
		Database: executor.Config{Engine: "sqlite", Catalogues: []executor.Catalogue{{Name: "BPSPatients", DSN: sqliteFile(t)}}}}
	via := func(u string) *http.Client {
		pu, _ := url.Parse(u)
		return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
	}
	checks := byName(agent.Doctor(context.Background(), cfg, via(proxy.URL)))
	if v := checks["proxy"]; v.Verdict != agent.OK || !strings.Contains(v.Detail, proxy.URL) {
		t.Errorf("proxy: %+v", v)
	}
	mu.Lock()
	n := proxied
	mu.Unlock()
	if checks["server reachable"].Verdict != agent.OK || n == 0 {
		t.Errorf("through the proxy (%d requests): %+v", n, checks["server reachable"])
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String()
	ln.Close()
	if v := byName(agent.Doctor(context.Background(), cfg, via(closed)))["proxy"]; v.Verdict != agent.Fail || !strings.Contains(v.Fix, "HTTPS_PROXY") {
		t.Errorf("a proxy that does not answer: %+v", v)
	}
}

func byName(checks []agent.Check) map[string]agent.Check {
	m := map[string]agent.Check{}
	for _, c := range checks {
		m[c.Name] = c
	}
	return m
}
