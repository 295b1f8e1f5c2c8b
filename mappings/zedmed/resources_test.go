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
	p := smallPractice(t)
	mappingstest.CheckGolden(t, filepath.Join("testdata", "resources.ndjson.gz"), p.Resources(t, p.Rows(t)), *update)
}

// BenchmarkResources builds the resources of every row of the small
// synthetic practice, every type, in turn: the row functions' cost per
// resource.
func BenchmarkResources(b *testing.B) {
	p := smallPractice(b)
	p.Bench(b, p.Rows(b))
}

// smallPractice is the small synthetic practice on SQLite.
func smallPractice(t testing.TB) *mappingstest.Practice {
	t.Helper()
	path := filepath.Join(t.TempDir(), "zedmed.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pr := loadPractice(t, mappings.EngineSQLite, db, path)
	return &mappingstest.Practice{Searcher: pr.Searcher, Mapping: Mapping, Today: bpsynth.DefaultToday}
}
