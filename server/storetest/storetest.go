// Package storetest is the contract every [server.Store] passes: each
// implementation's tests call [Run] with a function opening an empty store.
package storetest

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// Run runs the contract against stores made by open.
func Run(t *testing.T, open func(t *testing.T) server.Store) {
	ctx := context.Background()

	t.Run("sites", func(t *testing.T) {
		st := open(t)
		site := &server.Site{ID: uuid.NewString(), Name: "Harbour Medical", PMSType: wire.PMSBestPractice, PracticeManagementSiteID: "BP-1"}
		_, hash := server.NewSecret()
		mustCode(t, "", st.CreateSite(ctx, site, hash))
		mustCode(t, server.ECONFLICT, st.CreateSite(ctx, site, hash))
		got, err := st.Site(ctx, site.ID)
		mustCode(t, "", err)
		if got.Name != site.Name || got.PMSType != site.PMSType || got.PracticeManagementSiteID != "BP-1" || got.CreatedAt.IsZero() {
			t.Fatalf("site = %+v", got)
		}
		_, err = st.Site(ctx, uuid.NewString())
		mustCode(t, server.ENOTFOUND, err)
		h, err := st.SiteSecretHash(ctx, site.ID)
		if err != nil || !bytes.Equal(h, hash) {
			t.Fatalf("secret hash %x, %v", h, err)
		}
		_, hash2 := server.NewSecret()
		mustCode(t, "", st.SetSiteSecretHash(ctx, site.ID, hash2))
		if h, _ := st.SiteSecretHash(ctx, site.ID); !bytes.Equal(h, hash2) {
			t.Fatal("rotated secret hash not stored")
		}
		mustCode(t, server.ENOTFOUND, st.SetSiteSecretHash(ctx, uuid.NewString(), hash2))
		if sites, err := st.Sites(ctx); err != nil || len(sites) != 1 {
			t.Fatalf("sites = %v, %v", sites, err)
		}
	})

	t.Run("integrator keys", func(t *testing.T) {
		st := open(t)
		in := &server.Integrator{ID: uuid.NewString(), Name: "Acme"}
		mustCode(t, "", st.CreateIntegrator(ctx, in))
		k1, h1 := server.NewSecret()
		k2, h2 := server.NewSecret()
		mustCode(t, "", st.SetIntegratorKey(ctx, in.ID, server.KeyPrimary, h1))
		mustCode(t, "", st.SetIntegratorKey(ctx, in.ID, server.KeySecondary, h2))
		for _, k := range []string{k1, k2} {
			got, err := st.IntegratorByKeyHash(ctx, server.HashSecret(k))
			if err != nil || got.ID != in.ID {
				t.Fatalf("by key: %v, %v", got, err)
			}
		}
		// Rotating the primary key retires the old one and keeps the secondary.
		k3, h3 := server.NewSecret()
		mustCode(t, "", st.SetIntegratorKey(ctx, in.ID, server.KeyPrimary, h3))
		_, err := st.IntegratorByKeyHash(ctx, server.HashSecret(k1))
		mustCode(t, server.EUNAUTHORIZED, err)
		for _, k := range []string{k2, k3} {
			if _, err := st.IntegratorByKeyHash(ctx, server.HashSecret(k)); err != nil {
				t.Fatalf("key still valid after rotating the other: %v", err)
			}
		}
		mustCode(t, server.EINVALID, st.SetIntegratorKey(ctx, in.ID, 3, h1))
		mustCode(t, server.ENOTFOUND, st.SetIntegratorKey(ctx, uuid.NewString(), server.KeyPrimary, h1))
	})

	t.Run("secrets", func(t *testing.T) {
		st := open(t)
		a, err := st.Secret(ctx, "paging")
		if err != nil || len(a) != 32 {
			t.Fatalf("secret %x, %v", a, err)
		}
		again, _ := st.Secret(ctx, "paging")
		other, _ := st.Secret(ctx, "jwt")
		if !bytes.Equal(a, again) || bytes.Equal(a, other) {
			t.Fatal("a named secret must be stable, and distinct from other names")
		}
	})

	t.Run("enrollment codes", func(t *testing.T) {
		st := open(t)
		site := &server.Site{ID: uuid.NewString(), Name: "S", PMSType: wire.PMSBestPractice}
		_, oldHash := server.NewSecret()
		mustCode(t, "", st.CreateSite(ctx, site, oldHash))
		now := time.Now()
		code, codeHash := server.NewEnrollmentCode()
		mustCode(t, server.ENOTFOUND, st.CreateEnrollmentCode(ctx, uuid.NewString(), codeHash, now.Add(time.Hour)))
		mustCode(t, "", st.CreateEnrollmentCode(ctx, site.ID, codeHash, now.Add(time.Hour)))

		_, newHash := server.NewSecret()
		_, err := st.RedeemEnrollmentCode(ctx, server.HashEnrollmentCode("0000-0000"), newHash, now)
		mustCode(t, server.ENOTFOUND, err)
		if h, _ := st.SiteSecretHash(ctx, site.ID); !bytes.Equal(h, oldHash) {
			t.Fatal("a refused redemption changed the site's secret")
		}
		// The code as a person types it: lower case, no dashes.
		typed := strings.ToLower(strings.ReplaceAll(code, "-", ""))
		id, err := st.RedeemEnrollmentCode(ctx, server.HashEnrollmentCode(typed), newHash, now)
		if err != nil || id != site.ID {
			t.Fatalf("redeem = %q, %v", id, err)
		}
		if h, _ := st.SiteSecretHash(ctx, site.ID); !bytes.Equal(h, newHash) {
			t.Fatal("redeeming did not replace the site's secret hash")
		}
		_, otherHash := server.NewSecret()
		_, err = st.RedeemEnrollmentCode(ctx, codeHash, otherHash, now)
		mustCode(t, server.ECONFLICT, err)
		if h, _ := st.SiteSecretHash(ctx, site.ID); !bytes.Equal(h, newHash) {
			t.Fatal("a reused code changed the site's secret")
		}

		// Expiry is exclusive: a code expiring at now is expired.
		_, expHash := server.NewEnrollmentCode()
		mustCode(t, "", st.CreateEnrollmentCode(ctx, site.ID, expHash, now))
		_, err = st.RedeemEnrollmentCode(ctx, expHash, otherHash, now)
		mustCode(t, server.EFORBIDDEN, err)
		if h, _ := st.SiteSecretHash(ctx, site.ID); !bytes.Equal(h, newHash) {
			t.Fatal("an expired code changed the site's secret")
		}

		// Concurrent redemptions of one code: exactly one wins.
		_, raceHash := server.NewEnrollmentCode()
		mustCode(t, "", st.CreateEnrollmentCode(ctx, site.ID, raceHash, now.Add(time.Hour)))
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		for range 8 {
			wg.Go(func() {
				_, h := server.NewSecret()
				_, err := st.RedeemEnrollmentCode(ctx, raceHash, h, now)
				mu.Lock()
				defer mu.Unlock()
				switch server.ErrorCode(err) {
				case server.ECONFLICT:
					conflicts++
				default:
					if err == nil {
						wins++
					} else {
						t.Errorf("concurrent redeem: %v", err)
					}
				}
			})
		}
		wg.Wait()
		if wins != 1 || conflicts != 7 {
			t.Fatalf("concurrent redemptions: %d succeeded, %d conflicted; want 1 and 7", wins, conflicts)
		}
	})

	t.Run("pairings", func(t *testing.T) {
		st := open(t)
		site := &server.Site{ID: uuid.NewString(), Name: "S", PMSType: wire.PMSZedmed}
		in := &server.Integrator{ID: uuid.NewString(), Name: "I"}
		mustCode(t, "", st.CreateSite(ctx, site, []byte("h")))
		mustCode(t, "", st.CreateIntegrator(ctx, in))
		if ok, err := st.Paired(ctx, in.ID, site.ID); ok || err != nil {
			t.Fatalf("paired before pairing: %v %v", ok, err)
		}
		mustCode(t, "", st.Pair(ctx, in.ID, site.ID))
		mustCode(t, "", st.Pair(ctx, in.ID, site.ID)) // idempotent
		if ok, _ := st.Paired(ctx, in.ID, site.ID); !ok {
			t.Fatal("not paired after pairing")
		}
		mustCode(t, server.ENOTFOUND, st.Pair(ctx, in.ID, uuid.NewString()))
		mustCode(t, "", st.Unpair(ctx, in.ID, site.ID))
		mustCode(t, server.ENOTFOUND, st.Unpair(ctx, in.ID, site.ID))
		if ok, _ := st.Paired(ctx, in.ID, site.ID); ok {
			t.Fatal("still paired after unpairing")
		}
	})

	t.Run("access version", func(t *testing.T) {
		st := open(t)
		site := &server.Site{ID: uuid.NewString(), Name: "S", PMSType: wire.PMSZedmed}
		in := &server.Integrator{ID: uuid.NewString(), Name: "I"}
		last := int64(-1)
		// changed reports whether the version moved since the last call.
		changed := func() bool {
			t.Helper()
			v, err := st.AccessVersion(ctx)
			mustCode(t, "", err)
			moved := v != last
			if v < last {
				t.Fatalf("access version went back from %d to %d", last, v)
			}
			last = v
			return moved
		}
		changed()
		_, hash := server.NewSecret()
		// In order: each undoes or depends on the one before.
		for _, c := range []struct {
			what   string
			change func() error
		}{
			{"site created", func() error { return st.CreateSite(ctx, site, []byte("h")) }},
			{"integrator created", func() error { return st.CreateIntegrator(ctx, in) }},
			{"site secret", func() error { return st.SetSiteSecretHash(ctx, site.ID, []byte("h2")) }},
			{"key set", func() error { return st.SetIntegratorKey(ctx, in.ID, server.KeyPrimary, hash) }},
			{"key rotated", func() error { _, h := server.NewSecret(); return st.SetIntegratorKey(ctx, in.ID, server.KeyPrimary, h) }},
			{"paired", func() error { return st.Pair(ctx, in.ID, site.ID) }},
			{"unpaired", func() error { return st.Unpair(ctx, in.ID, site.ID) }},
			{"blocked", func() error { return st.Block(ctx, in.ID, site.ID) }},
			{"unblocked", func() error { return st.Unblock(ctx, in.ID, site.ID) }},
			{"blocked everywhere", func() error { return st.Block(ctx, in.ID, "") }},
			{"quarantined", func() error { return st.SetQuarantined(ctx, site.ID, true) }},
			{"quarantine lifted", func() error { return st.SetQuarantined(ctx, site.ID, false) }},
			{"writes granted", func() error { return st.GrantWrites(ctx, in.ID, site.ID) }},
			{"writes revoked", func() error { return st.RevokeWrites(ctx, in.ID, site.ID) }},
			{"quota set", func() error {
				return st.SetQuota(ctx, &server.Quota{IntegratorID: in.ID, SiteID: site.ID, DailyQueries: 5})
			}},
		} {
			mustCode(t, "", c.change())
			if !changed() {
				t.Fatalf("%s: the access version did not change", c.what)
			}
		}
		// The requests' own records are not access.
		mustCode(t, "", st.AppendAudit(ctx, []*server.AuditRecord{{Time: time.Now().UTC(), Method: "GET", Path: "/x", Kind: server.AuditOther}}))
		mustCode(t, "", st.AddUsage(ctx, []server.Usage{{IntegratorID: in.ID, SiteID: site.ID, Day: server.UsageDay(time.Now()), Queries: 1}}))
		if changed() {
			t.Fatal("an audit record or usage count changed the access version")
		}
	})

	runOAuth(t, open)
	runConsent(t, open)
	runQuotaAudit(t, open)
	runAsync(t, open)
	runConsole(t, open)
	runRegistered(t, open)
	runWrites(t, open)
	runExports(t, open)
}

func mustCode(t *testing.T, want string, err error) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if got := server.ErrorCode(err); err == nil || got != want {
		t.Fatalf("error %v (code %q), want code %q", err, got, want)
	}
}

// CredentialChanges checks [server.Store.CredentialChanges] on st: a
// secret replaced (by the operator or by an enrollment) and a site deleted
// are reported from the store's clock on, and nothing before. deleteSite
// deletes a site's row by hand (the store has no operation for it), as an
// operator might in SQL.
func CredentialChanges(t *testing.T, st server.Store, deleteSite func(id string) error) {
	ctx := context.Background()
	sites := map[string]string{}
	for _, name := range []string{"rotated", "enrolled", "deleted", "untouched"} {
		site := &server.Site{ID: uuid.NewString(), Name: name, PMSType: wire.PMSBestPractice}
		_, hash := server.NewSecret()
		mustCode(t, "", st.CreateSite(ctx, site, hash))
		sites[name] = site.ID
	}
	ids, since, err := st.CredentialChanges(ctx, time.Time{})
	mustCode(t, "", err)
	if len(ids) != 0 || since.IsZero() {
		t.Fatalf("before any change: %v at %v", ids, since)
	}

	_, hash := server.NewSecret()
	mustCode(t, "", st.SetSiteSecretHash(ctx, sites["rotated"], hash))
	codeHash := server.HashEnrollmentCode("2222-2222")
	mustCode(t, "", st.CreateEnrollmentCode(ctx, sites["enrolled"], codeHash, time.Now().Add(time.Hour)))
	_, hash = server.NewSecret()
	if _, err := st.RedeemEnrollmentCode(ctx, codeHash, hash, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := deleteSite(sites["deleted"]); err != nil {
		t.Fatal(err)
	}

	ids, now, err := st.CredentialChanges(ctx, since)
	mustCode(t, "", err)
	got := map[string]bool{}
	for _, id := range ids {
		got[id] = true
	}
	if len(ids) != 3 || !got[sites["rotated"]] || !got[sites["enrolled"]] || !got[sites["deleted"]] {
		t.Fatalf("changes since %v: %v; want the rotated, enrolled and deleted sites %v", since, ids, sites)
	}
	if now.Before(since) {
		t.Fatalf("the store's clock went back: %v then %v", since, now)
	}
	if ids, _, err := st.CredentialChanges(ctx, now.Add(time.Minute)); err != nil || len(ids) != 0 {
		t.Fatalf("changes after the last: %v, %v", ids, err)
	}
}
