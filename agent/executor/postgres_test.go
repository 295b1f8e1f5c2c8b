package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"fhirlink/agent/pgtest"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
)

// Every type family comes back as the JSON wire.Type documents, exactly.
func TestPostgresTypesRoundTrip(t *testing.T) {
	e, c := newPostgres(t, false)
	pgExec(t, c, `CREATE TABLE t (
		i2 smallint, i4 int, i8 bigint, n numeric(38,10), m numeric(10,2), f4 real, f8 double precision, b boolean,
		s text, vc varchar(10), c char(5), d date, ts timestamp, tstz timestamptz, tm time,
		by bytea, u uuid, j json, jb jsonb, iv interval, arr int[])`,
		`INSERT INTO t VALUES (-32768, 2147483647, 9223372036854775807, 1234567890123456789012345678.0123456789, 12.5,
		0.1, 0.1, true, E'O''Brien "q" \\ line\n\ttab \u00e9\u2028', 'abc', 'ab', '2024-05-31', '2024-05-31 09:30:00.123456',
		'2024-05-31 09:30:00.5+10', '09:30:00.25', '\x00ff10', '6F9619FF-8B86-D011-B42D-00C04FC964FF',
		E'{"a": [1, 2],\n "b": "x y"}', '{"b": 1, "a": [true, null]}', '1 day 02:00:00', '{1,2}')`,
		`INSERT INTO t (i8) VALUES (-9223372036854775808)`)
	rec, tr := mustRun(t, e, wire.QueryRequest{Text: "SELECT * FROM t ORDER BY i8 DESC"})

	tstz := time.Date(2024, 5, 30, 23, 30, 0, 5e8, time.UTC).In(time.Local).Format(layoutDateTimeOffset)
	want := []string{
		`{"i2":-32768,"i4":2147483647,"i8":9223372036854775807,"n":"1234567890123456789012345678.0123456789","m":"12.50",` +
			`"f4":0.1,"f8":0.1,"b":true,"s":"O'Brien \"q\" \\ line\n\ttab é\u2028","vc":"abc","c":"ab   ","d":"2024-05-31",` +
			`"ts":"2024-05-31T09:30:00.123456","tstz":"` + tstz + `","tm":"09:30:00.25","by":"AP8Q",` +
			`"u":"6f9619ff-8b86-d011-b42d-00c04fc964ff","j":{"a":[1,2],"b":"x y"},"jb":{"a":[true,null],"b":1},` +
			`"iv":"1 day 02:00:00","arr":"{1,2}"}`,
		`{"i2":null,"i4":null,"i8":-9223372036854775808,"n":null,"m":null,"f4":null,"f8":null,"b":null,"s":null,"vc":null,` +
			`"c":null,"d":null,"ts":null,"tstz":null,"tm":null,"by":null,"u":null,"j":null,"jb":null,"iv":null,"arr":null}`,
	}
	if strings.Join(rec.rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows\n got %s\nwant %s", strings.Join(rec.rows, "\n     "), strings.Join(want, "\n     "))
	}
	types := map[string]wire.Type{
		"i2": wire.TypeInteger, "i8": wire.TypeInteger, "n": wire.TypeDecimal, "f4": wire.TypeFloat, "b": wire.TypeBoolean,
		"s": wire.TypeString, "d": wire.TypeDate, "ts": wire.TypeDateTime, "tstz": wire.TypeDateTimeOffset,
		"tm": wire.TypeTime, "by": wire.TypeBinary, "u": wire.TypeUUID, "j": wire.TypeJSON, "jb": wire.TypeJSON, "iv": wire.TypeString,
	}
	for _, col := range rec.header.Columns {
		if want, ok := types[col.Name]; ok && col.Type != want {
			t.Errorf("column %s (%s): type %s, want %s", col.Name, col.DBType, col.Type, want)
		}
	}
	if rec.header.Columns[0].DBType != "INT2" || rec.header.StartedAt.IsZero() {
		t.Errorf("header %+v", rec.header)
	}
	var bytes int64
	for _, r := range rec.rows {
		bytes += int64(len(r))
	}
	if tr.Rows != 2 || tr.Bytes != bytes || tr.Error != nil {
		t.Errorf("trailer %+v, want 2 rows of %d bytes", tr, bytes)
	}
}

func TestPostgresColumnNames(t *testing.T) {
	e, _ := newPostgres(t, false)
	rec, _ := mustRun(t, e, wire.QueryRequest{Text: `SELECT 1 AS a, 2 AS a, 3 AS a_2, 4 AS a`})
	if want := `{"a":1,"a_2":2,"a_2_2":3,"a_3":4}`; rec.rows[0] != want {
		t.Errorf("got %s, want %s", rec.rows[0], want)
	}
}

// The deadline cancels the statement in the server, not only in Go.
func TestPostgresDeadlineCancelsInDatabase(t *testing.T) {
	e, c := newPostgres(t, false)
	start := time.Now()
	done := make(chan *wire.Error, 1)
	go func() {
		_, _, we := run(t, e, wire.QueryRequest{Text: "SELECT pg_sleep(30)", TimeoutMS: 500})
		done <- we
	}()
	pgWaitRunning(t, c, "pg_sleep(30)")
	we := <-done
	wantKind(t, we, wire.KindTimeout, "exceeded its 0.5 s execution limit")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
	waitGone(t, c, "pg_sleep(30)")
	// The pool's connection is still good.
	rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT 1 AS one"})
	if rec.rows[0] != `{"one":1}` {
		t.Errorf("after timeout: %v", rec.rows)
	}
}

// A caller that goes away cancels the statement in the server too.
func TestPostgresCallerCancel(t *testing.T) {
	e, c := newPostgres(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan *wire.Error, 1)
	go func() {
		_, _, we := runCtx(ctx, t, e, wire.QueryRequest{Text: "SELECT pg_sleep(31)"}, &recorder{})
		done <- we
	}()
	pgWaitRunning(t, c, "pg_sleep(31)") // the caller goes away from a running statement
	cancel()
	we := <-done
	wantKind(t, we, wire.KindCanceled, "caller went away")
	waitGone(t, c, "pg_sleep(31)")
}

// The result cap stops reading and cancels the statement as soon as it is
// passed, without reading the rest.
func TestPostgresMaxBytesStopsEarly(t *testing.T) {
	e, c := newPostgres(t, false)
	start := time.Now()
	rec, tr, we := run(t, e, wire.QueryRequest{
		// generate_series in the select list streams; in FROM it would be
		// materialised before the first row.
		Text:     "SELECT g, repeat('x', 100) AS pad FROM (SELECT generate_series(1, 50000000) AS g) s",
		MaxBytes: 10000,
	})
	wantKind(t, we, wire.KindTooLarge, "limit of 10000 bytes")
	if tr.Error != we || tr.Rows != int64(len(rec.rows)) || tr.Rows == 0 || tr.Bytes > 10000 || tr.Bytes < 9000 {
		t.Errorf("trailer %+v after %d rows", tr, len(rec.rows))
	}
	// Reading the rest of 50 million rows would take minutes.
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("returned after %v", d)
	}
	waitGone(t, c, "generate_series(1, 50000000)")
}

// Reader and scalar queries cannot write, even when the site allows writes.
func TestPostgresReaderCannotWrite(t *testing.T) {
	e, c := newPostgres(t, true)
	pgExec(t, c, "CREATE TABLE t (v int)", "INSERT INTO t VALUES (1)")
	for _, mode := range []wire.Mode{wire.ModeReader, wire.ModeScalar} {
		for _, text := range []string{"INSERT INTO t VALUES (2)", "UPDATE t SET v = 9 RETURNING v", "DELETE FROM t"} {
			_, _, we := run(t, e, wire.QueryRequest{Text: text, Mode: mode})
			wantKind(t, we, wire.KindDatabase, "read-only transaction")
			if we.Code != "25006" || we.Engine != "postgres" {
				t.Errorf("%s %s: %+v", mode, text, we)
			}
		}
	}
	var n, v int
	if err := c.QueryRow(context.Background(), "SELECT count(*), max(v) FROM t").Scan(&n, &v); err != nil || n != 1 || v != 1 {
		t.Errorf("table changed: %d rows, max %d, %v", n, v, err)
	}
}

// A reader cannot make its session writable for the next reader on the
// same connection: its read-only start-up setting is restored, and a
// transaction it leaves open is discarded with its connection.
func TestPostgresReaderCannotUnsetReadOnly(t *testing.T) {
	e, c := newPostgres(t, true)
	onePool(e)
	pgExec(t, c, "CREATE TABLE t (v int)")
	for _, escape := range []string{
		"SET default_transaction_read_only = off",
		"SELECT set_config('default_transaction_read_only', 'off', false) AS s",
		"SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
		"BEGIN READ WRITE",
		"SET TRANSACTION READ WRITE",
	} {
		run(t, e, wire.QueryRequest{Text: escape})
		_, _, we := run(t, e, wire.QueryRequest{Text: "INSERT INTO t VALUES (1)"})
		wantKind(t, we, wire.KindDatabase, "read-only transaction")
	}
	var n int
	if err := c.QueryRow(context.Background(), "SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Errorf("table changed: %d rows, %v", n, err)
	}
	// Writes, on their own handle, are not read-only.
	mustRun(t, e, wire.QueryRequest{Text: "INSERT INTO t VALUES (1)", Mode: wire.ModeNonQuery})
}

// The server's own statements (Prepare) stay prepared on a pool of their
// own: planned once per connection, invisible to integrators' SQL, which
// runs on the other pool; the pool is read-only too, and a cancelled
// statement's connection is not reused.
func TestPostgresPreparedStatementsStayOnTheirPool(t *testing.T) {
	e, c := newPostgres(t, true)
	onePool(e)
	pgExec(t, c, "CREATE TABLE t (v int)")
	kept := wire.QueryRequest{Text: "SELECT pg_backend_pid() AS pid, (SELECT count(*) FROM pg_prepared_statements) AS kept", Prepare: true}
	first, _ := mustRun(t, e, kept)
	again, _ := mustRun(t, e, kept)
	var a, b struct{ PID, Kept int }
	json.Unmarshal([]byte(first.rows[0]), &a)
	json.Unmarshal([]byte(again.rows[0]), &b)
	if a.PID != b.PID || b.Kept < 1 {
		t.Errorf("the statement was not kept on its connection: %s then %s", first.rows[0], again.rows[0])
	}
	rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT count(*) AS n FROM pg_prepared_statements"})
	if rec.rows[0] != `{"n":0}` {
		t.Errorf("an integrator's query sees the server's statements: %s", rec.rows[0])
	}
	// JIT is off for the server's own SQL (see jitOff) and left as the
	// database sets it for integrators'.
	jit := wire.QueryRequest{Text: "SELECT current_setting('jit') AS jit", Prepare: true}
	if rec, _ := mustRun(t, e, jit); rec.rows[0] != `{"jit":"off"}` {
		t.Errorf("the server's own SQL runs with %s", rec.rows[0])
	}
	jit.Prepare = false
	if rec, _ := mustRun(t, e, jit); rec.rows[0] != `{"jit":"on"}` {
		t.Errorf("integrators' SQL runs with %s", rec.rows[0])
	}
	_, _, we := run(t, e, wire.QueryRequest{Text: "INSERT INTO t VALUES (1) RETURNING v", Prepare: true})
	wantKind(t, we, wire.KindDatabase, "read-only transaction")
	_, _, we = run(t, e, wire.QueryRequest{Text: "SELECT pg_sleep(5) AS s", Prepare: true, TimeoutMS: 100})
	wantKind(t, we, wire.KindTimeout, "")
	after, _ := mustRun(t, e, kept)
	var d struct{ PID, Kept int }
	json.Unmarshal([]byte(after.rows[0]), &d)
	if d.PID == b.PID {
		t.Errorf("the connection of a cancelled statement was reused (pid %d)", d.PID)
	}
}

func TestPostgresNonQuery(t *testing.T) {
	ro, c := newPostgres(t, false)
	pgExec(t, c, "CREATE TABLE t (v int)", "INSERT INTO t SELECT generate_series(1, 5)")
	_, _, we := run(t, ro, wire.QueryRequest{Text: "UPDATE t SET v = v + 1", Mode: wire.ModeNonQuery})
	wantKind(t, we, wire.KindForbidden, "not enabled write access")

	rw := openExecutor(t, Config{Engine: "postgres", AllowWrites: true,
		Catalogues: []Catalogue{{Name: "main", DSN: c.Config().ConnString()}}})
	rec, tr := mustRun(t, rw, wire.QueryRequest{Text: "UPDATE t SET v = v + 10 WHERE v > @min", Mode: wire.ModeNonQuery,
		Params: []wire.Param{{Name: "@min", Type: "Int", Value: str("2")}}})
	if tr.RowsAffected == nil || *tr.RowsAffected != 3 || len(rec.header.Columns) != 0 || rec.header.Columns == nil {
		t.Errorf("trailer %+v header %+v", tr, rec.header)
	}
	var sum int
	if err := c.QueryRow(context.Background(), "SELECT sum(v) FROM t").Scan(&sum); err != nil || sum != 45 {
		t.Errorf("sum %d, %v; want 45", sum, err)
	}
}

func TestPostgresScalar(t *testing.T) {
	e, _ := newPostgres(t, false)
	rec, tr := mustRun(t, e, wire.QueryRequest{Text: "SELECT g AS first, g * 2 AS second FROM generate_series(7, 100000) g", Mode: wire.ModeScalar})
	if len(rec.header.Columns) != 1 || len(rec.rows) != 1 || rec.rows[0] != `{"first":7}` || tr.Rows != 1 {
		t.Errorf("header %+v rows %v trailer %+v", rec.header, rec.rows, tr)
	}
	rec, tr = mustRun(t, e, wire.QueryRequest{Text: "SELECT 1 AS x WHERE false", Mode: wire.ModeScalar})
	if len(rec.header.Columns) != 1 || len(rec.rows) != 0 || tr.Rows != 0 {
		t.Errorf("empty scalar: header %+v rows %v", rec.header, rec.rows)
	}
}

func TestPostgresErrors(t *testing.T) {
	e, _ := newPostgres(t, false)
	_, _, we := run(t, e, wire.QueryRequest{Text: "SELECT * FROM no_such_table"})
	wantKind(t, we, wire.KindDatabase, `relation "no_such_table" does not exist`)
	if we.Code != "42P01" || we.Engine != "postgres" {
		t.Errorf("%+v", we)
	}
	// An error after rows were sent arrives in the trailer too.
	rec, tr, we := run(t, e, wire.QueryRequest{Text: "SELECT 10 / (3 - g) AS x FROM generate_series(1, 5) g"})
	wantKind(t, we, wire.KindDatabase, "division by zero")
	if tr.Error != we || rec.headers != 1 || len(rec.rows) != 2 || tr.Rows != 2 {
		t.Errorf("trailer %+v rows %v", tr, rec.rows)
	}
	// A sink that fails stops the query.
	rec, tr, we = runCtx(context.Background(), t, e, wire.QueryRequest{Text: "SELECT generate_series(1, 10) AS g"}, &recorder{failAt: 3})
	wantKind(t, we, wire.KindCanceled, "stream closed")
	if len(rec.rows) != 2 || tr.Rows != 2 {
		t.Errorf("rows %v trailer %+v", rec.rows, tr)
	}
	_, _, we = run(t, e, wire.QueryRequest{Text: "SELECT 1", Catalogue: "Other"})
	wantKind(t, we, wire.KindInvalid, `unknown catalogue "Other"; this site has main`)
	_, _, we = run(t, e, wire.QueryRequest{Text: "SELECT 1", Mode: "bulk"})
	wantKind(t, we, wire.KindInvalid, "unknown mode")
}

func TestPostgresCataloguesAndInfo(t *testing.T) {
	_, a := newPostgres(t, false)
	_, b := newPostgres(t, false)
	pgExec(t, a, "CREATE TABLE which (name text)", "INSERT INTO which VALUES ('patients')")
	pgExec(t, b, "CREATE TABLE which (name text)", "INSERT INTO which VALUES ('billing')")
	e := openExecutor(t, Config{Engine: "postgres", Catalogues: []Catalogue{
		{Name: "Patients", DSN: a.Config().ConnString()},
		{Name: "Billing", DSN: b.Config().ConnString(), IsDefault: true},
	}})
	for cat, want := range map[string]string{"": "billing", "patients": "patients", "Billing": "billing"} {
		rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT name FROM which", Catalogue: cat})
		if rec.rows[0] != `{"name":"`+want+`"}` {
			t.Errorf("catalogue %q: %v", cat, rec.rows)
		}
	}
	version, cats, err := e.Info(context.Background())
	if err != nil || !strings.HasPrefix(version, "1") || len(cats) != 2 || cats[0].IsDefault || !cats[1].IsDefault {
		t.Errorf("Info: %q %+v %v", version, cats, err)
	}
}

func TestOpenFailsClearly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cases := []struct {
		cfg  Config
		kind wire.ErrorKind
		msg  string
	}{
		{Config{Engine: "postgres", Catalogues: []Catalogue{{Name: "main", DSN: "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=5"}}},
			wire.KindUnavailable, `catalogue "main": the database cannot be reached`},
		{Config{Engine: "sqlserver", Catalogues: []Catalogue{{Name: "BPS", DSN: "sqlserver://u:secret@127.0.0.1:1?database=BPSPatients&encrypt=disable&dial+timeout=5"}}},
			wire.KindUnavailable, `catalogue "BPS": the database cannot be reached`},
		{Config{Engine: "sqlite", Catalogues: []Catalogue{{Name: "demo", DSN: "/nonexistent/demo.db"}}},
			wire.KindUnavailable, `catalogue "demo"`},
		{Config{Engine: "oracle", Catalogues: []Catalogue{{Name: "x", DSN: "x"}}}, wire.KindInvalid, "unknown database engine"},
		{Config{Engine: "sqlite"}, wire.KindInvalid, "no catalogue"},
		{Config{Engine: "sqlite", Catalogues: []Catalogue{{Name: "a", DSN: "x", IsDefault: true}, {Name: "b", DSN: "y", IsDefault: true}}},
			wire.KindInvalid, "2 catalogues are marked default"},
	}
	for _, c := range cases {
		_, err := Open(ctx, c.cfg)
		we, _ := err.(*wire.Error)
		wantKind(t, we, c.kind, c.msg)
		if strings.Contains(we.Message, "secret") {
			t.Errorf("message leaks the password: %s", we.Message)
		}
	}
}

// pgRunning counts the statements containing text that run in the database,
// as another connection sees them in pg_stat_activity.
func pgRunning(t *testing.T, c *pgx.Conn, text string) int {
	t.Helper()
	var n int
	err := c.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE state = 'active' AND pid <> pg_backend_pid() AND strpos(query, $1) > 0`, text).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pgWaitRunning waits up to 5 s for text's statement to run in the database.
func pgWaitRunning(t *testing.T, c *pgx.Conn, text string) {
	t.Helper()
	waittest.For(t, 5*time.Second, fmt.Sprintf("%q to run in the database", text), func() bool { return pgRunning(t, c, text) > 0 })
}

// waitGone waits up to 5 s for no statement containing text to run in the
// database.
func waitGone(t *testing.T, c *pgx.Conn, text string) {
	t.Helper()
	waittest.For(t, 5*time.Second, fmt.Sprintf("%q to stop running in the database after Run returned", text), func() bool { return pgRunning(t, c, text) == 0 })
}

// Readers run in one round trip with text results (see
// postgresEngine.oneTrip); the values must read exactly as the binary
// results of the server's own prepared pool do, parameters must still take
// the type the statement gives them, and a session whose DateStyle pgx
// cannot read in text keeps the describe-then-run path.
func TestPostgresOneTripReadsAsBinary(t *testing.T) {
	dsn := pgtest.DSN(t)
	c := pgConnect(t, dsn)
	var db string
	if err := c.QueryRow(context.Background(), "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	// Defaults that would print floats rounded and bytea escaped: the
	// readers' sessions set their own. In Sydney's zone, 1890 prints with
	// its mean solar time offset, +10:04:52.
	pgExec(t, c, `ALTER DATABASE "`+db+`" SET extra_float_digits = 0`, `ALTER DATABASE "`+db+`" SET bytea_output = 'escape'`,
		`ALTER DATABASE "`+db+`" SET TimeZone = 'Australia/Sydney'`)
	e := openExecutor(t, Config{Engine: "postgres", Catalogues: []Catalogue{{Name: "main", DSN: dsn}}})
	pgExec(t, c, `CREATE TABLE t (id int, f4 real, f8 double precision, b bytea, d date, ts timestamp, tstz timestamptz, o oid, ok boolean)`,
		`INSERT INTO t VALUES
		(1, 0.1, 0.30000000000000004, '\x00ff', '2024-05-31', '2024-05-31 09:30:00.000001', '1890-01-01 00:00:00+00', 4294967295, true),
		(2, 3.4028235e38, 5e-324, '', '0044-03-15 BC', '10000-01-01 00:00:00', 'infinity', 0, false),
		(3, 'NaN', '-Infinity', '\x5c78', '-infinity', '4713-01-01 00:00:00 BC', '2024-12-31 23:59:59.999999+13:45', 1, null),
		(4, -0.0, 1.7976931348623157e308, null, '5874897-12-31', 'infinity', '2000-01-01 00:00:00+10', null, null)`)
	query := "SELECT * FROM t ORDER BY id"
	binary, _ := mustRun(t, e, wire.QueryRequest{Text: query, Prepare: true})
	text, _ := mustRun(t, e, wire.QueryRequest{Text: query})
	if got, want := strings.Join(text.rows, "\n"), strings.Join(binary.rows, "\n"); got != want {
		t.Errorf("one trip\n got %s\nwant %s", got, want)
	}
	if !oneTripTaken(t, e) {
		t.Error("an ISO session's readers are still described first")
	}
	// A large result is read described first the next time, the same.
	big := "SELECT g, DATE '2024-01-01' + g AS d FROM generate_series(1, 300) g"
	first, _ := mustRun(t, e, wire.QueryRequest{Text: big})
	if !e.large.has(big) || e.large.has(query) {
		t.Errorf("large reads: %v, %v; want only the 300 rows", e.large.has(big), e.large.has(query))
	}
	again, _ := mustRun(t, e, wire.QueryRequest{Text: big})
	if len(first.rows) != 300 || strings.Join(first.rows, "\n") != strings.Join(again.rows, "\n") {
		t.Errorf("a large read changed once described first: %d rows, then %d", len(first.rows), len(again.rows))
	}
	str := func(s string) *string { return &s }
	rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT id, @s AS s FROM t WHERE id = @n",
		Params: []wire.Param{{Name: "n", Type: "NVarChar", Value: str("3")}, {Name: "s", Type: "Int", Value: str("7")}}})
	if len(rec.rows) != 1 || rec.rows[0] != `{"id":3,"s":"7"}` {
		t.Errorf("parameters typed by their statement: %v", rec.rows)
	}

	pgExec(t, c, `ALTER DATABASE "`+db+`" SET DateStyle = 'SQL, DMY'`)
	e = openExecutor(t, Config{Engine: "postgres", Catalogues: []Catalogue{{Name: "main", DSN: dsn}}})
	rec, _ = mustRun(t, e, wire.QueryRequest{Text: "SELECT d, ts, DATE '01/02/2024' AS dmy, d::text AS txt FROM t WHERE id = 1"})
	if want := `{"d":"2024-05-31","ts":"2024-05-31T09:30:00.000001","dmy":"2024-02-01","txt":"31/05/2024"}`; len(rec.rows) != 1 || rec.rows[0] != want {
		t.Errorf("DateStyle SQL, DMY: %v, want %s", rec.rows, want)
	}
	if oneTripTaken(t, e) {
		t.Error("a reader of a session in DateStyle SQL runs with text results")
	}
}

// The types database/sql reads as text in both modes (numeric, interval,
// arrays, json, ranges, money, network and geometric types...) must read
// the same too: their text in one trip is the server's, in binary pgx's.
func TestPostgresOneTripReadsOtherTypesAsBinary(t *testing.T) {
	dsn := pgtest.DSN(t)
	c := pgConnect(t, dsn)
	e := openExecutor(t, Config{Engine: "postgres", Catalogues: []Catalogue{{Name: "main", DSN: dsn}}})
	pgExec(t, c, `CREATE TABLE u (id int, n numeric, iv interval, ia int[], ta text[], j json, jb jsonb, uu uuid, tm time, tmz timetz, m money, ip inet, c char(3), x xml, bits bit(4), i2 smallint, i8 bigint, pt point, ts2 tsrange, ba bytea[], da date[], tsa timestamptz[])`,
		`INSERT INTO u VALUES
		(1, 12345678901234567890.123456789, '1 year 2 mons 3 days 04:05:06.789', '{1,2,NULL}', '{"a b","c,d",NULL}', '{"a": [1, 2.50]}', '{"b": 1, "a": "x"}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '23:59:59.999999', '10:00:00+10', 12.34, '10.0.0.1/8', 'ab', '<a>1</a>', B'1010', -32768, 9223372036854775807, '(1.5,2)', '[2024-01-01,2024-02-01)', '{"\\x00ff"}', '{2024-01-01,infinity}', '{"2024-01-01 10:00:00+00"}'),
		(2, 'NaN', '-1 days -00:00:01', '{}', '{}', 'null', '[]', null, '00:00:00', '00:00:00-03:30', -0.01, '::1', null, null, B'0000', 0, -9223372036854775808, null, 'empty', '{}', '{}', '{}')`)
	query := "SELECT * FROM u ORDER BY id"
	binary, _ := mustRun(t, e, wire.QueryRequest{Text: query, Prepare: true})
	text, _ := mustRun(t, e, wire.QueryRequest{Text: query})
	if got, want := strings.Join(text.rows, "\n"), strings.Join(binary.rows, "\n"); got != want {
		t.Errorf("one trip\n got %s\nwant %s", got, want)
	}
}

// oneTripTaken reports whether a reader on e's default catalogue would run
// in one round trip.
func oneTripTaken(t *testing.T, e *Executor) bool {
	cat, _ := e.catalogue("")
	conn, err := cat.read.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	args := postgresEngine{}.oneTrip(conn, []any{"1", nil})
	return len(args) == 3 && args[0] == pgx.QueryExecModeExec
}
