package bpsynth

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

// newSQLite opens a fresh SQLite database file in t.TempDir().
func newSQLite(t testing.TB, name string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// buildSQLite applies the schema and generates opt into a fresh SQLite database.
func buildSQLite(t testing.TB, name string, opt Options) *sql.DB {
	t.Helper()
	db := newSQLite(t, name)
	ctx := context.Background()
	if err := Apply(ctx, db, EngineSQLite); err != nil {
		t.Fatal(err)
	}
	if err := Generate(ctx, db, EngineSQLite, opt); err != nil {
		t.Fatal(err)
	}
	return db
}

func count(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

var sharedDir string

func tempDirForShared() (string, error) {
	dir, err := os.MkdirTemp("", "bpsynth-")
	sharedDir = dir
	return dir, err
}

func cleanupShared() {
	if sharedDB != nil {
		sharedDB.Close()
	}
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
}

// BenchmarkGenerateSQLite measures the demo and the 50,000-patient practice on SQLite:
//
//	go test ./mappings/bppremier/bpsynth/ -run '^$' -bench GenerateSQLite -benchtime 1x
func BenchmarkGenerateSQLite(b *testing.B) {
	for _, size := range []struct {
		name string
		opt  Options
	}{{"Small", Small()}, {"Benchmark", Benchmark()}} {
		b.Run(size.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				db, err := sql.Open("sqlite", filepath.Join(dir, "bench.db"))
				if err != nil {
					b.Fatal(err)
				}
				if err := Apply(ctx, db, EngineSQLite); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := Generate(ctx, db, EngineSQLite, size.opt); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				db.Close()
				if fi, err := os.Stat(filepath.Join(dir, "bench.db")); err == nil {
					b.ReportMetric(float64(fi.Size())/(1<<20), "MB")
				}
				b.StartTimer()
			}
		})
	}
}
