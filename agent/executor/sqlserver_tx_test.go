package executor

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fhirlink/agent/tdstest"
	"fhirlink/agent/wire"
)

// Reader and scalar commands over the TDS responder: each runs inside a
// transaction that the executor rolls back, which the responder records.

// tdsLog keeps the queries the responder's handler saw, except pings.
type tdsLog struct {
	mu sync.Mutex
	qs []tdstest.Query
}

func (l *tdsLog) add(q tdstest.Query) bool {
	if q.SQL == "select 1;" { // go-mssqldb's ping, from Open
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.qs = append(l.qs, q)
	return true
}

func (l *tdsLog) all() []tdstest.Query {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]tdstest.Query(nil), l.qs...)
}

// wantRolledBack checks that the responder saw n transactions begun and
// rolled back, none committed or left open, and that the queries it
// handled each ran in one of them, none sharing.
func wantRolledBack(t *testing.T, s *tdstest.Server, log *tdsLog, n int) {
	t.Helper()
	if got, want := s.Transactions(), (tdstest.TxStats{Begun: n, RolledBack: n}); got != want {
		t.Errorf("transactions %+v, want %+v", got, want)
	}
	seen := map[uint64]bool{}
	for _, q := range log.all() {
		if q.Transaction == 0 || seen[q.Transaction] {
			t.Errorf("%q ran in transaction %x, want a transaction of its own", q.SQL, q.Transaction)
		}
		seen[q.Transaction] = true
	}
}

var tdsGUID = tdstest.GUID{0x6F, 0x96, 0x19, 0xFF, 0x8B, 0x86, 0xD0, 0x11, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}

// Every type family comes back as the JSON wire.Type documents, exactly,
// from reader and scalar commands alike, each in a rolled-back transaction.
func TestSQLServerReaderTypesOverTDS(t *testing.T) {
	cols := []tdstest.Column{
		{Name: "bi", Type: tdstest.BigInt}, {Name: "i", Type: tdstest.Int}, {Name: "si", Type: tdstest.SmallInt},
		{Name: "ti", Type: tdstest.TinyInt}, {Name: "bit", Type: tdstest.Bit},
		{Name: "dec", Type: tdstest.Decimal, Precision: 38, Scale: 10}, {Name: "num", Type: tdstest.Numeric, Precision: 10, Scale: 2},
		{Name: "money", Type: tdstest.Money}, {Name: "f", Type: tdstest.Float}, {Name: "r", Type: tdstest.Real},
		{Name: "c", Type: tdstest.Char, Length: 5}, {Name: "vc", Type: tdstest.VarChar, Length: 60},
		{Name: "vcmax", Type: tdstest.VarChar}, {Name: "nvc", Type: tdstest.NVarChar, Length: 40},
		{Name: "dt", Type: tdstest.DateTime}, {Name: "dt2", Type: tdstest.DateTime2}, {Name: "d", Type: tdstest.Date},
		{Name: "tm", Type: tdstest.Time}, {Name: "dto", Type: tdstest.DateTimeOffset},
		{Name: "u", Type: tdstest.UniqueIdentifier}, {Name: "bin", Type: tdstest.VarBinary, Length: 16},
		{Name: "binmax", Type: tdstest.VarBinary},
	}
	for i := range cols {
		cols[i].Nullable = true
	}
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	rows := [][]any{
		{int64(9223372036854775807), 2147483647, -32768, 255, true,
			"1234567890123456789012345678.0123456789", "12.5", "-922337203685477.5808", 0.1, float32(0.1),
			"ab", "O'Brien \"q\" \\ line\n\ttab é", "notes", "Zoë 日本 𝄞\u2028",
			utc(2024, 5, 31, 9, 30, 0, 123e6), utc(2024, 5, 31, 9, 30, 0, 1234567e2), utc(1950, 1, 2, 0, 0, 0, 0),
			utc(1, 1, 1, 9, 30, 0, 25e7), time.Date(2024, 5, 31, 9, 30, 0, 5e8, time.FixedZone("", 10*3600)),
			tdsGUID, []byte{0x00, 0xFF, 0x10}, []byte{}},
		{int64(-9223372036854775808), -2147483648, 0, 0, false,
			"-0.0000000001", "-12.5", "0.0001", 1e300, float32(-1.5),
			"", "", "", "",
			utc(1753, 1, 1, 0, 0, 0, 0), utc(9999, 12, 31, 23, 59, 59, 999999900), utc(1, 1, 1, 0, 0, 0, 0),
			utc(1, 1, 1, 0, 0, 0, 0), time.Date(2024, 5, 31, 9, 30, 0, 0, time.FixedZone("", -150*60)),
			tdstest.GUID{0: 0xFF, 15: 0x01}, bytes.Repeat([]byte{0xAB}, 16), []byte("binary max")},
		make([]any, len(cols)),
	}
	var log tdsLog
	const text = "SELECT * FROM every_type"
	e, s := newTDS(t, func(ctx context.Context, q tdstest.Query) (*tdstest.Result, error) {
		if !log.add(q) {
			return nil, nil
		}
		return &tdstest.Result{Columns: cols, Rows: rows}, nil
	})

	rec, tr := mustRun(t, e, wire.QueryRequest{Text: text})
	want := []string{
		`{"bi":9223372036854775807,"i":2147483647,"si":-32768,"ti":255,"bit":true,` +
			`"dec":"1234567890123456789012345678.0123456789","num":"12.50","money":"-922337203685477.5808","f":0.1,"r":0.1,` +
			`"c":"ab   ","vc":"O'Brien \"q\" \\ line\n\ttab é","vcmax":"notes","nvc":"Zoë 日本 𝄞\u2028",` +
			`"dt":"2024-05-31T09:30:00.123","dt2":"2024-05-31T09:30:00.1234567","d":"1950-01-02","tm":"09:30:00.25",` +
			`"dto":"2024-05-31T09:30:00.5+10:00","u":"6f9619ff-8b86-d011-b42d-00c04fc964ff","bin":"AP8Q","binmax":""}`,
		`{"bi":-9223372036854775808,"i":-2147483648,"si":0,"ti":0,"bit":false,` +
			`"dec":"-0.0000000001","num":"-12.50","money":"0.0001","f":1e+300,"r":-1.5,` +
			`"c":"     ","vc":"","vcmax":"","nvc":"",` +
			`"dt":"1753-01-01T00:00:00","dt2":"9999-12-31T23:59:59.9999999","d":"0001-01-01","tm":"00:00:00",` +
			`"dto":"2024-05-31T09:30:00-02:30","u":"ff000000-0000-0000-0000-000000000001","bin":"q6urq6urq6urq6urq6urqw==",` +
			`"binmax":"YmluYXJ5IG1heA=="}`,
		`{"bi":null,"i":null,"si":null,"ti":null,"bit":null,"dec":null,"num":null,"money":null,"f":null,"r":null,` +
			`"c":null,"vc":null,"vcmax":null,"nvc":null,"dt":null,"dt2":null,"d":null,"tm":null,"dto":null,"u":null,` +
			`"bin":null,"binmax":null}`,
	}
	if strings.Join(rec.rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows\n got %s\nwant %s", strings.Join(rec.rows, "\n     "), strings.Join(want, "\n     "))
	}
	var size int64
	for _, r := range rec.rows {
		size += int64(len(r))
	}
	if tr.Rows != 3 || tr.Bytes != size || tr.Error != nil {
		t.Errorf("trailer %+v, want 3 rows of %d bytes", tr, size)
	}
	types := map[string]struct {
		typ    wire.Type
		dbType string
	}{
		"bi": {wire.TypeInteger, "BIGINT"}, "ti": {wire.TypeInteger, "TINYINT"}, "bit": {wire.TypeBoolean, "BIT"},
		"dec": {wire.TypeDecimal, "DECIMAL"}, "money": {wire.TypeDecimal, "MONEY"}, "f": {wire.TypeFloat, "FLOAT"},
		"r": {wire.TypeFloat, "REAL"}, "c": {wire.TypeString, "CHAR"}, "vc": {wire.TypeString, "VARCHAR"},
		"nvc": {wire.TypeString, "NVARCHAR"}, "dt": {wire.TypeDateTime, "DATETIME"}, "dt2": {wire.TypeDateTime, "DATETIME2"},
		"d": {wire.TypeDate, "DATE"}, "tm": {wire.TypeTime, "TIME"}, "dto": {wire.TypeDateTimeOffset, "DATETIMEOFFSET"},
		"u": {wire.TypeUUID, "UNIQUEIDENTIFIER"}, "bin": {wire.TypeBinary, "VARBINARY"},
	}
	for _, col := range rec.header.Columns {
		w, ok := types[col.Name]
		if ok && (col.Type != w.typ || col.DBType != w.dbType || col.Nullable == nil || !*col.Nullable) {
			t.Errorf("column %s: %s %s nullable %v, want %s %s", col.Name, col.Type, col.DBType, col.Nullable, w.typ, w.dbType)
		}
	}
	wantRolledBack(t, s, &log, 1)

	// A scalar is the first column of the first row; the rest of the result
	// is not read.
	rec, tr = mustRun(t, e, wire.QueryRequest{Text: text, Mode: wire.ModeScalar})
	if len(rec.rows) != 1 || rec.rows[0] != `{"bi":9223372036854775807}` || tr.Rows != 1 {
		t.Errorf("scalar: %v %+v", rec.rows, tr)
	}
	wantRolledBack(t, s, &log, 2)
	for _, q := range log.all() {
		if q.SQL != text || q.Proc != "" || len(q.Params) != 0 || q.Database != "BPSPatients" {
			t.Errorf("handler saw %+v, want the text as a plain batch", q)
		}
	}
}

// Parameters of each type arrive bound, as sp_executesql's typed
// parameters, and never in the SQL text.
func TestSQLServerReaderParamsOverTDS(t *testing.T) {
	var log tdsLog
	e, s := newTDS(t, func(ctx context.Context, q tdstest.Query) (*tdstest.Result, error) {
		log.add(q)
		return &tdstest.Result{Columns: []tdstest.Column{{Name: "n", Type: tdstest.Int}}, Rows: [][]any{{1}}}, nil
	})
	_, phs := paramColumns(allTypesParams(false))
	text := "SELECT COUNT(*) AS n FROM Patients WHERE Key IN (" + phs + ")"
	at := time.Date(2024, 5, 31, 9, 30, 0, 0, time.UTC)
	// TDS type of the value, of its NULL when another, and the value.
	want := map[string]struct {
		typ, nullTyp string
		v            any
	}{
		"@bi": {"INTN", "", int64(-9223372036854775808)}, "@i": {"INTN", "", int64(2147483647)},
		"@si": {"INTN", "", int64(-32768)}, "@ti": {"INTN", "", int64(255)}, "@bit": {"BITN", "", true},
		"@f": {"FLTN", "", 1.5e300}, "@r": {"FLTN", "", 0.25},
		"@dec": {"NVARCHAR", "", "-1234567890.1234"}, "@money": {"NVARCHAR", "", "922337203685477.5807"},
		"@c": {"BIGVARCHR", "NVARCHAR", "abc"}, "@vc": {"BIGVARCHR", "NVARCHAR", "O'Brien"},
		"@nvc": {"NVARCHAR", "", "Zoë ' OR 1=1 --"}, "@txt": {"BIGVARCHR", "NVARCHAR", "x\ny"},
		"@bin": {"BIGVARBIN", "", []byte{0x00, 0xFF, 0x10}},
		"@d":   {"DATEN", "", time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC)},
		"@dt":  {"DATETIMN", "DATETIMEOFFSETN", at.Add(123 * time.Millisecond)},
		"@dt2": {"DATETIME2N", "", at.Add(123456 * time.Microsecond)}, "@sdt": {"DATETIMN", "DATETIMEOFFSETN", at},
		"@dto": {"DATETIMEOFFSETN", "", at.In(time.FixedZone("", 10*3600)).Add(-10 * time.Hour)},
		"@tm":  {"TIMEN", "", time.Date(1, 1, 1, 9, 30, 0, 25e7, time.UTC)},
		"@u":   {"GUID", "NVARCHAR", tdsGUID}, "@x": {"NVARCHAR", "", "<a>1</a>"},
	}
	// The declarations SQL Server compiles the statement with. A NULL binary
	// is varbinary, as nvarchar does not convert to binary types implicitly.
	decl := []string{"@bi bigint,@i int,@si smallint,@ti tinyint,@bit bit,@f float,@r real,@dec nvarchar(16)," +
		"@money nvarchar(20),@c varchar(3),@vc varchar(7),@nvc nvarchar(15),@txt varchar(3),@bin varbinary(3),@d date," +
		"@dt datetime,@dt2 datetime2(7),@sdt datetime,@dto datetimeoffset(7),@tm time,@u uniqueidentifier,@x nvarchar(8)",
		"@bi bigint,@i int,@si smallint,@ti tinyint,@bit bit,@f float,@r float,@dec nvarchar(4000),@money nvarchar(4000)," +
			"@c nvarchar(4000),@vc nvarchar(4000),@nvc nvarchar(4000),@txt nvarchar(4000),@bin varbinary(max),@d date," +
			"@dt datetimeoffset(7),@dt2 datetime2(7),@sdt datetimeoffset(7),@dto datetimeoffset(7),@tm time," +
			"@u nvarchar(4000),@x nvarchar(4000)"}
	for n, nulls := range []bool{false, true} {
		rec, _ := mustRun(t, e, wire.QueryRequest{Text: text, Params: allTypesParams(nulls)})
		if len(rec.rows) != 1 || rec.rows[0] != `{"n":1}` {
			t.Errorf("rows %v", rec.rows)
		}
		qs := log.all()
		q := qs[len(qs)-1]
		if q.SQL != text || q.Proc != "sp_executesql" || len(q.Params) != len(want) {
			t.Fatalf("handler saw SQL %q proc %q with %d params", q.SQL, q.Proc, len(q.Params))
		}
		for _, p := range q.Params {
			w, ok := want[p.Name]
			typ := w.typ
			if nulls && w.nullTyp != "" {
				typ = w.nullTyp
			}
			switch {
			case !ok:
				t.Errorf("unexpected parameter %s", p.Name)
			case p.Type != typ || p.Output:
				t.Errorf("nulls=%v: %s sent as %s (output %v), want %s", nulls, p.Name, p.Type, p.Output, typ)
			case nulls && p.Value != nil:
				t.Errorf("NULL %s arrived as %#v", p.Name, p.Value)
			case !nulls && !sameParam(p.Value, w.v):
				t.Errorf("%s arrived as %#v, want %#v", p.Name, p.Value, w.v)
			}
		}
		if q.ParamDecl != decl[n] {
			t.Errorf("nulls=%v: declared %s\nwant %s", nulls, q.ParamDecl, decl[n])
		}
		wantRolledBack(t, s, &log, n+1)
	}
}

func sameParam(got, want any) bool {
	switch w := want.(type) {
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(g, w)
	case time.Time:
		g, ok := got.(time.Time)
		_, gOff := g.Zone()
		_, wOff := w.Zone()
		return ok && g.Equal(w) && gOff == wOff
	}
	return got == want
}

// The result cap stops reading, and the attention it causes stops the
// responder streaming a result it has not finished; the transaction is
// still rolled back on the same connection.
func TestSQLServerMaxBytesOverTDS(t *testing.T) {
	const total = 10000
	wide := strings.Repeat("w", 2000) // 4000 bytes a row in TDS, 40 MB in all
	res := &tdstest.Result{Columns: []tdstest.Column{{Name: "id", Type: tdstest.Int}, {Name: "wide", Type: tdstest.NVarChar, Length: 2000}}}
	for i := range total {
		res.Rows = append(res.Rows, []any{i, wide})
	}
	var log tdsLog
	e, s := newTDS(t, func(ctx context.Context, q tdstest.Query) (*tdstest.Result, error) {
		if !log.add(q) {
			return nil, nil
		}
		return res, nil
	})
	start := time.Now()
	rec, tr, we := run(t, e, wire.QueryRequest{Text: "SELECT id, wide FROM big", MaxBytes: 10000})
	wantKind(t, we, wire.KindTooLarge, "limit of 10000 bytes")
	if tr.Error != we || tr.Rows != int64(len(rec.rows)) || tr.Rows != 4 || tr.Bytes > 10000 {
		t.Errorf("trailer %+v after %d rows", tr, len(rec.rows))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
	if n := s.Attentions(); n < 1 {
		t.Errorf("the responder saw %d attentions, want the statement cancelled", n)
	}
	if sent := s.RowsSent(); sent >= total {
		t.Errorf("the responder streamed all %d rows", sent)
	}
	wantRolledBack(t, s, &log, 1)
	// The connection came back to the pool in sync.
	rec, _ = mustRun(t, e, wire.QueryRequest{Text: "SELECT id, wide FROM big", Mode: wire.ModeScalar})
	if len(rec.rows) != 1 || rec.rows[0] != `{"id":0}` {
		t.Errorf("after the cap: %v", rec.rows)
	}
	wantRolledBack(t, s, &log, 2)
}

// The deadline sends an attention, which cancels the statement in the
// server; the transaction is then rolled back.
func TestSQLServerReaderDeadlineOverTDS(t *testing.T) {
	var log tdsLog
	cancelled := make(chan error, 1)
	e, s := newTDS(t, func(ctx context.Context, q tdstest.Query) (*tdstest.Result, error) {
		if !log.add(q) {
			return nil, nil
		}
		if q.SQL == "SELECT 1 AS one" {
			return &tdstest.Result{Columns: []tdstest.Column{{Name: "one", Type: tdstest.Int}}, Rows: [][]any{{1}}}, nil
		}
		select {
		case <-ctx.Done():
			cancelled <- ctx.Err()
			return nil, ctx.Err()
		case <-time.After(10 * time.Second):
			return nil, nil
		}
	})
	start := time.Now()
	_, _, we := run(t, e, wire.QueryRequest{Text: "WAITFOR DELAY '00:00:10'", TimeoutMS: 300})
	wantKind(t, we, wire.KindTimeout, "0.3 s execution limit")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the responder never saw the cancellation")
	}
	if n := s.Attentions(); n != 1 {
		t.Errorf("the responder saw %d attentions, want 1", n)
	}
	wantRolledBack(t, s, &log, 1)
	rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT 1 AS one"})
	if len(rec.rows) != 1 || rec.rows[0] != `{"one":1}` {
		t.Errorf("after the deadline: %v", rec.rows)
	}
	wantRolledBack(t, s, &log, 2)
}

// SQL Server's error arrives with its number, and the transaction is rolled
// back.
func TestSQLServerReaderErrorOverTDS(t *testing.T) {
	var log tdsLog
	e, s := newTDS(t, func(ctx context.Context, q tdstest.Query) (*tdstest.Result, error) {
		if !log.add(q) {
			return nil, nil
		}
		return nil, &tdstest.Error{Number: 208, Message: "Invalid object name 'dbo.Nope'."}
	})
	for i, mode := range []wire.Mode{wire.ModeReader, wire.ModeScalar} {
		rec, tr, we := run(t, e, wire.QueryRequest{Text: "SELECT * FROM dbo.Nope WHERE ID = @id", Mode: mode,
			Params: []wire.Param{{Name: "id", Type: "Int", Value: str("7")}}})
		wantKind(t, we, wire.KindDatabase, "Invalid object name 'dbo.Nope'.")
		if we.Engine != "sqlserver" || we.Code != "208" || we.Message != "Invalid object name 'dbo.Nope'." {
			t.Errorf("%s: %+v", mode, we)
		}
		if rec.headers != 0 || tr.Error != nil {
			t.Errorf("%s: header sent %d times, trailer %+v", mode, rec.headers, tr)
		}
		wantRolledBack(t, s, &log, i+1)
	}
}
