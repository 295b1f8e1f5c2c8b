package mappings

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fhirlink/fhir"
)

func TestSplitWall(t *testing.T) {
	syd, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		t    time.Time
		ceil bool
		day  string
		secs int
	}{
		{time.Date(2026, 4, 5, 9, 0, 0, 0, syd), false, "2026-04-05", 9 * 3600},
		{time.Date(2026, 4, 5, 9, 0, 0, 500, syd), false, "2026-04-05", 9 * 3600},
		{time.Date(2026, 4, 5, 9, 0, 0, 500, syd), true, "2026-04-05", 9*3600 + 1},
		{time.Date(2026, 10, 4, 23, 59, 59, 0, syd), true, "2026-10-04", 86399},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Hour), false, "0001-01-01", 0},
	} {
		day, secs := SplitWall(c.t, c.ceil)
		if day.Format(time.DateOnly) != c.day || secs != c.secs || day.Location() != time.UTC {
			t.Errorf("SplitWall(%v, %v) = %v, %d; want %s, %d", c.t, c.ceil, day, secs, c.day, c.secs)
		}
	}
}

func TestPeriodMatcher(t *testing.T) {
	m := Period(DayTime{Date: `a."D"`, Secs: `a."T"`}, `a."L"`)
	lo := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	hi := lo.AddDate(0, 0, 1)
	for prefix, want := range map[fhir.Prefix]string{
		fhir.PrefixEq: `((a."D" > @p1 OR (a."D" = @p1 AND a."T" >= @p2)) AND (a."D" < @p3 OR (a."D" = @p3 AND (a."T" + a."L") <= @p4)))`,
		fhir.PrefixGt: `(a."D" > @p1 OR (a."D" = @p1 AND (a."T" + a."L") > @p2))`,
		fhir.PrefixLt: `(a."D" < @p1 OR (a."D" = @p1 AND a."T" < @p2))`,
		fhir.PrefixSa: `(a."D" > @p1 OR (a."D" = @p1 AND a."T" >= @p2))`,
		fhir.PrefixEb: `(a."D" < @p1 OR (a."D" = @p1 AND (a."T" + a."L") <= @p2))`,
	} {
		b := &Builder{Dialect: sqlite{}}
		got, err := m.Match(b, "", fhir.Value{Prefix: prefix, Lo: lo, Hi: hi})
		if err != nil || got != want {
			t.Errorf("%s: %s (%v)\nwant %s", prefix, got, err, want)
		}
		if v := *b.Params()[0].Value; !strings.HasPrefix(v, "2026-06-1") || b.Params()[0].Type != ParamDateTime {
			t.Errorf("%s: first parameter %s %q", prefix, b.Params()[0].Type, v)
		}
	}
	if _, err := m.Match(&Builder{Dialect: sqlite{}}, "", fhir.Value{Prefix: "xx", Lo: lo, Hi: hi}); !isBadRequest(err) {
		t.Errorf("unknown prefix: %v", err)
	}
	if _, err := m.Match(&Builder{Dialect: sqlite{}}, "exact", fhir.Value{Lo: lo, Hi: hi}); !isBadRequest(err) {
		t.Errorf("modifier: %v", err)
	}
}

func TestMomentMatcher(t *testing.T) {
	m := Moment(DayTime{Date: `a."D"`, Secs: `a."T"`})
	// 10:00:00 to 10:00:01 (a value of seconds' precision), and a whole day.
	lo := time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		prefix fhir.Prefix
		hi     time.Time
		want   string
		params []string
	}{
		{fhir.PrefixEq, lo.Add(time.Second), `((a."D" > @p1 OR (a."D" = @p1 AND a."T" >= @p2)) AND (a."D" < @p3 OR (a."D" = @p3 AND a."T" < @p4)))`,
			[]string{"2026-06-15T00:00:00", "36000", "2026-06-15T00:00:00", "36001"}},
		{fhir.PrefixGe, lo.Add(time.Minute), `(a."D" > @p1 OR (a."D" = @p1 AND a."T" >= @p2))`, []string{"2026-06-15T00:00:00", "36000"}},
		{fhir.PrefixGt, lo.Add(time.Minute), `(a."D" > @p1 OR (a."D" = @p1 AND a."T" >= @p2))`, []string{"2026-06-15T00:00:00", "36060"}},
		{fhir.PrefixLe, lo.Add(time.Minute), `(a."D" < @p1 OR (a."D" = @p1 AND a."T" < @p2))`, []string{"2026-06-15T00:00:00", "36060"}},
		{fhir.PrefixLt, lo.Add(time.Minute), `(a."D" < @p1 OR (a."D" = @p1 AND a."T" < @p2))`, []string{"2026-06-15T00:00:00", "36000"}},
		{fhir.PrefixSa, lo.Add(time.Minute), `(a."D" > @p1 OR (a."D" = @p1 AND a."T" >= @p2))`, []string{"2026-06-15T00:00:00", "36060"}},
		{fhir.PrefixEb, lo.Add(time.Minute), `(a."D" < @p1 OR (a."D" = @p1 AND a."T" < @p2))`, []string{"2026-06-15T00:00:00", "36000"}},
		{fhir.PrefixNe, lo.Add(time.Minute), `((a."D" < @p1 OR (a."D" = @p1 AND a."T" < @p2)) OR (a."D" > @p3 OR (a."D" = @p3 AND a."T" >= @p4)))`,
			[]string{"2026-06-15T00:00:00", "36000", "2026-06-15T00:00:00", "36060"}},
		{fhir.PrefixAp, lo.Add(time.Minute), `((a."D" > @p1 OR (a."D" = @p1 AND a."T" >= @p2)) AND (a."D" < @p3 OR (a."D" = @p3 AND a."T" < @p4)))`,
			[]string{"2026-06-15T00:00:00", "36000", "2026-06-15T00:00:00", "36060"}},
	} {
		b := &Builder{Dialect: sqlite{}}
		got, err := m.Match(b, "", fhir.Value{Prefix: c.prefix, Lo: lo, Hi: c.hi})
		if err != nil || got != c.want {
			t.Errorf("%s: %s (%v)\nwant %s", c.prefix, got, err, c.want)
			continue
		}
		var params []string
		for _, p := range b.Params() {
			params = append(params, *p.Value)
		}
		if strings.Join(params, " ") != strings.Join(c.params, " ") {
			t.Errorf("%s: parameters %q, want %q", c.prefix, params, c.params)
		}
	}
	// A fraction of a second rounds to the whole seconds the PMS stores.
	b := &Builder{Dialect: sqlite{}}
	if _, err := m.Match(b, "", fhir.Value{Prefix: fhir.PrefixGe, Lo: lo.Add(500 * time.Millisecond), Hi: lo.Add(time.Second)}); err != nil || *b.Params()[1].Value != "36001" {
		t.Errorf("ge 10:00:00.5: %v %v", err, *b.Params()[1].Value)
	}
	if _, err := m.Match(&Builder{Dialect: sqlite{}}, "", fhir.Value{Prefix: "xx", Lo: lo, Hi: lo.Add(time.Second)}); !isBadRequest(err) {
		t.Errorf("unknown prefix: %v", err)
	}
	if _, err := m.Match(&Builder{Dialect: sqlite{}}, "exact", fhir.Value{Lo: lo, Hi: lo.Add(time.Second)}); !isBadRequest(err) {
		t.Errorf("modifier: %v", err)
	}
}

func isBadRequest(err error) bool {
	var bad *BadRequestError
	return errors.As(err, &bad)
}

func TestReferences(t *testing.T) {
	m := References(RefTarget{"Patient", "p"}, RefTarget{"Location", "l"})
	for _, c := range []struct {
		mod, typ, id, want string
	}{
		{"", "Patient", "5", "p = @p1"},
		{"", "", "5", "(p = @p1 OR l = @p1)"},
		{"Location", "", "5", "l = @p1"},
		{"Location", "Patient", "5", SQLFalse},
		{"", "Practitioner", "5", SQLFalse},
		{"", "", "05", SQLFalse},
	} {
		got, err := m.Match(&Builder{Dialect: sqlite{}}, c.mod, fhir.Value{RefType: c.typ, RefID: c.id})
		if err != nil || got != c.want {
			t.Errorf("%+v: %s (%v)", c, got, err)
		}
	}
	if _, err := m.Match(&Builder{Dialect: sqlite{}}, "Group", fhir.Value{RefID: "5"}); !isBadRequest(err) {
		t.Errorf(":Group: %v", err)
	}
}

func TestStrictCodes(t *testing.T) {
	m := StrictCodes("urn:s", map[string]string{"a": "x = 1"}, []string{"a", "b"})
	other := "urn:other"
	for _, c := range []struct {
		v    fhir.Value
		want string
	}{
		{fhir.Value{Code: "a"}, "x = 1"},
		{fhir.Value{Code: "b"}, SQLFalse},
		{fhir.Value{Code: "zz", System: &other}, SQLFalse},
	} {
		if got, err := m.Match(&Builder{Dialect: sqlite{}}, "", c.v); err != nil || got != c.want {
			t.Errorf("%+v: %s (%v)", c.v, got, err)
		}
	}
	if _, err := m.Match(&Builder{Dialect: sqlite{}}, "", fhir.Value{Code: "zz"}); !isBadRequest(err) || !strings.Contains(err.Error(), "a, b") {
		t.Errorf("unknown code: %v", err)
	}
}
