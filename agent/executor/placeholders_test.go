package executor

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"fhirlink/agent/pgtest"
	"fhirlink/agent/wire"
)

// A placeholder that no parameter fills is the caller's mistake: a
// KindInvalid (400) naming it, on every engine, never an internal error.
// Parameters are written @name everywhere; the other placeholder syntaxes
// an engine may know (?, ?1, :p, $p, $1) are refused where the engine would
// read them as placeholders, and are the database's own syntax errors
// where it would not.
func TestUnboundPlaceholders(t *testing.T) {
	pg, _ := newPostgres(t, false)
	lite, _ := newSQLite(t, false)
	fb, _ := newFirebird(t, false)
	a := []wire.Param{{Name: "@a", Type: "Int", Value: str("1")}}
	invalid := func(name string) string { return name } // the message names it
	cases := []struct {
		engine string
		e      *Executor
		text   string
		params []wire.Param
		kind   wire.ErrorKind
		names  string
	}{
		{"sqlite", lite, "SELECT @p AS x", nil, wire.KindInvalid, invalid("@p")},
		{"sqlite", lite, "SELECT @a AS a, @p AS x", a, wire.KindInvalid, invalid("@p")},
		{"sqlite", lite, "SELECT @A AS x", a, wire.KindInvalid, invalid("@A")},
		{"sqlite", lite, "SELECT ? AS x", nil, wire.KindInvalid, invalid("?")},
		{"sqlite", lite, "SELECT ? AS x", a, wire.KindInvalid, invalid("?")},
		{"sqlite", lite, "SELECT ?1 AS x", a, wire.KindInvalid, invalid("?1")},
		{"sqlite", lite, "SELECT :p AS x", nil, wire.KindInvalid, invalid(":p")},
		{"sqlite", lite, "SELECT :a AS x", a, wire.KindInvalid, invalid(":a")},
		{"sqlite", lite, "SELECT $p AS x", nil, wire.KindInvalid, invalid("$p")},
		{"sqlite", lite, "SELECT $1 AS x", a, wire.KindInvalid, invalid("$1")},
		{"sqlite", lite, "SELECT 1; SELECT @p", nil, wire.KindInvalid, invalid("@p")},
		{"postgres", pg, "SELECT @p AS x", nil, wire.KindInvalid, invalid("@p")},
		{"postgres", pg, "SELECT @a AS a, @p AS x", a, wire.KindInvalid, invalid("@p")},
		{"postgres", pg, "SELECT $1 AS x", nil, wire.KindInvalid, invalid("$1")},
		{"postgres", pg, "SELECT $1::int + @a::int AS x", a, wire.KindInvalid, invalid("$1")},
		{"postgres", pg, "SELECT ? AS x", nil, wire.KindDatabase, `"AS"`}, // ? is an operator to PostgreSQL
		{"postgres", pg, "SELECT :p AS x", nil, wire.KindDatabase, `":"`},
		{"postgres", pg, "SELECT $p AS x", nil, wire.KindDatabase, `"$"`},
		{"firebird", fb, "SELECT @p AS x FROM rdb$database", nil, wire.KindInvalid, invalid("@p")},
		{"firebird", fb, "SELECT ? AS x FROM rdb$database", a, wire.KindInvalid, invalid("?")},
		{"firebird", fb, "SELECT :p AS x FROM rdb$database", nil, wire.KindDatabase, "Column unknown"},
		{"firebird", fb, "SELECT $p AS x FROM rdb$database", nil, wire.KindDatabase, "Token unknown"},
	}
	for _, c := range cases {
		_, _, we := run(t, c.e, wire.QueryRequest{Text: c.text, Params: c.params})
		if we == nil || we.Kind != c.kind || !strings.Contains(we.Message, c.names) {
			t.Errorf("%s %q: %+v, want %s naming %s", c.engine, c.text, we, c.kind, c.names)
		}
	}
	// Placeholders inside literals, quoted names and comments are text.
	for engine, e := range map[string]*Executor{"sqlite": lite, "postgres": pg} {
		rec, _ := mustRun(t, e, wire.QueryRequest{Text: `SELECT @a AS "@x", '?:p $p @q' AS s /* @c ? */ -- $1 :d`, Params: a})
		if rec.rows[0] != `{"@x":1,"s":"?:p $p @q"}` && rec.rows[0] != `{"@x":"1","s":"?:p $p @q"}` {
			t.Errorf("%s: %s", engine, rec.rows[0])
		}
	}
	rec, _ := mustRun(t, pg, wire.QueryRequest{Text: `SELECT $$ @p $1 $$ AS d, $t$ '@q $t$ AS t, E'\' @r' AS e, a$1 FROM (SELECT 1 AS a$1) x /* /* @n */ $1 */`})
	if want := `{"d":" @p $1 ","t":" '@q ","e":"' @r","a$1":1}`; rec.rows[0] != want {
		t.Errorf("postgres quoting: %s, want %s", rec.rows[0], want)
	}
	rec, _ = mustRun(t, lite, wire.QueryRequest{Text: "SELECT [@p] AS `?x`, a$1 FROM (SELECT 2 AS [@p], 3 AS a$1)"})
	if want := `{"?x":2,"a$1":3}`; rec.rows[0] != want {
		t.Errorf("sqlite quoting: %s, want %s", rec.rows[0], want)
	}
}

// A script whose later statement names an unbound parameter changes
// nothing: the whole text is checked before any of it runs.
func TestSQLiteUnboundPlaceholderChangesNothing(t *testing.T) {
	e, path := newSQLite(t, true, "CREATE TABLE t (v INTEGER)", "INSERT INTO t VALUES (1)")
	_, _, we := run(t, e, wire.QueryRequest{Text: "UPDATE t SET v = 2; SELECT @missing", Mode: wire.ModeNonQuery})
	wantKind(t, we, wire.KindInvalid, "@missing")
	var v int
	if err := sqliteExec(t, path).QueryRow("SELECT v FROM t").Scan(&v); err != nil || v != 1 {
		t.Fatalf("v = %d, %v: the first statement ran", v, err)
	}
}

// Should a placeholder get past the checks, the driver's own binding error
// is still the caller's mistake, not an internal failure.
func TestDriverBindingErrorsAreInvalid(t *testing.T) {
	lite := sqliteExec(t, filepath.Join(t.TempDir(), "x.db"))
	pg, err := sql.Open("pgx", pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for _, c := range []struct {
		eng  engine
		db   *sql.DB
		text string
		args []any
	}{
		{sqliteEngine{}, lite, "SELECT @p", nil},
		{sqliteEngine{}, lite, "SELECT ?", nil},
		{sqliteEngine{}, lite, "SELECT ?2", []any{1}},
		{postgresEngine{}, pg, "SELECT $1::int", nil},
		{postgresEngine{}, pg, "SELECT 1", []any{1}},
	} {
		rows, err := c.db.Query(c.text, c.args...)
		if err == nil {
			rows.Close()
			t.Fatalf("%s %q ran", c.eng.name(), c.text)
		}
		we := classify(c.eng, err)
		if we.Kind != wire.KindInvalid || !strings.Contains(we.Message, "parameters") {
			t.Errorf("%s %q: %v classified %+v", c.eng.name(), c.text, err, we)
		}
	}
}
