package mappings

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"fhirlink/fhir"
	"fhirlink/mappings/bppremier/bpsynth"
)

func mustDialect(t testing.TB, engine string) Dialect {
	t.Helper()
	d, err := DialectFor(engine)
	if err != nil {
		t.Fatal(err)
	}
	if d.Engine() != engine {
		t.Fatalf("DialectFor(%q).Engine() = %q", engine, d.Engine())
	}
	return d
}

func TestDialectFor(t *testing.T) {
	for _, e := range []string{EngineSQLServer, EnginePostgres, EngineSQLite, EngineFirebird} {
		mustDialect(t, e)
	}
	if _, err := DialectFor("oracle"); err == nil || !strings.Contains(err.Error(), "sqlserver") {
		t.Errorf("unknown engine: %v", err)
	}
}

func TestEscapeLike(t *testing.T) {
	in := `50%_off [x]\y`
	for engine, want := range map[string]string{
		EngineSQLServer: `50\%\_off \[x]\\y`,
		EnginePostgres:  `50\%\_off [x]\\y`,
		EngineSQLite:    `50\%\_off [x]\\y`,
		EngineFirebird:  `50\%\_off [x]\\y`,
	} {
		if got := mustDialect(t, engine).EscapeLike(in); got != want {
			t.Errorf("%s: EscapeLike(%q) = %q, want %q", engine, in, got, want)
		}
	}
}

func TestStateOfPostcode(t *testing.T) {
	for pc, want := range map[string]string{
		"2000": "NSW", "2599": "NSW", "2600": "ACT", "2618": "ACT", "2619": "NSW", "2620": "NSW", "2899": "NSW",
		"2900": "ACT", "2920": "ACT", "2921": "NSW", "2999": "NSW", "1001": "NSW", "0200": "ACT", "0800": "NT",
		"800": "NT", "0999": "NT", "3000": "VIC", "8001": "VIC", "4000": "QLD", "9726": "QLD", "5000": "SA",
		"5950": "SA", "6000": "WA", "6798": "WA", "7000": "TAS", "7800": "TAS", " 2150 ": "NSW",
		"0100": "", "abcd": "", "20000": "", "": "", "2x00": "",
	} {
		if got := StateOfPostcode(pc); got != want {
			t.Errorf("StateOfPostcode(%q) = %q, want %q", pc, got, want)
		}
	}
	// Every delivery postcode the synthetic data knows gets the same state.
	for n := 0; n <= 9999; n++ {
		pc := pad4(n)
		if want := bpsynth.StateOfPostcode(pc); want != "" && StateOfPostcode(pc) != want {
			t.Errorf("StateOfPostcode(%s) = %q, bpsynth says %q", pc, StateOfPostcode(pc), want)
		}
	}
}

func TestMedicare(t *testing.T) {
	id, ok := Medicare("2123456701", "3", "05/2027")
	if !ok || id.Value != "21234567013" || id.System != SystemMedicare || id.PeriodEnd != "2027-05" || id.Type.Code != "MC" {
		t.Errorf("Medicare: %+v", id)
	}
	if id, ok := Medicare("2123 45670 1", "", "garbage"); !ok || id.Value != "2123456701" || id.PeriodEnd != "" {
		t.Errorf("Medicare without IRN: %+v %v", id, ok)
	}
	if _, ok := Medicare("212345670", "1", ""); ok {
		t.Error("9 digits accepted")
	}
	for in, want := range map[string]string{"05/2027": "2027-05", "05/27": "2027-05", "31/05/2027": "2027-05-31",
		"2027-05-31": "2027-05-31", "13/2027": "", "5/2027": "", "": "", "2027-13-01": ""} {
		if got := MedicareExpiry(in); got != want {
			t.Errorf("MedicareExpiry(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIdentifiers(t *testing.T) {
	if id, ok := ABN("51 824 753 556"); !ok || id.Value != "51824753556" || id.Type.Code != "XX" {
		t.Errorf("ABN: %+v", id)
	}
	if _, ok := ABN("51-824-753-556"); ok {
		t.Error("ABN with dashes accepted")
	}
	r := RecordNumber("12", "8003621566684455", "51 824 753 556", "urn:x", "Clinic")
	if r.System != SystemHPIOScopedRecord+"/8003621566684455" || r.Assigner != "Clinic" || r.Use != "usual" {
		t.Errorf("record number: %+v", r)
	}
	if r := RecordNumber("12", "", "51 824 753 556", "urn:x", ""); r.System != SystemABNScopedRecord+"/51824753556" || r.Assigner != "" {
		t.Errorf("ABN-scoped record number: %+v", r)
	}
	if r := RecordNumber("12", "", "", "urn:x", ""); r.System != "urn:x" {
		t.Errorf("fallback record number: %+v", r)
	}
	for card, code := range map[string]string{"Gold": "DVG", "white ": "DVW", "Orange": "DVO", "Lilac": "DVL", "": "DVAU", "Pink": "DVAU"} {
		if got := DVA("NX123456", card).Type.Code; got != code {
			t.Errorf("DVA card %q: %s, want %s", card, got, code)
		}
	}
	if a := member(func(w *JSON) { w.Address("address", "home", "both", []string{" ", ""}, "", "") }); a != `{}` {
		t.Errorf("empty address: %s", a)
	}
	b := member(func(w *JSON) { w.Address("address", "home", "both", []string{"1 Main St", ""}, "Sydney", "2000") })
	if b != `{"address":{"use":"home","type":"both","line":["1 Main St"],"city":"Sydney","state":"NSW","postalCode":"2000","country":"AU"}}` {
		t.Errorf("address: %s", b)
	}
}

func TestNormalisePhone(t *testing.T) {
	for in, want := range map[string]string{"0412 345 678": "0412345678", "+61 412 345 678": "0412345678",
		" 61412345678": "0412345678", "(02) 5550 1234": "0255501234", "abc": "", "1800-123-456": "1800123456"} {
		if got := NormalisePhone(in); got != want {
			t.Errorf("NormalisePhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWall(t *testing.T) {
	sydney, _ := time.LoadLocation("Australia/Sydney")
	perth, _ := time.LoadLocation("Australia/Perth")
	for _, c := range []struct {
		in, instant, date string
		loc               *time.Location
	}{
		{"2024-01-15T10:30:00", "2024-01-15T10:30:00+11:00", "2024-01-15", sydney},
		{"2024-07-15 10:30:00", "2024-07-15T10:30:00+10:00", "2024-07-15", sydney},
		{"2024-07-15T10:30:00.125", "2024-07-15T10:30:00.125+10:00", "2024-07-15", sydney},
		{"2024-01-15T10:30:00+00:00", "2024-01-15T10:30:00+08:00", "2024-01-15", perth}, // the offset an engine adds is not the practice's
	} {
		w, err := ParseWall(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Instant(c.loc); got != c.instant {
			t.Errorf("%s in %s: %s, want %s", c.in, c.loc, got, c.instant)
		}
		if w.Date() != c.date {
			t.Errorf("%s: date %s", c.in, w.Date())
		}
	}
	// In the hour DST repeats, either offset; in the hour it skips, still
	// a valid instant.
	w, _ := ParseWall("2024-04-07 02:30:00")
	if got := w.Instant(sydney); got != "2024-04-07T02:30:00+10:00" && got != "2024-04-07T02:30:00+11:00" {
		t.Errorf("repeated hour: %s", got)
	}
	w, _ = ParseWall("2024-10-06 02:30:00")
	if _, err := time.Parse(time.RFC3339, w.Instant(sydney)); err != nil {
		t.Errorf("gap: %v", err)
	}
	var n struct {
		A Wall `json:"a"`
		B Wall `json:"b"`
		C Text `json:"c"`
		D Int  `json:"d"`
		E Int  `json:"e"`
	}
	if err := json.Unmarshal([]byte(`{"a":null,"b":"1990-05-01T00:00:00","c":"  Smith     ","d":"12","e":null}`), &n); err != nil {
		t.Fatal(err)
	}
	if !n.A.IsZero() || n.B.DateTime(sydney) != "1990-05-01" || n.C != "Smith" || n.D != 12 || n.E != 0 {
		t.Errorf("decoded %+v", n)
	}
	if m := member(func(w *JSON) { w.Meta("", n.A, n.B, sydney) }); m != `{"meta":{"lastUpdated":"1990-05-01T00:00:00+10:00"}}` {
		t.Errorf("meta from created: %s", m)
	}
	if m := member(func(w *JSON) { w.Meta("", n.A, n.A, sydney) }); m != `{}` {
		t.Errorf("meta without audit columns: %s", m)
	}
	if err := json.Unmarshal([]byte(`{"b":"yesterday"}`), &n); err == nil {
		t.Error("a bad date-time was accepted")
	}
}

// testTable is a minimal table over a TEST table.
func testTable(t testing.TB) *Table {
	return NewTable(TableSpec{
		Type: "Thing",
		SQL: `{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    x."ID" AS "id"{{.Keys}}{{end}}
FROM "THINGS" x
WHERE x."LIVE" = 1{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}`,
		Params: []Param{
			{Name: "_id", Type: fhir.TypeToken, Match: ID(`x."ID"`)},
			{Name: "name", Type: fhir.TypeString, Match: String(Col(`x."NAME"`), Col(`x."ALIAS"`))},
			{Name: "at", Type: fhir.TypeDate, Match: DateTime(`x."AT"`)},
			{Name: "day", Type: fhir.TypeDate, Match: Date(`x."DAY"`)},
			{Name: "active", Type: fhir.TypeToken, Match: Bool(`x."ACTIVE" = 1`, `x."ACTIVE" = 0`)},
			{Name: "owner", Type: fhir.TypeReference, Targets: []string{"Person"}, Match: Reference(`x."OWNER"`, "Person")},
		},
		Sorts: map[string]Sort{
			"_id":  SortInt(`x."ID"`),
			"name": SortText(`x."NAME"`),
			"at":   SortDateTime(`x."AT"`),
		},
		Defaults:     []Default{{Where: `x."ACTIVE" = 1`, Unless: []string{"_id", "active"}}},
		DefaultCount: 10, MaxCount: 50,
		Row: func(row []byte, site Site) (Row, error) {
			var c struct {
				ID Int `json:"id"`
			}
			err := json.Unmarshal(row, &c)
			return Row{Resource: json.RawMessage(`{"resourceType":"Thing","id":"` + c.ID.ID() + `"}`)}, err
		},
	})
}

func searchFor(t testing.TB, tab *Table, clauses ...fhir.Clause) *fhir.Search {
	t.Helper()
	for i := range clauses {
		p, ok := tab.Decl().Param(clauses[i].Param.Name)
		if !ok {
			t.Fatalf("no parameter %s", clauses[i].Param.Name)
		}
		clauses[i].Param = p
	}
	return &fhir.Search{Type: "Thing", Clauses: clauses, Count: 10, Sort: []fhir.SortKey{{Name: "_id"}}}
}

func clauseOf(name, modifier string, vals ...fhir.Value) fhir.Clause {
	return fhir.Clause{Param: fhir.SearchParam{Name: name}, Modifier: modifier, Values: vals}
}

func TestTableRender(t *testing.T) {
	tab := testTable(t)
	d := mustDialect(t, EngineSQLServer)
	s := searchFor(t, tab, clauseOf("name", "", fhir.Value{String: "a'b"}, fhir.Value{String: "c"}))
	s.Sort = []fhir.SortKey{{Name: "name", Desc: true}, {Name: "at"}, {Name: "_id"}}
	s.After = []string{"a'b", "2024-01-02T03:04:05", "7"}
	q, err := tab.Search(d, s)
	if err != nil {
		t.Fatal(err)
	}
	want := `SELECT TOP (@p6)
    x."ID" AS "id",
    COALESCE(LOWER(RTRIM(x."NAME")), '') AS "_k0",
    COALESCE(x."AT", CAST('0001-01-01T00:00:00' AS datetime2)) AS "_k1",
    x."ID" AS "_k2"
FROM "THINGS" x
WHERE x."LIVE" = 1
  AND ((x."NAME" LIKE @p1 ESCAPE '\' OR x."ALIAS" LIKE @p1 ESCAPE '\')
       OR (x."NAME" LIKE @p2 ESCAPE '\' OR x."ALIAS" LIKE @p2 ESCAPE '\'))
  AND x."ACTIVE" = 1
  AND (COALESCE(LOWER(RTRIM(x."NAME")), '') < @p3
       OR (COALESCE(LOWER(RTRIM(x."NAME")), '') = @p3 AND COALESCE(x."AT", CAST('0001-01-01T00:00:00' AS datetime2)) > @p4)
       OR (COALESCE(LOWER(RTRIM(x."NAME")), '') = @p3 AND COALESCE(x."AT", CAST('0001-01-01T00:00:00' AS datetime2)) = @p4 AND x."ID" > @p5))
ORDER BY COALESCE(LOWER(RTRIM(x."NAME")), '') DESC, COALESCE(x."AT", CAST('0001-01-01T00:00:00' AS datetime2)) ASC, x."ID" ASC`
	if q.SQL != want {
		t.Errorf("got\n%s\nwant\n%s", q.SQL, want)
	}
	var vals []string
	for _, p := range q.Params {
		vals = append(vals, p.Name+" "+p.Type+" "+*p.Value)
	}
	if got := strings.Join(vals, "; "); got != `p1 VarChar a'b%; p2 VarChar c%; p3 VarChar a'b; p4 DateTime2 2024-01-02T03:04:05; p5 Int 7; p6 Int 11` {
		t.Errorf("params: %s", got)
	}
	// The count has no sort, cursor or limit, and the same filters.
	q, err = tab.Count(mustDialect(t, EnginePostgres), s)
	if err != nil {
		t.Fatal(err)
	}
	if want := `SELECT COUNT(*) AS "total"
FROM "THINGS" x
WHERE x."LIVE" = 1
  AND ((x."NAME" ILIKE @p1 ESCAPE '\' OR x."ALIAS" ILIKE @p1 ESCAPE '\')
       OR (x."NAME" ILIKE @p2 ESCAPE '\' OR x."ALIAS" ILIKE @p2 ESCAPE '\'))
  AND x."ACTIVE" = 1`; q.SQL != want || len(q.Params) != 2 {
		t.Errorf("count: got\n%s\nwant\n%s", q.SQL, want)
	}
	// Postgres and SQLite limit at the end; the default filter yields to _id.
	q, _ = tab.Search(mustDialect(t, EngineSQLite), searchFor(t, tab, clauseOf("_id", "", fhir.Value{Code: "5"})))
	if !strings.HasSuffix(q.SQL, "ORDER BY x.\"ID\" ASC\nLIMIT @p2") || strings.Contains(q.SQL, `"ACTIVE"`) || !strings.HasPrefix(q.SQL, "SELECT\n") {
		t.Errorf("sqlite:\n%s", q.SQL)
	}
}

func TestTableErrors(t *testing.T) {
	tab := testTable(t)
	d := mustDialect(t, EngineSQLServer)
	var bad *BadRequestError
	for name, s := range map[string]*fhir.Search{
		"boolean":        searchFor(t, tab, clauseOf("active", "", fhir.Value{Code: "yes"})),
		"string :not":    searchFor(t, tab, clauseOf("name", fhir.ModifierNot, fhir.Value{String: "x"})),
		"string :text":   searchFor(t, tab, clauseOf("name", "text", fhir.Value{String: "x"})),
		"unknown param":  {Type: "Thing", Clauses: []fhir.Clause{clauseOf("colour", "", fhir.Value{Code: "red"})}},
		"sort":           {Type: "Thing", Sort: []fhir.SortKey{{Name: "colour"}}},
		"cursor length":  {Type: "Thing", Sort: []fhir.SortKey{{Name: "name"}}, After: []string{"x"}},
		"cursor integer": {Type: "Thing", After: []string{"x"}},
	} {
		if _, err := tab.Search(d, s); !errors.As(err, &bad) {
			t.Errorf("%s: %v, want a BadRequestError", name, err)
		}
	}
	if _, err := tab.Search(d, &fhir.Search{Type: "Patient"}); err == nil {
		t.Error("a search of another type was rendered")
	}
	defer func() {
		if recover() == nil {
			t.Error("NewTable accepted a table without _id")
		}
	}()
	NewTable(TableSpec{Type: "X", SQL: "SELECT 1", Sorts: map[string]Sort{"_id": SortInt("x")}, DefaultCount: 1, MaxCount: 1,
		Row: func([]byte, Site) (Row, error) { return Row{}, nil }})
}

func TestMatchers(t *testing.T) {
	tab := testTable(t)
	d := mustDialect(t, EngineSQLServer)
	sys := func(s string) *string { return &s }
	day := func(y, m, dd int) time.Time { return time.Date(y, time.Month(m), dd, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		clause fhir.Clause
		want   string
	}{
		{clauseOf("_id", "", fhir.Value{Code: "007"}), `1 = 0`},
		{clauseOf("_id", "", fhir.Value{Code: "99999999999"}), `1 = 0`},
		{clauseOf("_id", fhir.ModifierNot, fhir.Value{Code: "7"}), `CASE WHEN x."ID" = @p1 THEN 1 ELSE 0 END = 0`},
		{clauseOf("active", "", fhir.Value{Code: "true", System: sys("")}), `x."ACTIVE" = 1`},
		{clauseOf("active", "", fhir.Value{Code: "true", System: sys("http://x")}), `1 = 0`},
		{clauseOf("name", fhir.ModifierExact, fhir.Value{String: "Ann"}), `(x."NAME" = @p1 COLLATE Latin1_General_CS_AS OR x."ALIAS" = @p1 COLLATE Latin1_General_CS_AS)`},
		{clauseOf("name", fhir.ModifierContains, fhir.Value{String: "n"}), `(x."NAME" LIKE @p1 ESCAPE '\' OR x."ALIAS" LIKE @p1 ESCAPE '\')`},
		{clauseOf("owner", "", fhir.Value{RefType: "Person", RefID: "3"}), `x."OWNER" = @p1`},
		{clauseOf("owner", "", fhir.Value{RefType: "Device", RefID: "3"}), `1 = 0`},
		{clauseOf("owner", "", fhir.Value{RefID: "x-1"}), `1 = 0`},
		{clauseOf("at", "", fhir.Value{Prefix: fhir.PrefixEq, Lo: day(2024, 1, 1), Hi: day(2024, 1, 2)}), `(x."AT" >= @p1 AND x."AT" < @p2)`},
		{clauseOf("at", "", fhir.Value{Prefix: fhir.PrefixGt, Lo: day(2024, 1, 1), Hi: day(2024, 1, 2)}), `x."AT" >= @p1`},
		{clauseOf("day", "", fhir.Value{Prefix: fhir.PrefixLe, Lo: day(2024, 1, 1), Hi: day(2024, 1, 2)}), `x."DAY" < @p1`},
		{clauseOf("day", "", fhir.Value{Prefix: fhir.PrefixEq, Lo: day(2024, 1, 1).Add(10 * time.Hour), Hi: day(2024, 1, 1).Add(10*time.Hour + time.Minute)}), `1 = 0`},
		{clauseOf("day", "", fhir.Value{Prefix: fhir.PrefixNe, Lo: day(2024, 1, 1).Add(10 * time.Hour), Hi: day(2024, 1, 1).Add(10*time.Hour + time.Minute)}), `x."DAY" IS NOT NULL`},
	} {
		s := searchFor(t, tab, c.clause)
		q, err := tab.Search(d, s)
		if err != nil {
			t.Fatalf("%+v: %v", c.clause, err)
		}
		_, after, _ := strings.Cut(q.SQL, "\n  AND ")
		got, _, _ := strings.Cut(after, "\n")
		if got != c.want {
			t.Errorf("%s %+v: got %s, want %s", c.clause.Param.Name, c.clause.Values, got, c.want)
		}
	}
}

func TestDateParamsClamped(t *testing.T) {
	tab := testTable(t)
	lo := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	s := searchFor(t, tab, clauseOf("at", "", fhir.Value{Prefix: fhir.PrefixEq, Lo: lo, Hi: lo.AddDate(1, 0, 0)}))
	q, err := tab.Search(mustDialect(t, EngineSQLServer), s)
	if err != nil {
		t.Fatal(err)
	}
	if *q.Params[1].Value != "9999-12-31T23:59:59.9999999" {
		t.Errorf("upper bound %s", *q.Params[1].Value)
	}
}
