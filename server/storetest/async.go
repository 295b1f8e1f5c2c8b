package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/server"
)

// runAsync is the contract of [server.AsyncStore].
func runAsync(t *testing.T, open func(t *testing.T) server.Store) {
	ctx := context.Background()

	t.Run("async queries", func(t *testing.T) {
		st := open(t)
		base := time.Now().UTC().Truncate(time.Millisecond)
		mk := func(i int, status string) *server.AsyncQuery {
			q := &server.AsyncQuery{ID: uuid.NewString(), IntegratorID: "i", SiteID: "s", Status: status,
				Request: []byte(`{"text":"SELECT 1"}`), Doc: []byte(`{"status":"` + status + `"}`),
				CreatedAt: base.Add(time.Duration(i) * time.Second)}
			mustCode(t, "", st.CreateAsyncQuery(ctx, q))
			return q
		}
		a, b, c := mk(2, "queued"), mk(1, "queued"), mk(3, "executing")
		mustCode(t, server.ECONFLICT, st.CreateAsyncQuery(ctx, &server.AsyncQuery{ID: a.ID, Status: "queued", Request: []byte("{}"), Doc: []byte("{}")}))
		got, err := st.AsyncQuery(ctx, a.ID)
		mustCode(t, "", err)
		if got.IntegratorID != "i" || got.SiteID != "s" || got.Status != "queued" || !bytes.Equal(got.Request, a.Request) ||
			!bytes.Equal(got.Doc, a.Doc) || !got.CreatedAt.Equal(a.CreatedAt) || !got.ExpiresAt.IsZero() || got.Purged {
			t.Fatalf("read back %+v", got)
		}
		_, err = st.AsyncQuery(ctx, uuid.NewString())
		mustCode(t, server.ENOTFOUND, err)

		// Oldest first, by status.
		qs, err := st.AsyncQueries(ctx, server.AsyncFilter{Statuses: []string{"queued"}})
		mustCode(t, "", err)
		if len(qs) != 2 || qs[0].ID != b.ID || qs[1].ID != a.ID {
			t.Fatalf("queued = %v", ids(qs))
		}
		if qs, _ := st.AsyncQueries(ctx, server.AsyncFilter{}); len(qs) != 3 {
			t.Fatalf("all = %v", ids(qs))
		}
		if qs, _ := st.AsyncQueries(ctx, server.AsyncFilter{Limit: 1}); len(qs) != 1 || qs[0].ID != b.ID {
			t.Fatalf("limit 1 = %v", ids(qs))
		}

		// Claiming: exactly one of several concurrent claims wins.
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 6 {
			wg.Go(func() {
				q := *a
				q.Status, q.Doc = "initialising", []byte(`{"claimed":true}`)
				err := st.UpdateAsyncQuery(ctx, &q, "queued")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case server.ErrorCode(err) != server.ECONFLICT:
					t.Errorf("claim: %v", err)
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d claims won, want 1", wins)
		}
		got, _ = st.AsyncQuery(ctx, a.ID)
		if got.Status != "initialising" || string(got.Doc) != `{"claimed":true}` || got.UpdatedAt.IsZero() {
			t.Fatalf("after claim %+v", got)
		}
		// An unconditional update; an unknown id.
		exp := base.Add(time.Hour)
		c.Status, c.ExpiresAt = "successful", exp
		mustCode(t, "", st.UpdateAsyncQuery(ctx, c))
		mustCode(t, server.ENOTFOUND, st.UpdateAsyncQuery(ctx, &server.AsyncQuery{ID: uuid.NewString(), Doc: []byte("{}")}))
		mustCode(t, server.ENOTFOUND, st.UpdateAsyncQuery(ctx, &server.AsyncQuery{ID: uuid.NewString(), Doc: []byte("{}")}, "queued"))
		got, _ = st.AsyncQuery(ctx, c.ID)
		if !got.ExpiresAt.Equal(exp) {
			t.Fatalf("expires %v, want %v", got.ExpiresAt, exp)
		}

		// Updated before; expired and not purged.
		if qs, _ := st.AsyncQueries(ctx, server.AsyncFilter{UpdatedBefore: base.Add(-time.Hour)}); len(qs) != 0 {
			t.Fatalf("updated before an hour ago = %v", ids(qs))
		}
		if qs, _ := st.AsyncQueries(ctx, server.AsyncFilter{ExpiredBefore: exp}); len(qs) != 0 {
			t.Fatalf("expired before its expiry = %v", ids(qs))
		}
		qs, _ = st.AsyncQueries(ctx, server.AsyncFilter{ExpiredBefore: exp.Add(time.Second)})
		if len(qs) != 1 || qs[0].ID != c.ID {
			t.Fatalf("expired = %v", ids(qs))
		}
		c.Purged = true
		mustCode(t, "", st.UpdateAsyncQuery(ctx, c, "successful"))
		if qs, _ := st.AsyncQueries(ctx, server.AsyncFilter{ExpiredBefore: exp.Add(time.Second)}); len(qs) != 0 {
			t.Fatalf("purged still listed as expired: %v", ids(qs))
		}
		n, err := st.DeleteAsyncQueries(ctx, exp.Add(time.Second))
		if err != nil || n != 1 {
			t.Fatalf("deleted %d, %v", n, err)
		}
		_, err = st.AsyncQuery(ctx, c.ID)
		mustCode(t, server.ENOTFOUND, err)
		if _, err := st.AsyncQuery(ctx, a.ID); err != nil {
			t.Fatalf("a query without expiry was deleted: %v", err)
		}
	})

	t.Run("webhooks", func(t *testing.T) {
		st := open(t)
		in := &server.Integrator{ID: uuid.NewString(), Name: "Acme"}
		mustCode(t, "", st.CreateIntegrator(ctx, in))
		_, err := st.Webhook(ctx, in.ID)
		mustCode(t, server.ENOTFOUND, err)
		mustCode(t, server.ENOTFOUND, st.SetWebhook(ctx, &server.Webhook{IntegratorID: uuid.NewString(), URL: "http://x", Secret: []byte("k")}))
		mustCode(t, "", st.SetWebhook(ctx, &server.Webhook{IntegratorID: in.ID, URL: "http://a", Secret: []byte("k1")}))
		mustCode(t, "", st.SetWebhook(ctx, &server.Webhook{IntegratorID: in.ID, URL: "http://b", Secret: []byte{0, 1, 2}}))
		w, err := st.Webhook(ctx, in.ID)
		if err != nil || w.URL != "http://b" || !bytes.Equal(w.Secret, []byte{0, 1, 2}) || w.CreatedAt.IsZero() {
			t.Fatalf("webhook %+v, %v", w, err)
		}
		mustCode(t, "", st.DeleteWebhook(ctx, in.ID))
		mustCode(t, server.ENOTFOUND, st.DeleteWebhook(ctx, in.ID))
	})

	t.Run("webhook deliveries", func(t *testing.T) {
		st := open(t)
		now := time.Now().UTC().Truncate(time.Millisecond)
		mk := func(integrator string, due time.Duration) *server.WebhookDelivery {
			d := &server.WebhookDelivery{ID: uuid.NewString(), IntegratorID: integrator, SiteID: "s", QueryID: uuid.NewString(),
				Source: "async", URL: "http://x", Body: []byte(`{"id":1}`), Status: server.DeliveryPending, NextAttemptAt: now.Add(due)}
			mustCode(t, "", st.CreateWebhookDelivery(ctx, d))
			return d
		}
		a, b := mk("i", -time.Second), mk("i", -2*time.Second)
		later := mk("i", time.Hour)
		other := mk("j", 0)
		mustCode(t, server.ECONFLICT, st.CreateWebhookDelivery(ctx, a))
		due, err := st.DueWebhookDeliveries(ctx, now, 10)
		mustCode(t, "", err)
		if len(due) != 3 || due[0].ID != b.ID || due[1].ID != a.ID || due[2].ID != other.ID {
			t.Fatalf("due = %v", dids(due))
		}
		if !bytes.Equal(due[0].Body, b.Body) || due[0].Source != "async" || due[0].Status != server.DeliveryPending {
			t.Fatalf("read back %+v", due[0])
		}
		// Claiming an attempt: one of two concurrent claims wins.
		claim := func() error {
			d := *b
			d.Attempts, d.NextAttemptAt = 1, now.Add(time.Minute)
			return st.UpdateWebhookDelivery(ctx, &d, 0)
		}
		e1, e2 := claim(), claim()
		if e1 != nil || server.ErrorCode(e2) != server.ECONFLICT {
			t.Fatalf("claims: %v, %v", e1, e2)
		}
		b.Attempts, b.Status, b.LastStatusCode, b.DeliveredAt = 1, server.DeliveryDelivered, 204, now
		mustCode(t, "", st.UpdateWebhookDelivery(ctx, b, 1))
		mustCode(t, server.ENOTFOUND, st.UpdateWebhookDelivery(ctx, &server.WebhookDelivery{ID: uuid.NewString()}, 0))
		due, _ = st.DueWebhookDeliveries(ctx, now, 10)
		if len(due) != 2 || due[0].ID != a.ID {
			t.Fatalf("due after delivery = %v", dids(due))
		}
		list, err := st.WebhookDeliveries(ctx, "i", 10)
		mustCode(t, "", err)
		if len(list) != 3 || list[0].ID != later.ID {
			t.Fatalf("deliveries of i = %v", dids(list))
		}
		for _, d := range list {
			if d.ID == b.ID && (d.Status != server.DeliveryDelivered || d.LastStatusCode != 204 || !d.DeliveredAt.Equal(now) || d.Attempts != 1) {
				t.Fatalf("delivered read back %+v", d)
			}
		}
	})
}

// runRegistered is the contract of [server.RegisteredStore].
func runRegistered(t *testing.T, open func(t *testing.T) server.Store) {
	ctx := context.Background()
	t.Run("registered queries", func(t *testing.T) {
		st := open(t)
		now := time.Now().UTC().Truncate(time.Millisecond)
		mk := func(integrator, site string, due time.Duration) *server.RegisteredQuery {
			q := &server.RegisteredQuery{ID: uuid.NewString(), IntegratorID: integrator, SiteID: site, Status: "enabled",
				Request: []byte(`{"text":"SELECT 1"}`), Doc: []byte(`{"name":"n"}`), NextRunAt: now.Add(due)}
			mustCode(t, "", st.CreateRegisteredQuery(ctx, q))
			return q
		}
		a, b := mk("i", "s", -time.Second), mk("i", "s", -2*time.Second)
		mk("i", "other", 0)
		mk("j", "s", time.Hour)
		mustCode(t, server.ECONFLICT, st.CreateRegisteredQuery(ctx, a))
		got, err := st.RegisteredQuery(ctx, a.ID)
		mustCode(t, "", err)
		if got.IntegratorID != "i" || got.SiteID != "s" || got.Status != "enabled" || !got.NextRunAt.Equal(a.NextRunAt) ||
			!bytes.Equal(got.Request, a.Request) || !bytes.Equal(got.Doc, a.Doc) || got.CreatedAt.IsZero() {
			t.Fatalf("read back %+v", got)
		}
		_, err = st.RegisteredQuery(ctx, uuid.NewString())
		mustCode(t, server.ENOTFOUND, err)
		list, err := st.RegisteredQueries(ctx, "i", "s")
		if err != nil || len(list) != 2 || list[0].ID != a.ID {
			t.Fatalf("list = %v, %v", list, err)
		}
		due, err := st.DueRegisteredQueries(ctx, "enabled", now, 10)
		if err != nil || len(due) != 3 || due[0].ID != b.ID || due[1].ID != a.ID {
			t.Fatalf("due = %v, %v", due, err)
		}
		// Claiming a run: the first move of NextRunAt wins.
		claim := *got
		claim.NextRunAt, claim.Doc = now.Add(time.Minute), []byte(`{"runs":1}`)
		mustCode(t, "", st.UpdateRegisteredQuery(ctx, &claim, got.NextRunAt))
		again := *got
		again.NextRunAt = now.Add(2 * time.Minute)
		mustCode(t, server.ECONFLICT, st.UpdateRegisteredQuery(ctx, &again, got.NextRunAt))
		mustCode(t, server.ENOTFOUND, st.UpdateRegisteredQuery(ctx, &server.RegisteredQuery{ID: uuid.NewString(), Doc: []byte("{}")}, now))
		got, _ = st.RegisteredQuery(ctx, a.ID)
		if !got.NextRunAt.Equal(now.Add(time.Minute)) || string(got.Doc) != `{"runs":1}` {
			t.Fatalf("after claim %+v", got)
		}
		got.Status = "cancelled"
		mustCode(t, "", st.UpdateRegisteredQuery(ctx, got, got.NextRunAt))
		if due, _ := st.DueRegisteredQueries(ctx, "enabled", now.Add(time.Hour), 10); len(due) != 3 {
			t.Fatalf("due after cancelling one = %d", len(due))
		}
	})
}

func ids(qs []*server.AsyncQuery) []string {
	var out []string
	for _, q := range qs {
		out = append(out, q.ID)
	}
	return out
}

func dids(ds []*server.WebhookDelivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}
