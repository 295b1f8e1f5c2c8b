package zedmed

import (
	"database/sql"
	"path/filepath"
	"testing"

	"fhirlink/mappings"
	"fhirlink/mappings/bppremier/bpsynth"
	"fhirlink/mappings/mappingstest"
)

// TestResourcesGolden builds every resource of the small synthetic practice
// (SQLite) and compares each, as JSON, with testdata/resources.ndjson.gz:
// how resources are built may change, what they say may not, unless the
// file is rewritten with -update on purpose.
func TestResourcesGolden(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "zedmed.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pr := loadPractice(t, mappings.EngineSQLite, db, path)
	p := &mappingstest.Practice{Exec: pr.exec, Mapping: Mapping, Dialect: pr.dialect, Site: testSite, Today: bpsynth.DefaultToday}
	mappingstest.CheckGolden(t, filepath.Join("testdata", "resources.ndjson.gz"), p.Resources(t), *update)
}
