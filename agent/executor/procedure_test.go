package executor

import (
	"context"
	"strings"
	"testing"

	"fhirlink/agent/wire"
)

func TestReturnsRowsDetection(t *testing.T) {
	cases := []struct {
		d    dialect
		text string
		want bool
	}{
		{postgresDialect, "INSERT INTO t (n) VALUES (1) RETURNING id", true},
		{postgresDialect, "insert into t (n) values (1) returning *", true},
		{postgresDialect, "UPDATE t SET n = 1 -- returning nothing", false},
		{postgresDialect, "UPDATE t SET s = 'returning' /* returning */", false},
		{postgresDialect, `UPDATE t SET "returning" = 1`, false},
		{postgresDialect, "UPDATE t SET s = $x$ RETURNING $x$", false},
		{postgresDialect, "UPDATE t SET s = E'\\' RETURNING'", false},
		{postgresDialect, "UPDATE t SET n = $1 RETURNING n", true},
		{postgresDialect, "UPDATE t SET n_returning = 1", false},
		{sqliteDialect, "INSERT INTO a SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM a) RETURNING rowid", true},
		{sqliteDialect, "UPDATE t SET [returning] = 1, `returning` = 2", false},
		{firebirdDialect, "INSERT INTO t (n) VALUES (1) RETURNING id", true},
		{firebirdDialect, "UPDATE t SET s = q'{ RETURNING }'", false},
	}
	for _, c := range cases {
		if got := hasReturning(c.text, c.d); got != c.want {
			t.Errorf("hasReturning(%q) = %v", c.text, got)
		}
	}
	tsql := map[string]bool{
		"INSERT INTO t (n) OUTPUT inserted.id VALUES (1)":                         true,
		"DELETE FROM t OUTPUT DELETED.* WHERE n = 1":                              true,
		"MERGE t USING s ON t.id = s.id WHEN MATCHED THEN DELETE OUTPUT $action;": true,
		"INSERT INTO t (n) OUTPUT inserted.id INTO @ids VALUES (1)":               false,
		"UPDATE t SET output = 1":                                                 false,
		"UPDATE t SET [output] = 1 -- OUTPUT inserted.x":                          false,
		"EXEC p @x OUTPUT": false,
	}
	for text, want := range tsql {
		if got := hasOutputClause(text); got != want {
			t.Errorf("hasOutputClause(%q) = %v", text, got)
		}
	}
}

func TestProcNames(t *testing.T) {
	for name, want := range map[string]bool{
		"bp_addappointment": true, "BP_AddAppointment": true, `"BP_AddAppointment"`: true, `practice."Add ""x"""`: true,
		"public.f": true, "a.b.c": false, "": false, "f()": false, "f; DROP TABLE t": false, "f --": false,
		`"unterminated`: false, `""`: false, "1f": false, "f.": false, ".f": false, "f g": false, "f\n": false,
	} {
		if got := checkProcName(name, 2); got != want {
			t.Errorf("checkProcName(%q) = %v", name, got)
		}
	}
	if checkProcName("a.b", 1) {
		t.Error("a qualified name was accepted where one part is allowed")
	}
}

// On PostgreSQL a storedProcedure command selects from the function with
// its arguments in named notation, every value bound: parameters match
// regardless of case and order, the result rows stream, and the write
// inside commits.
func TestPostgresStoredProcedure(t *testing.T) {
	e, c := newPostgres(t, true)
	pgExec(t, c, "CREATE TABLE appt (id serial PRIMARY KEY, who text NOT NULL, at date, note text)",
		`CREATE FUNCTION book(who text, at date, note text DEFAULT NULL) RETURNS TABLE (recordid int, echo text) LANGUAGE sql AS
		 $$ INSERT INTO appt (who, at, note) VALUES (who, at, note) RETURNING id, who || '/' || coalesce(note, '-') $$`,
		`CREATE FUNCTION "Free"(n int) RETURNS SETOF int LANGUAGE sql AS $$ SELECT generate_series(1, n) $$`,
		`CREATE PROCEDURE proc() LANGUAGE sql AS $$ SELECT 1 $$`)
	rec, tr := mustRun(t, e, wire.QueryRequest{Text: "BOOK", Type: wire.CommandStoredProcedure, Params: []wire.Param{
		{Name: "@At", Type: "Date", Value: str("2025-03-04")}, {Name: "@WHO", Type: "NVarChar", Value: str("O'Brien'); DROP TABLE appt; --")},
	}})
	if len(rec.rows) != 1 || rec.rows[0] != `{"recordid":1,"echo":"O'Brien'); DROP TABLE appt; --/-"}` || tr.Rows != 1 || tr.RowsAffected != nil {
		t.Fatalf("rows %v trailer %+v", rec.rows, tr)
	}
	var n int
	if err := c.QueryRow(context.Background(), "SELECT count(*) FROM appt WHERE at = '2025-03-04'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("booked %d (%v), want 1 committed", n, err)
	}
	rec, _ = mustRun(t, e, wire.QueryRequest{Text: `public."Free"`, Type: wire.CommandStoredProcedure,
		Params: []wire.Param{{Name: "n", Type: "Int", Value: str("3")}}})
	if strings.Join(rec.rows, "") != `{"Free":1}{"Free":2}{"Free":3}` {
		t.Errorf("set-returning function: %v", rec.rows)
	}
	// NULL is bound too, and a name that is not one is refused before
	// anything runs.
	rec, _ = mustRun(t, e, wire.QueryRequest{Text: "book", Type: wire.CommandStoredProcedure, Params: []wire.Param{
		{Name: "who", Type: "NVarChar", Value: str("x")}, {Name: "at", Type: "Date"}, {Name: "note", Type: "NVarChar", Value: str("n")}}})
	if len(rec.rows) != 1 || !strings.Contains(rec.rows[0], `"echo":"x/n"`) {
		t.Errorf("rows %v", rec.rows)
	}
	for _, bad := range []string{"book(1)", "book; DROP TABLE appt", "SELECT book()", "a.b.c"} {
		_, _, we := run(t, e, wire.QueryRequest{Text: bad, Type: wire.CommandStoredProcedure})
		wantKind(t, we, wire.KindInvalid, "must be just the function's name")
	}
	_, _, we := run(t, e, wire.QueryRequest{Text: "proc", Type: wire.CommandStoredProcedure})
	wantKind(t, we, wire.KindDatabase, "is a procedure")
	_, _, we = run(t, e, wire.QueryRequest{Text: "book", Type: wire.CommandStoredProcedure,
		Params: []wire.Param{{Name: "nobody", Type: "Int", Value: str("1")}}})
	wantKind(t, we, wire.KindDatabase, "does not exist")

	ro, _ := newPostgres(t, false)
	_, _, we = run(t, ro, wire.QueryRequest{Text: "book", Type: wire.CommandStoredProcedure})
	wantKind(t, we, wire.KindForbidden, "not enabled write access")
}

// On Firebird a storedProcedure command looks the procedure up and binds
// the request's parameters by name to its inputs' positions: a selectable
// procedure's rows stream, an executable one's outputs come back as one
// row, and the write inside commits.
func TestFirebirdStoredProcedure(t *testing.T) {
	e, db := newFirebird(t, true,
		"CREATE TABLE appt (id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, who VARCHAR(60) NOT NULL, dt DATE, len INTEGER)",
		`CREATE PROCEDURE book (who VARCHAR(60), dt DATE, len INTEGER = 15) RETURNS (recordid INTEGER, echo VARCHAR(80)) AS
		BEGIN
		  INSERT INTO appt (who, dt, len) VALUES (:who, :dt, :len) RETURNING id INTO :recordid;
		  echo = who || '/' || len;
		END`,
		`CREATE PROCEDURE free_slots (n INTEGER) RETURNS (slot INTEGER) AS
		BEGIN
		  slot = 1;
		  WHILE (slot <= n) DO BEGIN SUSPEND; slot = slot + 1; END
		END`,
		`CREATE PROCEDURE touch (who VARCHAR(60)) AS BEGIN UPDATE appt SET len = len + 1 WHERE who = :who; END`)
	rec, tr := mustRun(t, e, wire.QueryRequest{Text: "BOOK", Type: wire.CommandStoredProcedure, Params: []wire.Param{
		{Name: "@len", Type: "Int", Value: str("30")}, {Name: "@Dt", Type: "Date", Value: str("2025-03-04")},
		{Name: "@who", Type: "NVarChar", Value: str("O'Brien')")},
	}})
	if len(rec.rows) != 1 || rec.rows[0] != `{"RECORDID":1,"ECHO":"O'Brien')/30"}` || tr.Rows != 1 {
		t.Fatalf("rows %v trailer %+v", rec.rows, tr)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM appt WHERE len = 30").Scan(&n); err != nil || n != 1 {
		t.Fatalf("booked %d (%v), want 1 committed", n, err)
	}
	// A trailing input with a default may be left out.
	rec, _ = mustRun(t, e, wire.QueryRequest{Text: "book", Type: wire.CommandStoredProcedure, Params: []wire.Param{
		{Name: "who", Type: "VarChar", Value: str("b")}, {Name: "dt", Type: "Date"}}})
	if len(rec.rows) != 1 || rec.rows[0] != `{"RECORDID":2,"ECHO":"b/15"}` {
		t.Errorf("default: %v", rec.rows)
	}
	rec, _ = mustRun(t, e, wire.QueryRequest{Text: "free_slots", Type: wire.CommandStoredProcedure,
		Params: []wire.Param{{Name: "n", Type: "Int", Value: str("3")}}})
	if strings.Join(rec.rows, "") != `{"SLOT":1}{"SLOT":2}{"SLOT":3}` {
		t.Errorf("selectable procedure: %v", rec.rows)
	}
	rec, _ = mustRun(t, e, wire.QueryRequest{Text: "touch", Type: wire.CommandStoredProcedure,
		Params: []wire.Param{{Name: "who", Type: "VarChar", Value: str("b")}}})
	if len(rec.rows) != 0 || len(rec.header.Columns) != 0 {
		t.Errorf("procedure without outputs: header %+v rows %v", rec.header, rec.rows)
	}
	if err := db.QueryRow("SELECT len FROM appt WHERE who = 'b'").Scan(&n); err != nil || n != 16 {
		t.Errorf("touched len %d (%v), want 16", n, err)
	}

	for _, c := range []struct {
		req  wire.QueryRequest
		want string
	}{
		{wire.QueryRequest{Text: "nothing"}, "there is no procedure nothing"},
		{wire.QueryRequest{Text: `"book"`}, `there is no procedure "book"`}, // quoted: case kept
		{wire.QueryRequest{Text: "book", Params: []wire.Param{{Name: "dt", Type: "Date"}}}, "needs parameter @WHO"},
		{wire.QueryRequest{Text: "book", Params: []wire.Param{{Name: "who", Type: "VarChar", Value: str("x")}, {Name: "dt", Type: "Date"},
			{Name: "room", Type: "Int", Value: str("1")}}}, "has no parameter @room (its parameters: @WHO, @DT, @LEN)"},
		{wire.QueryRequest{Text: "book(1)"}, "must be just the procedure's name"},
		{wire.QueryRequest{Text: "main.book"}, "must be just the procedure's name"},
	} {
		c.req.Type = wire.CommandStoredProcedure
		_, _, we := run(t, e, c.req)
		wantKind(t, we, wire.KindInvalid, c.want)
	}
}

// SQLite has no procedures: a storedProcedure command is refused, saying
// what to send instead.
func TestSQLiteStoredProcedureRefused(t *testing.T) {
	e, _ := newSQLite(t, true, "CREATE TABLE t (n INTEGER)")
	_, _, we := run(t, e, wire.QueryRequest{Text: "BP_AddAppointment", Type: wire.CommandStoredProcedure})
	wantKind(t, we, wire.KindInvalid, "SQLite has no stored procedures; send the statement as a text command (a nonQuery with RETURNING")
}

// A nonQuery with RETURNING streams the rows it changed, with their number
// as rowsAffected, on every engine with the clause; one without still
// reports its count alone.
func TestNonQueryReturning(t *testing.T) {
	type engineCase struct {
		name  string
		open  func(t *testing.T) *Executor
		book  string // books @slot once: one row the first time, none after
		touch string // changes every row, returning none
	}
	const sqliteBook = `INSERT INTO appt (slot, who) SELECT @slot, @who WHERE NOT EXISTS (SELECT 1 FROM appt WHERE slot = @slot) RETURNING id, slot`
	cases := []engineCase{
		{"sqlite", func(t *testing.T) *Executor {
			e, _ := newSQLite(t, true, "CREATE TABLE appt (id INTEGER PRIMARY KEY, slot INTEGER NOT NULL, who TEXT)")
			return e
		}, sqliteBook, "UPDATE appt SET who = who || '!' -- RETURNING nothing"},
		{"postgres", func(t *testing.T) *Executor {
			e, c := newPostgres(t, true)
			pgExec(t, c, "CREATE TABLE appt (id serial PRIMARY KEY, slot int NOT NULL UNIQUE, who text)")
			return e
		}, `INSERT INTO appt (slot, who) VALUES (@slot, @who) ON CONFLICT (slot) DO NOTHING RETURNING id, slot`, "UPDATE appt SET who = who || '!' -- RETURNING nothing"},
		{"firebird", func(t *testing.T) *Executor {
			e, _ := newFirebird(t, true, "CREATE TABLE appt (id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, slot INTEGER NOT NULL UNIQUE, who VARCHAR(20))")
			return e
		}, `EXECUTE BLOCK (slot INTEGER = @slot, who VARCHAR(20) = @who) RETURNS (id INTEGER, booked INTEGER) AS BEGIN
			IF (NOT EXISTS (SELECT 1 FROM appt WHERE slot = :slot)) THEN BEGIN
			  INSERT INTO appt (slot, who) VALUES (:slot, :who) RETURNING id, slot INTO :id, :booked; SUSPEND; END END`,
			"UPDATE appt SET who = who || '!' -- RETURNING nothing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := c.open(t)
			book := wire.QueryRequest{Text: c.book, Mode: wire.ModeNonQuery, Params: []wire.Param{
				{Name: "@slot", Type: "Int", Value: str("9")}, {Name: "@who", Type: "VarChar", Value: str("a")}}}
			rec, tr := mustRun(t, e, book)
			if len(rec.rows) != 1 || !strings.HasPrefix(strings.ToLower(rec.rows[0]), `{"id":1,`) || tr.RowsAffected == nil || *tr.RowsAffected != 1 || tr.Rows != 1 {
				t.Fatalf("first booking: rows %v trailer %+v", rec.rows, tr)
			}
			rec, tr = mustRun(t, e, book)
			if len(rec.rows) != 0 || len(rec.header.Columns) != 2 || tr.RowsAffected == nil || *tr.RowsAffected != 0 {
				t.Fatalf("slot taken: header %+v rows %v trailer %+v", rec.header, rec.rows, tr)
			}
			book.Params[0].Value = str("10")
			mustRun(t, e, book)
			rec, tr = mustRun(t, e, wire.QueryRequest{Text: c.touch, Mode: wire.ModeNonQuery})
			if len(rec.header.Columns) != 0 || tr.RowsAffected == nil || *tr.RowsAffected != 2 {
				t.Fatalf("plain nonQuery: header %+v trailer %+v", rec.header, tr)
			}
		})
	}
}

// Firebird 3 answers an UPDATE or DELETE with RETURNING that matched no row
// with a row of NULLs: that is no row, and nothing affected.
func TestFirebirdSingletonReturning(t *testing.T) {
	e, _ := newFirebird(t, true, "CREATE TABLE a (id INTEGER NOT NULL PRIMARY KEY, n INTEGER)", "INSERT INTO a VALUES (1, 1)")
	for _, c := range []struct {
		text     string
		rows     string
		affected int64
	}{
		{"UPDATE a SET n = 2 WHERE id = 5 RETURNING id, n", "", 0},
		{"UPDATE a SET n = 2 WHERE id = 1 RETURNING id, n", `{"ID":1,"N":2}`, 1},
		{"DELETE FROM a WHERE id = 5 RETURNING id", "", 0},
		{"INSERT INTO a (id) VALUES (2) RETURNING n", `{"N":null}`, 1},
	} {
		rec, tr := mustRun(t, e, wire.QueryRequest{Text: c.text, Mode: wire.ModeNonQuery})
		if strings.Join(rec.rows, "") != c.rows || tr.RowsAffected == nil || *tr.RowsAffected != c.affected || len(rec.header.Columns) == 0 {
			t.Errorf("%s: header %+v rows %v trailer %+v", c.text, rec.header, rec.rows, tr)
		}
	}
}
