package sqlite

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fhirlink/server"
)

// The database itself refuses to change the audit log, whatever the caller:
// no UPDATE, and no DELETE of a record younger than the retention floor.
func TestAuditLogTriggers(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	old := &server.AuditRecord{Time: time.Now().Add(-2 * server.MinAuditRetention), Method: "GET", Path: "/a", Kind: server.AuditOther, Status: 200}
	recent := &server.AuditRecord{Time: time.Now().Add(-time.Hour), Method: "GET", Path: "/b", Kind: server.AuditOther, Status: 200}
	if err := st.AppendAudit(ctx, []*server.AuditRecord{old, recent}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE audit_log SET status = 500`,
		`UPDATE audit_log SET query = 'x' WHERE id = ` + itoa(old.ID),
		`DELETE FROM audit_log WHERE id = ` + itoa(recent.ID),
		`DELETE FROM audit_log`,
	} {
		if _, err := st.db.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "audit") {
			t.Errorf("%s: %v, want refused", q, err)
		}
	}
	if _, err := st.db.ExecContext(ctx, `DELETE FROM audit_log WHERE id = `+itoa(old.ID)); err != nil {
		t.Fatalf("deleting a record past the floor: %v", err)
	}
	if recs, _ := st.Audit(ctx, server.AuditFilter{}); len(recs) != 1 || recs[0].ID != recent.ID || recs[0].Status != 200 {
		t.Fatalf("left %+v", recs)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
