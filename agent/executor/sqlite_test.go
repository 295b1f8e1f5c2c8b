package executor

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"

	"fhirlink/agent/wire"
)

// sqliteRunning receives a value when a statement on the agent's SQLite
// connections calls test_running(x), which returns x: a test knows its
// statement is running inside SQLite.
var sqliteRunning = make(chan struct{}, 1)

func init() {
	sqliteDriver.MustRegisterScalarFunction("test_running", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		select {
		case sqliteRunning <- struct{}{}:
		default:
		}
		return args[0], nil
	})
	sqliteDriver.MustRegisterScalarFunction("test_slow", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		if sqliteSlowEnd.Load() {
			return false, nil
		}
		time.Sleep(time.Millisecond) // the work each row costs, not a wait for anything
		return true, nil
	})
}

// sqliteSlowEnd ends the statements of sqliteSlowAfterFirst: test_slow(x)
// takes a millisecond and returns true until it is set, then false.
var sqliteSlowEnd atomic.Bool

// sqliteSlowAfterFirst sends its first row at once; every step after it is
// slow, and it produces nothing more until sqliteSlowEnd is set.
const sqliteSlowAfterFirst = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE test_slow(x)) " +
	"SELECT x FROM c WHERE x = 1"

// sqliteExec opens the file read-write, as the practice software would, and
// runs the statements.
func sqliteExec(t testing.TB, path string, sqls ...string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, s := range sqls {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return db
}

func TestSQLiteTypesRoundTrip(t *testing.T) {
	e, _ := newSQLite(t, false,
		`CREATE TABLE t (i INTEGER, r REAL, n NUMERIC(10,2), d DATE, dt DATETIME, b BOOLEAN, bl BLOB, s TEXT, v VARCHAR(20), x)`,
		`INSERT INTO t VALUES (9223372036854775807, 0.5, 12.5, '2024-05-31', '2024-05-31 09:30:00.5', 1, x'00ff10', 'O''Brien', 'v', 7)`,
		`INSERT INTO t VALUES (NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, 'seven')`,
		`INSERT INTO t (i, n, d) VALUES ('not a number', 'abc', 'someday')`)
	rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT * FROM t ORDER BY rowid"})
	want := []string{
		`{"i":9223372036854775807,"r":0.5,"n":"12.5","d":"2024-05-31","dt":"2024-05-31T09:30:00.5","b":true,"bl":"AP8Q","s":"O'Brien","v":"v","x":7}`,
		`{"i":null,"r":null,"n":null,"d":null,"dt":null,"b":false,"bl":null,"s":null,"v":null,"x":"seven"}`,
		// SQLite stores anything anywhere: a value that does not fit its column is written as what it is.
		`{"i":"not a number","r":null,"n":"abc","d":"someday","dt":null,"b":null,"bl":null,"s":null,"v":null,"x":null}`,
	}
	if got := strings.Join(rec.rows, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("rows\n got %s\nwant %s", got, strings.Join(want, "\n"))
	}
	types := []wire.Type{wire.TypeInteger, wire.TypeFloat, wire.TypeDecimal, wire.TypeDate, wire.TypeDateTime,
		wire.TypeBoolean, wire.TypeBinary, wire.TypeString, wire.TypeString, wire.TypeInteger}
	for i, col := range rec.header.Columns {
		if col.Type != types[i] {
			t.Errorf("column %s (%q): %s, want %s", col.Name, col.DBType, col.Type, types[i])
		}
	}
}

// Expression columns have no declared type: the first row's values decide.
func TestSQLiteExpressionsAndNames(t *testing.T) {
	e, _ := newSQLite(t, false)
	rec, _ := mustRun(t, e, wire.QueryRequest{Text: `SELECT 1+1, 'a'||'b' AS s, 1.5*2 AS f, x'01' AS bl, NULL AS z, 3 AS "", 4 AS s`})
	if want := `{"1+1":2,"s":"ab","f":3,"bl":"AQ==","z":null,"column6":3,"s_2":4}`; rec.rows[0] != want {
		t.Errorf("got %s, want %s", rec.rows[0], want)
	}
	types := []wire.Type{wire.TypeInteger, wire.TypeString, wire.TypeFloat, wire.TypeBinary, wire.TypeString, wire.TypeInteger, wire.TypeInteger}
	for i, col := range rec.header.Columns {
		if col.Type != types[i] {
			t.Errorf("column %d %s: %s, want %s", i, col.Name, col.Type, types[i])
		}
	}
}

// Reads go through a read-only handle: a reader cannot write even where
// writes are allowed.
func TestSQLiteReaderCannotWrite(t *testing.T) {
	for _, allow := range []bool{false, true} {
		e, path := newSQLite(t, allow, "CREATE TABLE t (v INTEGER)", "INSERT INTO t VALUES (1)")
		for _, text := range []string{"INSERT INTO t VALUES (2)", "DELETE FROM t", "DROP TABLE t"} {
			_, _, we := run(t, e, wire.QueryRequest{Text: text})
			wantKind(t, we, wire.KindDatabase, "readonly")
			if we.Engine != "sqlite" || we.Code != "8" {
				t.Errorf("%s: %+v", text, we)
			}
		}
		var n int
		if err := sqliteExec(t, path).QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
			t.Errorf("table changed: %d rows, %v", n, err)
		}
	}
}

func TestSQLiteNonQuery(t *testing.T) {
	ro, _ := newSQLite(t, false, "CREATE TABLE t (v INTEGER)")
	_, _, we := run(t, ro, wire.QueryRequest{Text: "INSERT INTO t VALUES (1)", Mode: wire.ModeNonQuery})
	wantKind(t, we, wire.KindForbidden, "not enabled write access")

	rw, path := newSQLite(t, true, "CREATE TABLE t (v INTEGER)", "INSERT INTO t VALUES (1), (2), (3)")
	_, tr := mustRun(t, rw, wire.QueryRequest{Text: "UPDATE t SET v = v * @k WHERE v >= 2", Mode: wire.ModeNonQuery,
		Params: []wire.Param{{Name: "k", Type: "Int", Value: str("10")}}})
	if tr.RowsAffected == nil || *tr.RowsAffected != 2 {
		t.Errorf("trailer %+v", tr)
	}
	var sum int
	if err := sqliteExec(t, path).QueryRow("SELECT sum(v) FROM t").Scan(&sum); err != nil || sum != 51 {
		t.Errorf("sum %d, %v", sum, err)
	}
}

const sqliteEndless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "

func TestSQLiteDeadlineAndCap(t *testing.T) {
	e, _ := newSQLite(t, false)
	start := time.Now()
	_, _, we := run(t, e, wire.QueryRequest{Text: sqliteEndless + "SELECT count(*) FROM c", TimeoutMS: 300})
	wantKind(t, we, wire.KindTimeout, "0.3 s execution limit")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
	rec, tr, we := run(t, e, wire.QueryRequest{Text: sqliteEndless + "SELECT x FROM c", MaxBytes: 1000})
	wantKind(t, we, wire.KindTooLarge, "limit of 1000 bytes")
	if tr.Bytes > 1000 || tr.Rows != int64(len(rec.rows)) || tr.Rows < 50 {
		t.Errorf("trailer %+v", tr)
	}
	// The caller goes away while the statement runs in SQLite.
	for len(sqliteRunning) > 0 {
		<-sqliteRunning
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan *wire.Error, 1)
	go func() {
		_, _, we := runCtx(ctx, t, e, wire.QueryRequest{Text: sqliteEndless + "SELECT count(*) FROM c WHERE test_running(x)"}, &recorder{})
		done <- we
	}()
	select {
	case <-sqliteRunning:
	case <-time.After(10 * time.Second):
		t.Fatal("the statement never ran")
	}
	cancel()
	we = <-done
	wantKind(t, we, wire.KindCanceled, "caller went away")
	// The connection is still usable.
	rec, _ = mustRun(t, e, wire.QueryRequest{Text: "SELECT 5 AS five", Mode: wire.ModeScalar})
	if rec.rows[0] != `{"five":5}` {
		t.Errorf("after cancel: %v", rec.rows)
	}
}

// firstRow is a recorder that tells when the first row arrived.
type firstRow struct {
	recorder
	arrived chan struct{}
}

func (f *firstRow) Row(row []byte) error {
	if err := f.recorder.Row(row); err != nil {
		return err
	}
	if len(f.rows) == 1 {
		close(f.arrived)
	}
	return nil
}

// A statement that has sent its first row is still stopped in SQLite when
// its deadline passes or its caller goes away: the row loop's steps are
// interrupted too, not only the query call's first step.
func TestSQLiteStopsAfterFirstRow(t *testing.T) {
	e, _ := newSQLite(t, false)
	onePool(e) // the next query gets the connection the stopped one used, if it was kept
	sqliteSlowEnd.Store(false)
	t.Cleanup(func() { sqliteSlowEnd.Store(true) })
	// ends runs req until it ends and the time it took from ended's
	// moment (the deadline or the cancel) to the answer; a statement
	// that goes on is ended by sqliteSlowEnd after a bound, failing.
	ends := func(ctx context.Context, req wire.QueryRequest, ended func(first <-chan struct{}) time.Time) (*firstRow, *wire.Error, time.Duration) {
		t.Helper()
		rec := &firstRow{arrived: make(chan struct{})}
		done := make(chan *wire.Error, 1)
		go func() {
			_, err := e.Run(ctx, req, rec)
			var we *wire.Error
			if err != nil && !errors.As(err, &we) {
				we = &wire.Error{Message: "not a *wire.Error: " + err.Error()}
			}
			done <- we
		}()
		at := ended(rec.arrived)
		select {
		case we := <-done:
			return rec, we, time.Since(at)
		case <-time.After(time.Until(at.Add(5 * time.Second))):
			sqliteSlowEnd.Store(true)
			<-done
			t.Fatalf("%q still ran 5 s after its end; it was not stopped in SQLite", req.Text)
		}
		return nil, nil, 0
	}
	awaitFirst := func(first <-chan struct{}) {
		t.Helper()
		select {
		case <-first:
		case <-time.After(10 * time.Second):
			sqliteSlowEnd.Store(true)
			t.Fatal("the first row never arrived")
		}
	}
	nextWorks := func(after string) {
		t.Helper()
		rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT 5 AS five", Mode: wire.ModeScalar})
		if rec.rows[0] != `{"five":5}` {
			t.Errorf("after %s: %v", after, rec.rows)
		}
	}
	const timeout = 1500 * time.Millisecond
	start := time.Now()
	rec, we, after := ends(context.Background(), wire.QueryRequest{Text: sqliteSlowAfterFirst, TimeoutMS: timeout.Milliseconds()},
		func(first <-chan struct{}) time.Time { awaitFirst(first); return start.Add(timeout) })
	wantKind(t, we, wire.KindTimeout, "1.5 s execution limit")
	t.Logf("answered %v after the deadline", after)
	if len(rec.rows) != 1 || after > 2*time.Second {
		t.Errorf("rows %v; answered %v after the deadline", rec.rows, after)
	}
	nextWorks("the deadline")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec, we, after = ends(ctx, wire.QueryRequest{Text: sqliteSlowAfterFirst, TimeoutMS: 30000},
		func(first <-chan struct{}) time.Time { awaitFirst(first); cancel(); return time.Now() })
	wantKind(t, we, wire.KindCanceled, "caller went away")
	t.Logf("answered %v after the cancel", after)
	if len(rec.rows) != 1 || after > 2*time.Second {
		t.Errorf("rows %v; answered %v after the cancel", rec.rows, after)
	}
	nextWorks("the cancel")
}

func TestSQLiteErrorsAndInfo(t *testing.T) {
	e, _ := newSQLite(t, false)
	_, _, we := run(t, e, wire.QueryRequest{Text: "SELECT * FROM missing"})
	wantKind(t, we, wire.KindDatabase, "no such table: missing")
	if we.Engine != "sqlite" || we.Code != "1" {
		t.Errorf("%+v", we)
	}
	version, cats, err := e.Info(context.Background())
	if err != nil || !strings.HasPrefix(version, "3.") || len(cats) != 1 || !cats[0].IsDefault || cats[0].Name != "main" {
		t.Errorf("Info: %q %+v %v", version, cats, err)
	}
}

func TestSQLiteReadOnlyDSN(t *testing.T) {
	for in, want := range map[string]string{
		"/data/demo.db":                            "file:/data/demo.db?mode=ro",
		"/data/a#c%.db?_pragma=foo(1)":             "file:/data/a%23c%25.db?_pragma=foo%281%29&mode=ro",
		"file:/data/demo.db?mode=rwc&cache=shared": "file:/data/demo.db?cache=shared&mode=ro",
	} {
		if got, err := sqliteReadOnlyDSN(in); err != nil || got != want {
			t.Errorf("%s: %s %v, want %s", in, got, err, want)
		}
	}
	if _, err := sqliteReadOnlyDSN("file::memory:?mode=memory"); err == nil {
		t.Errorf("in-memory database accepted")
	}
}

// A write waits for another connection's write lock instead of failing at
// once with SQLITE_BUSY, as long as its deadline allows: then it is a
// timeout, cancelled like any other; once the lock is gone it runs.
func TestSQLiteWriteWaitsForLock(t *testing.T) {
	e, path := newSQLite(t, true, "CREATE TABLE t (n INTEGER)")
	other := sqliteExec(t, path)
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	_, _, we := run(t, e, wire.QueryRequest{Text: "INSERT INTO t VALUES (1)", Mode: wire.ModeNonQuery, TimeoutMS: 300})
	wantKind(t, we, wire.KindTimeout, "execution limit")
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if _, tr := mustRun(t, e, wire.QueryRequest{Text: "INSERT INTO t VALUES (1)", Mode: wire.ModeNonQuery}); *tr.RowsAffected != 1 {
		t.Fatalf("trailer %+v", tr)
	}
	for in, want := range map[string]string{
		"practice.db":                          "practice.db?_busy_timeout=7200000",
		"practice.db?_pragma=busy_timeout(10)": "practice.db?_pragma=busy_timeout(10)",
		"file:p.db?_busy_timeout=5":            "file:p.db?_busy_timeout=5",
	} {
		if got, err := sqliteBusyDSN(in); err != nil || got != want {
			t.Errorf("sqliteBusyDSN(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
