package mappings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Types for decoding the agent's result rows (JSON objects keyed by column
// alias) into the structs a row function reads. They accept what every
// engine sends for the column: NULL, and numbers or strings as the driver
// reported them.

// Text is a text column: NULL is "", and char(n) padding and surrounding
// spaces are trimmed.
type Text string

// UnmarshalJSON implements json.Unmarshaler.
func (t *Text) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*t = ""
		return nil
	}
	if len(b) > 0 && b[0] != '"' { // a number where text was expected
		*t = Text(b)
		return nil
	}
	if len(b) >= 2 && bytes.IndexByte(b, '\\') < 0 {
		// No escapes (nearly every PMS value): the text is the bytes between
		// the quotes. A nested json.Unmarshal per column doubled a row's cost.
		*t = Text(bytes.TrimSpace(b[1 : len(b)-1]))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*t = Text(strings.TrimSpace(s))
	return nil
}

// String returns the text.
func (t Text) String() string { return string(t) }

// Int is an integer column: NULL is 0; a number sent as text is read too.
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*n = 0
		return nil
	}
	digits := b
	if len(b) > 0 && b[0] == '"' {
		if len(b) < 2 || b[len(b)-1] != '"' || bytes.IndexByte(b, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(b, &s); err != nil {
				return err
			}
			digits = []byte(s)
		} else {
			digits = b[1 : len(b)-1]
		}
		if digits = bytes.TrimSpace(digits); len(digits) == 0 {
			*n = 0
			return nil
		}
	}
	if v, ok := parseInt(digits); ok {
		*n = Int(v)
		return nil
	}
	if v, err := strconv.ParseInt(string(digits), 10, 64); err == nil {
		*n = Int(v)
		return nil
	}
	// SQLite may hand a whole number back as a float.
	f, err := strconv.ParseFloat(string(digits), 64)
	if err != nil || f != float64(int64(f)) {
		return fmt.Errorf("not an integer: %s", b)
	}
	*n = Int(int64(f))
	return nil
}

// parseInt reads a decimal integer of at most 18 digits (every key and
// code a PMS has), without the string strconv would need.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// ID is the integer as a FHIR id.
func (n Int) ID() string { return strconv.FormatInt(int64(n), 10) }

// Wall is a zoneless datetime column: a wall-clock time of the practice.
// NULL is the zero Wall. An offset the engine may append is ignored.
type Wall struct {
	t  time.Time // the wall clock, in UTC
	ok bool
}

var wallLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// ParseWall reads a wall-clock datetime in the forms the engines send.
func ParseWall(s string) (Wall, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Wall{}, nil
	}
	if t, ok := parseWallFast(s); ok {
		return Wall{t: t, ok: true}, nil
	}
	for _, l := range wallLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return Wall{t: wall(t), ok: true}, nil
		}
	}
	return Wall{}, fmt.Errorf("not a date-time: %q", s)
}

// parseWallFast reads the forms the agent sends for date and datetime
// columns, YYYY-MM-DD and YYYY-MM-DDTHH:MM:SS (or a space for the T, as
// SQLite keeps them) with an optional fraction
// of a second, without time.Parse's layout interpretation (a tenth of a
// row's cost); anything else is left to the layouts.
func parseWallFast(s string) (time.Time, bool) {
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := num(s[:4])
	mo, ok2 := num(s[5:7])
	d, ok3 := num(s[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return time.Time{}, false
	}
	if len(s) == 10 {
		return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), true
	}
	if len(s) < 19 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	h, ok1 := num(s[11:13])
	mi, ok2 := num(s[14:16])
	sec, ok3 := num(s[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	ns := 0
	if frac := s[19:]; frac != "" {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		n, ok := num(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		ns = n
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC), true
}

// UnmarshalJSON implements json.Unmarshaler.
func (w *Wall) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*w = Wall{}
		return nil
	}
	var s string
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 {
		s = string(b[1 : len(b)-1])
	} else if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("not a date-time: %s", b)
	}
	v, err := ParseWall(s)
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// IsZero reports a NULL column.
func (w Wall) IsZero() bool { return !w.ok }

// In is the moment the wall clock shows in loc. In a daylight-saving gap or
// overlap it is the moment Go's time.Date chooses.
func (w Wall) In(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	t := w.t
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}

// Date is the FHIR date (YYYY-MM-DD) of the wall clock.
func (w Wall) Date() string { return w.t.Format("2006-01-02") }

// Midnight reports whether the time of day is 00:00:00, as it is for
// columns that hold dates.
func (w Wall) Midnight() bool { return midnight(w.t) }

// Instant is the FHIR instant of the wall clock in loc: the offset of that
// zone on that date, daylight saving included.
func (w Wall) Instant(loc *time.Location) string {
	return w.In(loc).Format(instantLayout)
}

// DateTime is a FHIR dateTime for the column: the date alone when the time
// of day is midnight (a column holding a date), else the instant in loc.
func (w Wall) DateTime(loc *time.Location) string {
	if w.Midnight() {
		return w.Date()
	}
	return w.Instant(loc)
}

// Meta writes a resource's meta: when the row last changed (lastUpdated
// from its audit columns: updated when set, else created) and its profile
// (none when ""); nothing when it has neither.
func (w *JSON) Meta(profile string, updated, created Wall, loc *time.Location) {
	w.Object("meta")
	if !updated.IsZero() {
		w.Instant("lastUpdated", updated, loc)
	} else {
		w.Instant("lastUpdated", created, loc)
	}
	w.Strings("profile", profile)
	w.End()
}

// Date writes the date member key: v's FHIR date; nothing when v is NULL.
func (w *JSON) Date(key string, v Wall) {
	if !v.IsZero() {
		w.time(key, v.t, "2006-01-02")
	}
}

// DateTime writes the dateTime member key: v.DateTime(loc); nothing when
// v is NULL.
func (w *JSON) DateTime(key string, v Wall, loc *time.Location) {
	switch {
	case v.IsZero():
	case v.Midnight():
		w.time(key, v.t, "2006-01-02")
	default:
		w.time(key, v.In(loc), instantLayout)
	}
}

// Instant writes the instant member key: v.Instant(loc); nothing when v
// is NULL.
func (w *JSON) Instant(key string, v Wall, loc *time.Location) {
	if !v.IsZero() {
		w.time(key, v.In(loc), instantLayout)
	}
}

// time writes t in layout, which gives only characters a JSON string
// holds as they are.
func (w *JSON) time(key string, t time.Time, layout string) {
	w.name(key)
	w.buf = append(w.buf, '"')
	w.buf = t.AppendFormat(w.buf, layout)
	w.buf = append(w.buf, '"')
}

const instantLayout = "2006-01-02T15:04:05.999-07:00"

// DataAbsentUnknown writes the primitive extension saying the required
// value key (a primitive's "_" member, "_birthDate") is unknown.
func (w *JSON) DataAbsentUnknown(key string) {
	w.Raw(key, dataAbsentUnknown)
}

var dataAbsentUnknown = []byte(`{"extension":[{"url":"` + ExtensionDataAbsentReason + `","valueCode":"unknown"}]}`)

// at is the moment secs seconds after the midnight of w's day (a PMS's
// date column and its seconds-since-midnight time of day) in loc, whose
// offset at that moment (daylight saving included) its instant shows.
func (w Wall) at(secs int, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	d := w.In(loc)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, secs, 0, loc)
}

const instantAtLayout = "2006-01-02T15:04:05-07:00"

// InstantAt writes the instant member key: secs seconds after the
// midnight of v's day, with loc's offset then; nothing when v is NULL.
func (w *JSON) InstantAt(key string, v Wall, secs int, loc *time.Location) {
	if !v.IsZero() {
		w.time(key, v.at(secs, loc), instantAtLayout)
	}
}
