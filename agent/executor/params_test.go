package executor

import (
	"strings"
	"testing"
	"time"

	"fhirlink/agent/wire"
)

func TestParseParamsValues(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	cases := []struct {
		typ, value string
		want       any
	}{
		{"BigInt", "9223372036854775807", int64(9223372036854775807)},
		{"bigint", " -9223372036854775808 ", int64(-9223372036854775808)},
		{"Int", "-2147483648", int64(-2147483648)},
		{"SmallInt", "32767", int64(32767)},
		{"TinyInt", "255", int64(255)},
		{"Bit", "TRUE", true}, {"Bit", "0", false},
		{"Float", "1e300", 1e300}, {"Real", "0.5", 0.5},
		{"Decimal", "+0012345678901234567890.1234567890", "0012345678901234567890.1234567890"},
		{"Decimal", "-.5", "-.5"},
		{"Money", "-922337203685477.5808", "-922337203685477.5808"},
		{"SmallMoney", "214748.3647", "214748.3647"},
		{"NVarChar", " O'Brien ", " O'Brien "},
		{"VarBinary", "AP8Q", []byte{0, 0xff, 0x10}},
		{"Date", "2024-05-31", utc(2024, 5, 31, 0, 0, 0, 0)},
		{"DateTime2", "2024-05-31T09:30:00.1234567", utc(2024, 5, 31, 9, 30, 0, 123456700)},
		{"DateTime", "2024-05-31 09:30", utc(2024, 5, 31, 9, 30, 0, 0)},
		{"SmallDateTime", "2024-05-31", utc(2024, 5, 31, 0, 0, 0, 0)},
		{"Time", "23:59:59.5", utc(1, 1, 1, 23, 59, 59, 5e8)},
		{"UniqueIdentifier", "{6F9619FF-8B86-D011-B42D-00C04FC964FF}",
			[16]byte{0x6f, 0x96, 0x19, 0xff, 0x8b, 0x86, 0xd0, 0x11, 0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9, 0x64, 0xff}},
	}
	for _, c := range cases {
		ps, we := parseParams([]wire.Param{{Name: "@p", Type: c.typ, Value: str(c.value)}})
		if we != nil {
			t.Errorf("%s %q: %v", c.typ, c.value, we)
			continue
		}
		got := ps[0].value
		if gb, ok := got.([]byte); ok {
			got = string(gb)
			c.want = string(c.want.([]byte))
		}
		if gt, ok := got.(time.Time); ok {
			if !gt.Equal(c.want.(time.Time)) {
				t.Errorf("%s %q: %v, want %v", c.typ, c.value, gt, c.want)
			}
			continue
		}
		if got != c.want {
			t.Errorf("%s %q: %#v, want %#v", c.typ, c.value, got, c.want)
		}
	}
	ps, we := parseParams([]wire.Param{{Name: "when", Type: "DateTimeOffset", Value: str("2024-05-31T09:30:00+10:00")}})
	if we != nil || ps[0].value.(time.Time).Format(time.RFC3339) != "2024-05-31T09:30:00+10:00" {
		t.Errorf("DateTimeOffset: %v %v", ps, we)
	}
	ps, we = parseParams([]wire.Param{{Name: "n", Type: "Int"}})
	if we != nil || ps[0].value != nil || ps[0].name != "n" {
		t.Errorf("NULL: %+v %v", ps, we)
	}
}

// Bad requests fail before the database is touched, naming the parameter.
// The agent knows every parameter type and direction the protocol names,
// spelled as package wire spells them, and none besides: the server accepts
// exactly wire.ParamTypes, so a name missing here would pass the server and
// fail at the agent as unknown.
func TestParamTypesAreWires(t *testing.T) {
	known := map[string]bool{}
	for _, name := range wire.ParamTypes {
		lower := strings.ToLower(name)
		known[lower] = true
		if typ := paramTypes[lower]; typ != nil && typ.name != name {
			t.Errorf("%s is spelled %s here", name, typ.name)
		} else if typ == nil && !unsupportedTypes[lower] {
			t.Errorf("wire type %s is unknown to the agent", name)
		}
	}
	for lower, typ := range paramTypes {
		if !known[lower] {
			t.Errorf("type %s is not one of wire.ParamTypes", typ.name)
		}
	}
	for lower := range unsupportedTypes {
		if !known[lower] {
			t.Errorf("unsupported type %s is not one of wire.ParamTypes", lower)
		}
	}
	for _, d := range wire.Directions {
		_, we := parseParams([]wire.Param{{Name: "@p", Type: "Int", Direction: d}})
		if we != nil && strings.Contains(we.Message, "unknown direction") {
			t.Errorf("wire direction %s is unknown to the agent: %v", d, we)
		}
	}
}

func TestParseParamsErrors(t *testing.T) {
	cases := []struct {
		p    wire.Param
		want string
	}{
		{wire.Param{Name: "@n", Type: "Int", Value: str("2147483648")}, "@n: 2147483648 is out of the Int range"},
		{wire.Param{Name: "@n", Type: "TinyInt", Value: str("-1")}, "@n: -1 is out of the TinyInt range 0..255"},
		{wire.Param{Name: "@n", Type: "BigInt", Value: str("9223372036854775808")}, "out of the BigInt range"},
		{wire.Param{Name: "@n", Type: "SmallInt", Value: str("1.5")}, "@n: not an integer"},
		{wire.Param{Name: "@b", Type: "Bit", Value: str("yes")}, "@b: not a Bit value"},
		{wire.Param{Name: "@f", Type: "Real", Value: str("1e39")}, "@f: 1e39 is out of the Real range"},
		{wire.Param{Name: "@f", Type: "Float", Value: str("NaN")}, "@f: NaN is out of the Float range"},
		{wire.Param{Name: "@d", Type: "Decimal", Value: str("1e5")}, "@d: not a decimal number"},
		{wire.Param{Name: "@d", Type: "Decimal", Value: str("1.2.3")}, "@d: not a decimal number"},
		{wire.Param{Name: "@m", Type: "SmallMoney", Value: str("214748.3648")}, "@m: 214748.3648 is not a SmallMoney value"},
		{wire.Param{Name: "@m", Type: "Money", Value: str("1.23456")}, "at most 4 decimal places"},
		{wire.Param{Name: "@x", Type: "VarBinary", Value: str("not base64!")}, "@x: not standard base64"},
		{wire.Param{Name: "@d", Type: "Date", Value: str("31/05/2024")}, "@d: not a date like 2024-05-31"},
		{wire.Param{Name: "@d", Type: "DateTime", Value: str("2024-05-31T09:30:00Z")}, "use DateTimeOffset"},
		{wire.Param{Name: "@d", Type: "DateTime", Value: str("1700-01-01")}, "@d: 1700-01-01 is out of the DateTime range 1753-01-01"},
		{wire.Param{Name: "@d", Type: "SmallDateTime", Value: str("2079-06-07")}, "out of the SmallDateTime range"},
		{wire.Param{Name: "@d", Type: "DateTimeOffset", Value: str("2024-05-31T09:30:00")}, "a date-time with offset"},
		{wire.Param{Name: "@t", Type: "Time", Value: str("25:00")}, "@t: not a time of day"},
		{wire.Param{Name: "@u", Type: "UniqueIdentifier", Value: str("6f9619ff8b86d011b42d00c04fc964f")}, "@u: not a UniqueIdentifier"},
		{wire.Param{Name: "@s", Type: "Structured"}, "@s: type Structured is unsupported"},
		{wire.Param{Name: "@s", Type: "Udt"}, "unsupported"},
		{wire.Param{Name: "@s", Type: "Blob"}, `@s: unknown type "Blob"`},
		{wire.Param{Name: "@s"}, "@s: type is required"},
		{wire.Param{Name: "@o", Type: "Int", Direction: "output"}, "@o: direction output is not supported yet"},
		{wire.Param{Name: "@o", Type: "Int", Direction: "inputOutput"}, "not supported yet"},
		{wire.Param{Name: "id int; DROP TABLE x --", Type: "Int"}, "is not a valid parameter name"},
		{wire.Param{Name: "@", Type: "Int"}, "is not a valid parameter name"},
	}
	for _, c := range cases {
		_, we := parseParams([]wire.Param{c.p})
		wantKind(t, we, wire.KindInvalid, c.want)
	}
	_, we := parseParams([]wire.Param{{Name: "@Id", Type: "Int"}, {Name: "id", Type: "Int"}})
	wantKind(t, we, wire.KindInvalid, "@id is given twice")
}

// allTypesParams has one parameter of each supported type, named after the
// column it is inserted into; nulls makes every value NULL.
func allTypesParams(nulls bool) []wire.Param {
	vals := []struct{ name, typ, value string }{
		{"bi", "BigInt", "-9223372036854775808"}, {"i", "Int", "2147483647"}, {"si", "SmallInt", "-32768"},
		{"ti", "TinyInt", "255"}, {"bit", "Bit", "true"}, {"f", "Float", "1.5e300"}, {"r", "Real", "0.25"},
		{"dec", "Decimal", "-1234567890.1234"}, {"money", "Money", "922337203685477.5807"}, {"c", "Char", "abc"},
		{"vc", "VarChar", "O'Brien"}, {"nvc", "NVarChar", "Zoë ' OR 1=1 --"}, {"txt", "Text", "x\ny"},
		{"bin", "VarBinary", "AP8Q"}, {"d", "Date", "2024-05-31"}, {"dt", "DateTime", "2024-05-31T09:30:00.123"},
		{"dt2", "DateTime2", "2024-05-31T09:30:00.123456"}, {"sdt", "SmallDateTime", "2024-05-31 09:30"},
		{"dto", "DateTimeOffset", "2024-05-31T09:30:00+10:00"}, {"tm", "Time", "09:30:00.25"},
		{"u", "UniqueIdentifier", "6F9619FF-8B86-D011-B42D-00C04FC964FF"}, {"x", "Xml", "<a>1</a>"},
	}
	ps := make([]wire.Param, len(vals))
	for i, v := range vals {
		ps[i] = wire.Param{Name: "@" + v.name, Type: v.typ, Value: str(v.value)}
		if nulls {
			ps[i].Value = nil
		}
	}
	return ps
}

func paramColumns(ps []wire.Param) (cols, placeholders string) {
	var c, p []string
	for _, x := range ps {
		c = append(c, strings.TrimPrefix(x.Name, "@"))
		p = append(p, x.Name)
	}
	return strings.Join(c, ", "), strings.Join(p, ", ")
}

// Each type is bound as a parameter of the right type: inserted into typed
// columns and read back, the values are exact.
func TestPostgresParamsOfEachType(t *testing.T) {
	e, c := newPostgres(t, true)
	pgExec(t, c, `SET TIME ZONE 'UTC'`, `ALTER DATABASE `+c.Config().Database+` SET timezone TO 'UTC'`,
		`CREATE TABLE p (bi bigint, i int, si smallint, ti smallint, bit boolean, f float8, r real, dec numeric(20,4),
		money numeric(19,4), c char(3), vc varchar(20), nvc varchar(20), txt text, bin bytea, d date, dt timestamp(3),
		dt2 timestamp, sdt timestamp(0), dto timestamptz, tm time, u uuid, x xml)`)
	for _, nulls := range []bool{false, true} {
		ps := allTypesParams(nulls)
		cols, phs := paramColumns(ps)
		mustRun(t, e, wire.QueryRequest{Text: "INSERT INTO p (" + cols + ") VALUES (" + phs + ")", Mode: wire.ModeNonQuery, Params: ps})
	}
	rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT bi, i, si, ti, bit, f, r, dec, money, c, vc, nvc, txt, bin, d, dt, dt2, sdt, " +
		"dto AT TIME ZONE 'UTC' AS dto, tm, u, x::text AS x FROM p ORDER BY bi NULLS LAST"})
	want := `{"bi":-9223372036854775808,"i":2147483647,"si":-32768,"ti":255,"bit":true,"f":1.5e+300,"r":0.25,` +
		`"dec":"-1234567890.1234","money":"922337203685477.5807","c":"abc","vc":"O'Brien","nvc":"Zoë ' OR 1=1 --",` +
		`"txt":"x\ny","bin":"AP8Q","d":"2024-05-31","dt":"2024-05-31T09:30:00.123","dt2":"2024-05-31T09:30:00.123456",` +
		`"sdt":"2024-05-31T09:30:00","dto":"2024-05-30T23:30:00","tm":"09:30:00.25","u":"6f9619ff-8b86-d011-b42d-00c04fc964ff","x":"<a>1</a>"}`
	if rec.rows[0] != want {
		t.Errorf("values\n got %s\nwant %s", rec.rows[0], want)
	}
	if !strings.HasPrefix(rec.rows[1], `{"bi":null,"i":null,`) || strings.Count(rec.rows[1], "null") != 22 {
		t.Errorf("nulls: %s", rec.rows[1])
	}
}

func TestSQLiteParamsOfEachType(t *testing.T) {
	e, path := newSQLite(t, true, `CREATE TABLE p (bi INTEGER, i INTEGER, si INTEGER, ti INTEGER, bit BOOLEAN, f REAL, r REAL,
		dec NUMERIC, money TEXT, c TEXT, vc TEXT, nvc TEXT, txt TEXT, bin BLOB, d DATE, dt DATETIME, dt2 DATETIME, sdt DATETIME,
		dto TEXT, tm TEXT, u TEXT, x TEXT)`)
	for _, nulls := range []bool{false, true} {
		ps := allTypesParams(nulls)
		cols, phs := paramColumns(ps)
		mustRun(t, e, wire.QueryRequest{Text: "INSERT INTO p (" + cols + ") VALUES (" + phs + ")", Mode: wire.ModeNonQuery, Params: ps})
	}
	var stored string
	if err := sqliteExec(t, path).QueryRow("SELECT dt2 || '|' || dto || '|' || u FROM p WHERE bi IS NOT NULL").Scan(&stored); err != nil ||
		stored != "2024-05-31 09:30:00.123456|2024-05-31 09:30:00+10:00|6f9619ff-8b86-d011-b42d-00c04fc964ff" {
		t.Errorf("stored as %q, %v", stored, err)
	}
	rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT * FROM p ORDER BY bi IS NULL"})
	want := `{"bi":-9223372036854775808,"i":2147483647,"si":-32768,"ti":255,"bit":true,"f":1.5e+300,"r":0.25,` +
		`"dec":"-1234567890.1234","money":"922337203685477.5807","c":"abc","vc":"O'Brien","nvc":"Zoë ' OR 1=1 --",` +
		`"txt":"x\ny","bin":"AP8Q","d":"2024-05-31","dt":"2024-05-31T09:30:00.123","dt2":"2024-05-31T09:30:00.123456",` +
		`"sdt":"2024-05-31T09:30:00","dto":"2024-05-31 09:30:00+10:00","tm":"09:30:00.25","u":"6f9619ff-8b86-d011-b42d-00c04fc964ff","x":"<a>1</a>"}`
	if rec.rows[0] != want {
		t.Errorf("values\n got %s\nwant %s", rec.rows[0], want)
	}
	if strings.Count(rec.rows[1], "null") != 22 {
		t.Errorf("nulls: %s", rec.rows[1])
	}
}

// Values are bound, never spliced: quotes and comment markers stay literal.
func TestParamsAreLiteral(t *testing.T) {
	pg, c := newPostgres(t, false)
	pgExec(t, c, "CREATE TABLE people (name text)", "INSERT INTO people VALUES ('O''Brien'), ('Smith')")
	lite, _ := newSQLite(t, false, "CREATE TABLE people (name TEXT)", "INSERT INTO people VALUES ('O''Brien'), ('Smith')")
	for engine, e := range map[string]*Executor{"postgres": pg, "sqlite": lite} {
		for value, want := range map[string]string{"O'Brien": `{"n":1}`, "' OR 1=1 --": `{"n":0}`, "x' OR 'a'='a": `{"n":0}`} {
			rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT count(*) AS n FROM people WHERE name = @name",
				Params: []wire.Param{{Name: "@name", Type: "NVarChar", Value: str(value)}}})
			if rec.rows[0] != want {
				t.Errorf("%s %q: %s, want %s", engine, value, rec.rows[0], want)
			}
			rec, _ = mustRun(t, e, wire.QueryRequest{Text: "SELECT @v AS v", Params: []wire.Param{{Name: "v", Type: "VarChar", Value: str(value)}}})
			if rec.rows[0] != `{"v":`+string(appendString(nil, value))+`}` {
				t.Errorf("%s %q: echoed as %s", engine, value, rec.rows[0])
			}
		}
	}
}

// On PostgreSQL, placeholders are rewritten outside literals and comments
// only, and a placeholder without a parameter is an error, not a NULL.
func TestPostgresPlaceholders(t *testing.T) {
	e, _ := newPostgres(t, false)
	rec, _ := mustRun(t, e, wire.QueryRequest{
		Text:   "SELECT @a::int + @a::int AS twice, '@a' AS literal, @b::text AS b -- @c\n",
		Params: []wire.Param{{Name: "@a", Type: "Int", Value: str("21")}, {Name: "b", Type: "NVarChar"}, {Name: "unused", Type: "Int"}},
	})
	if want := `{"twice":42,"literal":"@a","b":null}`; rec.rows[0] != want {
		t.Errorf("got %s, want %s", rec.rows[0], want)
	}
	_, _, we := run(t, e, wire.QueryRequest{Text: "SELECT @A::int", Params: []wire.Param{{Name: "@a", Type: "Int", Value: str("1")}}})
	wantKind(t, we, wire.KindInvalid, "not among the request's parameters")
	_, _, we = run(t, e, wire.QueryRequest{Text: "SELECT @n", Params: []wire.Param{{Name: "@n", Type: "Int", Value: str("1e3")}}})
	wantKind(t, we, wire.KindInvalid, "@n: not an integer")
	// A placeholder that nothing gives a type to is text to PostgreSQL:
	// every parameter type can still be bound to it.
	for _, p := range allTypesParams(false) {
		rec, _ = mustRun(t, e, wire.QueryRequest{Text: "SELECT @" + strings.TrimPrefix(p.Name, "@") + " AS v", Params: []wire.Param{p}})
		if rec.header.Columns[0].Type != wire.TypeString && rec.header.Columns[0].Type != wire.TypeBinary {
			t.Errorf("%s: %s %v", p.Type, rec.header.Columns[0].Type, rec.rows)
		}
	}
}
