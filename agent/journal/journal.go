// Package journal is the agent's durable record of writes that must run at
// most once: for each execution id (see wire.PathExecutions) whether the
// write was started and how it ended.
//
// The journal is a small SQLite file next to the agent's configuration,
// written with synchronous=FULL so that each record is on disk (fsync'd)
// before the call that writes it returns. It holds execution ids, states,
// row counts and error kinds and codes, never a command's text or its
// values. Of rows it keeps only a committed write's own result rows (what a
// stored procedure or a RETURNING clause answered: typically the ids the
// write created), and only when every value is a number, at most
// [wire.MaxKeptResult] (the executor decides), so that a retried booking
// learns the id of the appointment its first run made; reads leave nothing.
// Like every record, they go after [wire.ExecutionRetention].
//
// The practice database is the practice management system's, so the agent
// creates no table in it; the record cannot share the write's own
// transaction. Instead a write goes through these steps, and each crash
// window has a known answer:
//
//  1. [Journal.Claim] reserves the id in this process before the write
//     queues for an execution slot. A crash here leaves nothing: the id is
//     notStarted and the write may be sent again.
//  2. [Claim.Started] records "running", durably, with a connection to the
//     database already held and right before the statement is handed to it.
//     A failure to record stops the write before it runs.
//  3. The database runs the statement, which commits on its own.
//  4. [Claim.Finish] records "committed" with the rows affected (or
//     "failed" with the database's error code), durably, before any of the
//     answer is sent to the server.
//
// The agent dying between 2 and 4 (its process killed, the machine losing
// power) leaves a "running" record that no live process holds: the write
// may or may not have committed, and the id reads as unknown from then on.
// That window is the statement's own run plus the time to write one record;
// a write in it is reported, never repeated. A server that lost the answer
// after 4 (it crashed, the tunnel broke) gets the first outcome again.
package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the journal's file format

	"fhirlink/agent/wire"
)

// Journal is the record of execution ids. It is safe for concurrent use by
// the queries of one agent; one agent process uses a journal file at a time.
type Journal struct {
	db *sql.DB

	mu        sync.Mutex
	held      map[string]chan struct{} // ids claimed in this process; closed when released
	waiting   int                      // Claims waiting for a held id, so a test can see one waits
	lastPrune time.Time
}

const schema = `CREATE TABLE IF NOT EXISTS executions (
	id            TEXT PRIMARY KEY,
	state         TEXT NOT NULL,
	rows_affected INTEGER,
	execution_ms  INTEGER NOT NULL DEFAULT 0,
	error_kind    TEXT NOT NULL DEFAULT '',
	error_engine  TEXT NOT NULL DEFAULT '',
	error_code    TEXT NOT NULL DEFAULT '',
	started_us    INTEGER NOT NULL,
	finished_us   INTEGER NOT NULL DEFAULT 0,
	result        TEXT
)`

// addResult brings a journal written before results were kept up to date;
// its records have none.
const addResult = `ALTER TABLE executions ADD COLUMN result TEXT`

// Open opens (creating it if needed) the journal file at path; an empty
// path keeps the journal in memory, for tests: it does not survive the
// process.
func Open(ctx context.Context, path string) (*Journal, error) {
	dsn := "file::memory:"
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("execution journal: %w", err)
		}
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath()
	}
	dsn += "?_pragma=busy_timeout(5000)&_pragma=synchronous(FULL)"
	if path != "" {
		dsn += "&_pragma=journal_mode(WAL)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection: an in-memory database is per connection, and the
	// journal's writes are few and short.
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("execution journal %s: %w", path, err)
	}
	j := &Journal{db: db, held: map[string]chan struct{}{}}
	if err := j.prune(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("execution journal %s: %w", path, err)
	}
	return j, nil
}

// migrate creates the table, or adds the columns a journal of an earlier
// agent lacks.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return err
	}
	var has int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('executions') WHERE name = 'result'`).Scan(&has); err != nil {
		return err
	}
	if has == 0 {
		_, err := db.ExecContext(ctx, addResult)
		return err
	}
	return nil
}

// Close closes the file.
func (j *Journal) Close() error { return j.db.Close() }

// prune deletes records older than [wire.ExecutionRetention].
func (j *Journal) prune(ctx context.Context) error {
	_, err := j.db.ExecContext(ctx, `DELETE FROM executions WHERE started_us < ?`,
		time.Now().Add(-wire.ExecutionRetention).UnixMicro())
	if err == nil {
		j.mu.Lock()
		j.lastPrune = time.Now()
		j.mu.Unlock()
	}
	return err
}

// Lookup returns what the journal knows of id.
func (j *Journal) Lookup(ctx context.Context, id string) (wire.Execution, error) {
	j.mu.Lock()
	_, held := j.held[id]
	j.mu.Unlock()
	ex, found, err := j.read(ctx, id)
	switch {
	case err != nil:
		return wire.Execution{}, err
	case held:
		ex.ID, ex.State = id, wire.ExecutionRunning
	case !found:
		ex = wire.Execution{ID: id, State: wire.ExecutionNotStarted}
	}
	return ex, nil
}

// read returns the stored record of id. A record still "running" that no
// claim of this process holds belongs to a process that stopped during the
// write: it reads as unknown.
func (j *Journal) read(ctx context.Context, id string) (wire.Execution, bool, error) {
	var (
		ex                 = wire.Execution{ID: id}
		state              string
		rows               sql.NullInt64
		kind, engine, code string
		started, finished  int64
		result             sql.NullString
	)
	err := j.db.QueryRowContext(ctx, `SELECT state, rows_affected, execution_ms, error_kind, error_engine, error_code, started_us, finished_us, result
		FROM executions WHERE id = ?`, id).Scan(&state, &rows, &ex.ExecutionMS, &kind, &engine, &code, &started, &finished, &result)
	if errors.Is(err, sql.ErrNoRows) {
		return ex, false, nil
	}
	if err != nil {
		return ex, false, fmt.Errorf("execution journal: %w", err)
	}
	ex.State = wire.ExecutionState(state)
	if ex.State == wire.ExecutionRunning {
		ex.State = wire.ExecutionUnknown
	}
	if rows.Valid {
		ex.RowsAffected = &rows.Int64
	}
	if result.Valid {
		ex.Result = new(wire.Result)
		if err := json.Unmarshal([]byte(result.String), ex.Result); err != nil {
			return ex, false, fmt.Errorf("execution journal: the result of write %s is unreadable: %w", id, err)
		}
	}
	if kind != "" {
		ex.Error = &wire.Error{Kind: wire.ErrorKind(kind), Engine: engine, Code: code, Message: describe(ex.State, wire.ErrorKind(kind), engine, code)}
	}
	ex.StartedAt = time.UnixMicro(started).UTC()
	if finished != 0 {
		ex.FinishedAt = time.UnixMicro(finished).UTC()
	}
	return ex, true, nil
}

// describe is the message of a recorded failure: the database's own text
// is not kept, so it names the engine and code only.
func describe(state wire.ExecutionState, kind wire.ErrorKind, engine, code string) string {
	switch {
	case state != wire.ExecutionFailed:
		return string(state)
	case kind == wire.KindCanceled:
		return "the write was cancelled in the database on its first run: the server's request went away (the tunnel broke or the server stopped)"
	case kind == wire.KindTimeout:
		return "the write passed its time limit on its first run and was cancelled in the database"
	case engine != "" && code != "":
		return fmt.Sprintf("the write failed on its first run (%s error %s)", engine, code)
	case engine != "":
		return fmt.Sprintf("the write failed on its first run (a %s error)", engine)
	}
	return "the write failed on its first run"
}

// Claim reserves id for one run of its write in this process. If the id
// already has an outcome, Claim returns it (prior) and no claim: the write
// must not run again. If another run of the id holds it, Claim waits for
// that run to end (or ctx), then answers as above. A nil prior means the id
// is new: run the write through the claim, which must be released.
func (j *Journal) Claim(ctx context.Context, id string) (*Claim, *wire.Execution, error) {
	for {
		j.mu.Lock()
		if wait, ok := j.held[id]; ok {
			j.waiting++
			j.mu.Unlock()
			var err error
			select {
			case <-wait:
			case <-ctx.Done():
				err = ctx.Err()
			}
			j.mu.Lock()
			j.waiting--
			j.mu.Unlock()
			if err != nil {
				return nil, nil, err
			}
			continue
		}
		done := make(chan struct{})
		j.held[id] = done
		prune := time.Since(j.lastPrune) > time.Hour
		j.mu.Unlock()
		c := &Claim{j: j, id: id, done: done}
		ex, found, err := j.read(ctx, id)
		if err != nil || found {
			c.Release()
			if err != nil {
				return nil, nil, err
			}
			return nil, &ex, nil
		}
		if prune {
			_ = j.prune(ctx) // best effort: old records only take room
		}
		return c, nil, nil
	}
}

// Claim is one run of a write under its execution id.
type Claim struct {
	j       *Journal
	id      string
	done    chan struct{}
	started bool
	result  *wire.Result
	once    sync.Once
}

// ID is the execution id.
func (c *Claim) ID() string { return c.id }

// Started records, durably, that the write is being handed to the
// database. The write must not run if it fails.
func (c *Claim) Started() error {
	_, err := c.j.db.Exec(`INSERT INTO executions (id, state, started_us) VALUES (?, ?, ?)`,
		c.id, string(wire.ExecutionRunning), time.Now().UnixMicro())
	if err != nil {
		return fmt.Errorf("execution journal: the start of write %s could not be recorded: %w", c.id, err)
	}
	c.started = true
	return nil
}

// Keep gives the result rows of the write, recorded by Finish if it
// commits. Rows past [wire.MaxKeptResult] are not kept: the record says the
// result was dropped, whatever r holds.
func (c *Claim) Keep(r *wire.Result) {
	if r != nil && (r.Dropped || r.Bytes > wire.MaxKeptResult) {
		r = &wire.Result{Columns: r.Columns, Count: r.Count, Bytes: r.Bytes, Dropped: true}
	}
	c.result = r
}

// Finish records the write's outcome durably and releases the claim: state
// is committed (with rowsAffected, nil for a procedure, and the result
// given to Keep), failed (with the error's kind, engine and code) or
// unknown. Without Started it only releases. An error means the outcome is
// not on disk: the id will read as unknown.
func (c *Claim) Finish(state wire.ExecutionState, rowsAffected *int64, executionMS int64, werr *wire.Error) error {
	defer c.Release()
	if !c.started {
		return nil
	}
	var kind, engine, code string
	if werr != nil && state == wire.ExecutionFailed {
		kind, engine, code = string(werr.Kind), werr.Engine, werr.Code
	}
	var rows, result any
	if rowsAffected != nil {
		rows = *rowsAffected
	}
	if c.result != nil && state == wire.ExecutionCommitted {
		b, err := json.Marshal(c.result)
		if err != nil {
			return fmt.Errorf("execution journal: the result of write %s cannot be kept: %w", c.id, err)
		}
		result = string(b)
	}
	_, err := c.j.db.Exec(`UPDATE executions SET state = ?, rows_affected = ?, execution_ms = ?, error_kind = ?, error_engine = ?,
		error_code = ?, finished_us = ?, result = ? WHERE id = ?`,
		string(state), rows, executionMS, kind, engine, code, time.Now().UnixMicro(), result, c.id)
	if err != nil {
		return fmt.Errorf("execution journal: the outcome of write %s could not be recorded: %w", c.id, err)
	}
	return nil
}

// Release gives the id up. A claim never started leaves no record, so the
// write may run later; a started one keeps its record (unknown, unless
// Finish recorded the outcome).
func (c *Claim) Release() {
	c.once.Do(func() {
		c.j.mu.Lock()
		delete(c.j.held, c.id)
		c.j.mu.Unlock()
		close(c.done)
	})
}
