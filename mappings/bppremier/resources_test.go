package bppremier

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"fhirlink/agent/executor"
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
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bp.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := bpsynth.Apply(ctx, db, bpsynth.EngineSQLite); err != nil {
		t.Fatal(err)
	}
	if err := bpsynth.Generate(ctx, db, bpsynth.EngineSQLite, bpsynth.Small()); err != nil {
		t.Fatal(err)
	}
	ex, err := executor.Open(ctx, executor.Config{Engine: "sqlite", Catalogues: []executor.Catalogue{{Name: "BPSPatients", DSN: path}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	return &mappingstest.Practice{Searcher: mappingstest.Searcher{Exec: ex, Dialect: dialect(t, mappings.EngineSQLite), Site: testSite}, Mapping: Mapping, Today: bpsynth.DefaultToday}
}
