package executor

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"fhirlink/agent/fbtest"
	"fhirlink/agent/pgtest"
	"fhirlink/agent/wire"
)

// fakeJournal records the executor's calls; at Finish it checks that no
// part of the answer has reached the sink yet.
type fakeJournal struct {
	sink      *recorder
	startErr  error
	started   int
	finished  int
	state     wire.ExecutionState
	rows      *int64
	werr      *wire.Error
	headerSet bool // the sink had the header when Finish came
	result    *wire.Result
}

func (j *fakeJournal) Keep(r *wire.Result) { j.result = r }

func (j *fakeJournal) Started() error {
	j.started++
	return j.startErr
}

func (j *fakeJournal) Finish(state wire.ExecutionState, rows *int64, _ int64, werr *wire.Error) error {
	j.finished++
	j.state, j.rows, j.werr = state, rows, werr
	j.headerSet = j.sink.headers > 0
	return nil
}

// TestRunOnceJournal checks what the executor tells the journal of a write
// on each engine: the start before the statement, the commit before the
// answer, a database error as failed, and nothing for a write that never
// reached the database.
func TestRunOnceJournal(t *testing.T) {
	type practice struct {
		name   string
		open   func(t *testing.T) (*Executor, *sql.DB)
		create string
	}
	practices := []practice{
		{"sqlite", func(t *testing.T) (*Executor, *sql.DB) {
			e, path := newSQLite(t, true)
			return e, sqliteExec(t, path)
		}, "CREATE TABLE t (id INTEGER PRIMARY KEY)"},
		{"postgres", func(t *testing.T) (*Executor, *sql.DB) {
			dsn := pgtest.DSN(t)
			return openExecutor(t, Config{Engine: "postgres", AllowWrites: true, Catalogues: []Catalogue{{Name: "main", DSN: dsn}}}), openDB(t, "pgx", dsn)
		}, "CREATE TABLE t (id INTEGER PRIMARY KEY)"},
		{"firebird", func(t *testing.T) (*Executor, *sql.DB) {
			dsn := fbtest.DSN(t)
			return openExecutor(t, Config{Engine: "firebird", AllowWrites: true, Catalogues: []Catalogue{{Name: "main", DSN: dsn}}}), openDB(t, "firebirdsql", dsn)
		}, "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY)"},
	}
	for _, p := range practices {
		t.Run(p.name, func(t *testing.T) {
			e, db := p.open(t)
			if _, err := db.Exec(p.create); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			insert := wire.QueryRequest{Text: "INSERT INTO t (id) VALUES (1)", Mode: wire.ModeNonQuery, ExecutionID: "x", TimeoutMS: 30000}

			rec := &recorder{}
			j := &fakeJournal{sink: rec}
			tr, err := e.RunOnce(ctx, insert, rec, j)
			if err != nil || tr.RowsAffected == nil || *tr.RowsAffected != 1 {
				t.Fatalf("insert: %+v %v", tr, err)
			}
			if j.started != 1 || j.finished != 1 || j.state != wire.ExecutionCommitted || j.rows == nil || *j.rows != 1 || j.headerSet {
				t.Fatalf("journal after a commit: %+v", j)
			}

			// The same row again: the database refuses it.
			rec = &recorder{}
			j = &fakeJournal{sink: rec}
			_, err = e.RunOnce(ctx, insert, rec, j)
			var werr *wire.Error
			if !errors.As(err, &werr) || werr.Kind != wire.KindDatabase {
				t.Fatalf("duplicate insert: %v", err)
			}
			if j.started != 1 || j.finished != 1 || j.state != wire.ExecutionFailed || j.werr == nil || j.werr.Code == "" {
				t.Fatalf("journal after a database error: %+v %+v", j, j.werr)
			}

			// The journal cannot record the start: the write does not run.
			rec = &recorder{}
			j = &fakeJournal{sink: rec, startErr: errors.New("disk full")}
			two := insert
			two.Text = "INSERT INTO t (id) VALUES (2)"
			if _, err := e.RunOnce(ctx, two, rec, j); err == nil {
				t.Fatal("write ran without its start recorded")
			}
			if j.state != wire.ExecutionNotStarted {
				t.Fatalf("journal after a failed start: %+v", j)
			}
			var n int
			if err := db.QueryRow("SELECT COUNT(*) FROM t WHERE id < 3").Scan(&n); err != nil || n != 1 {
				t.Fatalf("rows in t = %d (%v), want 1", n, err)
			}

			// Cancelled before it could have a connection: no record.
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			j = &fakeJournal{sink: rec}
			e.RunOnce(cctx, two, rec, j)
			if j.started != 0 || j.state != wire.ExecutionNotStarted {
				t.Fatalf("journal after a write cancelled before it started: %+v", j)
			}

			// A write's rows are held until its outcome is recorded, and
			// given to the journal with it.
			rec = &recorder{}
			j = &fakeJournal{sink: rec}
			ret := insert
			ret.Text = "INSERT INTO t (id) VALUES (3) RETURNING id"
			if _, err := e.RunOnce(ctx, ret, rec, j); err != nil || len(rec.rows) != 1 {
				t.Fatalf("insert returning: %v %v", rec.rows, err)
			}
			if j.state != wire.ExecutionCommitted || j.headerSet || j.result == nil || len(j.result.Rows) != 1 ||
				strings.ToLower(string(j.result.Rows[0])) != `{"id":3}` || j.result.Count != 1 || j.result.Dropped || len(j.result.Columns) != 1 {
				t.Fatalf("journal after a write returning rows: %+v %+v", j, j.result)
			}

			// Reads are not journaled.
			j = &fakeJournal{sink: &recorder{}}
			if _, err := e.RunOnce(ctx, wire.QueryRequest{Text: "SELECT COUNT(*) FROM t", ExecutionID: "r", TimeoutMS: 30000}, j.sink, j); err != nil || j.started+j.finished != 0 {
				t.Fatalf("read: %v, journal %+v", err, j)
			}
		})
	}
}

func openDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
