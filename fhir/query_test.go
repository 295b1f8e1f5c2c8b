package fhir

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// Queries split on '&' only: a ';' is part of a value, as FHIR values may
// hold one (Go's url.ParseQuery refuses such pairs, and callers that ignore
// its error lose them silently).
func TestParseQuery(t *testing.T) {
	for raw, want := range map[string]url.Values{
		"family=zzasite;x=1":              {"family": {"zzasite;x=1"}},
		"_id=1;":                          {"_id": {"1;"}},
		"a=1&a=2&b=x+y%20z":               {"a": {"1", "2"}, "b": {"x y z"}},
		"family%3Aexact=O%27Brien":        {"family:exact": {"O'Brien"}},
		"given=a,b&&_count=2&":            {"given": {"a,b"}, "_count": {"2"}},
		"_summary":                        {"_summary": {""}},
		"name=a=b":                        {"name": {"a=b"}},
		"code=http://loinc.org%7C1234-5;": {"code": {"http://loinc.org|1234-5;"}},
		"note=%E2%9C%93%09tab":            {"note": {"✓\ttab"}},
		"":                                {},
	} {
		got, err := ParseQuery(raw)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseQuery(%q) = %v, %v; want %v", raw, got, err, want)
		}
	}
	for raw, want := range map[string]string{
		"family=%zz":       "family=%zz",
		"family=%2":        "family=%2",
		"family=abc%":      "family=abc%",
		"fam%G1ly=x":       "fam%G1ly=x",
		"family=%FF%FE":    "UTF-8",
		"family=a%00b":     "control character",
		"family=a%1Bb":     "control character",
		"ok=1&given=%e2%9": "given=%e2%9",
	} {
		_, err := ParseQuery(raw)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseQuery(%q) = %v, want an error mentioning %q", raw, err, want)
		}
	}
}
