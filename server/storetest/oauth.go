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

// runOAuth is the contract of [server.OAuthStore].
func runOAuth(t *testing.T, open func(t *testing.T) server.Store) {
	ctx := context.Background()

	t.Run("oauth clients", func(t *testing.T) {
		st := open(t)
		in := &server.Integrator{ID: uuid.NewString(), Name: "Acme"}
		mustCode(t, "", st.CreateIntegrator(ctx, in))
		byURL := &server.Client{ID: uuid.NewString(), IntegratorID: in.ID, Name: "sync", JWKSURL: "https://acme.example/jwks.json", Scope: "system/*.rs"}
		inline := &server.Client{ID: uuid.NewString(), IntegratorID: in.ID, JWKS: []byte(`{"keys":[]}`), Scope: "system/Patient.rs system/passthrough.read"}
		mustCode(t, "", st.CreateClient(ctx, byURL))
		mustCode(t, "", st.CreateClient(ctx, inline))
		mustCode(t, server.ECONFLICT, st.CreateClient(ctx, byURL))
		mustCode(t, server.ENOTFOUND, st.CreateClient(ctx, &server.Client{ID: uuid.NewString(), IntegratorID: uuid.NewString(), Scope: "system/*.rs"}))

		got, err := st.Client(ctx, inline.ID)
		mustCode(t, "", err)
		if got.IntegratorID != in.ID || got.JWKSURL != "" || !bytes.Equal(got.JWKS, inline.JWKS) || got.Scope != inline.Scope || got.CreatedAt.IsZero() {
			t.Fatalf("inline client = %+v", got)
		}
		got, err = st.Client(ctx, byURL.ID)
		mustCode(t, "", err)
		if got.JWKSURL != byURL.JWKSURL || len(got.JWKS) != 0 || got.Name != "sync" {
			t.Fatalf("client by URL = %+v", got)
		}
		_, err = st.Client(ctx, uuid.NewString())
		mustCode(t, server.ENOTFOUND, err)

		list, err := st.Clients(ctx, in.ID)
		if err != nil || len(list) != 2 {
			t.Fatalf("clients = %v, %v", list, err)
		}
		if list, _ := st.Clients(ctx, uuid.NewString()); len(list) != 0 {
			t.Fatalf("clients of an unknown integrator = %v", list)
		}
		mustCode(t, "", st.DeleteClient(ctx, byURL.ID))
		mustCode(t, server.ENOTFOUND, st.DeleteClient(ctx, byURL.ID))
		_, err = st.Client(ctx, byURL.ID)
		mustCode(t, server.ENOTFOUND, err)
	})

	t.Run("oauth jti replay", func(t *testing.T) {
		st := open(t)
		exp := time.Now().Add(5 * time.Minute)
		mustCode(t, "", st.UseJTI(ctx, "client-a", "j1", exp))
		mustCode(t, server.ECONFLICT, st.UseJTI(ctx, "client-a", "j1", exp))
		// The same jti from another issuer is another assertion.
		mustCode(t, "", st.UseJTI(ctx, "client-b", "j1", exp))
		// Once a record has expired, the jti may be recorded again.
		mustCode(t, "", st.UseJTI(ctx, "client-a", "old", time.Now().Add(-2*time.Second)))
		mustCode(t, "", st.UseJTI(ctx, "client-a", "old", exp))
		mustCode(t, server.ECONFLICT, st.UseJTI(ctx, "client-a", "old", exp))

		// Of concurrent uses of one jti exactly one succeeds.
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, conflicts := 0, 0
		for range 8 {
			wg.Go(func() {
				err := st.UseJTI(ctx, "client-c", "race", exp)
				mu.Lock()
				defer mu.Unlock()
				switch server.ErrorCode(err) {
				case server.ECONFLICT:
					conflicts++
				default:
					if err == nil {
						ok++
					} else {
						t.Errorf("concurrent UseJTI: %v", err)
					}
				}
			})
		}
		wg.Wait()
		if ok != 1 || conflicts != 7 {
			t.Fatalf("concurrent uses: %d accepted, %d conflicts; want 1 and 7", ok, conflicts)
		}
	})

	t.Run("signing keys", func(t *testing.T) {
		st := open(t)
		if keys, err := st.SigningKeys(ctx); err != nil || len(keys) != 0 {
			t.Fatalf("keys of an empty store = %v, %v", keys, err)
		}
		a := &server.SigningKey{ID: "k1", Private: []byte("first")}
		mustCode(t, "", st.AddSigningKey(ctx, a))
		mustCode(t, server.ECONFLICT, st.AddSigningKey(ctx, &server.SigningKey{ID: "k1", Private: []byte("x")}))
		b := &server.SigningKey{ID: "k2", Private: []byte("second")}
		mustCode(t, "", st.AddSigningKey(ctx, b))
		keys, err := st.SigningKeys(ctx)
		if err != nil || len(keys) != 2 || keys[0].ID != "k2" || keys[1].ID != "k1" ||
			!bytes.Equal(keys[0].Private, []byte("second")) || keys[0].CreatedAt.IsZero() {
			t.Fatalf("keys = %+v, %v; want k2 then k1", keys, err)
		}
		mustCode(t, "", st.DeleteSigningKey(ctx, "k1"))
		mustCode(t, server.ENOTFOUND, st.DeleteSigningKey(ctx, "k1"))
		if keys, _ := st.SigningKeys(ctx); len(keys) != 1 || keys[0].ID != "k2" {
			t.Fatalf("keys after delete = %+v", keys)
		}
	})
}
