package executor

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// appendString writes what encoding/json would decode back to the same
// text, for every kind of character, including invalid UTF-8.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	inputs := []string{"", "plain", `quote " and \ backslash`, "ctl \x00\x01\x1f\x7f", "tab\tnl\ncr\r",
		"accents é ü 漢字 🙂", "\u2028\u2029", "bad \xff\xfe utf8 \xe2\x82", "<html>&amp;</html>"}
	for _, s := range inputs {
		got := appendString(nil, s)
		if !json.Valid(got) {
			t.Errorf("%q: invalid JSON %s", s, got)
			continue
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q: decodes to %q, want %q", s, back, wantBack)
		}
		if string(appendString(nil, []byte(s))) != string(got) {
			t.Errorf("%q: []byte and string forms differ", s)
		}
	}
}

func TestAppendValue(t *testing.T) {
	at := time.Date(2024, 5, 31, 9, 30, 5, 250e6, time.FixedZone("AEST", 10*3600))
	cases := []struct {
		c    codec
		v    any
		want string
	}{
		{codecInteger, int64(math.MinInt64), "-9223372036854775808"},
		{codecInteger, uint64(math.MaxUint64), "18446744073709551615"},
		{codecBoolean, int64(0), "false"},
		{codecDecimal, int64(12), `"12"`},
		{codecDecimal, 12.5, `"12.5"`},
		{codecDecimal, []byte("-0.0100"), `"-0.0100"`},
		{codecFloat, 1e21, "1e+21"},
		{codecFloat, 0.1, "0.1"},
		{codecFloat32, float64(float32(0.1)), "0.1"},
		{codecFloat, math.NaN(), `"NaN"`},
		{codecFloat, math.Inf(-1), `"-Infinity"`},
		{codecDate, at, `"2024-05-31"`},
		{codecDateTime, at, `"2024-05-31T09:30:05.25"`},
		{codecDateTimeOffset, at, `"2024-05-31T09:30:05.25+10:00"`},
		{codecDateTimeOffset, at.UTC(), `"2024-05-30T23:30:05.25+00:00"`},
		{codecTime, time.Date(1, 1, 1, 23, 5, 0, 0, time.UTC), `"23:05:00"`},
		{codecBinary, []byte{0, 0xff}, `"AP8="`},
		{codecDynamic, []byte{1}, `"AQ=="`},
		// SQL Server sends 6F9619FF-8B86-D011-B42D-00C04FC964FF with its first three groups reversed.
		{codecUUIDMixed, []byte{0xff, 0x19, 0x96, 0x6f, 0x86, 0x8b, 0x11, 0xd0, 0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9, 0x64, 0xff},
			`"6f9619ff-8b86-d011-b42d-00c04fc964ff"`},
		{codecUUID, "6f9619ff-8b86-d011-b42d-00c04fc964ff", `"6f9619ff-8b86-d011-b42d-00c04fc964ff"`},
		{codecJSON, []byte("{\n  \"a\" : [1, 2],\t\"b\": \"x \\\" y\"\n}"), `{"a":[1,2],"b":"x \" y"}`},
		{codecJSON, []byte("  "), "null"},
		{codecInteger, "infinity", `"infinity"`},
		{codecString, nil, "null"},
		{codecString, struct{ A int }{1}, `"{1}"`},
	}
	for _, c := range cases {
		if got := string(appendValue(nil, c.c, c.v)); got != c.want {
			t.Errorf("codec %d %#v: %s, want %s", c.c, c.v, got, c.want)
		}
	}
}

// The hand-written time formats agree with time.AppendFormat.
func TestAppendTimeMatchesAppendFormat(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("", 10*3600), time.FixedZone("", -(9*3600 + 30*60)), time.FixedZone("", 5*3600+45*60)}
	times := []time.Time{
		time.Date(2024, 5, 31, 9, 30, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(1753, 1, 1, 12, 0, 0, 120000000, time.UTC),
		time.Date(-44, 3, 15, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	layouts := map[codec]string{codecDate: layoutDate, codecDateTime: layoutDateTime, codecDateTimeOffset: layoutDateTimeOffset, codecTime: layoutTime}
	for _, tm := range times {
		for _, z := range zones {
			for c, layout := range layouts {
				got, want := string(appendTime(nil, c, tm.In(z))), tm.In(z).Format(layout)
				if got != want {
					t.Errorf("%v codec %d: %s, want %s", tm.In(z), c, got, want)
				}
			}
		}
	}
}

// Encoding a row allocates nothing once the buffer has grown.
func TestEncodeRowDoesNotAllocate(t *testing.T) {
	r := &rowEncoder{
		keys:   [][]byte{[]byte(`"a":`), []byte(`,"b":`), []byte(`,"c":`), []byte(`,"d":`)},
		codecs: []codec{codecInteger, codecString, codecDateTime, codecDecimal},
		slots:  make([]slot, 4),
	}
	values := []any{int64(42), "Smith", time.Now(), []byte("12.50")}
	fill := func() {
		for i, v := range values {
			_ = r.slots[i].Scan(v)
		}
	}
	fill()
	r.encode()
	if n := testing.AllocsPerRun(100, func() { fill(); r.encode() }); n != 0 {
		t.Errorf("%v allocations per row", n)
	}
}
