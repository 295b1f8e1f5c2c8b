package cluster_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"testing"
	"time"

	"fhirlink/agent/pgtest"
	"fhirlink/agent/waittest"
	"fhirlink/mappings/bppremier/bpsynth/synthtest"
	"fhirlink/server/cluster/natstest"
	"fhirlink/server/fhirlinktest"
	"fhirlink/server/hub"
	"fhirlink/server/postgres"
)

// An export's status polled through two nodes in turn, as through a
// round-robin balancer, is held to one answer a poll interval across both:
// the second node refuses a poll the first answered a moment ago (429 with
// Retry-After). The practice's patient table is locked meanwhile, so the
// export stays running and its polls are limited.
func TestExportPollIntervalAcrossNodes(t *testing.T) {
	ctx := context.Background()
	store, err := postgres.Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	practice, db := synthtest.PostgresPractice(t)
	natsURL := natstest.URL(t)
	nodes := []*apiNode{startAPINode(t, store, natsURL, time.Hour), startAPINode(t, store, natsURL, time.Hour)}
	siteID, key := pairedSite(t, store, nodes[1].url, practice)
	waittest.For(t, 15*time.Second, "the site online at node A", func() bool {
		return nodes[0].r.Status(siteID).Availability == hub.Online
	})

	lock, err := db.BeginTx(ctx, &sql.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec(`LOCK TABLE "PATIENTS" IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	base := "/integrator/sites/" + siteID + "/fhir/R4/"
	status, h, body, err := fhirlinktest.Do(ctx, http.MethodGet, nodes[0].url+base+"Patient/$export", key, nil, "Prefer", "respond-async", "Accept", "application/fhir+json")
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("kick-off at node A: %d %s %v", status, body, err)
	}
	loc, err := url.Parse(h.Get("Content-Location"))
	if err != nil {
		t.Fatal(err)
	}
	poll := func(n int) (int, http.Header) {
		status, h, body, err := fhirlinktest.Do(ctx, http.MethodGet, nodes[n].url+loc.Path, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusAccepted && status != http.StatusTooManyRequests {
			t.Fatalf("poll at node %d: %d %s, want 202 (running) or 429", n, status, body)
		}
		return status, h
	}
	if status, _ := poll(0); status != http.StatusAccepted {
		t.Fatalf("first poll at node A: %d, want 202", status)
	}
	status, h = poll(1)
	if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("poll at node B right after node A's: %d (Retry-After %q), want 429 with Retry-After", status, h.Get("Retry-After"))
	}
	// Once the interval (5 s) is over, the other node answers.
	waittest.For(t, 15*time.Second, "node B to answer a poll once the interval is over", func() bool {
		status, _ := poll(1)
		return status == http.StatusAccepted
	})
	if status, _ := poll(0); status != http.StatusTooManyRequests {
		t.Fatalf("poll at node A right after node B's: %d, want 429", status)
	}
}
