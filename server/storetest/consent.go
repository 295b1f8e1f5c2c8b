package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// runConsent is the contract of [server.ConsentStore].
func runConsent(t *testing.T, open func(t *testing.T) server.Store) {
	ctx := context.Background()

	// fixture makes a site and two integrators.
	fixture := func(t *testing.T, st server.Store) (site *server.Site, a, b *server.Integrator) {
		site = &server.Site{ID: uuid.NewString(), Name: "Harbour Medical", PMSType: wire.PMSBestPractice, PracticeManagementSiteID: "BP-7"}
		mustCode(t, "", st.CreateSite(ctx, site, []byte("h")))
		a = &server.Integrator{ID: uuid.NewString(), Name: "Acme"}
		b = &server.Integrator{ID: uuid.NewString(), Name: "Bolt"}
		mustCode(t, "", st.CreateIntegrator(ctx, a))
		mustCode(t, "", st.CreateIntegrator(ctx, b))
		return site, a, b
	}

	t.Run("pairing codes", func(t *testing.T) {
		st := open(t)
		site, a, b := fixture(t, st)
		now := time.Now()
		code, hash := server.NewPairingCode()
		mustCode(t, server.ENOTFOUND, st.CreatePairingCode(ctx, uuid.NewString(), hash, now.Add(time.Hour)))
		mustCode(t, "", st.CreatePairingCode(ctx, site.ID, hash, now.Add(time.Hour)))

		// Neither an unknown code nor an enrollment code of the same text.
		_, err := st.RedeemPairingCode(ctx, server.HashEnrollmentCode(code), a.ID, now, nil)
		mustCode(t, server.ENOTFOUND, err)
		// An unknown integrator changes nothing.
		_, err = st.RedeemPairingCode(ctx, hash, uuid.NewString(), now, nil)
		mustCode(t, server.ENOTFOUND, err)
		// A refusal by accept changes nothing, and accept sees the site.
		refuse := errors.New("refused")
		var seen *server.Site
		_, err = st.RedeemPairingCode(ctx, hash, a.ID, now, func(s *server.Site) error { seen = s; return refuse })
		if !errors.Is(err, refuse) || seen == nil || seen.ID != site.ID || seen.PracticeManagementSiteID != "BP-7" {
			t.Fatalf("accept refusal: %v, site %+v", err, seen)
		}
		if acc, _ := st.Access(ctx, a.ID, site.ID); acc.Paired {
			t.Fatal("a refused redemption paired")
		}

		// Typed as a person would: lower case, no dashes.
		typed := strings.ToLower(strings.ReplaceAll(code, "-", ""))
		got, err := st.RedeemPairingCode(ctx, server.HashPairingCode(typed), a.ID, now, nil)
		if err != nil || got.ID != site.ID {
			t.Fatalf("redeem = %+v, %v", got, err)
		}
		if acc, err := st.Access(ctx, a.ID, site.ID); err != nil || !acc.Allowed() {
			t.Fatalf("after redeeming: %+v, %v", acc, err)
		}
		if ok, _ := st.Paired(ctx, a.ID, site.ID); !ok {
			t.Fatal("Paired disagrees with Access")
		}
		_, err = st.RedeemPairingCode(ctx, hash, b.ID, now, nil)
		mustCode(t, server.ECONFLICT, err)
		if acc, _ := st.Access(ctx, b.ID, site.ID); acc.Paired {
			t.Fatal("a used code paired a second integrator")
		}

		// Expiry is exclusive: a code expiring at now is expired.
		_, expHash := server.NewPairingCode()
		mustCode(t, "", st.CreatePairingCode(ctx, site.ID, expHash, now))
		_, err = st.RedeemPairingCode(ctx, expHash, b.ID, now, nil)
		mustCode(t, server.EFORBIDDEN, err)

		// Concurrent redemptions of one code: exactly one wins.
		_, raceHash := server.NewPairingCode()
		mustCode(t, "", st.CreatePairingCode(ctx, site.ID, raceHash, now.Add(time.Hour)))
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		for range 8 {
			wg.Go(func() {
				_, err := st.RedeemPairingCode(ctx, raceHash, b.ID, now, nil)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case server.ErrorCode(err) == server.ECONFLICT:
					conflicts++
				default:
					t.Errorf("concurrent redeem: %v", err)
				}
			})
		}
		wg.Wait()
		if wins != 1 || conflicts != 7 {
			t.Fatalf("concurrent redemptions: %d succeeded, %d conflicted; want 1 and 7", wins, conflicts)
		}

		list, err := st.Pairings(ctx, site.ID)
		if err != nil || len(list) != 2 || list[0].IntegratorID != a.ID || list[0].IntegratorName != "Acme" ||
			list[1].IntegratorID != b.ID || list[0].SiteID != site.ID || list[0].CreatedAt.IsZero() {
			t.Fatalf("pairings = %v, %v", list, err)
		}
		if list, err := st.Pairings(ctx, uuid.NewString()); err != nil || len(list) != 0 {
			t.Fatalf("pairings of an unknown site = %v, %v", list, err)
		}
		mustCode(t, "", st.Unpair(ctx, a.ID, site.ID))
		if list, _ := st.Pairings(ctx, site.ID); len(list) != 1 || list[0].IntegratorID != b.ID {
			t.Fatalf("pairings after unpairing = %v", list)
		}
	})

	t.Run("blocks", func(t *testing.T) {
		st := open(t)
		site, a, b := fixture(t, st)
		other := &server.Site{ID: uuid.NewString(), Name: "Other", PMSType: wire.PMSZedmed}
		mustCode(t, "", st.CreateSite(ctx, other, []byte("h")))
		for _, in := range []*server.Integrator{a, b} {
			mustCode(t, "", st.Pair(ctx, in.ID, site.ID))
			mustCode(t, "", st.Pair(ctx, in.ID, other.ID))
		}
		access := func(in *server.Integrator, s *server.Site) server.Access {
			t.Helper()
			acc, err := st.Access(ctx, in.ID, s.ID)
			mustCode(t, "", err)
			return acc
		}
		mustCode(t, server.ENOTFOUND, st.Block(ctx, uuid.NewString(), site.ID))
		mustCode(t, server.ENOTFOUND, st.Block(ctx, a.ID, uuid.NewString()))

		// From one site.
		mustCode(t, "", st.Block(ctx, a.ID, site.ID))
		mustCode(t, "", st.Block(ctx, a.ID, site.ID)) // idempotent
		if acc := access(a, site); !acc.Paired || !acc.Blocked || acc.BlockedEverywhere || acc.Allowed() {
			t.Fatalf("blocked from the site: %+v", acc)
		}
		if !access(a, other).Allowed() || !access(b, site).Allowed() {
			t.Fatal("a block reached another site or integrator")
		}
		// Everywhere.
		mustCode(t, "", st.Block(ctx, b.ID, ""))
		if acc := access(b, other); !acc.BlockedEverywhere || acc.Blocked || acc.Allowed() {
			t.Fatalf("blocked everywhere: %+v", acc)
		}
		if access(b, site).Allowed() {
			t.Fatal("an everywhere block missed a site")
		}
		blocks, err := st.Blocks(ctx)
		if err != nil || len(blocks) != 2 || blocks[0].IntegratorID != a.ID || blocks[0].SiteID != site.ID ||
			blocks[1].IntegratorID != b.ID || blocks[1].SiteID != "" || blocks[0].CreatedAt.IsZero() {
			t.Fatalf("blocks = %v, %v", blocks, err)
		}
		// Lifting one kind leaves the other.
		mustCode(t, "", st.Block(ctx, a.ID, ""))
		mustCode(t, "", st.Unblock(ctx, a.ID, site.ID))
		mustCode(t, server.ENOTFOUND, st.Unblock(ctx, a.ID, site.ID))
		if acc := access(a, site); acc.Blocked || !acc.BlockedEverywhere {
			t.Fatalf("after lifting the site block: %+v", acc)
		}
		mustCode(t, "", st.Unblock(ctx, a.ID, ""))
		mustCode(t, "", st.Unblock(ctx, b.ID, ""))
		if !access(a, site).Allowed() || !access(b, other).Allowed() {
			t.Fatal("still refused after every block was lifted")
		}
		if blocks, _ := st.Blocks(ctx); len(blocks) != 0 {
			t.Fatalf("blocks after lifting = %v", blocks)
		}
	})

	t.Run("quarantine", func(t *testing.T) {
		st := open(t)
		site, a, _ := fixture(t, st)
		mustCode(t, "", st.Pair(ctx, a.ID, site.ID))
		mustCode(t, server.ENOTFOUND, st.SetQuarantined(ctx, uuid.NewString(), true))
		mustCode(t, "", st.SetQuarantined(ctx, site.ID, true))
		mustCode(t, "", st.SetQuarantined(ctx, site.ID, true)) // idempotent
		if acc, _ := st.Access(ctx, a.ID, site.ID); !acc.Quarantined || acc.Allowed() {
			t.Fatalf("quarantined: %+v", acc)
		}
		if ids, err := st.Quarantined(ctx); err != nil || len(ids) != 1 || ids[0] != site.ID {
			t.Fatalf("quarantined sites = %v, %v", ids, err)
		}
		mustCode(t, "", st.SetQuarantined(ctx, site.ID, false))
		mustCode(t, "", st.SetQuarantined(ctx, site.ID, false))
		if acc, _ := st.Access(ctx, a.ID, site.ID); acc.Quarantined || !acc.Allowed() {
			t.Fatalf("after lifting the quarantine: %+v", acc)
		}
		if ids, _ := st.Quarantined(ctx); len(ids) != 0 {
			t.Fatalf("quarantined sites after lifting = %v", ids)
		}
		// An unknown pair is simply not paired.
		if acc, err := st.Access(ctx, uuid.NewString(), uuid.NewString()); err != nil || acc.Paired || acc.Allowed() {
			t.Fatalf("unknown pair: %+v, %v", acc, err)
		}
	})
}
