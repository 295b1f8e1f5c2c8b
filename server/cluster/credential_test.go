package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fhirlink/agent/pgtest"
	"fhirlink/agent/tunnel"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/admin"
	"fhirlink/server/cluster/natstest"
	"fhirlink/server/hub"
	"fhirlink/server/postgres"
)

// credentialCluster is two nodes over one PostgreSQL store and NATS.
type credentialCluster struct {
	store *postgres.Store
	dsn   string
	nodes []*apiNode
}

func startCredentialCluster(t *testing.T, credentialCheck time.Duration) *credentialCluster {
	t.Helper()
	c := &credentialCluster{dsn: pgtest.DSN(t)}
	var err error
	if c.store, err = postgres.Open(context.Background(), c.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.store.Close() })
	natsURL := natstest.URL(t)
	c.nodes = []*apiNode{startAPINode(t, c.store, natsURL, credentialCheck), startAPINode(t, c.store, natsURL, credentialCheck)}
	return c
}

// site creates a site whose agent (the real tunnel client, serving only
// its info) dials node n.
func (c *credentialCluster) site(t *testing.T, n int) string {
	t.Helper()
	id := uuid.NewString()
	if err := c.store.CreateSite(context.Background(), &server.Site{ID: id, Name: "Practice " + id[:8], PMSType: wire.PMSBestPractice}, server.HashSecret("secret")); err != nil {
		t.Fatal(err)
	}
	info := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"protocol":%q,"version":"test","engine":"postgres","concurrency":2}`, wire.Version)
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	cl := &tunnel.Client{ServerURL: c.nodes[n].url, SiteID: id, Secret: "secret", Handler: info,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, KeepAlive: 200 * time.Millisecond}
	wg.Add(1)
	go func() { defer wg.Done(); cl.Run(ctx) }()
	waittest.For(t, 15*time.Second, "the site online at both nodes", func() bool {
		return c.nodes[0].r.Status(id).Availability == hub.Online && c.nodes[1].r.Status(id).Availability == hub.Online
	})
	return id
}

// held reports whether node n holds a session of site.
func (c *credentialCluster) held(n int, site string) bool {
	p, _ := c.nodes[n].hub.Presence(site)
	return p == hub.Held
}

// A credential rotated through node A (its admin API's operation, with the
// cluster router as its agents) closes the session that node B holds at
// once: the nodes' credential sweeps are an hour apart, so only the
// announcement on NATS can. The agent's old secret is then refused.
func TestRotationAtOneNodeClosesTheSessionAtAnother(t *testing.T) {
	c := startCredentialCluster(t, time.Hour)
	site := c.site(t, 1)
	other := c.site(t, 1)
	svc := &admin.Service{Store: c.store, Agents: c.nodes[0].r}
	if _, err := svc.RotateSiteSecret(context.Background(), admin.SiteRef{SiteID: site}); err != nil {
		t.Fatal(err)
	}
	waittest.For(t, 5*time.Second, "node B to close the rotated site's session", func() bool {
		return c.nodes[1].r.Status(site).Availability != hub.Online
	})
	req, _ := http.NewRequest(http.MethodGet, c.nodes[1].url+wire.PathConnect, nil)
	req.SetBasicAuth(site, "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the old secret at node B: %s", resp.Status)
	}
	if got := c.nodes[0].r.Status(other).Availability; got != hub.Online {
		t.Fatalf("the other site is %s, want online", got)
	}
}

// Changes made on the store alone, which no node hears of (the admin CLI's
// rotation, a site's row deleted by hand), close the sessions at whichever
// node holds them, by that node's sweep.
func TestStoreChangesClosedByEachNodesSweep(t *testing.T) {
	c := startCredentialCluster(t, 100*time.Millisecond)
	rotatedA, deletedB, kept := c.site(t, 0), c.site(t, 1), c.site(t, 1)
	_, hash := server.NewSecret()
	if err := c.store.SetSiteSecretHash(context.Background(), rotatedA, hash); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `DELETE FROM sites WHERE id = $1`, deletedB); err != nil {
		t.Fatal(err)
	}
	waittest.For(t, 5*time.Second, "node A to close the rotated site's session", func() bool { return !c.held(0, rotatedA) })
	waittest.For(t, 5*time.Second, "node B to close the deleted site's session", func() bool { return !c.held(1, deletedB) })
	if !c.held(1, kept) {
		t.Fatal("node B lost the untouched site's session")
	}
}
