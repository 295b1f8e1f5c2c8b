package executor

import (
	"context"
	"strings"
	"sync"
	"testing"

	"fhirlink/agent/tdstest"
	"fhirlink/agent/wire"
)

// Timestamp is SQL Server's rowversion, binary(8): base64 or 0x and 16 hex
// digits. A Variant (sql_variant) that reaches the agent is a string (the
// server turns JSON numbers and booleans into typed parameters).
func TestParseTimestampAndVariant(t *testing.T) {
	want := string([]byte{0, 0, 0, 0, 0, 0, 0x07, 0xd1})
	for _, v := range []string{"AAAAAAAAB9E=", "0x00000000000007D1", "0X00000000000007d1", " AAAAAAAAB9E= "} {
		ps, we := parseParams([]wire.Param{{Name: "@ts", Type: "Timestamp", Value: str(v)}})
		if we != nil || string(ps[0].value.([]byte)) != want || ps[0].typ.kind != kindBinary {
			t.Errorf("Timestamp %q: %+v %v", v, ps, we)
		}
	}
	for _, v := range []string{"AAAAAAAB9E=", "AAAAAAAAAB9E", "0x07D1", "0x00000000000007DZ", "not base64!"} {
		_, we := parseParams([]wire.Param{{Name: "@ts", Type: "timestamp", Value: str(v)}})
		wantKind(t, we, wire.KindInvalid, "@ts: not a Timestamp (rowversion: 8 bytes")
	}
	ps, we := parseParams([]wire.Param{{Name: "@v", Type: "Variant", Value: str(" O'Brien ")}, {Name: "n", Type: "variant"}})
	if we != nil || ps[0].value != " O'Brien " || ps[0].typ.kind != kindString || ps[1].value != nil {
		t.Errorf("Variant: %+v %v", ps, we)
	}
}

// Each engine binds them: Timestamp as its 8 bytes, Variant as text.
func TestTimestampAndVariantOnEachEngine(t *testing.T) {
	params := func(nulls bool) []wire.Param {
		ps := []wire.Param{{Name: "@ts", Type: "Timestamp", Value: str("0x00000000000007D1")}, {Name: "@v", Type: "Variant", Value: str("O'Brien")}}
		if nulls {
			ps[0].Value, ps[1].Value = nil, nil
		}
		return ps
	}
	pg, _ := newPostgres(t, false)
	lite, _ := newSQLite(t, false)
	fb, _ := newFirebird(t, false)
	for _, c := range []struct {
		engine, text string
		e            *Executor
	}{
		{"postgres", "SELECT CAST(@ts AS bytea) AS ts, CAST(@v AS text) AS v", pg},
		{"sqlite", "SELECT @ts AS ts, @v AS v", lite},
		{"firebird", "SELECT CAST(@ts AS CHAR(8) CHARACTER SET OCTETS) AS ts, CAST(@v AS VARCHAR(40)) AS v FROM rdb$database", fb},
	} {
		for _, nulls := range []bool{false, true} {
			rec, _ := mustRun(t, c.e, wire.QueryRequest{Text: c.text, Params: params(nulls)})
			want := `{"ts":"AAAAAAAAB9E=","v":"O'Brien"}`
			if nulls {
				want = `{"ts":null,"v":null}`
			}
			if got := strings.ToLower(rec.rows[0]); got != strings.ToLower(want) {
				t.Errorf("%s nulls=%v: %s, want %s", c.engine, nulls, rec.rows[0], want)
			}
		}
	}
	var mu sync.Mutex
	var got tdstest.Query
	ms, _ := newTDS(t, func(ctx context.Context, q tdstest.Query) (*tdstest.Result, error) {
		mu.Lock()
		got = q
		mu.Unlock()
		return &tdstest.Result{Columns: []tdstest.Column{{Name: "n", Type: tdstest.Int}}, Rows: [][]any{{1}}}, nil
	})
	for n, decl := range []string{"@ts varbinary(8),@v nvarchar(7)", "@ts varbinary(max),@v nvarchar(4000)"} {
		mustRun(t, ms, wire.QueryRequest{Text: "SELECT COUNT(*) AS n FROM Appointments WHERE RowVer = @ts AND Note = @v", Params: params(n == 1)})
		mu.Lock()
		if got.ParamDecl != decl || (n == 0 && (!sameParam(got.Params[0].Value, []byte{0, 0, 0, 0, 0, 0, 7, 0xd1}) || got.Params[1].Value != "O'Brien")) {
			t.Errorf("sqlserver nulls=%v: declared %q, values %#v", n == 1, got.ParamDecl, got.Params)
		}
		mu.Unlock()
	}
}
