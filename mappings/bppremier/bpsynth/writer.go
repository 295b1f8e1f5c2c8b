package bpsynth

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sqliteTime is how DATETIME values are stored in SQLite (text, sorts chronologically).
const sqliteTime = "2006-01-02 15:04:05"

// Parameter limits per statement: SQLite's default SQLITE_MAX_VARIABLE_NUMBER is 32766,
// PostgreSQL's wire protocol allows 65535. maxBatchRows keeps statements a sensible size.
const (
	maxParamsSQLite   = 32000
	maxParamsPostgres = 65000
	maxBatchRows      = 500
)

// inserter buffers rows of one table and writes them as multi-row INSERTs with bound
// parameters. It fills defaults (0 for NOT NULL ints, the empty string for NOT NULL text), pads char(n)
// values to n with spaces (SQLite does not pad) and rejects values longer than the column, so
// the data is the same on every engine. Full batches go to the writer's goroutine, so that
// generating the next rows overlaps with the database storing the last ones. Errors are
// sticky: the first one is kept and everything after it is a no-op.
type inserter struct {
	w       *writer
	t       *tableDef
	perStmt int
	args    []any
	rows    int
	cur     int // offset of the current row in args, -1 when no row is open
	total   int64
	stmts   map[string]*sql.Stmt // prepared INSERT by row count and column set (closed with the transaction)
	free    chan []any           // batch buffers handed back by the writer goroutine
}

// writer owns the transaction and the inserters of one Generate call. Statements run on one
// goroutine of its own, in the order batches are queued.
type writer struct {
	ctx    context.Context
	tx     *sql.Tx
	engine string
	cat    *catalog
	ins    map[string]*inserter
	order  []*inserter
	queue  chan batch
	done   chan struct{}

	mu  sync.Mutex
	err error
}

// batch is a full set of rows for one INSERT.
type batch struct {
	in   *inserter
	rows int
	cols []int // indexes of the columns in the INSERT
	args []any
}

func newWriter(ctx context.Context, tx *sql.Tx, engine string, cat *catalog) *writer {
	w := &writer{ctx: ctx, tx: tx, engine: engine, cat: cat, ins: map[string]*inserter{},
		queue: make(chan batch, 4), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for b := range w.queue {
			if w.failed() == nil {
				b.in.exec(b.rows, b.cols, b.args)
			}
			clear(b.args)
			select {
			case b.in.free <- b.args[:0]:
			default:
			}
		}
	}()
	return w
}

func (w *writer) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

func (w *writer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// table returns the inserter of a table, creating it on first use.
func (w *writer) table(name string) *inserter {
	if in, ok := w.ins[name]; ok {
		return in
	}
	t, ok := w.cat.byName[name]
	if !ok {
		w.fail(fmt.Errorf("bpsynth: no table %s in the %s schema", name, w.engine))
		t = &tableDef{Name: name, idx: map[string]int{}}
	}
	limit := maxParamsSQLite
	if w.engine == EnginePostgres {
		limit = maxParamsPostgres
	}
	per := maxBatchRows
	if len(t.Cols) > 0 && limit/len(t.Cols) < per {
		per = limit / len(t.Cols)
	}
	in := &inserter{w: w, t: t, perStmt: per, cur: -1, stmts: map[string]*sql.Stmt{}, free: make(chan []any, 8)}
	w.ins[name] = in
	w.order = append(w.order, in)
	return in
}

// row opens a new row; every column starts unset (nil).
func (in *inserter) row() *inserter {
	if in.cur >= 0 {
		in.w.fail(fmt.Errorf("bpsynth: %s: row opened twice without done", in.t.Name))
	}
	in.cur = len(in.args)
	for range in.t.Cols {
		in.args = append(in.args, nil)
	}
	return in
}

// set assigns a column of the open row. v is nil, string, int, int64, time.Time or []byte.
func (in *inserter) set(col string, v any) *inserter {
	i, ok := in.t.col(col)
	if !ok {
		in.w.fail(fmt.Errorf("bpsynth: table %s has no column %s", in.t.Name, col))
		return in
	}
	if in.cur < 0 {
		in.w.fail(fmt.Errorf("bpsynth: %s.%s set outside a row", in.t.Name, col))
		return in
	}
	in.args[in.cur+i] = v
	return in
}

// done completes the open row and flushes a full batch.
func (in *inserter) done() {
	if in.cur < 0 {
		in.w.fail(fmt.Errorf("bpsynth: %s: done without row", in.t.Name))
		return
	}
	vals := in.args[in.cur:]
	in.deleteSome(vals)
	for i, c := range in.t.Cols {
		v, err := in.normalise(c, vals[i])
		if err != nil {
			in.w.fail(fmt.Errorf("bpsynth: %s.%s: %w", in.t.Name, c.Name, err))
		}
		vals[i] = v
	}
	in.cur = -1
	in.rows++
	in.total++
	if in.rows >= in.perStmt {
		in.flush()
	}
}

func (in *inserter) normalise(c column, v any) (any, error) {
	if v == nil {
		if !c.NotNull {
			return nil, nil
		}
		switch c.Kind {
		case kindInt:
			return int64(0), nil
		case kindChar:
			return strings.Repeat(" ", c.Size), nil
		case kindVarchar, kindText:
			return "", nil
		}
		return nil, fmt.Errorf("NOT NULL %s column left unset", c.Kind)
	}
	switch c.Kind {
	case kindInt:
		switch x := v.(type) {
		case int:
			return int64(x), nil
		case int64:
			return x, nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		}
	case kindChar, kindVarchar, kindText:
		s, ok := v.(string)
		if !ok {
			break
		}
		if c.Size > 0 && len(s) > c.Size {
			return nil, fmt.Errorf("value %q longer than %d", s, c.Size)
		}
		if c.Kind == kindChar && len(s) < c.Size {
			s += strings.Repeat(" ", c.Size-len(s))
		}
		return s, nil
	case kindDatetime:
		t, ok := v.(time.Time)
		if !ok {
			break
		}
		if in.w.engine == EngineSQLite {
			return t.Format(sqliteTime), nil
		}
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC), nil
	case kindBlob:
		if b, ok := v.([]byte); ok {
			return b, nil
		}
	}
	return nil, fmt.Errorf("value %v (%T) does not fit a %s column", v, v, c.Kind)
}

// flush queues the buffered rows for the writer goroutine. Nullable columns that are NULL in
// every row of the batch are left out of the INSERT (the database fills in NULL all the same),
// which saves binding a good third of the parameters.
func (in *inserter) flush() {
	if in.rows == 0 || in.w.failed() != nil {
		in.args, in.rows = in.args[:0], 0
		return
	}
	n := len(in.t.Cols)
	var cols []int
	for c, col := range in.t.Cols {
		keep := col.NotNull
		for r := 0; r < in.rows && !keep; r++ {
			keep = in.args[r*n+c] != nil
		}
		if keep {
			cols = append(cols, c)
		}
	}
	if len(cols) < n { // compact in place: every value moves towards the front
		k := 0
		for r := 0; r < in.rows; r++ {
			for _, c := range cols {
				in.args[k] = in.args[r*n+c]
				k++
			}
		}
		clear(in.args[k:])
		in.args = in.args[:k]
	}
	in.w.queue <- batch{in: in, rows: in.rows, cols: cols, args: in.args}
	select {
	case buf := <-in.free:
		in.args = buf
	default:
		in.args = make([]any, 0, cap(in.args))
	}
	in.rows = 0
}

// exec runs one INSERT; only the writer goroutine calls it. Statements are prepared once and
// reused: parsing a 1000-row INSERT costs more than running it.
func (in *inserter) exec(rows int, cols []int, args []any) {
	key := fmt.Sprint(rows, cols)
	st, ok := in.stmts[key]
	if !ok {
		var err error
		if st, err = in.w.tx.PrepareContext(in.w.ctx, in.insertSQL(rows, cols)); err != nil {
			in.w.fail(fmt.Errorf("bpsynth: prepare insert into %s: %w", in.t.Name, err))
			return
		}
		in.stmts[key] = st
	}
	if _, err := st.ExecContext(in.w.ctx, args...); err != nil {
		in.w.fail(fmt.Errorf("bpsynth: insert into %s: %w", in.t.Name, err))
	}
}

func (in *inserter) insertSQL(rows int, cols []int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO "`)
	b.WriteString(in.t.Name)
	b.WriteString(`" (`)
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(in.t.Cols[c].Name)
		b.WriteByte('"')
	}
	b.WriteString(") VALUES ")
	n := 0
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for i := range cols {
			if i > 0 {
				b.WriteByte(',')
			}
			n++
			if in.w.engine == EnginePostgres {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// flushAll writes every buffered row of every table and waits for the writer goroutine.
func (w *writer) flushAll() error {
	for _, in := range w.order {
		in.flush()
	}
	return w.close()
}

// close stops the writer goroutine after the queued batches and returns the first error.
func (w *writer) close() error {
	select {
	case <-w.done:
	default:
		close(w.queue)
		<-w.done
	}
	return w.failed()
}

// resetSequences moves PostgreSQL identity sequences past the explicit ids the generator
// inserted, so rows added later (by a write test, say) get fresh ids.
func (w *writer) resetSequences() error {
	if w.engine != EnginePostgres {
		return nil
	}
	for _, t := range w.cat.Tables {
		for _, c := range t.Cols {
			if !c.Identity {
				continue
			}
			q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('"%s"', '%s'), COALESCE(MAX("%s"), 0) + 1, false) FROM "%s"`,
				t.Name, c.Name, c.Name, t.Name)
			if _, err := w.tx.ExecContext(w.ctx, q); err != nil {
				return fmt.Errorf("bpsynth: reset sequence of %s.%s: %w", t.Name, c.Name, err)
			}
		}
	}
	return nil
}

// deletedEvery makes deleted rows in the big tables, by key: of the rows written live, every
// n-th by key value is written deleted (RECORDSTATUS 0) instead, as if removed in Bp
// afterwards. It draws no random numbers, so every other value stays as generated; the small
// tables get deleted rows of their own (writeDeleted).
var deletedEvery = map[string]struct {
	key string
	n   int64
}{
	"APPOINTMENTS":   {"RECORDID", 97}, // deleted outright, not cancelled: no cancellation record
	"CANCELLATIONS":  {"RECORDID", 11}, // its appointment is then deleted, not cancelled
	"VISITS":         {"VISITID", 23},
	"VISITREASON":    {"RECORDID", 13},
	"OBSERVATIONS":   {"RECORDID", 31},
	"INVESTIGATIONS": {"REPORTID", 23}, // its REPORTVALUES stay live: a deleted report hides them
	"REPORTVALUES":   {"RECORDID", 29},
	"PASTHISTORY":    {"RECORDID", 19},
	"IMMUNISATIONS":  {"RECORDID", 17},
	"CURRENTRX":      {"RECORDID", 23}, // deleted without a DELETIONDATE: not taken off the list
	"PRESCRIPTIONS":  {"SCRIPTID", 29}, // likewise: its items stay live, the script hides them
	"SCRIPTITEMS":    {"RECORDID", 19},
}

// deleteSome writes the open row deleted when deletedEvery says so.
func (in *inserter) deleteSome(vals []any) {
	d, ok := deletedEvery[in.t.Name]
	if !ok {
		return
	}
	k, ok1 := in.t.col(d.key)
	st, ok2 := in.t.col("RECORDSTATUS")
	if !ok1 || !ok2 {
		in.w.fail(fmt.Errorf("bpsynth: %s: no %s or RECORDSTATUS to delete rows by", in.t.Name, d.key))
		return
	}
	var key int64
	switch v := vals[k].(type) {
	case int:
		key = int64(v)
	case int64:
		key = v
	default:
		return
	}
	if key%d.n == 0 && vals[st] == any(RecordLive) {
		vals[st] = RecordDeleted
	}
}
