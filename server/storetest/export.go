package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"fhirlink/server"
)

// runExports is the contract of [server.ExportStore].
func runExports(t *testing.T, open func(t *testing.T) server.Store) {
	ctx := context.Background()

	t.Run("export jobs", func(t *testing.T) {
		st := open(t)
		mk := func(id, site string) *server.ExportJob {
			return &server.ExportJob{ID: id, IntegratorID: "i", SiteID: site, Request: []byte(`{}`), Doc: []byte(`{}`)}
		}
		for _, j := range []*server.ExportJob{mk("a1", "A"), mk("a2", "A"), mk("b1", "B")} {
			if ok, err := st.CreateExportJob(ctx, j, 2); err != nil || !ok || j.State != server.ExportQueued || j.CreatedAt.IsZero() {
				t.Fatalf("create %s: %v %v %+v", j.ID, ok, err, j)
			}
			time.Sleep(time.Millisecond) // distinct creation times: claims go oldest first
		}
		if ok, err := st.CreateExportJob(ctx, mk("a3", "A"), 2); err != nil || ok {
			t.Fatalf("a third job at a site allowed two: %v %v", ok, err)
		}
		_, err := st.CreateExportJob(ctx, mk("b1", "B"), 2)
		mustCode(t, server.ECONFLICT, err)

		// Many nodes claiming at once: one running job per site, each job
		// to one claimer.
		now := time.Now()
		var mu sync.Mutex
		claimed := map[string]string{}
		var wg sync.WaitGroup
		for n := range 8 {
			wg.Go(func() {
				node := fmt.Sprintf("node%d", n)
				j, err := st.ClaimExportJob(ctx, node, now, now.Add(time.Minute))
				if err != nil {
					t.Error(err)
					return
				}
				if j != nil {
					mu.Lock()
					defer mu.Unlock()
					if prev, ok := claimed[j.ID]; ok {
						t.Errorf("%s claimed by %s and %s", j.ID, prev, node)
					}
					claimed[j.ID] = node
					if j.State != server.ExportRunning || j.Holder != node || j.Attempt != 1 {
						t.Errorf("claimed %+v", j)
					}
				}
			})
		}
		wg.Wait()
		if len(claimed) != 2 || claimed["a1"] == "" || claimed["b1"] == "" {
			t.Fatalf("claimed %v, want a1 and b1", claimed)
		}
		j, err := st.ExportJob(ctx, "a1")
		mustCode(t, "", err)
		// The holder renews its lease; another node cannot write it.
		j.Doc, j.LeaseUntil = []byte(`{"n":1}`), now.Add(time.Hour)
		mustCode(t, "", st.UpdateExportJob(ctx, j))
		other := *j
		other.Holder = "intruder"
		mustCode(t, server.ECONFLICT, st.UpdateExportJob(ctx, &other))
		if j, err := st.ClaimExportJob(ctx, "late", now.Add(30*time.Second), now.Add(time.Hour)); err != nil || j != nil {
			t.Fatalf("claimed a job under lease, or the site's second: %+v %v", j, err)
		}
		// Once the lease ran out another node takes it over, and the first
		// holder's writes conflict.
		taken, err := st.ClaimExportJob(ctx, "heir", now.Add(2*time.Hour), now.Add(3*time.Hour))
		if err != nil || taken == nil || taken.ID != "a1" || taken.Attempt != 2 || string(taken.Doc) != `{"n":1}` {
			t.Fatalf("takeover: %+v %v", taken, err)
		}
		mustCode(t, server.ECONFLICT, st.UpdateExportJob(ctx, j))
		// It ends; the site's next job can run.
		taken.State, taken.ExpiresAt = server.ExportCompleted, now.Add(time.Hour)
		mustCode(t, "", st.UpdateExportJob(ctx, taken))
		if next, err := st.ClaimExportJob(ctx, "n", now, now.Add(time.Minute)); err != nil || next == nil || next.ID != "a2" {
			t.Fatalf("next claim: %+v %v", next, err)
		}
		if old, err := st.ExpiredExportJobs(ctx, now.Add(2*time.Hour), 10); err != nil || len(old) != 1 || old[0].ID != "a1" {
			t.Fatalf("expired: %+v %v", old, err)
		}
		mustCode(t, "", st.DeleteExportJob(ctx, "a1"))
		mustCode(t, server.ENOTFOUND, st.DeleteExportJob(ctx, "a1"))
		mustCode(t, server.ENOTFOUND, st.UpdateExportJob(ctx, taken))
		_, err = st.ExportJob(ctx, "a1")
		mustCode(t, server.ENOTFOUND, err)
	})
}
