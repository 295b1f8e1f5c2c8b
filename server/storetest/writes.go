package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// runWrites is the contract of the write grants and the idempotency keys.
func runWrites(t *testing.T, open func(t *testing.T) server.Store) {
	ctx := context.Background()

	t.Run("write grants", func(t *testing.T) {
		st := open(t)
		site := &server.Site{ID: uuid.NewString(), Name: "Harbour Medical", PMSType: wire.PMSBestPractice}
		mustCode(t, "", st.CreateSite(ctx, site, []byte("h")))
		in := &server.Integrator{ID: uuid.NewString(), Name: "Acme"}
		mustCode(t, "", st.CreateIntegrator(ctx, in))
		mustCode(t, "", st.Pair(ctx, in.ID, site.ID))
		granted := func() bool {
			t.Helper()
			a, err := st.Access(ctx, in.ID, site.ID)
			mustCode(t, "", err)
			return a.WritesGranted
		}
		if granted() {
			t.Fatal("writes granted before any grant")
		}
		mustCode(t, "", st.GrantWrites(ctx, in.ID, site.ID))
		mustCode(t, "", st.GrantWrites(ctx, in.ID, site.ID)) // idempotent
		if !granted() {
			t.Fatal("writes not granted after the grant")
		}
		mustCode(t, server.ENOTFOUND, st.GrantWrites(ctx, uuid.NewString(), site.ID))
		mustCode(t, server.ENOTFOUND, st.GrantWrites(ctx, in.ID, uuid.NewString()))
		mustCode(t, "", st.RevokeWrites(ctx, in.ID, site.ID))
		mustCode(t, "", st.RevokeWrites(ctx, in.ID, site.ID)) // idempotent
		if granted() {
			t.Fatal("writes still granted after the revocation")
		}
	})

	t.Run("idempotency keys", func(t *testing.T) {
		st := open(t)
		now := time.Now().UTC().Truncate(time.Millisecond)
		in, other := uuid.NewString(), uuid.NewString()
		fp := server.RequestFingerprint("POST", "/x", []byte(`{"a":1}`))
		key := func(integ string, at time.Time) *server.IdempotencyKey {
			return &server.IdempotencyKey{IntegratorID: integ, Key: "k-1", Fingerprint: fp, CreatedAt: at, ExpiresAt: at.Add(server.IdempotencyKeyTTL)}
		}
		rec, claimed, err := st.ClaimIdempotencyKey(ctx, key(in, now))
		mustCode(t, "", err)
		if !claimed || rec.Response != nil {
			t.Fatalf("first claim: claimed %v, %+v", claimed, rec)
		}
		// Another integrator's key of the same text is another key.
		if _, claimed, _ := st.ClaimIdempotencyKey(ctx, key(other, now)); !claimed {
			t.Fatal("another integrator's key of the same text was taken")
		}
		again := key(in, now.Add(time.Minute))
		again.Fingerprint = server.RequestFingerprint("POST", "/x", []byte(`{"a":2}`))
		rec, claimed, err = st.ClaimIdempotencyKey(ctx, again)
		mustCode(t, "", err)
		if claimed || !bytes.Equal(rec.Fingerprint, fp) || rec.Response != nil || !rec.CreatedAt.Equal(now) {
			t.Fatalf("second claim: claimed %v, %+v: want the first record, without a response", claimed, rec)
		}

		// Of concurrent completions the first stored wins, for everyone.
		var wg sync.WaitGroup
		got := make([]*server.IdempotentResponse, 8)
		for i := range got {
			wg.Go(func() {
				r, err := st.CompleteIdempotencyKey(ctx, in, "k-1", &server.IdempotentResponse{Status: 200 + i, Header: map[string]string{"Content-Type": "application/json"}, Body: []byte(`{"n":1}`)})
				if err != nil {
					t.Error(err)
				}
				got[i] = r
			})
		}
		wg.Wait()
		for _, r := range got {
			if r == nil || r.Status != got[0].Status || string(r.Body) != `{"n":1}` || r.Header["Content-Type"] != "application/json" {
				t.Fatalf("completions answered %+v and %+v: want one answer for all", got[0], r)
			}
		}
		rec, claimed, _ = st.ClaimIdempotencyKey(ctx, key(in, now.Add(time.Hour)))
		if claimed || rec.Response == nil || rec.Response.Status != got[0].Status {
			t.Fatalf("claim after completion: claimed %v, %+v", claimed, rec)
		}
		_, err = st.CompleteIdempotencyKey(ctx, in, "no-such-key", &server.IdempotentResponse{Status: 200})
		mustCode(t, server.ENOTFOUND, err)

		// Expired: a new claim replaces the record, and purging removes it.
		later := now.Add(server.IdempotencyKeyTTL + time.Second)
		rec, claimed, _ = st.ClaimIdempotencyKey(ctx, key(in, later))
		if !claimed || rec.Response != nil {
			t.Fatalf("claim after expiry: claimed %v, %+v", claimed, rec)
		}
		n, err := st.PurgeIdempotencyKeys(ctx, later.Add(time.Second))
		mustCode(t, "", err)
		if n != 1 { // the other integrator's key; the renewed one is live
			t.Fatalf("purged %d keys, want 1", n)
		}
		if _, claimed, _ := st.ClaimIdempotencyKey(ctx, key(other, later.Add(2*time.Second))); !claimed {
			t.Fatal("a purged key is still there")
		}
	})
}
