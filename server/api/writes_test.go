package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/server"
	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
)

// TestPassthroughWritesNeedGrant: through the real tunnel, a write needs
// the practice's grant on the server (which answers first) and in the
// agent's own record (which the agent enforces, whatever the server says);
// the refusals name what is missing, and a revocation decides the next
// request.
func TestPassthroughWritesNeedGrant(t *testing.T) {
	ctx := context.Background()
	env, db := start(t, fhirlinktest.Options{AllowWrites: true})
	if _, err := db.Exec(`CREATE TABLE w (n int)`); err != nil {
		t.Fatal(err)
	}
	other, key := env.NewIntegrator(true)
	write := map[string]any{"command": map[string]any{"text": "INSERT INTO w VALUES (1)", "executionMode": "nonQuery"}}
	as := func(k string) (int, *fhirlinktest.QueryObject) {
		t.Helper()
		status, _, b, err := env.Do(ctx, http.MethodPost, env.SiteURL()+"/queries/immediate", k, write)
		if err != nil {
			t.Fatal(err)
		}
		var q fhirlinktest.QueryObject
		json.Unmarshal(b, &q)
		q.Raw = b
		return status, &q
	}
	// The server refuses early.
	if status, q := as(key); status != http.StatusForbidden || q.Error == nil || !strings.Contains(q.Error.Message, "no write grant for this integrator") {
		t.Fatalf("without a grant: %d %s", status, q.Raw)
	}
	// The server's copy alone is not enough: the agent's record decides.
	if err := env.Store.GrantWrites(ctx, other, env.SiteID); err != nil {
		t.Fatal(err)
	}
	if status, q := as(key); status != http.StatusForbidden || q.ErrorDetails == nil || !strings.Contains(q.ErrorDetails.ErrorMessage, "no write grant for integrator "+other) {
		t.Fatalf("granted on the server only: %d %s", status, q.Raw)
	}
	if err := env.Grants.Grant(other); err != nil {
		t.Fatal(err)
	}
	if status, q := as(key); status != http.StatusOK {
		t.Fatalf("granted: %d %s", status, q.Raw)
	}
	// Revoked at the agent: the next write is refused there.
	if err := env.Grants.Revoke(other); err != nil {
		t.Fatal(err)
	}
	if status, q := as(key); status != http.StatusForbidden || q.ErrorDetails == nil || !strings.Contains(q.ErrorDetails.ErrorMessage, "no write grant") {
		t.Fatalf("revoked at the agent: %d %s", status, q.Raw)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM w`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows (%v), want the one granted write", n, err)
	}
	// Reads need no grant.
	if status, q := as(key); status == http.StatusOK {
		t.Fatalf("still writes: %s", q.Raw)
	}
	if status, _, b, _ := env.Do(ctx, http.MethodPost, env.SiteURL()+"/queries/immediate", key, fhirlinktest.Command("SELECT 1 AS one")); status != http.StatusOK {
		t.Fatalf("read: %d %s", status, b)
	}
}

// TestPassthroughIdempotencyKey: a passthrough write under an
// Idempotency-Key runs once; its repeats get the first answer, exactly,
// and an async write's repeat names the query its first attempt queued.
// The audit log keeps each write's procedure and outcome.
func TestPassthroughIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	env, db := start(t, fhirlinktest.Options{AllowWrites: true})
	if _, err := db.Exec(`CREATE TABLE w (id serial PRIMARY KEY, who text);
		CREATE FUNCTION book(who text) RETURNS TABLE (id int) LANGUAGE sql AS $$ INSERT INTO w (who) VALUES (who) RETURNING id $$`); err != nil {
		t.Fatal(err)
	}
	book := map[string]any{"command": map[string]any{"text": "book", "type": "storedProcedure",
		"parameters": []map[string]any{{"name": "@who", "type": "VarChar", "value": "Smith"}}}}
	send := func(body any, key string) (int, http.Header, []byte) {
		t.Helper()
		status, h, b, err := env.Do(ctx, http.MethodPost, env.SiteURL()+"/queries/immediate", env.Key, body, api.IdempotencyKeyHeader, key)
		if err != nil {
			t.Fatal(err)
		}
		return status, h, b
	}
	status, h, first := send(book, "booking-1")
	if status != http.StatusOK || h.Get(api.IdempotentReplayedHeader) != "" || !strings.Contains(string(first), `"successful"`) {
		t.Fatalf("first: %d %s", status, first)
	}
	status, h, again := send(book, "booking-1")
	if status != http.StatusOK || string(again) != string(first) || h.Get(api.IdempotentReplayedHeader) != "true" {
		t.Fatalf("repeat: %d %s\nwant %s replayed", status, again, first)
	}
	other := map[string]any{"command": map[string]any{"text": "book", "type": "storedProcedure",
		"parameters": []map[string]any{{"name": "@who", "type": "VarChar", "value": "Jones"}}}}
	if status, _, b := send(other, "booking-1"); status != http.StatusUnprocessableEntity || !strings.Contains(string(b), "another request") {
		t.Fatalf("another body under the key: %d %s", status, b)
	}
	if status, _, b := send(book, "booking-2"); status != http.StatusOK || string(b) == string(first) {
		t.Fatalf("a new key: %d %s", status, b)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM w`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d rows (%v), want 2: one per key", n, err)
	}

	// Async: the repeat answers the query of the first attempt.
	insert := map[string]any{"command": map[string]any{"text": "INSERT INTO w (who) VALUES ('async')", "executionMode": "nonQuery"}}
	create := func() (int, string) {
		status, _, b, err := env.Do(ctx, http.MethodPost, env.SiteURL()+"/queries/async", env.Key, insert, api.IdempotencyKeyHeader, "async-1")
		if err != nil {
			t.Fatal(err)
		}
		var q struct{ ID string }
		json.Unmarshal(b, &q)
		return status, q.ID
	}
	s1, id1 := create()
	s2, id2 := create()
	if s1 != http.StatusCreated || s2 != http.StatusCreated || id1 == "" || id1 != id2 {
		t.Fatalf("async: %d %s then %d %s, want the same query", s1, id1, s2, id2)
	}
	waitAsync(t, env, id1, "successful")
	if err := db.QueryRow(`SELECT count(*) FROM w WHERE who = 'async'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d async rows (%v), want 1", n, err)
	}

	var recs []*server.AuditRecord
	waittest.For(t, 5*time.Second, "the writes' 6 audit records", func() bool {
		recs = recs[:0]
		for _, r := range auditOf(t, env, server.AuditFilter{IntegratorID: env.IntegratorID}) {
			if r.Outcome != "" {
				recs = append(recs, r)
			}
		}
		return len(recs) >= 6
	})
	var got []string
	for _, r := range recs[:4] {
		got = append(got, r.Targets+":"+r.Outcome)
	}
	if s := strings.Join(got, " "); s != "book:committed book:replayed book:failed book:committed" {
		t.Errorf("audited %q", s)
	}
	if r := recs[4]; r.Outcome != server.WriteCommitted || r.Targets != "" || len(recs) != 6 || recs[5].Outcome != server.WriteReplayed {
		t.Errorf("async writes audited %+v, %d write records", r, len(recs))
	}
}

// TestAsyncWriteRecheckedAtRun: an async write queued while its site is
// offline runs only if the practice's grant still holds when it runs.
func TestAsyncWriteRecheckedAtRun(t *testing.T) {
	ctx := context.Background()
	env, db := start(t, fhirlinktest.Options{AllowWrites: true})
	if _, err := db.Exec(`CREATE TABLE w (n int)`); err != nil {
		t.Fatal(err)
	}
	env.StopAgent()
	env.WaitAvailability("offline")
	q := createAsync(t, env, map[string]any{"command": map[string]any{"text": "INSERT INTO w VALUES (1)", "executionMode": "nonQuery"}})
	if err := env.Store.RevokeWrites(ctx, env.IntegratorID, env.SiteID); err != nil {
		t.Fatal(err)
	}
	env.StartAgent()
	got := waitAsync(t, env, q.ID, "successful", "executionFailed")
	if got.Status != "executionFailed" || got.ErrorDetails == nil || got.ErrorDetails.ErrorCode != http.StatusForbidden ||
		!strings.Contains(got.ErrorDetails.ErrorMessage, "no write grant for this integrator") {
		t.Fatalf("revoked while queued: %s", got.raw)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM w`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows (%v), want none", n, err)
	}
}
