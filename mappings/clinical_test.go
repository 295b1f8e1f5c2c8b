package mappings

import (
	"strings"
	"testing"

	"fhirlink/fhir"
)

func TestPartialDate(t *testing.T) {
	for _, c := range []struct {
		y, m, d int
		want    string
	}{
		{2019, 3, 14, "2019-03-14"}, {2019, 3, 0, "2019-03"}, {2019, 0, 0, "2019"}, {2019, 0, 14, "2019"},
		{2020, 2, 29, "2020-02-29"}, {2019, 2, 29, "2019-02"}, {2019, 13, 1, "2019"}, {0, 3, 14, ""}, {812, 1, 1, "0812-01-01"},
	} {
		if got := PartialDate(c.y, c.m, c.d); got != c.want {
			t.Errorf("PartialDate(%d, %d, %d) = %q, want %q", c.y, c.m, c.d, got, c.want)
		}
	}
}

func TestDecimal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		dec  int
		ok   bool
	}{
		{"37.2", "37.2", 1, true}, {" 120 ", "120", 0, true}, {"0.40", "0.40", 2, true}, {"-1.5", "-1.5", 1, true},
		{">90", "", 0, false}, {"neg", "", 0, false}, {"", "", 0, false}, {"1.2.3", "", 0, false}, {"1e3", "", 0, false},
	} {
		v, dec, ok := Decimal(c.in)
		if ok != c.ok || ok && (dec != c.dec || quantity(v, dec, "", "", "") != `{"valueQuantity":{"value":`+c.want+`}}`) {
			t.Errorf("Decimal(%q) = %v, %d, %v", c.in, v, dec, ok)
		}
	}
	if q := quantity(120, 0, "", "mmHg", "mm[Hg]"); q != `{"valueQuantity":{"value":120,"unit":"mmHg","system":"`+CodeSystemUCUM+`","code":"mm[Hg]"}}` {
		t.Errorf("Quantity: %s", q)
	}
	if q := quantity(2.5, 1, "<", "", ""); q != `{"valueQuantity":{"value":2.5,"comparator":"\u003c"}}` {
		t.Errorf("Quantity without a unit: %s", q)
	}
}

// quantity is the Quantity written as valueQuantity, alone in an object.
func quantity(value float64, decimals int, comparator, unit, code string) string {
	return member(func(w *JSON) { w.Quantity("valueQuantity", value, decimals, comparator, unit, code) })
}

// member is what write writes, in an object of its own.
func member(write func(*JSON)) string {
	w := NewResource("")
	w.buf = append(w.buf[:0], '{')
	w.more = false
	write(w)
	return string(w.Bytes())
}

func TestClinicalMatchers(t *testing.T) {
	b := &Builder{Dialect: sqlite{}}
	id := PrefixedID(map[string]func(string) string{"vs": func(p string) string { return "v = " + p }})
	for code, want := range map[string]string{"vs-12": "v = @p1", "vs-012": SQLFalse, "xx-12": SQLFalse, "12": SQLFalse, "vs-": SQLFalse} {
		b.params = nil
		if got, err := id.Match(b, "", fhir.Value{Code: code}); err != nil || got != want {
			t.Errorf("PrefixedID %q: %q, %v; want %q", code, got, err, want)
		}
	}
	loinc := "http://loinc.org"
	other := "http://snomed.info/sct"
	empty := ""
	col := CodeColumn(loinc, "c")
	for _, c := range []struct {
		v    fhir.Value
		want string
	}{
		{fhir.Value{Code: "4548-4"}, "RTRIM(c) = @p1"},
		{fhir.Value{System: &loinc, Code: "4548-4"}, "RTRIM(c) = @p1"},
		{fhir.Value{System: &other, Code: "4548-4"}, SQLFalse},
		{fhir.Value{System: &loinc}, "RTRIM(c) <> ''"},
		{fhir.Value{System: &empty, Code: "x"}, SQLFalse},
	} {
		b.params = nil
		if got, err := col.Match(b, "", c.v); err != nil || got != c.want {
			t.Errorf("CodeColumn %+v: %q, %v; want %q", c.v, got, err, c.want)
		}
	}
	if _, err := col.Match(b, fhir.ModifierExact, fhir.Value{Code: "x"}); err == nil {
		t.Error("CodeColumn took :exact")
	}
	if got := AddSeconds(sqlServer{}, "d", "s"); got != "DATEADD(second, s, d)" {
		t.Error(got)
	}
	if got := AddSeconds(postgres{}, "d", "s"); !strings.Contains(got, "INTERVAL '1 second'") {
		t.Error(got)
	}
}
