package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"fhirlink/agent/fbtest"
	"fhirlink/agent/pgtest"
	"fhirlink/agent/wire"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	fbtest.Stop()
	os.Exit(code)
}

// recorder is a Sink that keeps what it receives; failAt makes Row fail on
// that row (1-based).
type recorder struct {
	headers int
	header  wire.Header
	rows    []string
	failAt  int
}

func (r *recorder) Header(h wire.Header) error { r.headers++; r.header = h; return nil }

func (r *recorder) Row(row []byte) error {
	if r.failAt > 0 && len(r.rows)+1 == r.failAt {
		return errors.New("stream closed")
	}
	if !json.Valid(row) || bytes.ContainsAny(row, "\n\r") {
		return errors.New("row is not one line of valid JSON: " + string(row))
	}
	r.rows = append(r.rows, string(row))
	return nil
}

// newPostgres returns an executor on a fresh database and a direct
// connection to the same database for setting up and checking.
func newPostgres(t testing.TB, allowWrites bool) (*Executor, *pgx.Conn) {
	t.Helper()
	dsn := pgtest.DSN(t)
	return openExecutor(t, Config{Engine: "postgres", AllowWrites: allowWrites,
		Catalogues: []Catalogue{{Name: "main", DSN: dsn}}}), pgConnect(t, dsn)
}

func pgConnect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func openExecutor(t testing.TB, cfg Config) *Executor {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// newSQLite creates a database file with the given statements and opens an
// executor on it.
func newSQLite(t testing.TB, allowWrites bool, setup ...string) (*Executor, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "practice.db")
	db := sqliteExec(t, path, setup...)
	if err := db.Ping(); err != nil { // creates the file
		t.Fatal(err)
	}
	db.Close()
	return openExecutor(t, Config{Engine: "sqlite", AllowWrites: allowWrites,
		Catalogues: []Catalogue{{Name: "main", DSN: path}}}), path
}

func pgExec(t testing.TB, c *pgx.Conn, sqls ...string) {
	t.Helper()
	for _, s := range sqls {
		if _, err := c.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// run runs req with a 30 s deadline unless req has one.
func run(t testing.TB, e *Executor, req wire.QueryRequest) (*recorder, wire.Trailer, *wire.Error) {
	t.Helper()
	return runCtx(context.Background(), t, e, req, &recorder{})
}

func runCtx(ctx context.Context, t testing.TB, e *Executor, req wire.QueryRequest, rec *recorder) (*recorder, wire.Trailer, *wire.Error) {
	t.Helper()
	if req.TimeoutMS == 0 {
		req.TimeoutMS = 30000
	}
	tr, err := e.Run(ctx, req, rec)
	if err == nil {
		return rec, tr, nil
	}
	var we *wire.Error
	if !errors.As(err, &we) {
		t.Fatalf("Run returned %T %v, want *wire.Error", err, err)
	}
	return rec, tr, we
}

// mustRun runs req and fails the test on any error.
func mustRun(t testing.TB, e *Executor, req wire.QueryRequest) (*recorder, wire.Trailer) {
	t.Helper()
	rec, tr, we := run(t, e, req)
	if we != nil {
		t.Fatalf("%q: %v", req.Text, we)
	}
	if rec.headers != 1 {
		t.Fatalf("%q: header sent %d times", req.Text, rec.headers)
	}
	return rec, tr
}

// wantKind checks a failure's kind and that its message mentions want.
func wantKind(t testing.TB, we *wire.Error, kind wire.ErrorKind, want string) {
	t.Helper()
	if we == nil {
		t.Fatalf("no error, want %s", kind)
	}
	if we.Kind != kind || !strings.Contains(we.Message, want) {
		t.Fatalf("error %+v, want kind %s mentioning %q", we, kind, want)
	}
}

func str(s string) *string { return &s }
