package mappings

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	_ "github.com/nakagami/firebirdsql"

	"fhirlink/agent/executor"
	"fhirlink/agent/fbtest"
	"fhirlink/agent/wire"
)

func TestFirebirdDialectSQL(t *testing.T) {
	d := mustDialect(t, EngineFirebird)
	for got, want := range map[string]string{
		d.Top("@p1"):                   "",
		d.Limit("@p1"):                 "\nFETCH FIRST @p1 ROWS ONLY",
		d.Like(`n."NAME"`, "@p2"):      `UPPER(n."NAME") LIKE UPPER(CAST(@p2 AS VARCHAR(4096))) ESCAPE '\'`,
		d.Equal(`n."NAME"`, "@p3"):     `n."NAME" = CAST(@p3 AS VARCHAR(4096))`,
		d.EqualFold(`n."NAME"`, "@p"):  `UPPER(n."NAME") = UPPER(CAST(@p AS VARCHAR(4096)))`,
		d.Trim(`n."NAME"`):             `n."NAME"`,
		d.MinDateTime():                "TIMESTAMP '0001-01-01 00:00:00'",
		d.RTrim(`n."NAME"`):            `TRIM(TRAILING FROM n."NAME")`,
		d.AddSeconds(`n."D"`, `n."S"`): `DATEADD(SECOND, n."S", n."D")`,
		d.CastDateTime("@p"):           "CAST(@p AS TIMESTAMP)",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// The Firebird dialect's SQL does on a real Firebird 3 what the Dialect
// interface promises, through the agent's executor.
func TestFirebirdDialectOnFirebird(t *testing.T) {
	dsn := fbtest.DSN(t)
	db, err := sql.Open("firebirdsql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{
		`CREATE TABLE "NAMES" ("ID" INTEGER NOT NULL, "NAME" CHAR(20) CHARACTER SET WIN1252, "NOTE" VARCHAR(40) CHARACTER SET UTF8, "AT" TIMESTAMP)`,
		`INSERT INTO "NAMES" VALUES (1, 'Alpha', '50% off_now', '2024-05-31 09:30:00')`,
		`INSERT INTO "NAMES" VALUES (2, 'alpha', '500 off', NULL)`,
		`INSERT INTO "NAMES" VALUES (3, 'ALPHABET', 'back\slash', '2024-01-01 00:00:00')`,
		`INSERT INTO "NAMES" VALUES (4, 'xalpha', '50X offXnow', NULL)`,
		`INSERT INTO "NAMES" VALUES (5, '', 'O''Brien', '2023-01-01 00:00:00')`,
		`INSERT INTO "NAMES" VALUES (6, NULL, NULL, NULL)`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	e, err := executor.Open(context.Background(), executor.Config{Engine: EngineFirebird, Catalogues: []executor.Catalogue{{Name: "main", DSN: dsn}}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	d := mustDialect(t, EngineFirebird)
	ids := func(where string, params ...wire.Param) string {
		t.Helper()
		q := `SELECT n."ID" FROM "NAMES" n WHERE ` + where + ` ORDER BY n."ID"`
		var sink rowSink
		if _, err := e.Run(context.Background(), wire.QueryRequest{Text: q, Params: params, TimeoutMS: 30000}, &sink); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var out []string
		for _, r := range sink.rows {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(string(r), `{"ID":`), "}"))
		}
		return strings.Join(out, ",")
	}
	vc := func(v string) wire.Param { return wire.Param{Name: "@p", Type: ParamVarChar, Value: &v} }
	cases := []struct {
		where string
		param wire.Param
		want  string
	}{
		{d.Like(`n."NAME"`, "@p"), vc(d.EscapeLike("alp") + "%"), "1,2,3"},
		{d.Like(`n."NAME"`, "@p"), vc("%" + d.EscapeLike("PHA") + "%"), "1,2,3,4"},
		{d.Like(`n."NOTE"`, "@p"), vc(d.EscapeLike("50% off_") + "%"), "1"},
		{d.Like(`n."NOTE"`, "@p"), vc("%" + d.EscapeLike(`k\s`) + "%"), "3"},
		{d.Like(`n."NOTE"`, "@p"), vc("%" + d.EscapeLike("o'b") + "%"), "5"},
		{d.Equal(`n."NAME"`, "@p"), vc("alpha"), "2"},
		{d.Equal(`n."NAME"`, "@p"), vc("Alpha"), "1"},
		{d.EqualFold(`n."NAME"`, "@p"), vc("ALPHA"), "1,2"},
		{d.Trim(`n."NAME"`) + " = @p", vc("ALPHABET"), "3"},
		{d.Trim(`n."NAME"`) + " <> ''", vc("unused"), "1,2,3,4"},
	}
	for _, c := range cases {
		if got := ids(c.where, c.param); got != c.want {
			t.Errorf("%s with %q: ids %s, want %s", c.where, *c.param.Value, got, c.want)
		}
	}

	// Limit with a bound row count, after ORDER BY; MinDateTime sorts NULLs first.
	n := "2"
	q := `SELECT n."ID" FROM "NAMES" n ORDER BY COALESCE(n."AT", ` + d.MinDateTime() + `), n."ID"` + d.Limit("@n")
	var sink rowSink
	if _, err := e.Run(context.Background(), wire.QueryRequest{Text: q, TimeoutMS: 30000,
		Params: []wire.Param{{Name: "@n", Type: ParamInt, Value: &n}}}, &sink); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(sink.rows) != 2 || string(sink.rows[0]) != `{"ID":2}` || string(sink.rows[1]) != `{"ID":4}` {
		t.Errorf("%s: rows %q", q, sink.rows)
	}

	// RTrim, AddSeconds and CastDateTime.
	at := "2024-05-31T09:31:30"
	q = `SELECT n."ID", ` + d.RTrim(`n."NAME"`) + ` || '|' AS "T", ` + d.AddSeconds(`n."AT"`, `n."ID" * 45`) + ` AS "A", ` +
		d.CastDateTime("@at") + ` AS "C" FROM "NAMES" n WHERE ` + d.AddSeconds(`n."AT"`, `n."ID" * 90`) + ` = @at`
	sink = rowSink{}
	if _, err := e.Run(context.Background(), wire.QueryRequest{Text: q, TimeoutMS: 30000,
		Params: []wire.Param{{Name: "@at", Type: ParamDateTime, Value: &at}}}, &sink); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if want := `{"ID":1,"T":"Alpha|","A":"2024-05-31T09:30:45","C":"2024-05-31T09:31:30"}`; len(sink.rows) != 1 || string(sink.rows[0]) != want {
		t.Errorf("%s: rows %q, want %s", q, sink.rows, want)
	}
}
