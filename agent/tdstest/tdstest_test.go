package tdstest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-sql/civil"
	mssql "github.com/microsoft/go-mssqldb"
)

// openDB opens database/sql with go-mssqldb on s, one connection at most so
// tests can check that a connection stays usable.
func openDB(t *testing.T, s *Server, opts string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlserver", s.DSN()+opts)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// one is a handler answer with a single int column and row.
func one() *Result {
	return &Result{Columns: []Column{{Name: "one", Type: Int}}, Rows: [][]any{{1}}}
}

// checkUsable runs a query on db and checks the server still has a single
// connection, i.e. the previous exchange left the stream in sync.
func checkUsable(t *testing.T, ctx context.Context, db *sql.DB, s *Server) {
	t.Helper()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("follow-up query: %v, %d", err, n)
	}
	if got := s.accepted.Load(); got != 1 {
		t.Errorf("server accepted %d connections, want the first one reused", got)
	}
}

var testGUID = GUID{0x6F, 0x96, 0x19, 0xFF, 0x8B, 0x86, 0xD0, 0x11, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}

func sameValue(got, want any) bool {
	switch w := want.(type) {
	case []byte:
		g, ok := got.([]byte)
		return ok && g != nil && bytes.Equal(g, w)
	case time.Time:
		g, ok := got.(time.Time)
		_, go1 := g.Zone()
		_, wo := w.Zone()
		return ok && g.Equal(w) && go1 == wo
	}
	return got == want
}

// TestEveryType returns each column type with a value and with NULL and
// checks the Go values and DatabaseTypeName go-mssqldb reports.
func TestEveryType(t *testing.T) {
	aest := time.FixedZone("AEST", 10*3600)
	moment := time.Date(2024, 2, 29, 13, 45, 30, 123456700, time.UTC)
	wire := []byte{0xFF, 0x19, 0x96, 0x6F, 0x86, 0x8B, 0x11, 0xD0, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}
	long := strings.Repeat("notes ", 2000)
	cases := []struct {
		col      Column
		in, want any
		typeName string
	}{
		{Column{Type: TinyInt}, 200, int64(200), "TINYINT"},
		{Column{Type: SmallInt}, int16(-300), int64(-300), "SMALLINT"},
		{Column{Type: Int}, -70000, int64(-70000), "INT"},
		{Column{Type: BigInt}, int64(1) << 40, int64(1) << 40, "BIGINT"},
		{Column{Type: Bit}, true, true, "BIT"},
		{Column{Type: Decimal, Precision: 10, Scale: 2}, "-12345.6", []byte("-12345.60"), "DECIMAL"},
		{Column{Type: Numeric, Precision: 38}, "12345678901234567890123456789012345678",
			[]byte("12345678901234567890123456789012345678"), "DECIMAL"},
		{Column{Type: Decimal}, 7, []byte("7"), "DECIMAL"},
		{Column{Type: Money}, "1234.5", []byte("1234.5000"), "MONEY"},
		{Column{Type: Money}, "-0.01", []byte("-0.0100"), "MONEY"},
		{Column{Type: Float}, 3.25, 3.25, "FLOAT"},
		{Column{Type: Real}, float32(1.5), 1.5, "REAL"},
		{Column{Type: Char, Length: 5}, "ab", "ab   ", "CHAR"},
		{Column{Type: VarChar, Length: 50}, "Müller café €5", "Müller café €5", "VARCHAR"},
		{Column{Type: VarChar}, long, long, "VARCHAR"},
		{Column{Type: NVarChar, Length: 20}, "Zoë 日本 𝄞", "Zoë 日本 𝄞", "NVARCHAR"},
		{Column{Type: NVarChar}, long, long, "NVARCHAR"},
		{Column{Type: DateTime}, time.Date(2024, 2, 29, 13, 45, 30, 500e6, time.UTC),
			time.Date(2024, 2, 29, 13, 45, 30, 500e6, time.UTC), "DATETIME"},
		{Column{Type: DateTime2}, moment, moment, "DATETIME2"},
		{Column{Type: DateTime2, Scale: 3}, moment, moment.Truncate(time.Millisecond), "DATETIME2"},
		{Column{Type: Date}, moment, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "DATE"},
		{Column{Type: Time}, moment, time.Date(1, 1, 1, 13, 45, 30, 123456700, time.UTC), "TIME"},
		{Column{Type: DateTimeOffset}, moment.In(aest), moment.In(aest), "DATETIMEOFFSET"},
		{Column{Type: UniqueIdentifier}, testGUID, wire, "UNIQUEIDENTIFIER"},
		{Column{Type: UniqueIdentifier}, "6f9619ff-8b86-d011-b42d-00c04fc964ff", wire, "UNIQUEIDENTIFIER"},
		{Column{Type: VarBinary, Length: 10}, []byte{1, 2, 3}, []byte{1, 2, 3}, "VARBINARY"},
		{Column{Type: VarBinary}, []byte{}, []byte{}, "VARBINARY"},
	}
	var res Result
	values, nulls := make([]any, len(cases)), make([]any, len(cases))
	for i, c := range cases {
		c.col.Name, c.col.Nullable = fmt.Sprintf("c%d", i), true
		res.Columns = append(res.Columns, c.col)
		values[i] = c.in
	}
	res.Rows = [][]any{values, nulls}
	var seen Query
	s := Start(t, func(ctx context.Context, q Query) (*Result, error) {
		seen = q
		return &res, nil
	})
	db := openDB(t, s, "")
	ctx := testCtx(t)

	rows, err := db.QueryContext(ctx, "SELECT * FROM every_type")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i, ct := range types {
		names = append(names, ct.DatabaseTypeName())
		if ct.DatabaseTypeName() != cases[i].typeName {
			t.Errorf("column %d: DatabaseTypeName %q, want %q", i, ct.DatabaseTypeName(), cases[i].typeName)
		}
		if n, ok := ct.Nullable(); !n || !ok {
			t.Errorf("column %d: Nullable %v %v", i, n, ok)
		}
	}
	t.Logf("DatabaseTypeName: %s", strings.Join(names, ", "))
	if p, sc, ok := types[5].DecimalSize(); p != 10 || sc != 2 || !ok {
		t.Errorf("decimal(10,2) DecimalSize = %d, %d, %v", p, sc, ok)
	}
	if n, ok := types[15].Length(); n != 20 || !ok {
		t.Errorf("nvarchar(20) Length = %d, %v", n, ok)
	}

	got := make([]any, len(cases))
	ptrs := make([]any, len(cases))
	for i := range got {
		ptrs[i] = &got[i]
	}
	for r := 0; r < 2; r++ {
		if !rows.Next() {
			t.Fatalf("row %d missing: %v", r, rows.Err())
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, c := range cases {
			switch {
			case r == 1 && got[i] != nil:
				t.Errorf("%s NULL: got %#v", c.typeName, got[i])
			case r == 0 && !sameValue(got[i], c.want):
				t.Errorf("%s %v: got %#v (%T), want %#v", c.typeName, c.in, got[i], got[i], c.want)
			}
		}
	}
	if rows.Next() {
		t.Error("unexpected third row")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen.SQL != "SELECT * FROM every_type" || seen.IsProc || len(seen.Params) != 0 || seen.Database != "BPSPatients" {
		t.Errorf("handler saw %+v", seen)
	}

	// The driver's own GUID type turns the wire order back into text order.
	var u mssql.UniqueIdentifier
	if err := u.Scan(wire); err != nil || u.String() != testGUID.String() || u.String() != "6F9619FF-8B86-D011-B42D-00C04FC964FF" {
		t.Errorf("UniqueIdentifier %v %v, want %v", u, err, testGUID)
	}
}

// TestParameters sends an sp_executesql call with typed parameters.
func TestParameters(t *testing.T) {
	var seen Query
	s := Start(t, func(ctx context.Context, q Query) (*Result, error) {
		seen = q
		return one(), nil
	})
	db := openDB(t, s, "")
	aest := time.FixedZone("", 10*3600)
	ts := time.Date(2024, 2, 29, 13, 45, 30, 123456700, aest)
	const query = "SELECT * FROM patient WHERE id = @p1"
	args := []any{
		int64(42), int32(7), "Zoë", []byte{0xDE, 0xAD}, 2.5, true,
		mssql.UniqueIdentifier(testGUID), ts,
		civil.Date{Year: 1999, Month: 12, Day: 31},
		civil.Time{Hour: 13, Minute: 45, Second: 30, Nanosecond: 123456700},
		civil.DateTime{Date: civil.Date{Year: 2024, Month: 2, Day: 29}, Time: civil.Time{Hour: 8}},
		mssql.DateTime1(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)),
		mssql.VarChar("abc"), "", nil, sql.Named("surname", "O'Brien"),
	}
	var n int
	if err := db.QueryRowContext(testCtx(t), query, args...).Scan(&n); err != nil || n != 1 {
		t.Fatalf("query: %v, %d", err, n)
	}
	want := []Param{
		{"@p1", "INTN", int64(42), false},
		{"@p2", "INTN", int64(7), false},
		{"@p3", "NVARCHAR", "Zoë", false},
		{"@p4", "BIGVARBIN", []byte{0xDE, 0xAD}, false},
		{"@p5", "FLTN", 2.5, false},
		{"@p6", "BITN", true, false},
		{"@p7", "GUID", testGUID, false},
		{"@p8", "DATETIMEOFFSETN", ts, false},
		{"@p9", "DATEN", time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), false},
		{"@p10", "TIMEN", time.Date(1, 1, 1, 13, 45, 30, 123456700, time.UTC), false},
		{"@p11", "DATETIME2N", time.Date(2024, 2, 29, 8, 0, 0, 0, time.UTC), false},
		{"@p12", "DATETIMN", time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC), false},
		{"@p13", "BIGVARCHR", "abc", false},
		{"@p14", "NVARCHAR", "", false},
		{"@p15", "NULL", nil, false},
		{"@surname", "NVARCHAR", "O'Brien", false},
	}
	if seen.SQL != query || seen.Proc != "sp_executesql" || seen.IsProc {
		t.Errorf("handler saw SQL %q proc %q/%v", seen.SQL, seen.Proc, seen.IsProc)
	}
	if !strings.HasPrefix(seen.ParamDecl, "@p1 bigint,@p2 int,@p3 nvarchar(3),@p4 varbinary(2),@p5 float,@p6 bit,") ||
		!strings.HasSuffix(seen.ParamDecl, ",@surname nvarchar(7)") {
		t.Errorf("ParamDecl %q", seen.ParamDecl)
	}
	if len(seen.Params) != len(want) {
		t.Fatalf("got %d params: %+v", len(seen.Params), seen.Params)
	}
	for i, w := range want {
		g := seen.Params[i]
		if g.Name != w.Name || g.Type != w.Type || g.Output != w.Output || !sameValue(g.Value, w.Value) {
			t.Errorf("param %d: got %+v (%T), want %+v", i, g, g.Value, w)
		}
	}
}

// TestDecimalParamDecoding checks that DECIMALN and MONEYN values decode
// from the same wire form go-mssqldb reads in TestEveryType (the driver
// itself sends decimals as strings).
func TestDecimalParamDecoding(t *testing.T) {
	for _, c := range []struct {
		col  Column
		in   string
		want string
		id   byte
	}{
		{Column{Type: Decimal, Precision: 10, Scale: 2}, "-12345.6", "-12345.60", typDecimalN},
		{Column{Type: Numeric, Precision: 38, Scale: 4}, "0.0001", "0.0001", typNumericN},
		{Column{Type: Money}, "-922337203685477.5808", "-922337203685477.5808", typMoneyN},
	} {
		b, err := appendValue(nil, c.col, c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeValue(c.id, byte(c.col.Scale), b[1:]); got != c.want {
			t.Errorf("%s: got %v, want %s", c.in, got, c.want)
		}
	}
}

// TestStoredProcedure calls a named procedure and checks rows affected for
// procedures, batches and sp_executesql.
func TestStoredProcedure(t *testing.T) {
	var seen Query
	s := Start(t, func(ctx context.Context, q Query) (*Result, error) {
		seen = q
		switch {
		case q.IsProc && q.Proc == "dbo.MergePatient":
			return &Result{RowsAffected: 3}, nil
		case q.IsProc && q.Proc == "dbo.GetPatient":
			return one(), nil
		case q.Proc == "sp_executesql":
			return &Result{RowsAffected: 2}, nil
		}
		return &Result{RowsAffected: 7}, nil
	})
	db := openDB(t, s, "")
	ctx := testCtx(t)
	for _, c := range []struct {
		query string
		args  []any
		want  int64
	}{
		{"dbo.MergePatient", []any{sql.Named("id", 5), sql.Named("name", "Ann")}, 3},
		{"UPDATE patient SET x = 1", nil, 7},
		{"UPDATE patient SET x = @p1", []any{1}, 2},
	} {
		res, err := db.ExecContext(ctx, c.query, c.args...)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		if n, err := res.RowsAffected(); n != c.want || err != nil {
			t.Errorf("%s: RowsAffected %d %v, want %d", c.query, n, err, c.want)
		}
		if c.query == "dbo.MergePatient" {
			if len(seen.Params) != 2 || seen.Params[0].Name != "@id" || seen.Params[0].Value != int64(5) ||
				seen.Params[1].Name != "@name" || seen.Params[1].Value != "Ann" || seen.SQL != "" {
				t.Errorf("procedure call seen as %+v", seen)
			}
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, "dbo.GetPatient", sql.Named("id", 5)).Scan(&n); err != nil || n != 1 {
		t.Errorf("procedure with a result set: %v %d", err, n)
	}
}

// TestHandlerError checks that handler errors arrive as mssql.Error.
func TestHandlerError(t *testing.T) {
	s := Start(t, func(ctx context.Context, q Query) (*Result, error) {
		switch {
		case strings.Contains(q.SQL, "Nope"):
			return nil, &Error{Number: 208, Class: 16, State: 1, Message: "Invalid object name 'dbo.Nope'."}
		case strings.Contains(q.SQL, "boom"):
			return nil, errors.New("boom")
		case strings.Contains(q.SQL, "badrow"):
			return &Result{Columns: []Column{{Name: "n", Type: Int}}, Rows: [][]any{{1}, {"x"}}}, nil
		}
		return one(), nil
	})
	db := openDB(t, s, "")
	ctx := testCtx(t)
	for _, c := range []struct {
		query  string
		args   []any
		number int32
		msg    string
	}{
		{"SELECT * FROM dbo.Nope", nil, 208, "Invalid object name 'dbo.Nope'."},
		{"SELECT * FROM dbo.Nope WHERE id = @p1", []any{1}, 208, "Invalid object name 'dbo.Nope'."},
		{"SELECT boom WHERE id = @p1", []any{1}, 50000, "boom"},
		{"SELECT badrow", nil, 50000, `tdstest: column "n": x (string) is not a 4-byte integer`},
	} {
		rows, err := db.QueryContext(ctx, c.query, c.args...)
		if err == nil { // an error after some rows surfaces from Next
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		var me mssql.Error
		if !errors.As(err, &me) || me.Number != c.number || me.Message != c.msg || me.Class != 16 {
			t.Errorf("%s: got %#v, want mssql.Error %d %q", c.query, err, c.number, c.msg)
		}
	}
	checkUsable(t, ctx, db, s)
}

// TestCancelMidResult reads a large result slowly, checks that the server
// is held back by the reader, then cancels: the driver sends ATTENTION,
// the server stops streaming and acknowledges, and the connection stays
// usable.
func TestCancelMidResult(t *testing.T) {
	const total = 10000
	wide := strings.Repeat("w", 2000) // 4000 bytes a row, 40 MB in all
	res := &Result{Columns: []Column{{Name: "id", Type: Int}, {Name: "wide", Type: NVarChar, Length: 2000}}}
	for i := range total {
		res.Rows = append(res.Rows, []any{i, wide})
	}
	s := Start(t, func(ctx context.Context, q Query) (*Result, error) {
		if q.SQL == "SELECT 1" {
			return one(), nil
		}
		return res, nil
	})
	db := openDB(t, s, "")
	ctx, cancel := context.WithCancel(testCtx(t))
	rows, err := db.QueryContext(ctx, "SELECT id, wide FROM big")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		var id int
		var w string
		if !rows.Next() {
			t.Fatalf("row %d: %v", i, rows.Err())
		}
		if err := rows.Scan(&id, &w); err != nil || id != i || w != wide {
			t.Fatalf("row %d: %v id %d", i, err, id)
		}
		time.Sleep(20 * time.Millisecond) // a slow reader, which the server must wait for
	}
	if sent := s.stats.rows.Load(); sent >= total {
		t.Errorf("server sent all %d rows to a reader that took 10: no backpressure", sent)
	}
	cancel()
	for rows.Next() {
	}
	if err := rows.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("rows.Err() = %v, want context.Canceled", err)
	}
	rows.Close()
	// Usually one ATTENTION; sometimes go-mssqldb's Rows.Close sends a
	// second one after the first was acknowledged (its select sees the
	// cancelled context before the closed token channel). The server then
	// answers it with a DONE(ATTN) reply of its own, and checkUsable shows
	// the stream stayed in sync either way.
	if n := s.Attentions(); n < 1 || n > 2 {
		t.Errorf("Attentions() = %d, want 1 (or 2)", n)
	}
	sent := s.stats.rows.Load()
	if sent >= total {
		t.Errorf("server streamed all %d rows despite the attention", sent)
	}
	checkUsable(t, testCtx(t), db, s)
	t.Logf("rows sent before the attention stopped the stream: %d of %d", sent, total)
}

// TestCancelWhileHandlerRuns cancels a query whose handler waits: the
// driver sends ATTENTION, the handler sees its context cancelled and the
// server acknowledges. After a plain cancel the driver keeps the
// connection; after a deadline it discards it, because go-mssqldb treats
// context.DeadlineExceeded (a net.Error) as a broken connection.
func TestCancelWhileHandlerRuns(t *testing.T) {
	for _, deadline := range []bool{false, true} {
		t.Run(fmt.Sprintf("deadline=%v", deadline), func(t *testing.T) {
			cancelled := make(chan error, 1)
			running := make(chan struct{})
			s := Start(t, func(ctx context.Context, q Query) (*Result, error) {
				if q.SQL == "SELECT 1" {
					return one(), nil
				}
				close(running)
				select {
				case <-ctx.Done():
					cancelled <- ctx.Err()
					return nil, ctx.Err()
				case <-time.After(10 * time.Second):
					return nil, errors.New("never cancelled")
				}
			})
			db := openDB(t, s, "")
			ctx, cancel := context.WithCancel(testCtx(t))
			want := context.Canceled
			if deadline {
				ctx, cancel = context.WithTimeout(testCtx(t), 200*time.Millisecond)
				want = context.DeadlineExceeded
			} else {
				go func() { <-running; cancel() }() // while the handler runs
			}
			defer cancel()
			if _, err := db.QueryContext(ctx, "WAITFOR DELAY '00:00:10'"); !errors.Is(err, want) {
				t.Errorf("query error %v, want %v", err, want)
			}
			select {
			case err := <-cancelled:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("handler context error %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("handler context was not cancelled")
			}
			if n := s.Attentions(); n != 1 {
				t.Errorf("Attentions() = %d, want 1", n)
			}
			if !deadline {
				checkUsable(t, testCtx(t), db, s)
				return
			}
			var n int
			if err := db.QueryRowContext(testCtx(t), "SELECT 1").Scan(&n); err != nil || s.accepted.Load() != 2 {
				t.Errorf("after a deadline: %v, %d connections, want a fresh second one", err, s.accepted.Load())
			}
		})
	}
}

// TestTenThousandRows streams 10,000 rows in 512-byte packets.
func TestTenThousandRows(t *testing.T) {
	const total = 10000
	res := &Result{Columns: []Column{
		{Name: "id", Type: BigInt},
		{Name: "name", Type: NVarChar, Length: 40},
		{Name: "balance", Type: Decimal, Precision: 12, Scale: 2, Nullable: true},
	}}
	for i := range total {
		var bal any = fmt.Sprintf("%d.%02d", i, i%100)
		if i%10 == 0 {
			bal = nil
		}
		res.Rows = append(res.Rows, []any{i, fmt.Sprintf("patient-%d", i), bal})
	}
	s := Start(t, func(ctx context.Context, q Query) (*Result, error) { return res, nil })
	db := openDB(t, s, "&packet+size=512")
	rows, err := db.QueryContext(testCtx(t), "SELECT id, name, balance FROM patient")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for ; rows.Next(); n++ {
		var id int64
		var name string
		var bal sql.NullString
		if err := rows.Scan(&id, &name, &bal); err != nil {
			t.Fatal(err)
		}
		wantBal := fmt.Sprintf("%d.%02d", n, n%100)
		if id != int64(n) || name != fmt.Sprintf("patient-%d", n) || bal.Valid != (n%10 != 0) || (bal.Valid && bal.String != wantBal) {
			t.Fatalf("row %d: %d %q %v", n, id, name, bal)
		}
	}
	if err := rows.Err(); err != nil || n != total {
		t.Fatalf("read %d rows: %v", n, err)
	}
	if p, m := s.stats.packets.Load(), s.stats.maxPacket.Load(); p < 100 || m > 512 {
		t.Errorf("%d packets, largest %d bytes: want many packets of at most 512", p, m)
	}
}
