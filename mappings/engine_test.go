package mappings

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"fhirlink/agent/executor"
	"fhirlink/agent/fbtest"
	"fhirlink/agent/pgtest"
	"fhirlink/agent/wire"
	"fhirlink/fhir"
)

// The shared predicates run for real on PostgreSQL and SQLite, through the
// agent's executor, over a small table whose expected matches are computed
// in Go.

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	fbtest.Stop()
	os.Exit(code)
}

type thing struct {
	id     int
	name   string // "" is NULL
	at     time.Time
	day    time.Time
	active bool
}

// things has values around a DST change and midnight, NULLs, and names
// that differ only in case.
func things() []thing {
	base := time.Date(2024, 4, 6, 22, 0, 0, 0, time.UTC) // wall clock
	names := []string{"alpha", "Alpha", "", "beta", "BETA", "gamma", "", "delta", "Delta", "epsilon"}
	var out []thing
	for i := 1; i <= 40; i++ {
		th := thing{id: i, name: names[i%len(names)], active: i%7 != 0}
		if i%9 != 0 {
			th.at = base.Add(time.Duration(i*97)*time.Minute + time.Duration(i)*time.Second)
			th.day = time.Date(th.at.Year(), th.at.Month(), th.at.Day(), 0, 0, 0, 0, time.UTC)
		}
		out = append(out, th)
	}
	return out
}

type engineDB struct {
	engine string
	d      Dialect
	exec   *executor.Executor
}

func loadThings(t *testing.T, engine string) *engineDB {
	t.Helper()
	var dsn, driver string
	switch engine {
	case EnginePostgres:
		dsn, driver = pgtest.DSN(t), "pgx"
	default:
		dsn, driver = filepath.Join(t.TempDir(), "things.db"), "sqlite"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dt := "DATETIME"
	if engine == EnginePostgres {
		dt = "timestamp(3)"
	}
	if _, err := db.Exec(`CREATE TABLE "THINGS" ("ID" integer NOT NULL PRIMARY KEY, "LIVE" integer NOT NULL, "NAME" char(20), "ALIAS" varchar(20),
		"AT" ` + dt + `, "DAY" ` + dt + `, "ACTIVE" integer NOT NULL, "OWNER" integer)`); err != nil {
		t.Fatal(err)
	}
	for _, th := range things() {
		var name, at, day any
		if th.name != "" {
			name = th.name + strings.Repeat(" ", 20-len(th.name)) // padded as SQL Server returns char(n)
		}
		if !th.at.IsZero() {
			at, day = th.at.Format("2006-01-02 15:04:05"), th.day.Format("2006-01-02 15:04:05")
		}
		active := 0
		if th.active {
			active = 1
		}
		q := `INSERT INTO "THINGS" VALUES (?, 1, ?, NULL, ?, ?, ?, 1)`
		if engine == EnginePostgres {
			q = `INSERT INTO "THINGS" VALUES ($1, 1, $2, NULL, $3, $4, $5, 1)`
		}
		if _, err := db.Exec(q, th.id, name, at, day, active); err != nil {
			t.Fatal(err)
		}
	}
	e, err := executor.Open(context.Background(), executor.Config{Engine: engine, Catalogues: []executor.Catalogue{{Name: "main", DSN: dsn}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return &engineDB{engine: engine, d: mustDialect(t, engine), exec: e}
}

type rowSink struct{ rows [][]byte }

func (s *rowSink) Header(wire.Header) error { return nil }
func (s *rowSink) Row(r []byte) error       { s.rows = append(s.rows, append([]byte(nil), r...)); return nil }

// pagedRow is a row with its cursor, as the server computes it for a
// page's last row.
type pagedRow struct {
	Row
	Cursor []string
}

func (e *engineDB) run(t testing.TB, tab *Table, s *fhir.Search) []pagedRow {
	t.Helper()
	q, err := tab.Search(e.d, s)
	if err != nil {
		t.Fatal(err)
	}
	var sink rowSink
	if _, err := e.exec.Run(context.Background(), wire.QueryRequest{Text: q.SQL, Params: q.Params, Mode: wire.ModeReader, TimeoutMS: 30000}, &sink); err != nil {
		t.Fatalf("%v\n%s", err, q.SQL)
	}
	out := make([]pagedRow, len(sink.rows))
	for i, r := range sink.rows {
		if out[i].Row, err = tab.Row(r, Site{Location: time.UTC}); err != nil {
			t.Fatal(err)
		}
		if out[i].Cursor, err = tab.Cursor(r); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func rowIDs(t testing.TB, rows []pagedRow) []int {
	var out []int
	for _, r := range rows {
		var v struct{ ID string }
		if err := json.Unmarshal(r.Resource, &v); err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(v.ID)
		out = append(out, n)
	}
	return out
}

func TestEnginesPostgres(t *testing.T) { testEngine(t, loadThings(t, EnginePostgres)) }
func TestEnginesSQLite(t *testing.T)   { testEngine(t, loadThings(t, EngineSQLite)) }

// pointMatches and dayMatches are FHIR's rules, written independently of
// the SQL: a date-time value is the instant [v, v]; a date the day [d, d+1).
func pointMatches(p fhir.Prefix, v, lo, hi time.Time) bool {
	if v.IsZero() {
		return false
	}
	in := !v.Before(lo) && v.Before(hi)
	switch p {
	case fhir.PrefixEq, fhir.PrefixAp:
		return in
	case fhir.PrefixNe:
		return !in
	case fhir.PrefixGt, fhir.PrefixSa:
		return !v.Before(hi)
	case fhir.PrefixLt, fhir.PrefixEb:
		return v.Before(lo)
	case fhir.PrefixGe:
		return !v.Before(lo)
	case fhir.PrefixLe:
		return v.Before(hi)
	}
	panic(p)
}

func dayMatches(p fhir.Prefix, d, lo, hi time.Time) bool {
	if d.IsZero() {
		return false
	}
	a, b := d, d.AddDate(0, 0, 1)
	eq, gt, lt := !a.Before(lo) && !b.After(hi), b.After(hi), a.Before(lo)
	switch p {
	case fhir.PrefixEq:
		return eq
	case fhir.PrefixNe:
		return !eq
	case fhir.PrefixGt:
		return gt
	case fhir.PrefixLt:
		return lt
	case fhir.PrefixGe:
		return eq || gt
	case fhir.PrefixLe:
		return eq || lt
	case fhir.PrefixSa:
		return !a.Before(hi)
	case fhir.PrefixEb:
		return !b.After(lo)
	case fhir.PrefixAp:
		return a.Before(hi) && b.After(lo)
	}
	panic(p)
}

func testEngine(t *testing.T, e *engineDB) {
	tab := testTable(t)
	all := things()
	prefixes := []fhir.Prefix{fhir.PrefixEq, fhir.PrefixNe, fhir.PrefixGt, fhir.PrefixLt, fhir.PrefixGe, fhir.PrefixLe,
		fhir.PrefixSa, fhir.PrefixEb, fhir.PrefixAp}
	d := func(y, m, dd, h, mi, s int) time.Time { return time.Date(y, time.Month(m), dd, h, mi, s, 0, time.UTC) }
	ranges := [][2]time.Time{
		{d(2024, 4, 7, 0, 0, 0), d(2024, 4, 8, 0, 0, 0)},    // a day
		{d(2024, 4, 1, 0, 0, 0), d(2024, 5, 1, 0, 0, 0)},    // a month
		{d(2024, 4, 7, 3, 10, 0), d(2024, 4, 7, 3, 11, 0)},  // a minute
		{d(2024, 4, 7, 3, 10, 0), d(2024, 4, 7, 3, 10, 1)},  // a second
		{d(2024, 4, 7, 1, 30, 0), d(2024, 4, 7, 12, 45, 0)}, // an ap range
	}
	for _, r := range ranges {
		for _, p := range prefixes {
			for _, param := range []string{"at", "day"} {
				name := fmt.Sprintf("%s=%s[%s,%s)", param, p, r[0].Format(time.DateTime), r[1].Format(time.DateTime))
				s := searchFor(t, tab, clauseOf(param, "", fhir.Value{Prefix: p, Lo: r[0], Hi: r[1]}), clauseOf("active", "", fhir.Value{Code: "true"}, fhir.Value{Code: "false"}))
				s.Count = 100
				got := rowIDs(t, e.run(t, tab, s))
				var want []int
				for _, th := range all {
					if param == "at" && pointMatches(p, th.at, r[0], r[1]) || param == "day" && dayMatches(p, th.day, r[0], r[1]) {
						want = append(want, th.id)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: got %v, want %v", name, got, want)
				}
			}
		}
	}

	// Keyset paging over nullable keys, both directions, pages of 3.
	for _, sort := range [][]fhir.SortKey{
		{{Name: "name"}, {Name: "_id"}},
		{{Name: "name", Desc: true}, {Name: "_id"}},
		{{Name: "at", Desc: true}, {Name: "_id", Desc: true}},
		{{Name: "at"}, {Name: "name", Desc: true}, {Name: "_id"}},
	} {
		s := searchFor(t, tab)
		s.Sort, s.Count = sort, 3
		var got []int
		for page := 0; ; page++ {
			rows := e.run(t, tab, s)
			more := len(rows) > s.Count
			if more {
				rows = rows[:s.Count]
			}
			if len(rows) == 0 && page > 0 {
				t.Fatalf("%v: empty page", sort)
			}
			got = append(got, rowIDs(t, rows)...)
			if !more {
				break
			}
			s.After = rows[len(rows)-1].Cursor
		}
		s.After, s.Count = nil, 100
		if one := rowIDs(t, e.run(t, tab, s)); !slices.Equal(got, one) {
			t.Errorf("%v: pages give %v, one page %v", sort, got, one)
		}
		var want []int
		for _, th := range all {
			if th.active {
				want = append(want, th.id)
			}
		}
		if !slices.Equal(sorted(got), want) {
			t.Errorf("%v: %v, want every active thing", sort, got)
		}
	}

	// Strings: case, padding, metacharacters.
	for _, c := range []struct {
		mod, value string
		want       func(th thing) bool
	}{
		{"", "al", func(th thing) bool { return strings.HasPrefix(strings.ToLower(th.name), "al") }},
		{fhir.ModifierExact, "Alpha", func(th thing) bool { return th.name == "Alpha" }},
		{fhir.ModifierContains, "ET", func(th thing) bool { return strings.Contains(strings.ToLower(th.name), "et") }},
		{"", "%", func(thing) bool { return false }},
		{"", "_lpha", func(thing) bool { return false }},
	} {
		s := searchFor(t, tab, clauseOf("name", c.mod, fhir.Value{String: c.value}), clauseOf("active", "", fhir.Value{Code: "true"}, fhir.Value{Code: "false"}))
		s.Count = 100
		var want []int
		for _, th := range all {
			if c.want(th) {
				want = append(want, th.id)
			}
		}
		if got := rowIDs(t, e.run(t, tab, s)); !slices.Equal(got, want) {
			t.Errorf("name:%s=%s: got %v, want %v", c.mod, c.value, got, want)
		}
	}
}

func sorted(s []int) []int {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
