package api_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"fhirlink/mappings/zedmed/zedsynth"
	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
)

// zedPractice builds the small synthetic Zedmed practice in a SQLite file
// of the test's own and returns its path and a connection to it.
func zedPractice(t *testing.T) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "zedmed.db")
	if err := zedsynth.CreateSQLite(context.Background(), path, "", zedsynth.Small()); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return path, db
}

// zedEnv runs the Zedmed practice behind an agent (SQLite engine); configure,
// when not nil, adjusts the API server.
func zedEnv(t *testing.T, configure func(*api.Server)) (*fhirlinktest.Env, *sql.DB) {
	t.Helper()
	path, db := zedPractice(t)
	return fhirlinktest.Start(t, fhirlinktest.Options{Engine: "sqlite", DSN: path, PMSType: "Zedmed",
		Catalogue: zedsynth.CatalogueMain, Configure: configure}), db
}
