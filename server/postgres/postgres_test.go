package postgres_test

import (
	"bytes"
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fhirlink/agent/pgtest"
	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/postgres"
	"fhirlink/server/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) server.Store { return open(t, pgtest.DSN(t)) })
}

// Reopening applies no migration twice and keeps the state.
func TestReopenKeepsState(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIntegrator(ctx, &server.Integrator{ID: "i1", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st = open(t, dsn)
	if in, err := st.Integrator(ctx, "i1"); err != nil || in.Name != "Acme" {
		t.Fatalf("after reopen: %v, %v", in, err)
	}
	open(t, dsn) // and a third time
	assertMigrationsOnce(t, dsn)
}

// assertMigrationsOnce checks that schema_migrations holds 1..n, each once.
func assertMigrationsOnce(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, lo, hi int
	if err := conn.QueryRow(ctx, `SELECT count(*), min(version), max(version) FROM schema_migrations`).Scan(&n, &lo, &hi); err != nil {
		t.Fatal(err)
	}
	if n == 0 || lo != 1 || hi != n {
		t.Fatalf("schema_migrations: %d rows, versions %d..%d", n, lo, hi)
	}
}

// A database whose schema is newer than this build is refused, not
// clobbered.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	open(t, dsn)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version) SELECT max(version) + 1 FROM schema_migrations`); err != nil {
		t.Fatal(err)
	}
	if st, err := postgres.Open(ctx, dsn); err == nil {
		st.Close()
		t.Fatal("opened a database with a newer schema")
	}
}

// Nodes starting at once on an empty database all succeed: the advisory
// lock makes them migrate one after the other.
func TestConcurrentOpen(t *testing.T) {
	dsn := pgtest.DSN(t)
	const nodes = 4
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() {
			st, err := postgres.Open(context.Background(), dsn)
			if err == nil {
				st.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	assertMigrationsOnce(t, dsn)
}

// Nodes asking for a secret for the first time at once get one value.
func TestConcurrentSecret(t *testing.T) {
	dsn := pgtest.DSN(t)
	const nodes = 8
	stores := make([]*postgres.Store, nodes)
	for i := range stores {
		stores[i] = open(t, dsn) // separate pools, as separate nodes have
	}
	start := make(chan struct{})
	got := make([][]byte, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() {
			<-start
			got[i], errs[i] = st.Secret(context.Background(), "paging")
		})
	}
	close(start)
	wg.Wait()
	for i := range nodes {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		if len(got[i]) != 32 || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("node %d got %x, node 0 got %x", i, got[i], got[0])
		}
	}
}

// Pairing the same integrator and site from several nodes at once is not
// an error and leaves one pairing, which one Unpair removes.
func TestConcurrentPair(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	st := open(t, dsn)
	site := &server.Site{ID: uuid.NewString(), Name: "S", PMSType: wire.PMSBestPractice}
	in := &server.Integrator{ID: uuid.NewString(), Name: "I"}
	if err := st.CreateSite(ctx, site, []byte("h")); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIntegrator(ctx, in); err != nil {
		t.Fatal(err)
	}
	const nodes = 8
	stores := []*postgres.Store{st, open(t, dsn)}
	start := make(chan struct{})
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			<-start
			errs[i] = stores[i%len(stores)].Pair(ctx, in.ID, site.ID)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pair %d: %v", i, err)
		}
	}
	if err := st.Unpair(ctx, in.ID, site.ID); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.Paired(ctx, in.ID, site.ID); ok || err != nil {
		t.Fatalf("paired after one unpair: %v, %v", ok, err)
	}
}

// Times come back as they were set (UTC, microseconds), and a site's
// secret hash and an integrator's key go in and out as bytes.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := open(t, pgtest.DSN(t))
	site := &server.Site{ID: uuid.NewString(), Name: "Ünïcode Practice", PMSType: wire.PMSD4w, PracticeManagementSiteID: "D4W-7"}
	hash := []byte{0, 1, 2, 0xff, 0}
	if err := st.CreateSite(ctx, site, hash); err != nil {
		t.Fatal(err)
	}
	got, err := st.Site(ctx, site.ID)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *site || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("site read back %+v, stored %+v", got, site)
	}
	if h, err := st.SiteSecretHash(ctx, site.ID); err != nil || !bytes.Equal(h, hash) {
		t.Fatalf("hash %x, %v", h, err)
	}
	// A key already held by another integrator is a conflict, not a takeover.
	a := &server.Integrator{ID: uuid.NewString(), Name: "A"}
	b := &server.Integrator{ID: uuid.NewString(), Name: "B"}
	for _, in := range []*server.Integrator{a, b} {
		if err := st.CreateIntegrator(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	_, kh := server.NewSecret()
	if err := st.SetIntegratorKey(ctx, a.ID, server.KeyPrimary, kh); err != nil {
		t.Fatal(err)
	}
	if err := st.SetIntegratorKey(ctx, b.ID, server.KeyPrimary, kh); server.ErrorCode(err) != server.ECONFLICT {
		t.Fatalf("same key for a second integrator: %v", err)
	}
	if got, err := st.IntegratorByKeyHash(ctx, kh); err != nil || *got != *a {
		t.Fatalf("by key: %+v, %v", got, err)
	}
}

// PostgreSQL keeps microseconds: a code expiring within the microsecond of
// the redemption time counts as expired, with the expiry error, not an
// internal one.
func TestEnrollmentExpiryWithinMicrosecond(t *testing.T) {
	ctx := context.Background()
	st := open(t, pgtest.DSN(t))
	site := &server.Site{ID: uuid.NewString(), Name: "S", PMSType: wire.PMSBestPractice}
	if err := st.CreateSite(ctx, site, []byte("h")); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Truncate(time.Microsecond).Add(time.Hour)
	_, code := server.NewEnrollmentCode()
	if err := st.CreateEnrollmentCode(ctx, site.ID, code, base.Add(400*time.Nanosecond)); err != nil {
		t.Fatal(err)
	}
	_, err := st.RedeemEnrollmentCode(ctx, code, []byte("new"), base.Add(100*time.Nanosecond))
	if server.ErrorCode(err) != server.EFORBIDDEN {
		t.Fatalf("redeem in the expiry's microsecond: %v, want %s", err, server.EFORBIDDEN)
	}
	if id, err := st.RedeemEnrollmentCode(ctx, code, []byte("new"), base.Add(-time.Microsecond)); err != nil || id != site.ID {
		t.Fatalf("redeem a microsecond earlier: %q, %v", id, err)
	}
}

func TestCredentialChanges(t *testing.T) {
	dsn := pgtest.DSN(t)
	st := open(t, dsn)
	storetest.CredentialChanges(t, st, func(id string) error {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(context.Background(), `DELETE FROM sites WHERE id = $1`, id)
		return err
	})
}

// A new bucket deletes those left untouched for a day (one a job, for the
// export poll interval, would otherwise pile up) and keeps the others.
func TestIdleRateBucketsDeleted(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	st := open(t, dsn)
	t0 := time.Now()
	for key, at := range map[string]time.Time{"poll:old": t0, "poll:recent": t0.Add(2 * time.Hour)} {
		if _, _, err := st.TakeRateTokens(ctx, key, 0.2, 1, 1, at); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.TakeRateTokens(ctx, "poll:new", 0.2, 1, 1, t0.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT key FROM rate_buckets ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != "poll:new" || keys[1] != "poll:recent" {
		t.Fatalf("buckets left: %v, want poll:new and poll:recent", keys)
	}
}
