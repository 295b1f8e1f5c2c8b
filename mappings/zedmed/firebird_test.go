package zedmed

import (
	"database/sql"
	"testing"

	_ "github.com/nakagami/firebirdsql"

	"fhirlink/agent/fbtest"
	"fhirlink/mappings"
)

// TestFirebird runs every case on a real Firebird 3 server (agent/fbtest, bound to
// 127.0.0.1), Zedmed's engine, with the firebird dialect.
func TestFirebird(t *testing.T) {
	t.Parallel()
	dsn := fbtest.DSN(t)
	db, err := sql.Open("firebirdsql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	runPractice(t, loadPractice(t, mappings.EngineFirebird, db, dsn))
}
