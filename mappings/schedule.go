package mappings

import (
	"strconv"
	"strings"
	"time"

	"fhirlink/fhir"
)

// Helpers for scheduling data, which PMSs store as a date column (the day at
// midnight, practice wall clock) and a time of day in seconds since
// midnight, with a length in seconds.

// DayTime is a wall-clock moment held as a date column and a
// seconds-since-midnight expression.
type DayTime struct {
	Date string // a datetime column holding the day at midnight
	Secs string // an integer expression: seconds after that midnight
}

// SplitWall splits a wall-clock time (read in its own location) into its
// day at midnight and its whole seconds since midnight, rounding a
// fraction of a second up when ceil. A time outside the engines' datetime
// range is clamped.
func SplitWall(t time.Time, ceil bool) (day time.Time, secs int) {
	w := wall(t)
	if w.Before(minWall) {
		w = minWall
	}
	if w.After(maxWall) {
		w = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	}
	day = time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
	secs = w.Hour()*3600 + w.Minute()*60 + w.Second()
	if ceil && w.Nanosecond() > 0 {
		secs++ // PMS times are whole seconds
	}
	return day, secs
}

// DayParam binds a day (its wall-clock date at midnight) as a datetime
// parameter.
func DayParam(b *Builder, day time.Time) string {
	return wallParam(b, time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC))
}

// AtOrAfter is the predicate "the moment (date, secs) is at or after the
// wall-clock moment t" (strictly after when strict), without date
// arithmetic in SQL: the day is later, or the same day at a later time.
// Index-friendly on the date column.
func AtOrAfter(b *Builder, date, secs string, t time.Time, strict bool) string {
	day, s := SplitWall(t, !strict) // x >= 9:00:00.5 is x >= 9:00:01; x > 9:00:00.5 is x > 9:00:00
	d := DayParam(b, day)
	op := " >= "
	if strict {
		op = " > "
	}
	return "(" + date + " > " + d + " OR (" + date + " = " + d + " AND " + secs + op + b.Param(ParamInt, strconv.Itoa(s)) + "))"
}

// Before is the predicate "the moment (date, secs) is before the wall-clock
// moment t" (at or before when orEqual).
func Before(b *Builder, date, secs string, t time.Time, orEqual bool) string {
	day, s := SplitWall(t, !orEqual)
	d := DayParam(b, day)
	op := " < "
	if orEqual {
		op = " <= "
	}
	return "(" + date + " < " + d + " OR (" + date + " = " + d + " AND " + secs + op + b.Param(ParamInt, strconv.Itoa(s)) + "))"
}

// Period matches a date parameter against a period [start, start+length)
// held as a day column, a seconds-since-midnight start and a length in
// seconds (an appointment), by FHIR's rules for a search range [Lo, Hi)
// against a target range: eq the search range contains the period, ne it
// does not, gt/lt the period reaches after/before the search range, ge/le
// likewise or overlapping, sa/eb the period starts after/ends before it, ap
// the two overlap. Comparisons are of the practice's wall clock, without
// date arithmetic in SQL: an end is its start's date with seconds that may
// pass 86400, which compares right with any bound on or before that date
// and with midnight after it; a period running past midnight into a bound
// later on the next day (not seen in a GP's book) is compared as ending at
// that midnight.
func Period(start DayTime, length string) Matcher {
	end := DayTime{Date: start.Date, Secs: "(" + start.Secs + " + " + length + ")"}
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if modifier != fhir.ModifierNone {
			return "", badRequest("", "modifier :%s does not apply to a date parameter", modifier)
		}
		if v.Lo.IsZero() || v.Hi.IsZero() || !v.Lo.Before(v.Hi) {
			return "", badRequest("", "the date has no range")
		}
		lo, hi := v.Lo, v.Hi
		startGE := func(t time.Time) string { return AtOrAfter(b, start.Date, start.Secs, t, false) }
		startLT := func(t time.Time) string { return Before(b, start.Date, start.Secs, t, false) }
		endGT := func(t time.Time) string { return AtOrAfter(b, end.Date, end.Secs, t, true) }
		endLE := func(t time.Time) string { return Before(b, end.Date, end.Secs, t, true) }
		switch v.Prefix {
		case fhir.PrefixEq, "":
			return "(" + startGE(lo) + " AND " + endLE(hi) + ")", nil
		case fhir.PrefixNe:
			return "(" + startLT(lo) + " OR " + endGT(hi) + ")", nil
		case fhir.PrefixGt:
			return endGT(hi), nil
		case fhir.PrefixLt:
			return startLT(lo), nil
		case fhir.PrefixGe:
			return endGT(lo), nil
		case fhir.PrefixLe:
			return startLT(hi), nil
		case fhir.PrefixSa:
			return startGE(hi), nil
		case fhir.PrefixEb:
			return endLE(lo), nil
		case fhir.PrefixAp:
			return "(" + startLT(hi) + " AND " + endGT(lo) + ")", nil
		}
		return "", badRequest("", "unknown date prefix %q", v.Prefix)
	})
}

// Moment matches a date parameter against one moment held as a day column and
// a seconds-since-midnight expression (an appointment's start, which R4's
// Appointment date parameter is), by FHIR's rules for a search range
// [Lo, Hi) against a point: eq (and ap) the moment lies in the range, ne it
// does not, ge it is at or after Lo, gt and sa at or after Hi, le before Hi,
// lt and eb before Lo. Comparisons are of the practice's wall clock, in whole
// seconds as the PMS stores them.
func Moment(at DayTime) Matcher {
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if modifier != fhir.ModifierNone {
			return "", badRequest("", "modifier :%s does not apply to a date parameter", modifier)
		}
		if v.Lo.IsZero() || v.Hi.IsZero() || !v.Lo.Before(v.Hi) {
			return "", badRequest("", "the date has no range")
		}
		atOrAfter := func(t time.Time) string { return AtOrAfter(b, at.Date, at.Secs, t, false) }
		before := func(t time.Time) string { return Before(b, at.Date, at.Secs, t, false) }
		switch v.Prefix {
		case fhir.PrefixEq, "", fhir.PrefixAp:
			return "(" + atOrAfter(v.Lo) + " AND " + before(v.Hi) + ")", nil
		case fhir.PrefixNe:
			return "(" + before(v.Lo) + " OR " + atOrAfter(v.Hi) + ")", nil
		case fhir.PrefixGe:
			return atOrAfter(v.Lo), nil
		case fhir.PrefixGt, fhir.PrefixSa:
			return atOrAfter(v.Hi), nil
		case fhir.PrefixLe:
			return before(v.Hi), nil
		case fhir.PrefixLt, fhir.PrefixEb:
			return before(v.Lo), nil
		}
		return "", badRequest("", "unknown date prefix %q", v.Prefix)
	})
}

// SortDayTime sorts by the moment a day column and a seconds-since-midnight
// expression (both non-null) make, as one datetime.
func SortDayTime(date, secs string) Sort {
	return Sort{expr: func(d Dialect) string { return d.AddSeconds(date, secs) }, typ: ParamDateTime}
}

// CastDateTime is a datetime parameter cast to the engine's datetime type,
// for places where nothing else gives it a type (a SELECT list).
func CastDateTime(d Dialect, param string) string { return d.CastDateTime(param) }

// CastInt is an integer parameter cast to an integer, for places where
// nothing else gives it a type.
func CastInt(param string) string { return "CAST(" + param + " AS INTEGER)" }

// RefTarget is one resource type a reference parameter may point at, and
// the integer column holding its id.
type RefTarget struct {
	Type string
	Expr string
}

// References matches a reference parameter with several target types (an
// appointment's actor): "Type/123" matches that type's column, a bare "123"
// any of them; the modifier :Type restricts a bare id to that type.
func References(targets ...RefTarget) Matcher {
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		typ := v.RefType
		if modifier != fhir.ModifierNone {
			ok := false
			for _, t := range targets {
				ok = ok || t.Type == modifier
			}
			if !ok {
				return "", badRequest("", "modifier :%s does not apply (the parameter refers to %s)", modifier, refTypes(targets))
			}
			if typ != "" && typ != modifier {
				return SQLFalse, nil
			}
			typ = modifier
		}
		id, ok := canonicalID(v.RefID)
		if !ok {
			return SQLFalse, nil
		}
		var parts []string
		var p string
		for _, t := range targets {
			if typ != "" && typ != t.Type {
				continue
			}
			if p == "" {
				p = b.Param(ParamInt, id)
			}
			parts = append(parts, t.Expr+" = "+p)
		}
		return or(parts), nil
	})
}

func refTypes(targets []RefTarget) string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Type
	}
	return strings.Join(names, ", ")
}

// StrictCodes matches a token against a fixed code list like Codes, but a
// code outside the value set valid is a bad request (naming the valid
// codes), while a valid code without a predicate matches nothing.
func StrictCodes(system string, codes map[string]string, valid []string) Matcher {
	inner := Codes(system, codes)
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if err := tokenModifier(modifier); err != nil {
			return "", err
		}
		if v.System == nil || *v.System == system {
			known := false
			for _, c := range valid {
				known = known || c == v.Code
			}
			if !known {
				return "", badRequest("", "%q is not a code of %s (use one of %s)", v.Code, system, strings.Join(valid, ", "))
			}
		}
		return inner.Match(b, modifier, v)
	})
}

// BadRequest is a BadRequestError for param, for mappings that check a
// search beyond what a table does.
func BadRequest(param, format string, args ...any) error {
	return badRequest(param, format, args...)
}
