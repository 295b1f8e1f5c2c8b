package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
)

func open(t *testing.T, path string) *Journal {
	t.Helper()
	j, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func state(t *testing.T, j *Journal, id string) wire.Execution {
	t.Helper()
	ex, err := j.Lookup(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// TestLifecycle follows ids through every outcome, and reopens the file as
// a restarted agent would.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dir with space", "executions.db")
	j := open(t, path)

	// Claimed but never started: nothing is kept, the id may run later.
	c, prior, err := j.Claim(ctx, "a")
	if err != nil || prior != nil {
		t.Fatal(prior, err)
	}
	if st := state(t, j, "a").State; st != wire.ExecutionRunning {
		t.Fatalf("claimed id reads %s", st)
	}
	c.Finish(wire.ExecutionNotStarted, nil, 0, wire.Errorf(wire.KindExpiredInQueue, "no slot"))
	if st := state(t, j, "a").State; st != wire.ExecutionNotStarted {
		t.Fatalf("released id reads %s", st)
	}

	// Committed: a repeat gets the first outcome.
	c, _, _ = j.Claim(ctx, "a")
	if err := c.Started(); err != nil {
		t.Fatal(err)
	}
	n := int64(3)
	if err := c.Finish(wire.ExecutionCommitted, &n, 12, nil); err != nil {
		t.Fatal(err)
	}
	c, prior, err = j.Claim(ctx, "a")
	if err != nil || c != nil || prior == nil || prior.State != wire.ExecutionCommitted || *prior.RowsAffected != 3 || prior.ExecutionMS != 12 {
		t.Fatalf("repeat of a committed id: %v %+v %v", c, prior, err)
	}

	// Failed: the kind, engine and code are kept, not the message.
	c, _, _ = j.Claim(ctx, "b")
	c.Started()
	c.Finish(wire.ExecutionFailed, nil, 1, &wire.Error{Kind: wire.KindDatabase, Engine: "postgres", Code: "23505", Message: "Key (name)=(Smith) already exists"})
	ex := state(t, j, "b")
	if ex.State != wire.ExecutionFailed || ex.Error == nil || ex.Error.Code != "23505" || ex.Error.Engine != "postgres" ||
		ex.Error.Message != "the write failed on its first run (postgres error 23505)" {
		t.Fatalf("failed id reads %+v %+v", ex, ex.Error)
	}

	// Started, and the process stops before the outcome: unknown after a
	// restart.
	c, _, _ = j.Claim(ctx, "c")
	c.Started()
	j.Close()
	j = open(t, path)
	for id, want := range map[string]wire.ExecutionState{"a": wire.ExecutionCommitted, "b": wire.ExecutionFailed,
		"c": wire.ExecutionUnknown, "d": wire.ExecutionNotStarted} {
		if got := state(t, j, id); got.State != want {
			t.Errorf("after reopening, %s reads %s, want %s", id, got.State, want)
		}
	}
	if _, prior, _ := j.Claim(ctx, "c"); prior == nil || prior.State != wire.ExecutionUnknown {
		t.Fatalf("repeat of an unknown id: %+v", prior)
	}
}

// TestClaimWaits: a repeat that overtakes the first run waits for its
// outcome instead of running too.
func TestClaimWaits(t *testing.T) {
	ctx := context.Background()
	j := open(t, "")
	first, _, _ := j.Claim(ctx, "x")
	first.Started()
	got := make(chan *wire.Execution, 1)
	go func() {
		c, prior, err := j.Claim(ctx, "x")
		if err != nil || c != nil {
			t.Errorf("second claim ran: %v %v", c, err)
		}
		got <- prior
	}()
	waittest.For(t, 10*time.Second, "the second claim to wait for the first", func() bool {
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.waiting == 1
	})
	select {
	case p := <-got:
		t.Fatalf("second claim did not wait: %+v", p)
	default:
	}
	n := int64(1)
	first.Finish(wire.ExecutionCommitted, &n, 0, nil)
	select {
	case p := <-got:
		if p == nil || p.State != wire.ExecutionCommitted {
			t.Fatalf("second claim got %+v", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second claim still waiting")
	}
	// A waiter whose caller goes away stops waiting.
	c, _, _ := j.Claim(ctx, "y")
	defer c.Release()
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, _, err := j.Claim(cctx, "y"); err == nil {
		t.Fatal("claim of a held id returned without waiting")
	}
}

// TestResultKept: a committed write's result rows survive a restart and
// come back with its record; a result past wire.MaxKeptResult is recorded
// as dropped, without rows; a failed write keeps none.
func TestResultKept(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "executions.db")
	j := open(t, path)
	one := int64(1)
	cols := []wire.Column{{Name: "RECORDID", Type: wire.TypeInteger, DBType: "INT4"}}

	c, _, _ := j.Claim(ctx, "booked")
	c.Started()
	c.Keep(&wire.Result{Columns: cols, Rows: []json.RawMessage{json.RawMessage(`{"RECORDID":4711}`)}, Count: 1, Bytes: 17})
	if err := c.Finish(wire.ExecutionCommitted, &one, 5, nil); err != nil {
		t.Fatal(err)
	}
	c, _, _ = j.Claim(ctx, "huge")
	c.Started()
	c.Keep(&wire.Result{Columns: cols, Rows: []json.RawMessage{json.RawMessage(`{"RECORDID":1}`)}, Count: 9000, Bytes: wire.MaxKeptResult + 1})
	c.Finish(wire.ExecutionCommitted, &one, 5, nil)
	c, _, _ = j.Claim(ctx, "failed")
	c.Started()
	c.Keep(&wire.Result{Columns: cols, Count: 0})
	c.Finish(wire.ExecutionFailed, nil, 1, &wire.Error{Kind: wire.KindDatabase, Engine: "postgres", Code: "23505"})
	j.Close()

	j = open(t, path)
	ex := state(t, j, "booked")
	if ex.Result == nil || len(ex.Result.Rows) != 1 || string(ex.Result.Rows[0]) != `{"RECORDID":4711}` ||
		ex.Result.Count != 1 || ex.Result.Bytes != 17 || ex.Result.Dropped || len(ex.Result.Columns) != 1 || ex.Result.Columns[0] != cols[0] {
		t.Fatalf("kept result: %+v", ex.Result)
	}
	ex = state(t, j, "huge")
	if ex.Result == nil || !ex.Result.Dropped || ex.Result.Rows != nil || ex.Result.Count != 9000 {
		t.Fatalf("dropped result: %+v", ex.Result)
	}
	if ex := state(t, j, "failed"); ex.Result != nil {
		t.Fatalf("failed write kept a result: %+v", ex.Result)
	}
}

// TestOpenOldJournal: a journal file an earlier agent wrote, without the
// result column, opens and keeps its records.
func TestOpenOldJournal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "executions.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`CREATE TABLE executions (id TEXT PRIMARY KEY, state TEXT NOT NULL, rows_affected INTEGER,
		execution_ms INTEGER NOT NULL DEFAULT 0, error_kind TEXT NOT NULL DEFAULT '', error_engine TEXT NOT NULL DEFAULT '',
		error_code TEXT NOT NULL DEFAULT '', started_us INTEGER NOT NULL, finished_us INTEGER NOT NULL DEFAULT 0)`,
		`INSERT INTO executions (id, state, rows_affected, started_us) VALUES ('old', 'committed', 2, ` + strconv.FormatInt(time.Now().UnixMicro(), 10) + `)`} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	j := open(t, path)
	if ex := state(t, j, "old"); ex.State != wire.ExecutionCommitted || *ex.RowsAffected != 2 || ex.Result != nil {
		t.Fatalf("old record: %+v", ex)
	}
	c, _, _ := j.Claim(ctx, "new")
	c.Started()
	c.Keep(&wire.Result{Columns: []wire.Column{}, Count: 0})
	if err := c.Finish(wire.ExecutionCommitted, nil, 0, nil); err != nil {
		t.Fatal(err)
	}
	if ex := state(t, j, "new"); ex.Result == nil || ex.Result.Count != 0 {
		t.Fatalf("new record in an old file: %+v", ex)
	}
}
