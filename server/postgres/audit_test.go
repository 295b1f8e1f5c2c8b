package postgres_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"fhirlink/agent/pgtest"
	"fhirlink/server"
)

// The database itself refuses to change the audit log, whatever the caller:
// no UPDATE, no TRUNCATE, and no DELETE of a record younger than the
// retention floor.
func TestAuditLogTriggers(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	st := open(t, dsn)
	old := &server.AuditRecord{Time: time.Now().Add(-2 * server.MinAuditRetention), Method: "GET", Path: "/a", Kind: server.AuditOther, Status: 200}
	recent := &server.AuditRecord{Time: time.Now().Add(-time.Hour), Method: "GET", Path: "/b", Kind: server.AuditOther, Status: 200}
	if err := st.AppendAudit(ctx, []*server.AuditRecord{old, recent}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	id := func(r *server.AuditRecord) string { return strconv.FormatInt(r.ID, 10) }
	for _, q := range []string{
		`UPDATE audit_log SET status = 500`,
		`UPDATE audit_log SET query = 'x' WHERE id = ` + id(old),
		`DELETE FROM audit_log WHERE id = ` + id(recent),
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		if _, err := conn.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "audit") {
			t.Errorf("%s: %v, want refused", q, err)
		}
	}
	if _, err := conn.Exec(ctx, `DELETE FROM audit_log WHERE id = `+id(old)); err != nil {
		t.Fatalf("deleting a record past the floor: %v", err)
	}
	if recs, _ := st.Audit(ctx, server.AuditFilter{}); len(recs) != 1 || recs[0].ID != recent.ID || recs[0].Status != 200 {
		t.Fatalf("left %+v", recs)
	}
}
