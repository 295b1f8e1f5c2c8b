package api_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
)

// asyncConf polls async work often, as asyncEnv does.
func asyncConf(s *api.Server) {
	s.Async.Poll = 50 * time.Millisecond
	s.Webhooks.Poll, s.Webhooks.Backoff = 50*time.Millisecond, 50*time.Millisecond
}

// sqlitePractice starts a server and agent on a small SQLite practice file.
func sqlitePractice(t *testing.T, opt fhirlinktest.Options) (*fhirlinktest.Env, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "practice.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE PATIENTS (id INTEGER PRIMARY KEY, surname TEXT); INSERT INTO PATIENTS VALUES (1, 'Nguyen'), (2, 'Smith')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	opt.Engine, opt.DSN = "sqlite", path
	return fhirlinktest.Start(t, opt), path
}

// A placeholder that no parameter fills answers 400 with the passthrough
// error shape naming it, immediate or async, never a 500.
func TestUnboundPlaceholderIs400(t *testing.T) {
	lite, _ := sqlitePractice(t, fhirlinktest.Options{Configure: asyncConf})
	pg := asyncEnv(t, fhirlinktest.Options{}, nil)
	for _, c := range []struct {
		env         *fhirlinktest.Env
		engine      string
		text, names string
	}{
		{lite, "sqlite", "SELECT @p AS x", "@p"},
		{lite, "sqlite", "SELECT ? AS x", "?"},
		{lite, "sqlite", "SELECT ?1 AS x", "?1"},
		{lite, "sqlite", "SELECT :p AS x", ":p"},
		{lite, "sqlite", "SELECT $p AS x", "$p"},
		{pg, "postgres", "SELECT @p AS x", "@p"},
		{pg, "postgres", "SELECT $1 AS x", "$1"},
	} {
		status, q := c.env.Immediate(fhirlinktest.Command(c.text))
		if status != 400 || q.ErrorDetails == nil || q.ErrorDetails.ErrorCode != 400 || !strings.Contains(q.ErrorDetails.ErrorMessage, c.names) {
			t.Errorf("%s immediate %q: %d %s", c.engine, c.text, status, q.Raw)
		}
		created := createAsync(t, c.env, fhirlinktest.Command(c.text))
		got := waitAsync(t, c.env, created.ID, "successful", "executionFailed")
		if got.Status != "executionFailed" || got.ErrorDetails == nil || got.ErrorDetails.ErrorCode != 400 ||
			!strings.Contains(got.ErrorDetails.ErrorMessage, c.names) {
			t.Errorf("%s async %q: %s", c.engine, c.text, got.raw)
		}
	}
}

// The SQLite attack of a reader attaching another site's database file is
// refused with 403, and so are PRAGMAs that would change the pooled
// connection for the next request.
func TestSQLiteAttachIsRefused(t *testing.T) {
	env, path := sqlitePractice(t, fhirlinktest.Options{})
	other := filepath.Join(filepath.Dir(path), "other-site.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE PATIENTS (id INTEGER); INSERT INTO PATIENTS VALUES (1), (2), (3)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, text := range []string{
		"ATTACH DATABASE '" + other + "' AS other; SELECT count(*) AS n FROM other.PATIENTS",
		"ATTACH DATABASE '" + filepath.Join(filepath.Dir(path), "new.db") + "' AS n",
		"PRAGMA writable_schema = ON", "PRAGMA query_only = OFF", "PRAGMA journal_mode = WAL",
	} {
		status, q := env.Immediate(fhirlinktest.Command(text))
		if status != 403 || q.ErrorDetails == nil || q.ErrorDetails.ErrorCode != 403 || !strings.Contains(q.ErrorDetails.ErrorMessage, "not allowed") {
			t.Errorf("%q: %d %s", text, status, q.Raw)
		}
	}
	status, q := env.Immediate(fhirlinktest.Command("SELECT count(*) AS n FROM pragma_database_list"))
	if status != 200 || string(q.Result.Data) != `[{"n":2}]` {
		t.Errorf("database list after the attempts: %d %s", status, q.Raw)
	}
}
