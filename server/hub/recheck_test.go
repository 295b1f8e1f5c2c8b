package hub

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/tunnel"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/sqlite"
)

// countingStore counts the store reads the credential check makes, outside
// agents' dials (whose Authenticate runs in an HTTP request's context), and
// can fail the sweep's read or forget the changes (as after the store
// pruned them).
type countingStore struct {
	server.Store
	sweeps, secretReads atomic.Int64
	fail, forget        atomic.Bool
}

var errStoreDown = errors.New("the store is down")

func (c *countingStore) CredentialChanges(ctx context.Context, since time.Time) ([]string, time.Time, error) {
	c.sweeps.Add(1)
	if c.fail.Load() {
		return nil, time.Time{}, errStoreDown
	}
	ids, now, err := c.Store.CredentialChanges(ctx, since)
	if c.forget.Load() {
		ids = nil
	}
	return ids, now, err
}

func (c *countingStore) SiteSecretHash(ctx context.Context, id string) ([]byte, error) {
	if ctx.Value(http.ServerContextKey) == nil {
		c.secretReads.Add(1)
	}
	return c.Store.SiteSecretHash(ctx, id)
}

// sweepEnv is a hub sweeping every 50 ms over a SQLite store, with agents
// of sites created in it dialling it on 127.0.0.1.
type sweepEnv struct {
	h     *Hub
	st    *countingStore
	db    *sql.DB // the store's file, for deleting a site by hand
	url   string
	sites []string
}

// startSweepEnv starts the hub, configured by configure when not nil, and
// its agents.
func startSweepEnv(t *testing.T, agents int, configure func(*Hub)) *sweepEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	base, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { base.Close() })
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &sweepEnv{st: &countingStore{Store: base}, db: db}
	e.h = &Hub{KeepAlive: time.Second, CredentialCheck: 50 * time.Millisecond, CredentialChanges: e.st.CredentialChanges,
		Authenticate: func(ctx context.Context, siteID, secret string) error {
			return server.AuthenticateSite(ctx, e.st, siteID, secret)
		}}
	if configure != nil {
		configure(e.h)
	}
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	t.Cleanup(e.h.Close) // first: the sessions hold srv's handlers
	e.url = srv.URL
	for i := range agents {
		id := uuid.NewString()
		if err := base.CreateSite(context.Background(), &server.Site{ID: id, Name: fmt.Sprintf("Practice %d", i), PMSType: wire.PMSBestPractice}, server.HashSecret("secret")); err != nil {
			t.Fatal(err)
		}
		e.sites = append(e.sites, id)
	}
	info := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"protocol":%q,"version":"test","engine":"postgres","concurrency":2}`, wire.Version)
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for _, site := range e.sites {
		c := &tunnel.Client{ServerURL: e.url, SiteID: site, Secret: "secret", Handler: info,
			MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, KeepAlive: time.Second}
		wg.Add(1)
		go func() { defer wg.Done(); c.Run(ctx) }()
	}
	waittest.For(t, 20*time.Second, "every agent connected", func() bool {
		for _, site := range e.sites {
			if p, _ := e.h.Presence(site); p != Held {
				return false
			}
		}
		return true
	})
	return e
}

func (e *sweepEnv) held(site string) bool {
	p, _ := e.h.Presence(site)
	return p == Held
}

// waitSweeps waits for n more sweeps of the hub.
func (e *sweepEnv) waitSweeps(t *testing.T, n int64) {
	t.Helper()
	until := e.st.sweeps.Load() + n
	waittest.For(t, 10*time.Second, fmt.Sprintf("%d sweeps", n), func() bool { return e.st.sweeps.Load() >= until })
}

// The store reads of the credential check do not grow with the sessions a
// node holds: one read a sweep, and one more per session of a site whose
// credential changed.
func TestCredentialSweepReadsDoNotGrowWithSessions(t *testing.T) {
	perSweep := map[int]float64{}
	for _, agents := range []int{1, 25} {
		e := startSweepEnv(t, agents, nil)
		e.waitSweeps(t, 1) // a sweep under way when the count starts is not counted half
		sweeps0, reads0 := e.st.sweeps.Load(), e.st.secretReads.Load()
		e.waitSweeps(t, 10)
		sweeps, reads := e.st.sweeps.Load()-sweeps0, e.st.secretReads.Load()-reads0
		perSweep[agents] = float64(sweeps+reads) / float64(sweeps)
		t.Logf("%d sessions: %d sweeps, %d credential reads", agents, sweeps, reads)
		if reads != 0 {
			t.Errorf("%d sessions, nothing changed: %d credential reads over %d sweeps, want none", agents, reads, sweeps)
		}

		// One site rotated: its session alone is re-validated, and closed.
		_, hash := server.NewSecret()
		reads0 = e.st.secretReads.Load()
		if err := e.st.SetSiteSecretHash(context.Background(), e.sites[0], hash); err != nil {
			t.Fatal(err)
		}
		waittest.For(t, 10*time.Second, "the rotated site's session closed", func() bool { return !e.held(e.sites[0]) })
		e.waitSweeps(t, 5)
		if reads := e.st.secretReads.Load() - reads0; reads != 1 {
			t.Errorf("%d sessions, one site rotated: %d credential reads, want 1 (its session, closed)", agents, reads)
		}
		for _, site := range e.sites[1:] {
			if !e.held(site) {
				t.Fatalf("site %s lost its session when another site's credential was rotated", site)
			}
		}
	}
	if perSweep[1] != perSweep[25] {
		t.Fatalf("store reads a sweep: %v with 1 session, %v with 25", perSweep[1], perSweep[25])
	}
}

// A rotated credential, a re-enrolled site and a site deleted by hand in
// the store's database each close their session within a few sweeps; the
// other sessions stay.
func TestCredentialChangesCloseSessions(t *testing.T) {
	e := startSweepEnv(t, 4, nil)
	ctx := context.Background()
	rotated, enrolled, deleted, kept := e.sites[0], e.sites[1], e.sites[2], e.sites[3]
	_, hash := server.NewSecret()
	if err := e.st.SetSiteSecretHash(ctx, rotated, hash); err != nil {
		t.Fatal(err)
	}
	code := server.HashEnrollmentCode("3333-3333")
	if err := e.st.CreateEnrollmentCode(ctx, enrolled, code, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.RedeemEnrollmentCode(ctx, code, hash, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`DELETE FROM sites WHERE id = ?`, deleted); err != nil {
		t.Fatal(err)
	}
	for name, site := range map[string]string{"rotated": rotated, "re-enrolled": enrolled, "deleted": deleted} {
		waittest.For(t, 5*time.Second, "the "+name+" site's session closed", func() bool { return !e.held(site) })
	}
	e.waitSweeps(t, 3)
	if !e.held(kept) {
		t.Fatal("the untouched site lost its session")
	}
}

// A sweep that fails keeps the sessions and where it asks from: the change
// made while the store was down closes its session at the first sweep that
// succeeds. The sweeps' overlap is cut to a microsecond, so that only
// asking from where the last good sweep left off can see the change.
func TestFailedSweepCatchesUp(t *testing.T) {
	e := startSweepEnv(t, 2, func(h *Hub) { h.overlap = time.Microsecond })
	e.st.fail.Store(true)
	_, hash := server.NewSecret()
	if err := e.st.SetSiteSecretHash(context.Background(), e.sites[0], hash); err != nil {
		t.Fatal(err)
	}
	e.waitSweeps(t, 5)
	if !e.held(e.sites[0]) {
		t.Fatal("the session closed while no sweep could read the store")
	}
	e.st.fail.Store(false)
	waittest.For(t, 5*time.Second, "the rotated site's session closed once the store answers", func() bool { return !e.held(e.sites[0]) })
	if !e.held(e.sites[1]) {
		t.Fatal("the other site lost its session")
	}
}

// After failing for longer than half of what the store remembers of the
// changes, the first sweep that succeeds re-validates every session, so a
// change the store has forgotten meanwhile still closes its session.
func TestLongFailureChecksEverySession(t *testing.T) {
	e := startSweepEnv(t, 3, func(h *Hub) { h.changesKept = 500 * time.Millisecond })
	e.st.fail.Store(true)
	e.st.forget.Store(true) // the store has pruned the change by the time it answers
	_, hash := server.NewSecret()
	if err := e.st.SetSiteSecretHash(context.Background(), e.sites[0], hash); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	waittest.For(t, 5*time.Second, "the store down for longer than half of what it keeps", func() bool {
		return time.Since(began) > 300*time.Millisecond
	})
	reads0 := e.st.secretReads.Load()
	e.st.fail.Store(false)
	waittest.For(t, 5*time.Second, "the rotated site's session closed by the full re-check", func() bool { return !e.held(e.sites[0]) })
	e.waitSweeps(t, 1)
	if reads := e.st.secretReads.Load() - reads0; reads != 3 {
		t.Errorf("full re-check: %d credential reads, want 3 (one per session)", reads)
	}
	for _, site := range e.sites[1:] {
		if !e.held(site) {
			t.Fatalf("site %s lost its session", site)
		}
	}
}
