package cluster_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent"
	"fhirlink/agent/executor"
	"fhirlink/agent/pgtest"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/api"
	"fhirlink/server/cluster"
	"fhirlink/server/cluster/natstest"
	"fhirlink/server/fhirlinktest"
	"fhirlink/server/hub"
	"fhirlink/server/postgres"
	"fhirlink/server/quota"
)

// apiNode is a whole server node: the API over a shared store, its hub and
// its router.
type apiNode struct {
	api *api.Server
	hub *hub.Hub
	r   *cluster.Router
	url string
}

// startAPINode starts a node whose hub sweeps the agents' credentials every
// credentialCheck. On PostgreSQL, the nodes share the rate limit's and the
// export poll interval's buckets, as `fhirlink server --nats` does.
func startAPINode(t *testing.T, store server.Store, natsURL string, credentialCheck time.Duration) *apiNode {
	t.Helper()
	// The in-flight sweep is slowed to an hour: only the announcement can
	// cancel work in time.
	a := &api.Server{Store: store, Mappings: api.DefaultMappings(), SweepInterval: time.Hour, ImmediateTimeout: time.Minute}
	a.SharedRate, _ = store.(quota.TokenStore)
	h := &hub.Hub{KeepAlive: 200 * time.Millisecond, UnreachableAfter: time.Second, Authenticate: a.AuthenticateAgent,
		CredentialChanges: store.CredentialChanges, CredentialCheck: credentialCheck}
	nc, err := cluster.Connect(natsURL, t.Name(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	r, err := cluster.New(h, nc, cluster.Options{Ping: 100 * time.Millisecond,
		OnAccess: func(integratorID, siteID string) { a.RecheckInFlight(integratorID, siteID) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	a.Hub, a.AccessChanged = r, r.AnnounceAccess
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	return &apiNode{api: a, hub: h, r: r, url: srv.URL}
}

// pairedSite creates a site paired with a new integrator, whose agent runs
// on the practice database practiceDSN and dials nodeURL until the test
// ends; it returns the site's id and the integrator's key.
func pairedSite(t *testing.T, store server.Store, nodeURL, practiceDSN string) (siteID, key string) {
	t.Helper()
	ctx := context.Background()
	site := &server.Site{ID: uuid.NewString(), Name: "Harbour Medical", PMSType: wire.PMSBestPractice}
	if err := store.CreateSite(ctx, site, server.HashSecret("secret")); err != nil {
		t.Fatal(err)
	}
	in := &server.Integrator{ID: uuid.NewString(), Name: "Acme"}
	key, keyHash := server.NewSecret()
	for _, err := range []error{store.CreateIntegrator(ctx, in), store.SetIntegratorKey(ctx, in.ID, server.KeyPrimary, keyHash), store.Pair(ctx, in.ID, site.ID)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	actx, stopAgent := context.WithCancel(ctx)
	a, err := agent.New(actx, agent.Config{ServerURL: nodeURL, SiteID: site.ID, Secret: "secret",
		Database:     executor.Config{Engine: "postgres", Catalogues: []executor.Catalogue{{Name: "practice", DSN: practiceDSN, IsDefault: true}}},
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond, KeepAlive: 200 * time.Millisecond, DrainTimeout: time.Second})
	if err != nil {
		stopAgent()
		t.Fatal(err)
	}
	agentDone := make(chan struct{})
	go func() { defer close(agentDone); defer a.Close(); a.Run(actx) }()
	t.Cleanup(func() { stopAgent(); <-agentDone })
	return site.ID, key
}

// A query in flight at node A, through the agent held by node B, is
// cancelled (403 saying why, the statement cancelled in the practice
// database) as soon as the practice revokes the pairing through node C:
// C announces the change on NATS and A re-checks its work in flight. The
// nodes' sweeps are an hour apart, so nothing else could cancel it in
// time.
func TestRevocationAtOneNodeCancelsWorkInFlightOnAnother(t *testing.T) {
	ctx := context.Background()
	store, err := postgres.Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	practice := pgtest.DSN(t)
	db, err := sql.Open("pgx", practice)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	natsURL := natstest.URL(t)
	nodes := []*apiNode{startAPINode(t, store, natsURL, time.Hour), startAPINode(t, store, natsURL, time.Hour), startAPINode(t, store, natsURL, time.Hour)}

	siteID, key := pairedSite(t, store, nodes[1].url, practice)
	waittest.For(t, 15*time.Second, "the site online at node A", func() bool {
		return nodes[0].r.Status(siteID).Availability == hub.Online
	})

	type answer struct {
		status int
		body   []byte
		took   time.Duration
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		qctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		start := time.Now()
		status, _, b, err := fhirlinktest.Do(qctx, http.MethodPost, nodes[0].url+"/integrator/sites/"+siteID+"/queries/immediate", key,
			fhirlinktest.Command("SELECT pg_sleep(30) AS revoked_marker"))
		done <- answer{status, b, time.Since(start), err}
	}()
	running := func() int {
		var n int
		db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%revoked_marker%' AND pid <> pg_backend_pid()`).Scan(&n)
		return n
	}
	waittest.For(t, 15*time.Second, "the statement running in the practice database", func() bool { return running() == 1 })

	in, err := store.IntegratorByKeyHash(ctx, server.HashSecret(key))
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodDelete, nodes[2].url+"/agent/v1/pairings/"+in.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(siteID, "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoking through node C: %d", resp.StatusCode)
	}
	revoked := time.Now()
	select {
	case ans := <-done:
		var q struct {
			ErrorDetails struct{ ErrorMessage string }
		}
		json.Unmarshal(ans.body, &q)
		if ans.err != nil || ans.status != http.StatusForbidden {
			t.Fatalf("the query at node A answered %d %s, %v; want 403", ans.status, ans.body, ans.err)
		}
		t.Logf("cancelled %v after the revocation: %s", time.Since(revoked).Round(time.Millisecond), ans.body)
	case <-time.After(10 * time.Second):
		t.Fatal("the query at node A still runs 10 s after the pairing was revoked at node C")
	}
	waittest.For(t, 10*time.Second, "the statement cancelled in the practice database", func() bool { return running() == 0 })
}
