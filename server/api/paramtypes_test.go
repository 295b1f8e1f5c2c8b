package api_test

import (
	"strings"
	"testing"

	"fhirlink/server/fhirlinktest"
)

// A Variant parameter (sql_variant) takes its type from its JSON value: a
// string is NVarChar, an integer Int or BigInt, a number with a fraction
// Decimal (exact), one with an exponent Float, a boolean Bit. SQLite shows
// what was bound. A Timestamp (rowversion) is its 8 bytes.
func TestVariantAndTimestampParameters(t *testing.T) {
	env, _ := sqlitePractice(t, fhirlinktest.Options{})
	for value, want := range map[string]string{
		`"42"`:        `{"t":"text","v":"42"}`,
		`42`:          `{"t":"integer","v":42}`,
		`-3000000000`: `{"t":"integer","v":-3000000000}`,
		`12.50`:       `{"t":"text","v":"12.50"}`,
		`1.5e3`:       `{"t":"real","v":1500}`,
		`true`:        `{"t":"integer","v":1}`,
		`null`:        `{"t":"null","v":null}`,
	} {
		body := `{"command":{"text":"SELECT typeof(@v) AS t, @v AS v","parameters":[{"name":"@v","type":"Variant","value":` + value + `}]}}`
		status, q := env.Immediate(body)
		if status != 200 || q.Result == nil || string(q.Result.Data) != "["+want+"]" {
			t.Errorf("Variant %s: %d %s, want %s", value, status, q.Raw, want)
		}
	}
	status, q := env.Immediate(`{"command":{"text":"SELECT hex(@ts) AS h","parameters":[{"name":"@ts","type":"Timestamp","value":"0x00000000000007D1"}]}}`)
	if status != 200 || string(q.Result.Data) != `[{"h":"00000000000007D1"}]` {
		t.Errorf("Timestamp: %d %s", status, q.Raw)
	}
	for body, msg := range map[string]string{
		`{"command":{"text":"SELECT @v","parameters":[{"name":"@v","type":"Int","value":42}]}}`:             "string or null",
		`{"command":{"text":"SELECT @v","parameters":[{"name":"@v","type":"Variant","value":{"a":1}}]}}`:    "Variant",
		`{"command":{"text":"SELECT @v","parameters":[{"name":"@v","type":"Variant","value":[1]}]}}`:        "Variant",
		`{"command":{"text":"SELECT @ts","parameters":[{"name":"@ts","type":"Timestamp","value":"AQI="}]}}`: "8 bytes",
		`{"command":{"text":"SELECT @s","parameters":[{"name":"@s","type":"Structured","value":"x"}]}}`:     "unsupported",
	} {
		status, q := env.Immediate(body)
		if status != 400 || !strings.Contains(string(q.Raw), msg) {
			t.Errorf("%s: %d %s, want 400 saying %q", body, status, q.Raw, msg)
		}
	}
}
