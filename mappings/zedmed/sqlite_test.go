package zedmed

import (
	"database/sql"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"fhirlink/mappings"
)

// TestSQLite runs every case on the SQLite practice (the demo's engine).
func TestSQLite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "zedmed.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	runPractice(t, loadPractice(t, mappings.EngineSQLite, db, path))
}
