package fhir

import (
	"regexp"
	"strconv"
	"time"
)

// Date values are read as FHIR's search grammar allows: a date or dateTime
// filled from the left (YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm,
// YYYY-MM-DDThh:mm:ss, with an optional fraction of up to nine digits), a
// zone (Z or ±hh:mm) only after a time, and an optional prefix.
//
// Lo and Hi are always expressed in ParseOptions.Location, so a mapping can
// compare their wall clock with PMS columns holding local time.
//
// A value without a zone, dates included, is read in ParseOptions.Location:
// the practice's zone, because that is the zone of every date and time the
// practice's PMS records, so birthdate=1990-05-01 and date=2024-05-01 mean
// the practice's day, whatever the DST offset that day. A value with a zone
// is read in that zone, then expressed in the site's. Without a Location,
// UTC is used.
//
// [Value.Lo, Value.Hi) is the value's precision range: 2024 covers the whole
// year, 2024-05-01T10:00 the whole minute, ...T10:00:00.5 a tenth of a
// second. Day, month and year ends are computed on the calendar of the
// zone, so a local day across a DST change lasts 23 or 25 hours.
//
// The mapping applies the prefix. For a column holding an instant t, FHIR
// R4's rules come down to:
//
//	eq, ap  Lo <= t < Hi     (ap's range is already widened, see below)
//	ne      t < Lo or t >= Hi
//	gt, sa  t >= Hi
//	lt, eb  t < Lo
//	ge      t >= Lo
//	le      t < Hi
//
// and for a column holding a period [s, e): eq s >= Lo and e <= Hi; ne
// the opposite; ap s < Hi and e > Lo; gt e > Hi; lt s < Lo; ge e > Hi or
// eq; le s < Lo or eq; sa s >= Hi; eb e <= Lo.

var dateRE = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$`)

var prefixes = map[string]Prefix{
	"eq": PrefixEq, "ne": PrefixNe, "gt": PrefixGt, "lt": PrefixLt, "ge": PrefixGe,
	"le": PrefixLe, "sa": PrefixSa, "eb": PrefixEb, "ap": PrefixAp,
}

// approxFraction is how far ap widens a value: a tenth of the distance
// between now and the value, FHIR's suggestion for "approximately".
const approxFraction = 10

const dateHelp = "use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss[.fff]] with an optional Z or ±hh:mm, optionally prefixed by eq, ne, gt, lt, ge, le, sa, eb or ap"

// parseDate parses one date value: prefix and precision range.
func parseDate(name, raw string, loc *time.Location, now time.Time) (Value, error) {
	v := Value{Prefix: PrefixEq}
	s := raw
	if len(s) >= 2 {
		if p, ok := prefixes[s[:2]]; ok {
			v.Prefix, s = p, s[2:]
		}
	}
	m := dateRE.FindStringSubmatch(s)
	if m == nil {
		return Value{}, badRequest("%s: %q is not a valid date; %s", name, raw, dateHelp)
	}
	year, month, day := atoi(m[1]), atoiOr(m[2], 1), atoiOr(m[3], 1)
	hour, minute, sec := atoiOr(m[4], 0), atoiOr(m[5], 0), atoiOr(m[6], 0)
	nsec := 0
	if m[7] != "" {
		// Right-pad to nanoseconds: ".5" is 500 ms.
		frac := m[7] + "000000000"[len(m[7]):]
		nsec = atoi(frac)
	}
	if year == 0 || month > 12 || month == 0 || day == 0 || hour > 23 || minute > 59 || sec > 59 {
		return Value{}, badRequest("%s: %q is not a valid date (a field is out of range); %s", name, raw, dateHelp)
	}
	if loc == nil {
		loc = time.UTC
	}
	site := loc
	switch zone := m[8]; {
	case zone == "Z":
		loc = time.UTC
	case zone != "":
		h, mm := atoi(zone[1:3]), atoi(zone[4:6])
		if h > 14 || mm > 59 {
			return Value{}, badRequest("%s: %q has an invalid zone offset; %s", name, raw, dateHelp)
		}
		off := (h*60 + mm) * 60
		if zone[0] == '-' {
			off = -off
		}
		loc = time.FixedZone(zone, off)
	}
	// time.Date normalises 31 April to 1 May: a day that does not round-trip
	// does not exist.
	if m[3] != "" {
		if d := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC); d.Day() != day {
			return Value{}, badRequest("%s: %q is not a valid date (no such day); %s", name, raw, dateHelp)
		}
	}
	switch {
	case m[2] == "": // year
		v.Lo = time.Date(year, 1, 1, 0, 0, 0, 0, loc)
		v.Hi = time.Date(year+1, 1, 1, 0, 0, 0, 0, loc)
	case m[3] == "": // month
		v.Lo = time.Date(year, time.Month(month), 1, 0, 0, 0, 0, loc)
		v.Hi = time.Date(year, time.Month(month)+1, 1, 0, 0, 0, 0, loc)
	case m[4] == "": // day
		v.Lo = time.Date(year, time.Month(month), day, 0, 0, 0, 0, loc)
		v.Hi = time.Date(year, time.Month(month), day+1, 0, 0, 0, 0, loc)
	default:
		v.Lo = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
		step := time.Minute
		switch {
		case m[7] != "":
			step = time.Duration(pow10(9 - len(m[7])))
		case m[6] != "":
			step = time.Second
		}
		v.Hi = v.Lo.Add(step)
	}
	if v.Prefix == PrefixAp {
		v.Lo, v.Hi = approximately(v.Lo, v.Hi, now)
	}
	// The same instants, in the site's zone: mappings compare the wall clock
	// with PMS columns that hold the practice's local time.
	v.Lo, v.Hi = v.Lo.In(site), v.Hi.In(site)
	return v, nil
}

// approximately widens [lo, hi) on both sides by a tenth of its distance
// from now; a range containing now is not widened.
func approximately(lo, hi, now time.Time) (time.Time, time.Time) {
	var gap time.Duration
	switch {
	case now.Before(lo):
		gap = lo.Sub(now)
	case !now.Before(hi):
		gap = now.Sub(hi)
	}
	w := gap / approxFraction
	return lo.Add(-w), hi.Add(w)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s) // only ever called on \d+ matches
	return n
}

func atoiOr(s string, def int) int {
	if s == "" {
		return def
	}
	return atoi(s)
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
