package mappings

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

type decodeInner struct {
	OrgID   Int  `json:"org_id"`
	OrgName Text `json:"org_name"`
}

type decodeRow struct {
	ID      Int  `json:"id"`
	Name    Text `json:"name"`
	Born    Wall `json:"born"`
	Seen    Wall `json:"seen"`
	Code    Text `json:"code"`
	Count   Int  `json:"count"`
	Missing Text `json:"missing"`
	decodeInner
}

// TestDecodeRowMatchesEncodingJSON decodes the rows the engines send as
// json.Unmarshal did: nulls, numbers as text and text as numbers, escapes,
// padding, columns in another order, unknown and nested columns, names in
// another case.
func TestDecodeRowMatchesEncodingJSON(t *testing.T) {
	for _, row := range []string{
		`{"id":12,"name":"Smith  ","born":"1950-03-04","seen":"2024-05-06T09:10:11.5","code":7,"count":"42","org_id":1,"org_name":"Clinic"}`,
		`{"id":"12","name":null,"born":null,"seen":"2024-05-06 09:10","code":"  x ","count":null,"org_id":null,"org_name":"A \"quoted\" \u00e9 name\n"}`,
		`{"org_name":"Z","count":3.0,"_k0":12,"extra":{"a":[1,"}"],"b":null},"list":[1,2],"id":-5,"flag":true}`,
		`{"ID":9,"Name":"upper","ORG_ID":4}`,
		` { "id" : 1 , "name" : "spaced" } `,
		`{}`,
		`{"n\u0061me":"escaped key"}`,
	} {
		var want, got decodeRow
		if err := json.Unmarshal([]byte(row), &want); err != nil {
			t.Fatalf("%s: json: %v", row, err)
		}
		if err := DecodeRow([]byte(row), &got); err != nil {
			t.Fatalf("%s: %v", row, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", row, got, want)
		}
	}
}

func TestDecodeRowRefusesMalformedRows(t *testing.T) {
	for _, row := range []string{
		``, `[]`, `{"id":1`, `{"id" 1}`, `{"id":}`, `{"id":1,}`, `{"id":1}x`, `{"name":"open}`,
		`{"id":"x"}`, `{"id":1.5}`, `{"born":"not a date"}`, `{"other":nonsense}`, `{"other":{"a":1}`, `{id:1}`,
	} {
		var got decodeRow
		if err := DecodeRow([]byte(row), &got); err == nil {
			t.Errorf("%q decoded: %+v", row, got)
		}
	}
}

func TestDecodeRowRefusesOtherFieldTypes(t *testing.T) {
	type bad struct {
		N int `json:"n"`
	}
	var b bad
	if err := DecodeRow([]byte(`{"n":1}`), &b); err == nil || !strings.Contains(err.Error(), "Text, Int or Wall") {
		t.Fatalf("got %v", err)
	}
}

func BenchmarkDecodeRow(b *testing.B) {
	row := []byte(`{"id":12,"name":"Smith","born":"1950-03-04","seen":"2024-05-06T09:10:11.5","code":"ABC","count":42,"missing":null,"org_id":1,"org_name":"Clinic"}`)
	b.Run("DecodeRow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r decodeRow
			if err := DecodeRow(row, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r decodeRow
			if err := json.Unmarshal(row, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestParseWallFast checks the shortcut against the layouts it skips.
func TestParseWallFast(t *testing.T) {
	for _, s := range []string{
		"2024-05-06", "2024-02-29", "2023-02-29", "2024-02-30", "2024-13-01", "2024-00-10", "1900-02-29", "2000-02-29",
		"2024-05-06T09:10:11", "2024-05-06T09:10:11.5", "2024-05-06T09:10:11.123456789", "2024-05-06T23:59:59.999",
		"2024-05-06T24:00:00", "2024-05-06T09:60:00", "2024-05-06T09:10", "2024-05-06 09:10:11", "2024-05-06T09:10:11Z",
		"2024-05-06T09:10:11+10:00", "2024-5-06", "2024-05-06T09:10:11.", "2024-05-06T09:10:11.1234567890",
	} {
		var want Wall
		for _, l := range wallLayouts {
			if tm, err := time.Parse(l, s); err == nil {
				want = Wall{t: wall(tm), ok: true}
				break
			}
		}
		if tm, ok := parseWallFast(s); ok && (!want.ok || !tm.Equal(want.t)) {
			t.Errorf("%s: fast %v, layouts %v", s, tm, want)
		}
		got, err := ParseWall(s)
		if got != want || (err == nil) != want.ok {
			t.Errorf("%s: ParseWall %v %v, layouts %v", s, got, err, want)
		}
	}
}
