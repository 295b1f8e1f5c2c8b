package executor

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"time"

	"fhirlink/agent/wire"
)

// Sink receives a result as it is read. Header is called once, when the
// database has answered and the columns are known (nonQuery: no columns); Row
// once per row with the row's JSON object, a slice that is only valid during
// the call. An error from either stops the query, which is then cancelled in
// the database.
type Sink interface {
	Header(h wire.Header) error
	Row(row []byte) error
}

// cleanupGrace bounds the work after a statement has ended or been
// cancelled: waiting for the database to confirm the cancel and rolling the
// transaction back. A connection that needs longer is discarded.
const cleanupGrace = 5 * time.Second

// Causes of cancelling a statement from inside Run.
var (
	errTooLarge  = errors.New("result too large")
	errSinkFail  = errors.New("sink failed")
	errScalarEnd = errors.New("scalar has its value")
	errDeadline  = fmt.Errorf("the statement's time limit passed: %w", context.DeadlineExceeded)
)

// Run executes req on the database, streaming to sink.
//
// It honours req.TimeoutMS (a deadline that cancels the statement in the
// database; 0 sets none, the scheduler always sets one), req.MaxBytes (a cap
// on the summed size of the rows' JSON, checked before each row is sent: once
// passed, reading stops and the statement is cancelled), req.Mode, req.Type
// and req.Params. Cancelling ctx cancels the statement in the database too.
//
// On success it returns the trailer. On failure the error is a *wire.Error
// and, if the header was already sent, the trailer so far, carrying the same
// error. Only the first result set of a batch is read.
func (e *Executor) Run(ctx context.Context, req wire.QueryRequest, sink Sink) (wire.Trailer, error) {
	return e.RunOnce(ctx, req, sink, nil)
}

// Journal is told about a write that must run at most once (see
// wire.PathExecutions); package journal's Claim is one.
type Journal interface {
	// Started is called with a database connection held, right before the
	// statement is handed to the database; the write does not run if it
	// fails.
	Started() error
	// Keep is called before Finish with the result of a write that returns
	// rows (a stored procedure, a nonQuery with RETURNING or OUTPUT): the
	// rows themselves when they were at most wire.MaxKeptResult bytes, else
	// their count and size, Dropped.
	Keep(r *wire.Result)
	// Finish is called once, when the database has answered and before any
	// of the answer reaches the sink, with the outcome: committed, failed
	// (the database reported an error, werr) or unknown (the statement was
	// handed over but its end was not learnt: a lost connection, a cancel
	// without the database's word, the result undeliverable midway). A
	// write's rows are held until then, so that a repeat of its id can be
	// answered with them; only a result larger than wire.MaxKeptResult
	// streams before, and its outcome is recorded after its last row.
	Finish(state wire.ExecutionState, rowsAffected *int64, executionMS int64, werr *wire.Error) error
}

// RunOnce is [Executor.Run] for a write whose run j records. A nil j, or a
// read, runs as Run does.
func (e *Executor) RunOnce(ctx context.Context, req wire.QueryRequest, sink Sink, j Journal) (wire.Trailer, error) {
	q := &query{eng: e.eng, req: req, sink: sink, ctx: ctx, started: time.Now()}
	cat, text, args, params, werr := e.prepare(&q.req)
	if werr != nil {
		return wire.Trailer{}, werr
	}
	stmtCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	q.stmtCtx, q.cancel = stmtCtx, cancel
	if req.TimeoutMS > 0 {
		// The deadline cancels the statement, with errDeadline as the cause,
		// rather than being a context deadline: go-mssqldb takes
		// context.DeadlineExceeded (a net.Error) for a broken connection and
		// discards it without sending the rollback, where after a
		// cancellation it waits for SQL Server to confirm the attention and
		// the rollback follows on the same connection.
		timer := time.AfterFunc(time.Duration(req.TimeoutMS)*time.Millisecond, func() { cancel(errDeadline) })
		defer timer.Stop()
	}
	if q.req.Mode.Writes() || q.req.Type == wire.CommandStoredProcedure {
		q.journal = j
	}
	db, txOpts, reset := cat.read, e.eng.readTx(), true
	if q.req.Prepare && cat.prepared != nil && !q.req.Mode.Writes() && q.req.Type == wire.CommandText {
		db, reset = cat.prepared, false
	}
	if q.req.Mode == wire.ModeNonQuery || q.req.Type == wire.CommandStoredProcedure {
		// Procedures manage their own transactions (one that rolls back
		// inside ours would fail), so they run as the database's client
		// library would run them; AllowWrites was required to get here.
		db, txOpts = cat.write, nil
	}
	// One connection for the whole request, so that what the request
	// leaves in its session is reset before anyone else gets it.
	if reset && db.Stats().Idle == 0 {
		// A connection being reset will be back in a moment: cheaper to
		// wait for it than to open another.
		e.resets.wait(stmtCtx)
	}
	conn, err := db.Conn(stmtCtx)
	if err != nil {
		return q.fail(err)
	}
	defer func() {
		cancelled := q.stmtCtx.Err() != nil
		if !reset {
			e.release(ctx, conn, false, cancelled)
			return
		}
		// The reset is a round trip to the database (PostgreSQL's DISCARD
		// ALL): run it once the answer is on its way, not before its
		// trailer. The connection goes back to its pool only after it.
		e.resets.begin()
		go func() {
			defer e.resets.end()
			e.release(ctx, conn, true, cancelled)
		}()
	}()
	switch {
	case q.req.Type == wire.CommandStoredProcedure:
		// Looking the procedure up does not hand the write over: a
		// failure here leaves no trace in the journal.
		text, args, err := e.eng.call(stmtCtx, conn, text, params)
		if err != nil {
			return q.fail(err)
		}
		return q.write(conn, text, args)
	case q.req.Mode == wire.ModeNonQuery && e.eng.returnsRows(text):
		return q.write(conn, text, args)
	case q.req.Mode == wire.ModeNonQuery:
		return q.exec(conn, text, args)
	default:
		ot, ok := e.eng.(oneTripper)
		ok = ok && reset // integrators' SQL; the prepared pool keeps its statements
		if ok && !e.large.has(text) {
			args = ot.oneTrip(conn, args)
		}
		tr, err := q.read(conn, txOpts, text, args)
		if ok && tr.Rows >= largeRead {
			e.large.add(text)
		}
		return tr, err
	}
}

// largeRead is the number of rows from which a reader's statement runs
// faster described first (two round trips, binary results) than in one
// round trip with text results: PostgreSQL printing and pgx parsing the
// text of dates, times and numbers cost more per row than binary, about
// 0.4 µs a row for a typical patient row, against one round trip, about
// 100 µs on one machine.
const largeRead = 256

// largeReads is the set of statements whose last result had largeRead rows
// or more, by a hash of their text: the next run of the same text is
// described first. Both ways read the same values, so a collision or a
// forgotten text only costs time.
type largeReads struct {
	mu   sync.Mutex
	seed maphash.Seed
	set  map[uint64]struct{}
}

// maxLargeReads bounds the set; it starts again empty when full.
const maxLargeReads = 1024

func (l *largeReads) key(text string) uint64 {
	if l.set == nil {
		l.seed = maphash.MakeSeed()
		l.set = map[uint64]struct{}{}
	}
	return maphash.String(l.seed, text)
}

func (l *largeReads) has(text string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.set[l.key(text)]
	return ok
}

func (l *largeReads) add(text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.key(text)
	if len(l.set) >= maxLargeReads {
		clear(l.set)
	}
	l.set[k] = struct{}{}
}

// oneTripper is implemented by engines whose driver can run a reader's
// statement in fewer round trips than it does by default (PostgreSQL).
type oneTripper interface {
	// oneTrip returns args, with what tells the driver to do so first when
	// the session on conn allows it.
	oneTrip(conn *sql.Conn, args []any) []any
}

// resetting counts the connections being reset after their request, so
// that a request finding no idle connection waits for one of them rather
// than opening another, and Close waits for them all.
type resetting struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

func (r *resetting) begin() {
	r.mu.Lock()
	if r.n == 0 {
		r.idle = make(chan struct{})
	}
	r.n++
	r.mu.Unlock()
}

func (r *resetting) end() {
	r.mu.Lock()
	if r.n--; r.n == 0 {
		close(r.idle)
	}
	r.mu.Unlock()
}

// wait returns once no reset is running, or ctx is done.
func (r *resetting) wait(ctx context.Context) {
	r.mu.Lock()
	n, idle := r.n, r.idle
	r.mu.Unlock()
	if n == 0 {
		return
	}
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

// release returns conn to its pool. With reset it first resets the
// session state the request left (see engine.reset), discarding conn when
// that fails, with cleanupGrace even after the caller went away. Without
// (the pool of the server's own statements), conn goes back as it is,
// unless its statement was cancelled: a cancel the database received late
// could stop the next statement, so the connection is discarded.
func (e *Executor) release(ctx context.Context, conn *sql.Conn, reset, cancelled bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupGrace)
	defer cancel()
	if !reset {
		if cancelled {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
		return
	}
	if err := e.eng.reset(ctx, conn); err != nil {
		// driver.ErrBadConn from Raw makes database/sql close the
		// connection instead of pooling it.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = conn.Close()
}

// prepare checks everything that can be checked before the database is
// touched, normalising req's defaults, and binds the parameters of a text
// command; a stored procedure's are bound by engine.call, once connected.
func (e *Executor) prepare(req *wire.QueryRequest) (*catalogue, string, []any, []param, *wire.Error) {
	if req.Mode == "" {
		req.Mode = wire.ModeReader
	}
	if req.Type == "" {
		req.Type = wire.CommandText
	}
	switch req.Mode {
	case wire.ModeReader, wire.ModeScalar, wire.ModeNonQuery:
	default:
		return nil, "", nil, nil, wire.Errorf(wire.KindInvalid, "unknown mode %q (reader, scalar, nonQuery)", req.Mode)
	}
	switch req.Type {
	case wire.CommandText, wire.CommandStoredProcedure:
	default:
		return nil, "", nil, nil, wire.Errorf(wire.KindInvalid, "unknown command type %q (text, storedProcedure)", req.Type)
	}
	if strings.TrimSpace(req.Text) == "" {
		return nil, "", nil, nil, wire.Errorf(wire.KindInvalid, "the command text is empty")
	}
	cat, werr := e.catalogue(req.Catalogue)
	if werr != nil {
		return nil, "", nil, nil, werr
	}
	if req.Writes() && !e.allowWrites {
		return nil, "", nil, nil, wire.Errorf(wire.KindForbidden,
			"agent writes disabled: this practice has not enabled write access (--allow-writes): %s commands and stored procedures are refused", wire.ModeNonQuery)
	}
	if req.Type == wire.CommandStoredProcedure {
		if werr := e.eng.procedure(req.Text); werr != nil {
			return nil, "", nil, nil, werr
		}
	}
	params, werr := parseParams(req.Params)
	if werr != nil {
		return nil, "", nil, nil, werr
	}
	if req.Type == wire.CommandStoredProcedure {
		return cat, req.Text, nil, params, nil
	}
	text, args, err := e.eng.bind(req.Text, params)
	if err != nil {
		return nil, "", nil, nil, wire.Errorf(wire.KindInvalid, "%v", err)
	}
	return cat, text, args, nil, nil
}

// query is the state of one Run.
type query struct {
	eng     engine
	req     wire.QueryRequest
	sink    Sink
	ctx     context.Context // the caller's
	stmtCtx context.Context // the statement's: the caller's, the deadline, and cancel
	cancel  context.CancelCauseFunc
	started time.Time // when Run was called
	execAt  time.Time // when the statement was handed to the database
	header  bool      // whether the header was sent
	tr      wire.Trailer
	// journal records a write's run; nil for reads and unjournaled writes.
	journal  Journal
	handedOn bool  // whether the statement was handed to the database
	dbErr    error // the driver's error when the database itself reported it
	finished bool  // whether the journal was told the outcome
	// A write's rows (see query.write): writes marks them; columns are
	// their header's, and a journaled write's rows are held until its
	// outcome is recorded, as long as they fit in wire.MaxKeptResult.
	writes  bool
	hold    bool
	dropped bool // the rows passed wire.MaxKeptResult and were not kept
	columns []wire.Column
	held    []json.RawMessage
}

// start marks the statement as handed to the database, recording the start
// of a journaled write first (with the request's connection held, so that
// a write that could not get one leaves no trace). A write that fails here
// never reached the database.
func (q *query) start() error {
	if q.journal != nil {
		if err := q.journal.Started(); err != nil {
			return wire.Errorf(wire.KindInternal, "the write was not run: %v", err)
		}
	}
	q.handedOn = true
	return nil
}

// settle tells the journal, once, how the write ended: err nil is a
// commit. It returns the error to answer when the outcome could not be
// recorded after a commit (the write took effect, but a repeat of its id
// will read as unknown).
func (q *query) settle(err *wire.Error) *wire.Error {
	if q.journal == nil || q.finished {
		return nil
	}
	q.finished = true
	var state wire.ExecutionState
	switch {
	case err == nil:
		state = wire.ExecutionCommitted
	case !q.handedOn:
		// Never reached the database: Finish leaves no record, the write
		// may run later.
		state = wire.ExecutionNotStarted
	case q.dbErr != nil:
		state = wire.ExecutionFailed
	default:
		state = wire.ExecutionUnknown
	}
	if jerr := q.journal.Finish(state, q.tr.RowsAffected, q.elapsed(), err); jerr != nil && err == nil {
		return wire.Errorf(wire.KindInternal, "the write committed but %v", jerr)
	}
	return nil
}

// exec runs a nonQuery without a transaction of ours, as the database's
// client library would: the statement commits on its own, and a batch that
// manages its own transactions keeps working.
func (q *query) exec(conn *sql.Conn, text string, args []any) (wire.Trailer, error) {
	if err := q.start(); err != nil {
		return q.fail(err)
	}
	q.execAt = time.Now()
	res, err := conn.ExecContext(q.stmtCtx, text, args...)
	if err != nil {
		return q.fail(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return q.fail(err)
	}
	q.tr.RowsAffected = &n
	// The outcome is on disk before any of the answer is sent.
	if werr := q.settle(nil); werr != nil {
		return q.failWith(werr)
	}
	if werr := q.sendHeader([]wire.Column{}); werr != nil {
		return q.failWith(werr)
	}
	return q.done()
}

// write runs a stored procedure, or a nonQuery that returns the rows it
// changed, without a transaction of ours (as exec does), and streams its
// rows. A nonQuery's rowsAffected is the number of rows it returned. A
// journaled write's rows are held until its outcome is on disk (see
// Journal.Finish).
func (q *query) write(conn *sql.Conn, text string, args []any) (wire.Trailer, error) {
	if err := q.start(); err != nil {
		return q.fail(err)
	}
	q.writes, q.hold = true, q.journal != nil
	q.execAt = time.Now()
	rows, stop, err := q.query(conn, conn, text, args)
	if err != nil {
		return q.fail(err)
	}
	defer rows.Close()
	defer stop()
	return q.stream(rows)
}

// read runs a reader or scalar and streams its rows. With txOpts it runs in
// a transaction that is rolled back whatever happens.
func (q *query) read(conn *sql.Conn, txOpts *sql.TxOptions, text string, args []any) (wire.Trailer, error) {
	var src interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	} = conn
	if txOpts == nil {
		if err := q.start(); err != nil {
			return q.fail(err)
		}
	} else {
		// The transaction must outlive a cancelled statement so that it can
		// be rolled back on the same connection, but not by much: it ends
		// cleanupGrace after the statement's context, and database/sql then
		// rolls back and discards the connection itself.
		txCtx, txCancel := context.WithCancel(context.WithoutCancel(q.ctx))
		defer txCancel()
		stop := context.AfterFunc(q.stmtCtx, func() { time.AfterFunc(cleanupGrace, txCancel) })
		defer stop()
		q.execAt = time.Now()
		tx, err := conn.BeginTx(txCtx, txOpts)
		if err != nil {
			return q.fail(err)
		}
		defer func() { _ = tx.Rollback() }()
		src = tx
	}
	if q.execAt.IsZero() {
		q.execAt = time.Now()
	}
	rows, stop, err := q.query(src, conn, text, args)
	if err != nil {
		return q.fail(err)
	}
	// Closing after a cancel makes the driver wait for the database to end
	// the statement, so the rollback that follows finds the connection idle.
	defer rows.Close()
	defer stop()
	return q.stream(rows)
}

// query runs text on src (conn, or a transaction on it) under the
// statement's context, and keeps the statement stoppable in the database
// for as long as its rows are read, reads and writes alike. Call stop
// before closing the rows.
func (q *query) query(src interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, conn *sql.Conn, text string, args []any) (rows *sql.Rows, stop func(), err error) {
	rows, err = src.QueryContext(q.stmtCtx, text, args...)
	if err != nil {
		return nil, nil, err
	}
	stop = func() {}
	if ri, ok := q.eng.(rowsInterrupter); ok {
		if stop, err = ri.interruptRows(q.stmtCtx, conn); err != nil {
			rows.Close()
			return nil, nil, err
		}
	}
	return rows, stop, nil
}

// rowsInterrupter is implemented by engines whose driver stops a statement
// when its context ends only during the query call, not while rows.Next
// computes the rows after the first (SQLite).
type rowsInterrupter interface {
	// interruptRows stops the statement running on conn in the database
	// once ctx ends, until stop is called.
	interruptRows(ctx context.Context, conn *sql.Conn) (stop func(), err error)
}

// stream sends the header and the rows. The first row is read before the
// header so that columns without a declared type get the type of its values.
func (q *query) stream(rows *sql.Rows) (wire.Trailer, error) {
	keep := -1
	if q.req.Mode == wire.ModeScalar {
		keep = 1
	}
	enc, err := newRowEncoder(q.eng, rows, keep)
	if err != nil {
		return q.fail(err)
	}
	more := rows.Next()
	if more {
		if err := enc.scan(rows); err != nil {
			return q.fail(err)
		}
	} else if err := rows.Err(); err != nil {
		return q.fail(err)
	}
	if more && q.writes && q.req.Mode == wire.ModeNonQuery && enc.allNull() {
		if s, ok := q.eng.(singletonReturning); ok && s.nullRowIsNone(q.req.Text) {
			more = rows.Next()
		}
	}
	enc.settleDynamic(more)
	q.columns = enc.columns
	if len(enc.columns) == 0 {
		// Rows without columns carry nothing (Firebird answers EXECUTE
		// PROCEDURE of a procedure without outputs with one).
		for more {
			more = rows.Next()
		}
	}
	if !q.hold {
		if werr := q.sendHeader(enc.columns); werr != nil {
			return q.failWith(werr)
		}
	}
	for more {
		row := enc.encode()
		if max := q.req.MaxBytes; max > 0 && q.tr.Bytes+int64(len(row)) > max {
			q.cancel(errTooLarge)
			return q.failWith(wire.Errorf(wire.KindTooLarge,
				"the result passed its limit of %d bytes after %d rows; the query was cancelled", max, q.tr.Rows))
		}
		if werr := q.emit(row); werr != nil {
			return q.failWith(werr)
		}
		q.tr.Rows++
		q.tr.Bytes += int64(len(row))
		more = rows.Next()
		if more && q.req.Mode == wire.ModeScalar {
			if !q.writes {
				// The value is sent; stop the database producing rows nobody reads.
				q.cancel(errScalarEnd)
				return q.done()
			}
			// A write runs to its end: stopping it midway could leave half
			// of it done. Its other rows are read and not returned.
			for more {
				more = rows.Next()
			}
		}
		if more {
			if err := enc.scan(rows); err != nil {
				return q.fail(err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return q.fail(err)
	}
	if q.writes {
		return q.settleRows(rows)
	}
	return q.done()
}

// emit sends a row, or holds a copy of it while the write's rows fit in
// wire.MaxKeptResult; past that the held rows go first and the rest
// streams, not kept.
func (q *query) emit(row []byte) *wire.Error {
	if q.hold {
		if q.tr.Bytes+int64(len(row)) <= wire.MaxKeptResult && numbersOnly(row) {
			q.held = append(q.held, bytes.Clone(row))
			return nil
		}
		q.dropped = true
		if werr := q.flush(); werr != nil {
			return werr
		}
	}
	if err := q.sink.Row(row); err != nil {
		q.cancel(errSinkFail)
		return q.sinkError(err)
	}
	return nil
}

// numbersOnly reports whether every value of row (a JSON object) is a
// number or null. The journal keeps only such results (the ids a booking
// or a new patient gets, counts): a write's text, names or dates are
// patient data, which the agent never keeps at rest.
func numbersOnly(row []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(row))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		if _, err := dec.Token(); err != nil { // the column name
			return false
		}
		switch t, err := dec.Token(); {
		case err != nil:
			return false
		case t == nil:
		default:
			if _, ok := t.(json.Number); !ok {
				return false
			}
		}
	}
	return true
}

// flush sends the header and the rows held so far, and holds no more.
func (q *query) flush() *wire.Error {
	if !q.hold {
		return nil
	}
	q.hold = false
	if werr := q.sendHeader(q.columns); werr != nil {
		return werr
	}
	for _, row := range q.held {
		if err := q.sink.Row(row); err != nil {
			q.cancel(errSinkFail)
			return q.sinkError(err)
		}
	}
	q.held = nil
	return nil
}

// settleRows ends a write whose rows were all read: it closes them first,
// which is where Firebird commits a statement and where SQL Server reports
// an error that followed the rows, then records the outcome with the rows,
// and then sends what was held.
func (q *query) settleRows(rows *sql.Rows) (wire.Trailer, error) {
	if err := rows.Close(); err != nil {
		return q.fail(err)
	}
	if q.req.Mode == wire.ModeNonQuery {
		n := q.tr.Rows
		q.tr.RowsAffected = &n
	}
	if q.journal != nil {
		q.journal.Keep(&wire.Result{Columns: q.columns, Rows: q.held, Count: q.tr.Rows, Bytes: q.tr.Bytes, Dropped: q.dropped})
	}
	if werr := q.settle(nil); werr != nil {
		return q.failWith(werr)
	}
	if werr := q.flush(); werr != nil {
		return q.failWith(werr)
	}
	return q.done()
}

func (q *query) sendHeader(cols []wire.Column) *wire.Error {
	if err := q.sink.Header(wire.Header{Columns: cols, StartedAt: q.started}); err != nil {
		q.cancel(errSinkFail)
		return q.sinkError(err)
	}
	q.header = true
	return nil
}

func (q *query) sinkError(err error) *wire.Error {
	if q.ctx.Err() != nil {
		return q.ctxError()
	}
	return wire.Errorf(wire.KindCanceled, "the result could not be delivered: %v", err)
}

func (q *query) done() (wire.Trailer, error) {
	q.tr.ExecutionMS = q.elapsed()
	return q.tr, nil
}

func (q *query) elapsed() int64 {
	if q.execAt.IsZero() {
		return 0
	}
	return time.Since(q.execAt).Milliseconds()
}

// fail reports err from the driver. How the statement's context ended comes
// first: a cancelled statement fails with whatever the driver says about it.
func (q *query) fail(err error) (wire.Trailer, error) {
	if q.handedOn && q.eng.dbError(err) != nil {
		q.dbErr = err
	}
	var we *wire.Error
	switch {
	case errors.As(err, &we):
	case q.ctx.Err() != nil:
		we = q.ctxError()
	case errors.Is(context.Cause(q.stmtCtx), context.DeadlineExceeded):
		secs := strconv.FormatFloat(float64(q.req.TimeoutMS)/1000, 'f', -1, 64)
		we = wire.Errorf(wire.KindTimeout, "query exceeded its %s s execution limit and was cancelled", secs)
	default:
		we = classify(q.eng, err)
	}
	return q.failWith(we)
}

// ctxError describes the end of the caller's context.
func (q *query) ctxError() *wire.Error {
	if errors.Is(q.ctx.Err(), context.DeadlineExceeded) {
		return wire.Errorf(wire.KindTimeout, "the query's deadline passed and it was cancelled")
	}
	return wire.Errorf(wire.KindCanceled, "the caller went away; the query was cancelled")
}

func (q *query) failWith(we *wire.Error) (wire.Trailer, error) {
	we.ExecutionMS = q.elapsed()
	q.settle(we)
	if !q.header {
		return wire.Trailer{}, we
	}
	q.tr.ExecutionMS = we.ExecutionMS
	q.tr.Error = we
	return q.tr, we
}
