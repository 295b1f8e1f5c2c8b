package cluster

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/nats-io/nats.go"

	"fhirlink/agent"
	"fhirlink/agent/executor"
	"fhirlink/agent/pgtest"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/cluster/natstest"
	"fhirlink/server/fhirlinktest"
	"fhirlink/server/hub"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// testOptions are short keepalives, so silence is noticed in a fraction of
// a second.
var testOptions = Options{Ping: 100 * time.Millisecond}

// node is a server node: a hub agents dial on 127.0.0.1 and its router.
type node struct {
	hub *hub.Hub
	r   *Router
	nc  *nats.Conn
	url string
}

func startNode(t testing.TB, natsURL string, opt Options) *node {
	t.Helper()
	return startNodeKeepAlive(t, natsURL, opt, 200*time.Millisecond)
}

// startNodeKeepAlive starts a node whose hub heartbeats every keepAlive.
func startNodeKeepAlive(t testing.TB, natsURL string, opt Options, keepAlive time.Duration) *node {
	t.Helper()
	n := &node{hub: &hub.Hub{KeepAlive: keepAlive, UnreachableAfter: time.Second,
		Authenticate: func(_ context.Context, _, secret string) error {
			if secret != "secret" {
				return server.Errorf(server.EUNAUTHORIZED, "wrong site credential")
			}
			return nil
		}}}
	srv := httptest.NewServer(n.hub)
	t.Cleanup(srv.Close)
	n.url = srv.URL
	var err error
	if n.nc, err = Connect(natsURL, t.Name(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.nc.Close)
	if n.r, err = New(n.hub, n.nc, opt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.r.Close)
	t.Cleanup(n.hub.Close) // first: the sessions hold srv's handlers
	return n
}

// startAgent runs an agent of site on the PostgreSQL database dsn, dialling
// serverURL; stop ends it (closing its session cleanly).
func startAgent(t testing.TB, serverURL, site, dsn string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(ctx, agent.Config{ServerURL: serverURL, SiteID: site, Secret: "secret", WriteGrants: filepath.Join(t.TempDir(), "write-grants.json"),
		Database:     executor.Config{Engine: "postgres", AllowWrites: true, Catalogues: []executor.Catalogue{{Name: "practice", DSN: dsn, IsDefault: true}}},
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond, KeepAlive: 200 * time.Millisecond,
		DrainTimeout: time.Second})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer a.Close()
		a.Run(ctx)
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("agent did not stop within 10 s")
		}
	}
	t.Cleanup(stop)
	return stop
}

func waitStatus(t testing.TB, n *node, site, want string) hub.Status {
	t.Helper()
	var st hub.Status
	waittest.For(t, 15*time.Second, "site "+want, func() bool {
		st = n.r.Status(site)
		return st.Availability == want
	})
	return st
}

func reader(sql string) wire.QueryRequest {
	return wire.QueryRequest{ID: uuid.NewString(), Text: sql, Mode: wire.ModeReader, Type: wire.CommandText,
		Priority: wire.PriorityInteractive, MaxTimeInQueueMS: 5000, TimeoutMS: 60000}
}

// readAll reads every row, returning them joined by newlines.
func readAll(t testing.TB, rows server.Rows) ([]byte, wire.Trailer) {
	t.Helper()
	defer rows.Close()
	var b bytes.Buffer
	for rows.Next() {
		b.Write(rows.Row())
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), rows.Trailer()
}

// running reports how many statements containing marker run in the
// database now (other than the one asking).
func running(t testing.TB, db *sql.DB, marker string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`, marker).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pair is two nodes on one NATS, a site whose agent holds a session with a,
// and the practice database.
type pair struct {
	a, b *node
	site string
	dsn  string
	db   *sql.DB
	stop func()
}

func startPair(t *testing.T, opt Options) *pair {
	t.Helper()
	url := natstest.URL(t)
	p := &pair{a: startNode(t, url, opt), b: startNode(t, url, opt), site: uuid.NewString(), dsn: pgtest.DSN(t)}
	var err error
	if p.db, err = sql.Open("pgx", p.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.db.Close() })
	p.stop = startAgent(t, p.a.url, p.site, p.dsn)
	waitStatus(t, p.a, p.site, hub.Online)
	return p
}

// A query asked at the node that does not hold the agent answers exactly
// what the holder answers, and the site's status there is the holder's.
func TestQueryRoutedToTheHolder(t *testing.T) {
	p := startPair(t, testOptions)
	st := waitStatus(t, p.b, p.site, hub.Online)
	if local := p.a.hub.Status(p.site); st.Info.Engine != "postgres" || !st.ConnectedAt.Equal(local.ConnectedAt) || len(st.Info.Catalogues) != 1 {
		t.Fatalf("status at b %+v, want the holder's %+v", st, local)
	}
	if pres, _ := p.b.hub.Presence(p.site); pres != hub.Absent {
		t.Fatalf("b's hub has presence %v of a site it never held", pres)
	}
	q := reader("SELECT n, 'row ' || n AS label, n * 1.5 AS half FROM generate_series(1, 5000) AS n")
	ctx := context.Background()
	local, err := p.a.r.Query(ctx, p.site, q)
	if err != nil {
		t.Fatal(err)
	}
	wantRows, wantTr := readAll(t, local)
	routed, err := p.b.r.Query(ctx, p.site, q)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(routed.Header().Columns), fmt.Sprint(local.Header().Columns); got != want {
		t.Fatalf("routed columns %s, want %s", got, want)
	}
	gotRows, gotTr := readAll(t, routed)
	if !bytes.Equal(gotRows, wantRows) || gotTr.Rows != 5000 || gotTr.Rows != wantTr.Rows || gotTr.Bytes != wantTr.Bytes {
		t.Fatalf("routed answer: %d bytes, trailer %+v; local: %d bytes, trailer %+v", len(gotRows), gotTr, len(wantRows), wantTr)
	}

	// An agent's error before any row reaches the asker as the agent's.
	_, err = p.b.r.Query(ctx, p.site, reader("SELECT * FROM no_such_table"))
	if werr, ok := errors.AsType[*wire.Error](err); !ok || werr.Kind != wire.KindDatabase || werr.Code != "42P01" {
		t.Fatalf("routed query of a missing table: %v, want the agent's database error 42P01", err)
	}
	// A failure midway (division by zero at row 3) ends the rows with the
	// agent's error, after the rows before it.
	rows, err := p.b.r.Query(ctx, p.site, reader("SELECT 10 / (3 - n) AS q FROM generate_series(1, 5) AS n"))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
	}
	if werr, ok := errors.AsType[*wire.Error](rows.Err()); !ok || werr.Kind != wire.KindDatabase {
		t.Fatalf("error midway: %v, want the agent's database error", rows.Err())
	}
	rows.Close()
}

// An 8 MB answer flows through the two nodes a window at a time: while the
// asker reads nothing, the holder forwards no more than the window, and
// reading on gets every byte.
func TestRoutedAnswerFlowControl(t *testing.T) {
	p := startPair(t, testOptions)
	waitStatus(t, p.b, p.site, hub.Online)
	const rowsN = 8000 // ~1 KB each
	rows, err := p.b.r.Query(context.Background(), p.site, reader(fmt.Sprintf("SELECT n, repeat('x', 1000) AS pad FROM generate_series(1, %d) AS n", rowsN)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	holder := func() (sent, read int64) {
		t.Helper()
		p.a.r.mu.Lock()
		defer p.a.r.mu.Unlock()
		if len(p.a.r.flows) != 1 {
			t.Fatalf("the holder has %d streams, want 1: it forwarded the whole answer while the asker read nothing", len(p.a.r.flows))
		}
		for _, s := range p.a.r.flows {
			s.mu.Lock()
			sent, read = s.sent, s.read
			s.mu.Unlock()
		}
		return sent, read
	}
	window := int64(p.b.r.opt.Window)
	// The asker has read the header only (64 KB of buffer at most): the
	// holder fills the window and stops.
	waittest.For(t, 10*time.Second, "the holder to fill the window", func() bool {
		sent, read := holder()
		return sent >= read+window-chunkSize
	})
	time.Sleep(200 * time.Millisecond) // give a flow-control failure time to show
	sent, read := holder()
	if sent > read+window || sent >= rowsN*1000 {
		t.Fatalf("holder forwarded %d bytes while the asker had read %d: over the %d-byte window", sent, read, window)
	}
	var n int
	for rows.Next() {
		n++
	}
	if rows.Err() != nil || n != rowsN || rows.Trailer().Rows != rowsN {
		t.Fatalf("read %d rows, err %v, trailer %+v; want %d", n, rows.Err(), rows.Trailer(), rowsN)
	}
}

// A client that goes away at the asking node cancels the statement in the
// practice database behind the holder; so does the asker's deadline, and
// closing the rows midway. The keepalives are slow here, so what cancels is
// the asker's word, not its silence.
func TestRoutedCancellation(t *testing.T) {
	p := startPair(t, Options{Ping: time.Minute})
	waitStatus(t, p.b, p.site, hub.Online)

	t.Run("context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := p.b.r.Query(ctx, p.site, reader("SELECT pg_sleep(60) AS cancel_marker_1"))
			errc <- err
		}()
		waittest.For(t, 10*time.Second, "the statement running", func() bool { return running(t, p.db, "cancel_marker_1") == 1 })
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("query ended with %v, want context.Canceled", err)
		}
		waittest.For(t, 10*time.Second, "the statement cancelled in the database", func() bool { return running(t, p.db, "cancel_marker_1") == 0 })
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := p.b.r.Query(ctx, p.site, reader("SELECT pg_sleep(60) AS cancel_marker_2"))
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
			t.Fatalf("query ended with %v after %s, want the deadline after 500 ms", err, time.Since(start))
		}
		waittest.For(t, 10*time.Second, "the statement cancelled in the database", func() bool { return running(t, p.db, "cancel_marker_2") == 0 })
	})
	t.Run("rows closed midway", func(t *testing.T) {
		rows, err := p.b.r.Query(context.Background(), p.site, reader(
			// Rows of 100 KB: the agent flushes each as it is read.
			"SELECT n, repeat('x', 100000) AS pad, pg_sleep(0.01) AS cancel_marker_3 FROM generate_series(1, 100000) AS n"))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if !rows.Next() {
				t.Fatal(rows.Err())
			}
		}
		if running(t, p.db, "cancel_marker_3") != 1 {
			t.Fatal("statement not running while its rows stream")
		}
		rows.Close()
		waittest.For(t, 10*time.Second, "the statement cancelled in the database", func() bool { return running(t, p.db, "cancel_marker_3") == 0 })
	})
}

// A holder that falls silent mid-query (its link to NATS dead, as with a
// frozen or vanished machine) fails the asker's query as unavailable
// within the silence bound instead of hanging, and the holder, no longer
// hearing the asker, cancels the statement.
func TestSilentHolder(t *testing.T) {
	url := natstest.URL(t)
	proxy := fhirlinktest.NewProxy(t, strings.TrimPrefix(url, "nats://"))
	a := startNode(t, "nats://"+proxy.Addr(), testOptions)
	b := startNode(t, url, testOptions)
	site, dsn := uuid.NewString(), pgtest.DSN(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	startAgent(t, a.url, site, dsn)
	waitStatus(t, b, site, hub.Online)

	errc := make(chan error, 1)
	go func() {
		_, err := b.r.Query(context.Background(), site, reader("SELECT pg_sleep(60) AS silent_marker"))
		errc <- err
	}()
	waittest.For(t, 10*time.Second, "the statement running", func() bool { return running(t, db, "silent_marker") == 1 })
	proxy.Freeze()
	defer proxy.Thaw()
	select {
	case err := <-errc:
		if server.ErrorCode(err) != server.EUNAVAILABLE {
			t.Fatalf("query at b ended with %v, want unavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("query at b still waiting 5 s after its holder fell silent")
	}
	waittest.For(t, 10*time.Second, "the holder to cancel the statement", func() bool { return running(t, db, "silent_marker") == 0 })
}

// Status across nodes: a site never connected is offline; a site whose
// agent left is offline with what its last holder remembers, then
// unreachable when it dropped without a word; a site whose agent moved to
// another node is that node's, and a stale session left behind is closed at
// once.
func TestStatusAcrossNodes(t *testing.T) {
	p := startPair(t, testOptions)
	if st := p.b.r.Status(uuid.NewString()); st.Availability != hub.Offline || st.Info.Version != "" {
		t.Fatalf("unknown site: %+v, want offline with nothing known", st)
	}
	if _, err := p.b.r.Query(context.Background(), uuid.NewString(), reader("SELECT 1")); server.ErrorCode(err) != server.EUNAVAILABLE {
		t.Fatalf("query of a site nobody holds: %v, want unavailable", err)
	}

	online := waitStatus(t, p.b, p.site, hub.Online)
	p.stop() // a clean close
	st := waitStatus(t, p.b, p.site, hub.Offline)
	if st.Info.Version != online.Info.Version || !st.ConnectedAt.Equal(online.ConnectedAt) || st.LastSeen.IsZero() {
		t.Fatalf("offline at b: %+v, want the last holder's memory of %+v", st, online)
	}

	// The agent comes back, through a proxy, to b; a's memory is dropped.
	proxy := fhirlinktest.NewProxy(t, strings.TrimPrefix(p.b.url, "http://"))
	startAgent(t, "http://"+proxy.Addr(), p.site, p.dsn)
	waitStatus(t, p.a, p.site, hub.Online)
	waittest.For(t, 5*time.Second, "a to forget the site", func() bool { pres, _ := p.a.hub.Presence(p.site); return pres == hub.Absent })

	// Its link dies without a word: offline, then unreachable, at both.
	proxy.Freeze()
	waitStatus(t, p.a, p.site, hub.Unreachable)
	proxy.Thaw()
	proxy.Cut()
	waitStatus(t, p.a, p.site, hub.Online) // reconnected through the proxy, to b
}

// The same agent (the same site) opening a session at one node while
// another still holds a stale session of it (its link died without a word)
// closes the stale one at once, not after the tunnel's heartbeats give up.
func TestStaleSessionClosed(t *testing.T) {
	url := natstest.URL(t)
	// Heartbeats that notice a dead link in 10 s.
	a, b := startNodeKeepAlive(t, url, testOptions, 5*time.Second), startNodeKeepAlive(t, url, testOptions, 5*time.Second)
	site, dsn := uuid.NewString(), pgtest.DSN(t)
	proxy := fhirlinktest.NewProxy(t, strings.TrimPrefix(b.url, "http://"))
	startAgent(t, "http://"+proxy.Addr(), site, dsn)
	waitStatus(t, a, site, hub.Online)
	proxy.Freeze()
	defer proxy.Thaw()
	startAgent(t, a.url, site, dsn)
	waittest.For(t, 3*time.Second, "b to close its stale session", func() bool { pres, _ := b.hub.Presence(site); return pres == hub.Absent })
	if pres, _ := a.hub.Presence(site); pres != hub.Held {
		t.Fatalf("a's presence %v, want held", pres)
	}
	waitStatus(t, b, site, hub.Online)
}

// Disconnect, settings, write grant changes and execution lookups reach
// the agent wherever its session is.
func TestHubCallsAcrossNodes(t *testing.T) {
	p := startPair(t, testOptions)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	set, err := p.b.r.PushSettings(ctx, p.site, wire.Settings{Concurrency: 3})
	if err != nil || set.Concurrency != 3 {
		t.Fatalf("settings pushed through b: %+v, %v", set, err)
	}
	// A write grant change from the console: the agent's refusal of a
	// grant (no --console-grants) crosses nodes as it is; a revocation
	// it applies.
	integ := uuid.NewString()
	_, err = p.b.r.SetWriteGrant(ctx, p.site, wire.WriteGrantChange{IntegratorID: integ, Granted: true, Source: wire.GrantSourceConsole})
	if werr, ok := errors.AsType[*wire.Error](err); !ok || werr.Kind != wire.KindForbidden || !strings.Contains(werr.Message, "--console-grants") {
		t.Fatalf("grant through b: %v, want the agent's refusal", err)
	}
	st, err := p.b.r.SetWriteGrant(ctx, p.site, wire.WriteGrantChange{IntegratorID: integ, Source: wire.GrantSourceConsole})
	if err != nil || st.IntegratorID != integ || st.Granted || st.ConsoleGrants || !st.AllowWrites {
		t.Fatalf("revocation through b: %+v, %v", st, err)
	}
	id := uuid.NewString()
	ex, err := p.b.r.Execution(ctx, p.site, id)
	if err != nil || ex.ID != id || ex.State != wire.ExecutionNotStarted {
		t.Fatalf("execution looked up through b: %+v, %v", ex, err)
	}
	if _, err := p.b.r.Execution(ctx, uuid.NewString(), id); server.ErrorCode(err) != server.EUNAVAILABLE {
		t.Fatalf("execution at a site nobody holds: %v, want unavailable", err)
	}
	before := p.a.hub.Status(p.site).ConnectedAt
	p.b.r.Disconnect(p.site)
	waittest.For(t, 10*time.Second, "the agent to reconnect after a disconnect at b", func() bool {
		st := p.b.r.Status(p.site)
		return st.Availability == hub.Online && st.ConnectedAt.After(before)
	})
}
