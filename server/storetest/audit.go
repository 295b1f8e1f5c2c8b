package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// runQuotaAudit is the contract of [server.QuotaStore] and
// [server.AuditStore].
func runQuotaAudit(t *testing.T, open func(t *testing.T) server.Store) {
	ctx := context.Background()
	fixture := func(t *testing.T, st server.Store) (siteID, integratorID string) {
		site := &server.Site{ID: uuid.NewString(), Name: "Harbour Medical", PMSType: wire.PMSBestPractice}
		mustCode(t, "", st.CreateSite(ctx, site, []byte("h")))
		in := &server.Integrator{ID: uuid.NewString(), Name: "Acme"}
		mustCode(t, "", st.CreateIntegrator(ctx, in))
		return site.ID, in.ID
	}

	t.Run("quota overrides", func(t *testing.T) {
		st := open(t)
		site, in := fixture(t, st)
		if qs, err := st.Quotas(ctx, in); err != nil || len(qs) != 0 {
			t.Fatalf("quotas = %v, %v", qs, err)
		}
		mustCode(t, "", st.SetQuota(ctx, &server.Quota{IntegratorID: in, DailyQueries: 100, DailyBytes: -1}))
		mustCode(t, "", st.SetQuota(ctx, &server.Quota{IntegratorID: in, SiteID: site, DailyQueries: 3, DailyBytes: 5000}))
		mustCode(t, "", st.SetQuota(ctx, &server.Quota{IntegratorID: in, SiteID: site, DailyQueries: 4, DailyBytes: 5000})) // replaces
		mustCode(t, server.ENOTFOUND, st.SetQuota(ctx, &server.Quota{IntegratorID: uuid.NewString(), DailyQueries: 1}))
		mustCode(t, server.ENOTFOUND, st.SetQuota(ctx, &server.Quota{IntegratorID: in, SiteID: uuid.NewString(), DailyQueries: 1}))
		qs, err := st.Quotas(ctx, in)
		mustCode(t, "", err)
		if len(qs) != 2 || qs[0].SiteID != "" || qs[0].DailyQueries != 100 || qs[1].SiteID != site || qs[1].DailyQueries != 4 || qs[1].DailyBytes != 5000 {
			t.Fatalf("quotas = %+v %+v", qs[0], qs[len(qs)-1])
		}
		if q, b := server.EffectiveQuota(qs, site, 10, 20); q != 4 || b != 5000 {
			t.Fatalf("effective at the site = %d, %d", q, b)
		}
		if q, b := server.EffectiveQuota(qs, uuid.NewString(), 10, 20); q != 100 || b != 20 {
			t.Fatalf("effective elsewhere = %d, %d", q, b)
		}
	})

	t.Run("usage counters", func(t *testing.T) {
		st := open(t)
		site, in := fixture(t, st)
		day := "2026-03-01"
		for i := 1; i <= 3; i++ {
			ok, u, err := st.CountQuery(ctx, in, site, day, 3, 0)
			if err != nil || !ok || u.Queries != int64(i) {
				t.Fatalf("count %d: %v %+v %v", i, ok, u, err)
			}
		}
		ok, u, err := st.CountQuery(ctx, in, site, day, 3, 0)
		if err != nil || ok || u.Queries != 3 {
			t.Fatalf("4th of 3: %v %+v %v", ok, u, err)
		}
		// Unlimited: counts on.
		if ok, u, _ := st.CountQuery(ctx, in, site, day, 0, 0); !ok || u.Queries != 4 {
			t.Fatalf("unlimited: %v %+v", ok, u)
		}
		mustCode(t, "", st.AddUsage(ctx, []server.Usage{
			{IntegratorID: in, SiteID: site, Day: day, Bytes: 700},
			{IntegratorID: in, SiteID: site, Day: day, Bytes: 300},
			{IntegratorID: in, SiteID: site, Day: "2026-03-02", Queries: 2, Bytes: 10},
		}))
		// The byte cap: 1000 bytes used of 1000.
		if ok, u, _ := st.CountQuery(ctx, in, site, day, 0, 1000); ok || u.Bytes != 1000 {
			t.Fatalf("over the byte cap: %v %+v", ok, u)
		}
		if ok, _, _ := st.CountQuery(ctx, in, site, day, 0, 1001); !ok {
			t.Fatal("under the byte cap refused")
		}
		got, err := st.Usage(ctx, in, site, "2026-03-01", "2026-03-02")
		mustCode(t, "", err)
		if len(got) != 2 || got[0].Day != day || got[0].Queries != 5 || got[0].Bytes != 1000 || got[1].Queries != 2 || got[1].Bytes != 10 {
			t.Fatalf("usage = %+v", got)
		}
		if got, _ := st.Usage(ctx, in, "", "2026-03-02", "2026-03-31"); len(got) != 1 || got[0].SiteID != site {
			t.Fatalf("usage every site from the 2nd = %+v", got)
		}
		if got, _ := st.Usage(ctx, uuid.NewString(), "", "2026-01-01", "2026-12-31"); len(got) != 0 {
			t.Fatalf("another integrator sees %+v", got)
		}
	})

	t.Run("concurrent counting never overshoots", func(t *testing.T) {
		st := open(t)
		site, in := fixture(t, st)
		var wg sync.WaitGroup
		var mu sync.Mutex
		counted := 0
		for range 8 {
			wg.Go(func() {
				for range 5 {
					ok, _, err := st.CountQuery(ctx, in, site, "2026-03-01", 10, 0)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						mu.Lock()
						counted++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if counted != 10 {
			t.Fatalf("counted %d of a cap of 10", counted)
		}
	})

	t.Run("audit log", func(t *testing.T) {
		st := open(t)
		site, in := fixture(t, st)
		base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		recs := []*server.AuditRecord{
			{Time: base, IntegratorID: in, SiteID: site, Method: "POST", Path: "/integrator/sites/" + site + "/queries/immediate",
				Kind: server.AuditPassthrough, Interaction: "reader", Query: "SELECT 1 AS one", QueryID: uuid.NewString(),
				Rows: 1, Bytes: 11, Status: 200, DurationUS: 1234, ClientAddr: "192.0.2.7",
				Targets: "BP_AddAppointment", Outcome: server.WriteCommitted, RequestID: "req-7f3a.1:b_c"},
			{Time: base.Add(time.Minute), IntegratorID: in, SiteID: site, Method: "GET", Path: "/integrator/sites/" + site + "/fhir/R4/Patient",
				Kind: server.AuditFHIR, Interaction: "search-type", ResourceType: "Patient", Query: "family=smi", Rows: 3, Bytes: 4000, Status: 200},
			{Time: base.Add(2 * time.Minute), SiteID: uuid.NewString(), Method: "GET", Path: "/integrator/sites", Kind: server.AuditOther, Status: 401},
		}
		mustCode(t, "", st.AppendAudit(ctx, recs))
		if recs[0].ID == 0 || recs[1].ID <= recs[0].ID {
			t.Fatalf("ids %d %d", recs[0].ID, recs[1].ID)
		}
		all, err := st.Audit(ctx, server.AuditFilter{})
		mustCode(t, "", err)
		if len(all) != 3 {
			t.Fatalf("%d records", len(all))
		}
		got := all[0]
		want := *recs[0]
		if !got.Time.Equal(want.Time) {
			t.Fatalf("time %v, want %v", got.Time, want.Time)
		}
		got.Time = want.Time
		if *got != want {
			t.Fatalf("read back\n%+v\nwant\n%+v", *got, want)
		}
		bySite, _ := st.Audit(ctx, server.AuditFilter{SiteID: site})
		if len(bySite) != 2 || bySite[0].Kind != server.AuditPassthrough || bySite[1].Kind != server.AuditFHIR {
			t.Fatalf("by site = %d records", len(bySite))
		}
		window, _ := st.Audit(ctx, server.AuditFilter{IntegratorID: in, From: base.Add(time.Second), To: base.Add(time.Hour)})
		if len(window) != 1 || window[0].ResourceType != "Patient" {
			t.Fatalf("window = %d records", len(window))
		}
		if lim, _ := st.Audit(ctx, server.AuditFilter{Limit: 2}); len(lim) != 2 || lim[0].ID != recs[0].ID {
			t.Fatalf("limit 2 = %d records", len(lim))
		}
	})

	t.Run("audit log newest first, page by page", func(t *testing.T) {
		st := open(t)
		site, in := fixture(t, st)
		base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		// Five records, two of them at the same instant: the order is by
		// time, then id.
		var recs []*server.AuditRecord
		for _, min := range []int{0, 1, 1, 2, 3} {
			recs = append(recs, &server.AuditRecord{Time: base.Add(time.Duration(min) * time.Minute), IntegratorID: in, SiteID: site,
				Method: "GET", Path: "/x", Kind: server.AuditOther, Status: 200})
		}
		mustCode(t, "", st.AppendAudit(ctx, recs))
		ids := func(list []*server.AuditRecord) []int64 {
			var out []int64
			for _, r := range list {
				out = append(out, r.ID-recs[0].ID)
			}
			return out
		}
		f := server.AuditFilter{SiteID: site, Newest: true, Limit: 2, To: base.Add(time.Hour)}
		var pages [][]int64
		for range 4 {
			page, err := st.Audit(ctx, f)
			mustCode(t, "", err)
			pages = append(pages, ids(page))
			if len(page) == 0 {
				break
			}
			last := page[len(page)-1]
			f.Before = server.AuditCursor{Time: last.Time, ID: last.ID}
		}
		if fmt.Sprint(pages) != "[[4 3] [2 1] [0] []]" {
			t.Fatalf("pages newest first: %v", pages)
		}
		oldest, _ := st.Audit(ctx, server.AuditFilter{SiteID: site, Limit: 2, Before: server.AuditCursor{Time: recs[2].Time, ID: recs[2].ID}})
		if fmt.Sprint(ids(oldest)) != "[0 1]" {
			t.Fatalf("oldest first before the third: %v", ids(oldest))
		}
	})

	t.Run("audit pruning", func(t *testing.T) {
		st := open(t)
		site, in := fixture(t, st)
		now := time.Now().UTC()
		var recs []*server.AuditRecord
		for _, age := range []time.Duration{9 * 365 * 24 * time.Hour, 8 * 365 * 24 * time.Hour, 8*365*24*time.Hour - time.Hour,
			6 * 365 * 24 * time.Hour, 24 * time.Hour, 0} {
			recs = append(recs, &server.AuditRecord{Time: now.Add(-age), IntegratorID: in, SiteID: site, Method: "GET", Path: "/x", Kind: server.AuditOther, Status: 200})
		}
		mustCode(t, "", st.AppendAudit(ctx, recs))
		cut := now.Add(-7 * 365 * 24 * time.Hour)
		n, err := st.PruneAudit(ctx, cut, 1) // bounded: one at a time
		if err != nil || n != 1 {
			t.Fatalf("first batch pruned %d, %v", n, err)
		}
		n, err = st.PruneAudit(ctx, cut, 100)
		if err != nil || n != 2 {
			t.Fatalf("second batch pruned %d, %v", n, err)
		}
		left, _ := st.Audit(ctx, server.AuditFilter{})
		if len(left) != 3 || left[0].ID != recs[3].ID {
			t.Fatalf("left %d records", len(left))
		}
		// Retention has a floor: recent records cannot be pruned.
		_, err = st.PruneAudit(ctx, now, 100)
		mustCode(t, server.EINVALID, err)
		if left, _ := st.Audit(ctx, server.AuditFilter{}); len(left) != 3 {
			t.Fatalf("left %d records after a refused prune", len(left))
		}
	})

	t.Run("audit log is append-only", func(t *testing.T) {
		// The store has no method that changes or removes one record.
		var names []string
		typ := reflect.TypeFor[server.AuditStore]()
		for i := range typ.NumMethod() {
			names = append(names, typ.Method(i).Name)
		}
		sort.Strings(names)
		if !reflect.DeepEqual(names, []string{"AppendAudit", "Audit", "PruneAudit"}) {
			t.Fatalf("AuditStore methods %v: an audit method beyond append, read and prune needs review", names)
		}
	})
}
