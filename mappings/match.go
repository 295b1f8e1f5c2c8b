package mappings

import (
	"strconv"
	"strings"
	"time"

	"fhirlink/fhir"
)

// This file holds the predicate builders every PMS mapping shares: each
// turns one value of a search parameter into SQL whose only request-derived
// parts are bound parameters.

// ---- string parameters ----

// Target is one element a string parameter is matched against, such as a
// name column. String ORs its targets.
type Target func(b *Builder, modifier string, v *StringValue) string

// StringValue is one string value being matched; it binds each form of the
// value (prefix pattern, substring pattern, exact text) once, however many
// targets use it.
type StringValue struct {
	Text                    string
	prefix, contains, exact string
}

// Prefix is the placeholder of the case-insensitive starts-with pattern.
func (v *StringValue) Prefix(b *Builder) string {
	if v.prefix == "" {
		v.prefix = b.Param(ParamVarChar, b.Dialect.EscapeLike(v.Text)+"%")
	}
	return v.prefix
}

// Contains is the placeholder of the case-insensitive substring pattern.
func (v *StringValue) Contains(b *Builder) string {
	if v.contains == "" {
		v.contains = b.Param(ParamVarChar, "%"+b.Dialect.EscapeLike(v.Text)+"%")
	}
	return v.contains
}

// Exact is the placeholder of the value itself.
func (v *StringValue) Exact(b *Builder) string {
	if v.exact == "" {
		v.exact = b.Param(ParamVarChar, v.Text)
	}
	return v.exact
}

// Col matches a text column (char(n) or varchar): by default a
// case-insensitive prefix, :contains a case-insensitive substring, :exact
// the whole value with case significant.
func Col(expr string) Target {
	return func(b *Builder, modifier string, v *StringValue) string {
		switch modifier {
		case fhir.ModifierExact:
			return b.Dialect.Equal(expr, v.Exact(b))
		case fhir.ModifierContains:
			return b.Dialect.Like(expr, v.Contains(b))
		}
		return b.Dialect.Like(expr, v.Prefix(b))
	}
}

// String matches a string parameter against any of targets.
func String(targets ...Target) Matcher {
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		switch modifier {
		case fhir.ModifierNone, fhir.ModifierExact, fhir.ModifierContains:
		default:
			return "", badRequest("", "modifier :%s does not apply to a string parameter (use :exact or :contains)", modifier)
		}
		sv := &StringValue{Text: v.String}
		parts := make([]string, len(targets))
		for i, t := range targets {
			parts[i] = t(b, modifier, sv)
		}
		return or(parts), nil
	})
}

// or joins predicates with OR, parenthesised when there are several,
// leaving out those that can never match.
func or(parts []string) string { return orSep(parts, " OR ") }

func orSep(parts []string, sep string) string {
	var keep []string
	for _, p := range parts {
		if p != SQLFalse {
			keep = append(keep, p)
		}
	}
	switch len(keep) {
	case 0:
		return SQLFalse
	case 1:
		return keep[0]
	}
	return "(" + strings.Join(keep, sep) + ")"
}

// ---- token parameters ----

// tokenModifier refuses modifiers a plain token matcher does not take (:not
// is handled by the table).
func tokenModifier(modifier string) error {
	if modifier != fhir.ModifierNone {
		return badRequest("", "modifier :%s does not apply here (only :not)", modifier)
	}
	return nil
}

// canonicalID returns s as a 32-bit integer key when s is one written
// canonically (no sign, no leading zeros): "007" is not the id "7".
func canonicalID(s string) (string, bool) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return "", false
	}
	return s, true
}

// ID matches a resource id held in an integer key column. An id that is
// not such an integer matches nothing (a read of it is a 404, not a 400).
func ID(expr string) Matcher {
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if err := tokenModifier(modifier); err != nil {
			return "", err
		}
		id, ok := canonicalID(v.Code)
		if !ok {
			return SQLFalse, nil
		}
		return expr + " = " + b.Param(ParamInt, id), nil
	})
}

// Codes matches a token against a fixed code list. Each code maps to a
// predicate written with constants only (never request values); a code not
// in the list, or a system other than system, matches nothing.
func Codes(system string, codes map[string]string) Matcher {
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if err := tokenModifier(modifier); err != nil {
			return "", err
		}
		if v.System != nil && *v.System != system {
			return SQLFalse, nil
		}
		if pred, ok := codes[v.Code]; ok {
			return pred, nil
		}
		return SQLFalse, nil
	})
}

// Bool matches a boolean token (true or false) with the given predicates.
// Any other code is a bad request.
func Bool(whenTrue, whenFalse string) Matcher {
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if err := tokenModifier(modifier); err != nil {
			return "", err
		}
		if v.System != nil && *v.System != "" {
			return SQLFalse, nil
		}
		switch v.Code {
		case "true":
			return whenTrue, nil
		case "false":
			return whenFalse, nil
		}
		return "", badRequest("", "%q is not a boolean: use true or false", v.Code)
	})
}

// IdentifierSystem is one identifier system a resource carries and how a
// value of it is found in the tables.
type IdentifierSystem struct {
	// System is the identifier's system URI; with Scoped, the prefix of
	// systems made of it, "/" and a scope (an HPI-O or ABN scoped record
	// number).
	System string
	Scoped bool
	// SystemOnly leaves the system out of searches by a bare value (when
	// another entry already matches the same column).
	SystemOnly bool
	// Match is the predicate for value in this system. scope is the scope
	// the search named, or "" when it named no system.
	Match func(b *Builder, scope, value string) string
	// Present is the predicate for having any identifier of this system
	// (the search system|).
	Present func(b *Builder, scope string) string
}

// IdentifierColumn is an identifier held as it is written in one column.
// normalise, if not nil, rewrites the searched value (removing spaces, say);
// a value it returns empty matches nothing.
func IdentifierColumn(system, expr string, normalise func(string) string) IdentifierSystem {
	return IdentifierSystem{
		System: system,
		Match: func(b *Builder, _, value string) string {
			if normalise != nil {
				value = normalise(value)
			}
			if value == "" {
				return SQLFalse
			}
			return b.Dialect.EqualFold(expr, b.Param(ParamVarChar, value))
		},
		Present: func(b *Builder, _ string) string { return b.Dialect.Trim(expr) + " <> ''" },
	}
}

// Identifiers matches an identifier token: system|value in one of systems,
// a bare value in any of them, system| for having one; |value (no system)
// matches nothing, since every identifier here has a system.
func Identifiers(systems ...IdentifierSystem) Matcher {
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if err := tokenModifier(modifier); err != nil {
			return "", err
		}
		if v.System == nil {
			if v.Code == "" {
				return SQLFalse, nil
			}
			var parts []string
			for _, s := range systems {
				if !s.SystemOnly {
					parts = append(parts, s.Match(b, "", v.Code))
				}
			}
			return or(parts), nil
		}
		for _, s := range systems {
			scope, ok := "", *v.System == s.System && !s.Scoped
			if s.Scoped {
				scope, ok = strings.CutPrefix(*v.System, s.System+"/")
				ok = ok && scope != ""
			}
			if !ok {
				continue
			}
			if v.Code == "" {
				return s.Present(b, scope), nil
			}
			return s.Match(b, scope, v.Code), nil
		}
		return SQLFalse, nil
	})
}

// Phone matches a phone number in any of the columns, ignoring spaces,
// dashes and brackets on both sides; +61 is read as the leading 0.
func Phone(exprs ...string) Matcher {
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if err := tokenModifier(modifier); err != nil {
			return "", err
		}
		n := NormalisePhone(v.Code)
		if n == "" {
			return SQLFalse, nil
		}
		p := b.Param(ParamVarChar, n)
		parts := make([]string, len(exprs))
		for i, e := range exprs {
			parts[i] = phoneDigits(e) + " = " + p
		}
		return or(parts), nil
	})
}

// phoneDigits strips a phone column of the punctuation people type.
func phoneDigits(expr string) string {
	return "REPLACE(REPLACE(REPLACE(REPLACE(" + expr + ", ' ', ''), '-', ''), '(', ''), ')', '')"
}

// NormalisePhone reduces a searched phone number to its digits, writing an
// Australian number in international form (+61 and 9 digits) in its
// national form (0 and 9 digits). It returns "" for a value without digits.
func NormalisePhone(s string) string {
	var d strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			d.WriteRune(r)
		}
	}
	n := d.String()
	// +61 4xx xxx xxx, or the same with the + lost (a + in a URL query is
	// a space): the international form of a national 0... number.
	if len(n) == 11 && strings.HasPrefix(n, "61") {
		n = "0" + n[2:]
	}
	return n
}

// Email matches an e-mail address in any of the columns, ignoring case.
func Email(exprs ...string) Matcher {
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if err := tokenModifier(modifier); err != nil {
			return "", err
		}
		if strings.TrimSpace(v.Code) == "" {
			return SQLFalse, nil
		}
		p := b.Param(ParamVarChar, strings.TrimSpace(v.Code))
		parts := make([]string, len(exprs))
		for i, e := range exprs {
			parts[i] = b.Dialect.EqualFold(e, p)
		}
		return or(parts), nil
	})
}

// ---- reference parameters ----

// Reference matches a reference to a target resource whose id is held in
// an integer column: "123" or "Target/123"; any other type or id matches
// nothing.
func Reference(expr, target string) Matcher {
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if modifier != fhir.ModifierNone && modifier != target {
			return "", badRequest("", "modifier :%s does not apply (the parameter refers to %s)", modifier, target)
		}
		if v.RefType != "" && v.RefType != target {
			return SQLFalse, nil
		}
		id, ok := canonicalID(v.RefID)
		if !ok {
			return SQLFalse, nil
		}
		return expr + " = " + b.Param(ParamInt, id), nil
	})
}

// ---- date parameters ----

// Date matches a date held in a datetime column at midnight (a birth date,
// say): the resource's value is that whole day. The search's range
// [Lo, Hi) is compared by FHIR's rules for each prefix.
func Date(expr string) Matcher { return dateMatcher(expr, true) }

// DateTime matches a moment held as a zoneless, practice-local datetime
// column: the value is that instant.
func DateTime(expr string) Matcher { return dateMatcher(expr, false) }

// Wall-clock formats of datetime parameters, and their bounds (those of
// SQL Server's datetime2, at its 100 ns precision).
const wallLayout = "2006-01-02T15:04:05.999999999"

var (
	minWall = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxWall = time.Date(9999, 12, 31, 23, 59, 59, 999999900, time.UTC)
)

// wall is t's wall clock in its own location, as a UTC time so that
// arithmetic on it is wall-clock arithmetic. The PMS's columns hold the
// practice's wall clock, so this is right for values in the site's zone:
// fhir.ParseSearch reads values without a zone there. A value given with a
// zone must be moved into the site's zone (t.In(site)) before it reaches a
// mapping, or its wall clock is that zone's.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func wallParam(b *Builder, t time.Time) string {
	if t.Before(minWall) {
		t = minWall
	}
	if t.After(maxWall) {
		t = maxWall
	}
	return b.Param(ParamDateTime, t.Format(wallLayout))
}

func midnight(t time.Time) bool {
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

func dateMatcher(expr string, wholeDay bool) Matcher {
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if modifier != fhir.ModifierNone {
			return "", badRequest("", "modifier :%s does not apply to a date parameter", modifier)
		}
		if v.Lo.IsZero() || v.Hi.IsZero() || !v.Lo.Before(v.Hi) {
			return "", badRequest("", "the date has no range")
		}
		lo, hi := wall(v.Lo), wall(v.Hi)
		if wholeDay && !(midnight(lo) && midnight(hi)) {
			return dayRange(b, expr, v.Prefix, lo, hi)
		}
		// The value is a point, or a day compared with a range of whole
		// days, where the same comparisons hold (for day values gt is sa
		// and lt is eb).
		L := func() string { return wallParam(b, lo) }
		H := func() string { return wallParam(b, hi) }
		switch v.Prefix {
		case fhir.PrefixEq, "", fhir.PrefixAp:
			return "(" + expr + " >= " + L() + " AND " + expr + " < " + H() + ")", nil
		case fhir.PrefixNe:
			return "(" + expr + " < " + L() + " OR " + expr + " >= " + H() + ")", nil
		case fhir.PrefixGt, fhir.PrefixSa:
			return expr + " >= " + H(), nil
		case fhir.PrefixLt, fhir.PrefixEb:
			return expr + " < " + L(), nil
		case fhir.PrefixGe:
			return expr + " >= " + L(), nil
		case fhir.PrefixLe:
			return expr + " < " + H(), nil
		}
		return "", badRequest("", "unknown date prefix %q", v.Prefix)
	})
}

// dayRange compares a whole-day value [d, d+1 day) (d at midnight) with a
// search range that is not made of whole days (a date-time searched
// against a date).
func dayRange(b *Builder, expr string, prefix fhir.Prefix, lo, hi time.Time) (string, error) {
	hi1 := hi.AddDate(0, 0, -1) // d+1 day <= hi  <=>  d <= hi1
	lo1 := lo.AddDate(0, 0, -1) // d+1 day <= lo  <=>  d <= lo1
	P := func(t time.Time) string { return wallParam(b, t) }
	switch prefix {
	case fhir.PrefixEq, "":
		if hi1.Before(lo) {
			return SQLFalse, nil
		}
		return "(" + expr + " >= " + P(lo) + " AND " + expr + " <= " + P(hi1) + ")", nil
	case fhir.PrefixNe:
		if hi1.Before(lo) {
			return expr + " IS NOT NULL", nil
		}
		return "(" + expr + " < " + P(lo) + " OR " + expr + " > " + P(hi1) + ")", nil
	case fhir.PrefixGt:
		return expr + " > " + P(hi1), nil
	case fhir.PrefixLt:
		return expr + " < " + P(lo), nil
	case fhir.PrefixGe: // eq or gt
		if hi1.Before(lo) {
			return expr + " > " + P(hi1), nil
		}
		return expr + " >= " + P(lo), nil
	case fhir.PrefixLe: // lt or eq
		if hi1.Before(lo) {
			return expr + " < " + P(lo), nil
		}
		return expr + " <= " + P(hi1), nil
	case fhir.PrefixSa:
		return expr + " >= " + P(hi), nil
	case fhir.PrefixEb:
		return expr + " <= " + P(lo1), nil
	case fhir.PrefixAp: // overlap
		return "(" + expr + " < " + P(hi) + " AND " + expr + " > " + P(lo1) + ")", nil
	}
	return "", badRequest("", "unknown date prefix %q", prefix)
}
