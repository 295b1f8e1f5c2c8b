package server_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/server"
	"fhirlink/server/sqlite"
)

// The daily pruning removes the records older than the retention, and only
// those, and stops with its context.
func TestPruneAuditLoop(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	retention := 2 * 365 * 24 * time.Hour
	var recs []*server.AuditRecord
	for _, age := range []time.Duration{3 * retention, retention + time.Hour, retention - time.Hour, time.Minute} {
		recs = append(recs, &server.AuditRecord{Time: now.Add(-age), Method: "GET", Path: "/integrator/sites", Kind: server.AuditOther, Status: 200})
	}
	if err := st.AppendAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		server.PruneAuditDaily(runCtx, st, retention, slog.New(slog.DiscardHandler))
	}()
	var left []*server.AuditRecord
	waittest.For(t, 5*time.Second, "the daily prune to leave two records", func() bool {
		if left, err = st.Audit(ctx, server.AuditFilter{}); err != nil {
			t.Fatal(err)
		}
		return len(left) == 2
	})
	if len(left) != 2 || left[0].ID != recs[2].ID || left[1].ID != recs[3].ID {
		t.Fatalf("left %d records", len(left))
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("pruning did not stop with its context")
	}
}
