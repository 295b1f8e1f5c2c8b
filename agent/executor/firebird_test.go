package executor

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"fhirlink/agent/fbtest"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
)

// newFirebird returns an executor on a fresh database and a direct handle
// on the same database for setting up and checking.
func newFirebird(t testing.TB, allowWrites bool, setup ...string) (*Executor, *sql.DB) {
	t.Helper()
	dsn := fbtest.DSN(t)
	db, err := sql.Open("firebirdsql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fbExec(t, db, setup...)
	return openExecutor(t, Config{Engine: "firebird", AllowWrites: allowWrites,
		Catalogues: []Catalogue{{Name: "main", DSN: dsn}}}), db
}

func fbExec(t testing.TB, db *sql.DB, sqls ...string) {
	t.Helper()
	for _, s := range sqls {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// Every Firebird 3 type comes back as the JSON wire.Type documents, exactly.
func TestFirebirdTypesRoundTrip(t *testing.T) {
	// Wall clocks must not pass through the local zone: 02:30 on 6 October
	// 2024 does not exist in Sydney (clocks went from 02:00 to 03:00).
	sydney, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		t.Fatal(err)
	}
	// Registered before the executor, this cleanup runs after its Close,
	// which waits for the connection resets still running in the
	// background: they read the clock, and so time.Local.
	local := time.Local
	time.Local = sydney
	t.Cleanup(func() { time.Local = local })
	e, _ := newFirebird(t, false, `CREATE TABLE t (
		i2 SMALLINT, i4 INTEGER, i8 BIGINT, n NUMERIC(18,4), d DECIMAL(9,2), n4 NUMERIC(4,1), f FLOAT, dp DOUBLE PRECISION, b BOOLEAN,
		c CHAR(5), vc VARCHAR(40) CHARACTER SET UTF8, vw VARCHAR(20) CHARACTER SET WIN1252, vn VARCHAR(20) CHARACTER SET NONE,
		oc CHAR(4) CHARACTER SET OCTETS, dt DATE, tm TIME, ts TIMESTAMP, gap TIMESTAMP,
		bt BLOB SUB_TYPE TEXT CHARACTER SET UTF8, bb BLOB SUB_TYPE BINARY)`,
		`INSERT INTO t VALUES (-32768, 2147483647, 9223372036854775807, -12345678901234.5678, 1234567.89, 123.4, 0.1, 0.1, TRUE,
		'ab', 'O''Brien "q" \ é ✓', 'café', x'436166E9', x'00ff1020', '2024-05-31', '09:30:00.1234', '2024-05-31 09:30:00.5',
		'2024-10-06 02:30:00', 'line
two é', x'00ff')`,
		`INSERT INTO t (i8) VALUES (-9223372036854775808)`)
	rec, tr := mustRun(t, e, wire.QueryRequest{Text: "SELECT * FROM t ORDER BY i8 DESC"})
	want := []string{
		`{"I2":-32768,"I4":2147483647,"I8":9223372036854775807,"N":"-12345678901234.5678","D":"1234567.89","N4":"123.4",` +
			`"F":0.1,"DP":0.1,"B":true,"C":"ab","VC":"O'Brien \"q\" \\ é ✓","VW":"café","VN":"Café","OC":"AP8QIA==",` +
			`"DT":"2024-05-31","TM":"09:30:00.1234","TS":"2024-05-31T09:30:00.5","GAP":"2024-10-06T02:30:00",` +
			`"BT":"line\ntwo é","BB":"AP8="}`,
		`{"I2":null,"I4":null,"I8":-9223372036854775808,"N":null,"D":null,"N4":null,"F":null,"DP":null,"B":null,"C":null,` +
			`"VC":null,"VW":null,"VN":null,"OC":null,"DT":null,"TM":null,"TS":null,"GAP":null,"BT":null,"BB":null}`,
	}
	if strings.Join(rec.rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows\n got %s\nwant %s", strings.Join(rec.rows, "\n     "), strings.Join(want, "\n     "))
	}
	types := map[string]wire.Type{
		"I2": wire.TypeInteger, "I4": wire.TypeInteger, "I8": wire.TypeInteger, "N": wire.TypeDecimal, "D": wire.TypeDecimal,
		"N4": wire.TypeDecimal, "F": wire.TypeFloat, "DP": wire.TypeFloat, "B": wire.TypeBoolean, "C": wire.TypeString,
		"VC": wire.TypeString, "VW": wire.TypeString, "VN": wire.TypeString, "OC": wire.TypeBinary, "DT": wire.TypeDate,
		"TM": wire.TypeTime, "TS": wire.TypeDateTime, "GAP": wire.TypeDateTime, "BT": wire.TypeString, "BB": wire.TypeBinary,
	}
	for _, col := range rec.header.Columns {
		if want, ok := types[col.Name]; !ok || col.Type != want {
			t.Errorf("column %s (%s): type %s, want %s", col.Name, col.DBType, col.Type, want)
		}
	}
	if tr.Rows != 2 || tr.Error != nil {
		t.Errorf("trailer %+v", tr)
	}
}

// Parameters are bound, never spliced: quotes and SQL in values are data,
// and @names inside literals and comments are left alone.
func TestFirebirdParameters(t *testing.T) {
	e, _ := newFirebird(t, false, `CREATE TABLE p (id INTEGER, name VARCHAR(40) CHARACTER SET UTF8, born DATE, seen TIMESTAMP,
		at_time TIME, fee NUMERIC(9,2), ok BOOLEAN, raw BLOB SUB_TYPE BINARY, uid CHAR(16) CHARACTER SET OCTETS)`,
		`INSERT INTO p VALUES (1, 'O''Brien', '1970-01-02', '2024-05-31 09:30:00.1234', '09:30:00', 12.50, TRUE, x'00ff', CHAR_TO_UUID('6f9619ff-8b86-d011-b42d-00c04fc964ff'))`,
		`INSERT INTO p VALUES (2, 'Smith', '1980-03-04', '2024-06-01 10:00:00', '10:00:00', 99.99, FALSE, NULL, NULL)`)
	p := func(name, typ, value string) wire.Param { return wire.Param{Name: name, Type: typ, Value: str(value)} }
	cases := []struct {
		text   string
		params []wire.Param
		want   string
	}{
		{"SELECT id FROM p WHERE name = @name", []wire.Param{p("@name", "NVarChar", "O'Brien")}, `{"ID":1}`},
		{"SELECT count(*) AS n FROM p WHERE name = @name", []wire.Param{p("@name", "NVarChar", "' OR 1=1 --")}, `{"N":0}`},
		{"SELECT CAST(@v AS VARCHAR(40)) AS v FROM rdb$database", []wire.Param{p("@v", "VarChar", "' OR 1=1 --")}, `{"V":"' OR 1=1 --"}`},
		// @x in a literal, a quoted name and comments is text; @ID matches @id.
		{"SELECT '@x' AS \"@y\" /* @z */, id -- @w\n FROM p WHERE id = @ID AND id <> @Id + 5", []wire.Param{p("@id", "Int", "2")}, `{"@y":"@x","ID":2}`},
		{"SELECT id FROM p WHERE born = @d AND seen = @ts AND at_time = @tm", []wire.Param{
			p("@d", "Date", "1970-01-02"), p("@ts", "DateTime2", "2024-05-31T09:30:00.12345678"), p("@tm", "Time", "09:30")}, `{"ID":1}`},
		{"SELECT id FROM p WHERE fee = @fee AND ok = @ok", []wire.Param{p("@fee", "Decimal", "12.5"), p("@ok", "Bit", "true")}, `{"ID":1}`},
		{"SELECT id FROM p WHERE raw = @raw", []wire.Param{p("@raw", "VarBinary", "AP8=")}, `{"ID":1}`},
		{"SELECT id FROM p WHERE uid = CHAR_TO_UUID(@u)", []wire.Param{p("@u", "UniqueIdentifier", "6F9619FF-8B86-D011-B42D-00C04FC964FF")}, `{"ID":1}`},
		{"SELECT CAST(@big AS BIGINT) + 1 AS b, CAST(@f AS DOUBLE PRECISION) AS f FROM rdb$database",
			[]wire.Param{p("@big", "BigInt", "9223372036854775806"), p("@f", "Float", "0.25")}, `{"B":9223372036854775807,"F":0.25}`},
		{"SELECT count(*) AS n FROM p WHERE name = @n OR @n IS NULL", []wire.Param{{Name: "@n", Type: "NVarChar"}}, `{"N":2}`},
	}
	for _, c := range cases {
		rec, _ := mustRun(t, e, wire.QueryRequest{Text: c.text, Params: c.params})
		if len(rec.rows) != 1 || rec.rows[0] != c.want {
			t.Errorf("%s: rows %v, want %s", c.text, rec.rows, c.want)
		}
	}
	_, _, we := run(t, e, wire.QueryRequest{Text: "SELECT id FROM p WHERE id = @missing"})
	wantKind(t, we, wire.KindInvalid, "@missing, which is not among")
	_, _, we = run(t, e, wire.QueryRequest{Text: "SELECT id FROM p WHERE id = ?"})
	wantKind(t, we, wire.KindInvalid, "write parameters as @name")
	_, _, we = run(t, e, wire.QueryRequest{Text: "SELECT id FROM p WHERE seen = @t",
		Params: []wire.Param{p("@t", "DateTimeOffset", "2024-05-31T09:30:00+10:00")}})
	wantKind(t, we, wire.KindInvalid, "no time zone types")
}

// Reader and scalar queries run in read-only transactions: the server
// refuses every change, even when the site allows writes.
func TestFirebirdReaderCannotWrite(t *testing.T) {
	e, db := newFirebird(t, true, "CREATE TABLE t (v INTEGER)", "INSERT INTO t VALUES (1)")
	for _, mode := range []wire.Mode{wire.ModeReader, wire.ModeScalar} {
		for _, text := range []string{
			"INSERT INTO t VALUES (2)",
			"UPDATE t SET v = 9 RETURNING v",
			"DELETE FROM t",
			"EXECUTE BLOCK AS BEGIN INSERT INTO t VALUES (3); END",
			"EXECUTE BLOCK AS BEGIN IN AUTONOMOUS TRANSACTION DO INSERT INTO t VALUES (4); END",
			"EXECUTE BLOCK AS BEGIN EXECUTE STATEMENT 'INSERT INTO t VALUES (5)' WITH AUTONOMOUS TRANSACTION; END",
		} {
			_, _, we := run(t, e, wire.QueryRequest{Text: text, Mode: mode})
			wantKind(t, we, wire.KindDatabase, "read-only transaction")
			if we.Code != "335544361" || we.Engine != "firebird" || !strings.Contains(we.Message, "SQLSTATE 25006") {
				t.Errorf("%s %s: %+v", mode, text, we)
			}
		}
	}
	// DDL fails as a metadata update refused for the same reason.
	_, _, we := run(t, e, wire.QueryRequest{Text: "CREATE TABLE u (v INTEGER)"})
	wantKind(t, we, wire.KindDatabase, "attempted update during read-only transaction")
	var n, v int
	if err := db.QueryRow("SELECT count(*), max(v) FROM t").Scan(&n, &v); err != nil || n != 1 || v != 1 {
		t.Errorf("table changed: %d rows, max %d, %v", n, v, err)
	}
}

func TestFirebirdNonQuery(t *testing.T) {
	ro, db := newFirebird(t, false, "CREATE TABLE t (v INTEGER)")
	fbExec(t, db, "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)", "INSERT INTO t VALUES (3)", "INSERT INTO t VALUES (4)")
	_, _, we := run(t, ro, wire.QueryRequest{Text: "UPDATE t SET v = v + 1", Mode: wire.ModeNonQuery})
	wantKind(t, we, wire.KindForbidden, "not enabled write access")

	rw, db := newFirebird(t, true, "CREATE TABLE t (v INTEGER)")
	fbExec(t, db, "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)", "INSERT INTO t VALUES (3)", "INSERT INTO t VALUES (4)")
	// A reader first: with one pool for both, the driver would run the
	// write on the reader's connection with its read-only parameters.
	mustRun(t, rw, wire.QueryRequest{Text: "SELECT count(*) AS n FROM t"})
	rec, tr := mustRun(t, rw, wire.QueryRequest{Text: "UPDATE t SET v = v + 10 WHERE v > @min", Mode: wire.ModeNonQuery,
		Params: []wire.Param{{Name: "@min", Type: "Int", Value: str("2")}}})
	if tr.RowsAffected == nil || *tr.RowsAffected != 2 || rec.header.Columns == nil || len(rec.header.Columns) != 0 {
		t.Errorf("trailer %+v header %+v", tr, rec.header)
	}
	var sum int
	if err := db.QueryRow("SELECT sum(v) FROM t").Scan(&sum); err != nil || sum != 30 {
		t.Errorf("sum %d, %v; want 30 (committed)", sum, err)
	}
}

// fbBusyQuery keeps the server busy for minutes before its one row:
// 1.5e10 combinations of a system table joined with itself. The marker
// finds it in MON$STATEMENTS.
func fbBusyQuery(marker string) string {
	return "SELECT count(*) AS n FROM rdb$types a, rdb$types b, rdb$types c, rdb$types d WHERE '" + marker + "' <> ''"
}

// fbWaitRunning waits up to 5 s for the server to start executing marker's statement.
func fbWaitRunning(t testing.TB, db *sql.DB, marker string) {
	t.Helper()
	waittest.For(t, 5*time.Second, fmt.Sprintf("%q to be seen running in MON$STATEMENTS", marker), func() bool { return fbtest.Running(t, db, marker) > 0 })
}

// fbWaitGone waits up to 5 s for no statement containing marker to run.
func fbWaitGone(t testing.TB, db *sql.DB, marker string) {
	t.Helper()
	waittest.For(t, 5*time.Second, fmt.Sprintf("%q to stop running in the server after Run returned", marker), func() bool { return fbtest.Running(t, db, marker) == 0 })
}

// The deadline stops the statement in the server (op_cancel), and the
// connection is kept: the next query runs on the same attachment.
func TestFirebirdDeadlineCancelsInDatabase(t *testing.T) {
	e, db := newFirebird(t, false)
	attachment := func() string {
		rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT current_connection AS a FROM rdb$database"})
		return rec.rows[0]
	}
	before := attachment()
	done := make(chan *wire.Error)
	start := time.Now()
	go func() {
		_, _, we := run(t, e, wire.QueryRequest{Text: fbBusyQuery("deadline-marker"), TimeoutMS: 1500})
		done <- we
	}()
	fbWaitRunning(t, db, "deadline-marker")
	we := <-done
	wantKind(t, we, wire.KindTimeout, "exceeded its 1.5 s execution limit")
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("returned after %v", d)
	}
	fbWaitGone(t, db, "deadline-marker")
	if after := attachment(); after != before {
		t.Errorf("attachment %s after the cancel, %s before: the connection was dropped, not cancelled", after, before)
	}
}

// A caller that goes away cancels the statement in the server too.
func TestFirebirdCallerCancel(t *testing.T) {
	e, db := newFirebird(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan *wire.Error, 1)
	go func() {
		_, _, we := runCtx(ctx, t, e, wire.QueryRequest{Text: fbBusyQuery("caller-marker")}, &recorder{})
		done <- we
	}()
	fbWaitRunning(t, db, "caller-marker") // on the test's goroutine: it may fail the test
	cancel()
	we := <-done
	wantKind(t, we, wire.KindCanceled, "caller went away")
	fbWaitGone(t, db, "caller-marker")
}

// The result cap stops reading and cancels the statement as soon as it is
// passed.
func TestFirebirdMaxBytesStopsEarly(t *testing.T) {
	e, db := newFirebird(t, false)
	start := time.Now()
	rec, tr, we := run(t, e, wire.QueryRequest{
		Text:     "SELECT a.rdb$type AS t, 'maxbytes-marker' AS pad FROM rdb$types a, rdb$types b, rdb$types c, rdb$types d",
		MaxBytes: 10000,
	})
	wantKind(t, we, wire.KindTooLarge, "limit of 10000 bytes")
	if tr.Error != we || tr.Rows != int64(len(rec.rows)) || tr.Rows == 0 || tr.Bytes > 10000 || tr.Bytes < 9000 {
		t.Errorf("trailer %+v after %d rows", tr, len(rec.rows))
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("returned after %v", d)
	}
	fbWaitGone(t, db, "maxbytes-marker")
}

func TestFirebirdScalarAndErrors(t *testing.T) {
	e, _ := newFirebird(t, false)
	rec, tr := mustRun(t, e, wire.QueryRequest{Text: "SELECT a.rdb$type AS first_col, 2 AS second_col FROM rdb$types a, rdb$types b ORDER BY 1", Mode: wire.ModeScalar})
	if len(rec.header.Columns) != 1 || len(rec.rows) != 1 || tr.Rows != 1 {
		t.Errorf("header %+v rows %v trailer %+v", rec.header, rec.rows, tr)
	}
	_, _, we := run(t, e, wire.QueryRequest{Text: "SELECT * FROM no_such_table"})
	wantKind(t, we, wire.KindDatabase, "Table unknown; NO_SUCH_TABLE")
	if we.Code != "335544580" || we.Engine != "firebird" || !strings.Contains(we.Message, "SQLCODE -204") {
		t.Errorf("%+v", we)
	}
	_, _, we = run(t, e, wire.QueryRequest{Text: "SELECT 1 / 0 AS x FROM rdb$database"})
	wantKind(t, we, wire.KindDatabase, "divide by zero")
}

// A site has several databases (Zedmed has a pair); Info reports the version.
func TestFirebirdCataloguesAndInfo(t *testing.T) {
	dsnA, dsnB := fbtest.DSN(t), fbtest.DSN(t)
	for dsn, name := range map[string]string{dsnA: "patients", dsnB: "billing"} {
		db, err := sql.Open("firebirdsql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		fbExec(t, db, "CREATE TABLE which (name VARCHAR(20))", "INSERT INTO which VALUES ('"+name+"')")
		db.Close()
	}
	e := openExecutor(t, Config{Engine: "firebird", Catalogues: []Catalogue{
		{Name: "ZedmedData", DSN: dsnA},
		{Name: "ZedmedBilling", DSN: dsnB, IsDefault: true},
	}})
	for cat, want := range map[string]string{"": "billing", "zedmeddata": "patients", "ZedmedBilling": "billing"} {
		rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT name FROM which", Catalogue: cat})
		if rec.rows[0] != `{"NAME":"`+want+`"}` {
			t.Errorf("catalogue %q: %v", cat, rec.rows)
		}
	}
	version, cats, err := e.Info(context.Background())
	if err != nil || !strings.HasPrefix(version, "3.") || len(cats) != 2 || cats[0].IsDefault || !cats[1].IsDefault {
		t.Errorf("Info: %q %+v %v", version, cats, err)
	}
}

func TestFirebirdOpenFailsClearly(t *testing.T) {
	dsn := fbtest.DSN(t)
	at := strings.Index(dsn, "@")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, c := range []struct {
		dsn, msg string
	}{
		{"SYSDBA:wrongsecret" + dsn[at:], "user name and password are not defined"},
		{dsn + ".missing", "I/O error"},
	} {
		_, err := Open(ctx, Config{Engine: "firebird", Catalogues: []Catalogue{{Name: "main", DSN: c.dsn}}})
		we, _ := err.(*wire.Error)
		wantKind(t, we, wire.KindUnavailable, c.msg)
		if strings.Contains(we.Message, "wrongsecret") || we.Engine != "firebird" {
			t.Errorf("%+v", we)
		}
	}
	for _, bad := range []string{"SYSDBA:wrongsecret@127.0.0.1:port/x.fdb", "SYSDBA:wrongsecret@127.0.0.1:3050", "127.0.0.1:3050/x.fdb"} {
		_, err := Open(ctx, Config{Engine: "firebird", Catalogues: []Catalogue{{Name: "main", DSN: bad}}})
		we, _ := err.(*wire.Error)
		wantKind(t, we, wire.KindInvalid, "the DSN is not of the form")
		if strings.Contains(we.Message, "wrongsecret") {
			t.Errorf("%+v", we)
		}
	}
}

func TestFirebirdBindLexer(t *testing.T) {
	params := []param{{name: "a", typ: paramTypes["int"], value: int64(1)}, {name: "B_2", typ: paramTypes["nvarchar"], value: "x"}}
	for text, want := range map[string]string{
		"SELECT @a, @b_2, @A":                       "SELECT ?, ?, ?",
		"SELECT '@a''@a', \"@a\"\"x\" FROM t":       "SELECT '@a''@a', \"@a\"\"x\" FROM t",
		"SELECT q'{@a'}' , Q'!@a!' , @a":            "SELECT q'{@a'}' , Q'!@a!' , ?",
		"SELECT 1 -- @a ?\n, /* @a ? */ @a":         "SELECT 1 -- @a ?\n, /* @a ? */ ?",
		"SELECT x'@a', @a FROM t WHERE c = '@b_2'":  "SELECT x'@a', ? FROM t WHERE c = '@b_2'",
		"EXECUTE BLOCK (x INT = @a) AS BEGIN END":   "EXECUTE BLOCK (x INT = ?) AS BEGIN END",
		"SELECT 'it''s @a' FROM t WHERE v = @b_2--": "SELECT 'it''s @a' FROM t WHERE v = ?--",
	} {
		got, args, err := firebirdEngine{}.bind(text, params)
		if err != nil || got != want || len(args) != strings.Count(want, "?")-strings.Count(text, "?") {
			t.Errorf("bind(%q) = %q %v %v, want %q", text, got, args, err, want)
		}
	}
	for text, msg := range map[string]string{
		"SELECT 'open":        "unterminated '",
		"SELECT /* open":      "unterminated /*",
		"SELECT q'{x}":        "unterminated q'",
		"SELECT @nope FROM t": "@nope, which is not among",
	} {
		if _, _, err := (firebirdEngine{}).bind(text, params); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("bind(%q): %v, want %q", text, err, msg)
		}
	}
}

// A write that waits for a record lock is stopped by the deadline as well:
// op_cancel interrupts the lock wait, the change is not made, and the
// connection is kept.
func TestFirebirdDeadlineDuringLockWait(t *testing.T) {
	e, db := newFirebird(t, true, "CREATE TABLE t (id INTEGER, v INTEGER)", "INSERT INTO t VALUES (1, 0)")
	attachment := func() string {
		rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT current_connection AS a FROM rdb$database"})
		return rec.rows[0]
	}
	before := attachment()
	holder, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	if _, err := holder.Exec("UPDATE t SET v = 1 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, we := run(t, e, wire.QueryRequest{Text: "UPDATE t SET v = 2 WHERE id = 1 AND 'lockwait-marker' <> ''", Mode: wire.ModeNonQuery, TimeoutMS: 500})
	wantKind(t, we, wire.KindTimeout, "exceeded its 0.5 s execution limit")
	// Well before firebirdHardDrop would have closed the connection.
	if d := time.Since(start); d > 500*time.Millisecond+firebirdHardDrop/2 {
		t.Errorf("returned after %v", d)
	}
	fbWaitGone(t, db, "lockwait-marker")
	if err := holder.Rollback(); err != nil {
		t.Fatal(err)
	}
	rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT v FROM t"})
	if len(rec.rows) != 1 || rec.rows[0] != `{"V":0}` {
		t.Errorf("rows after: %v", rec.rows)
	}
	if after := attachment(); after != before {
		t.Errorf("attachment %s after the cancel, %s before: the connection was dropped, not cancelled", after, before)
	}
}

func TestFirebirdDSNOptions(t *testing.T) {
	for in, want := range map[string]string{
		"u:p@h/db.fdb": "u:p@h/db.fdb?cancel_hard_drop=true&cancel_hard_drop_grace=2000&timezone=UTC",
		"u:p@h:3050//a/db.fdb?charset=WIN1252&timezone=Australia%2FSydney": "u:p@h:3050//a/db.fdb?cancel_hard_drop=true&cancel_hard_drop_grace=2000&charset=WIN1252&timezone=UTC",
		"firebird://u:p@h/db.fdb?cancel_hard_drop=false":                   "firebird://u:p@h/db.fdb?cancel_hard_drop=false&timezone=UTC",
	} {
		if got, err := firebirdDSN(in); err != nil || got != want {
			t.Errorf("firebirdDSN(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
