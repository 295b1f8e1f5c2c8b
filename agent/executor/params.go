package executor

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"

	"fhirlink/agent/wire"
)

// param is one validated request parameter. Its value is the Go form of the
// request's text, independent of the engine; each engine's bind converts it
// to what its driver binds best. A nil value is SQL NULL.
type param struct {
	name  string // without the leading '@'
	typ   *paramType
	value any
}

// paramKind is the family of a SQL Server type name, and fixes the Go type
// of param.value:
type paramKind uint8

const (
	kindInt            paramKind = iota // int64, within paramType.bits
	kindBool                            // bool
	kindFloat                           // float64, within float32 when bits is 32
	kindDecimal                         // string: the exact digits, e.g. "-12.50"
	kindString                          // string
	kindBinary                          // []byte
	kindDate                            // time.Time, midnight UTC
	kindDateTime                        // time.Time, the wall clock in UTC
	kindDateTimeOffset                  // time.Time in its own fixed offset
	kindTime                            // time.Time on 0001-01-01 UTC
	kindUUID                            // [16]byte in RFC 4122 (display) order
)

// paramType describes one SQL Server type name of the passthrough API.
type paramType struct {
	name string // canonical spelling
	kind paramKind
	bits int  // integer and float width
	ansi bool // single-byte string types (char, varchar, text) on SQL Server
	size int  // the exact byte length of a fixed binary type (Timestamp); 0 for any
	// limits for decimals (money) and date-times; zero when unchecked
	minDec, maxDec string
	minTime        time.Time
	maxTime        time.Time
}

// paramTypes maps the lower-cased type names of the passthrough API.
var paramTypes = func() map[string]*paramType {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	maxDate := day(9999, 12, 31).Add(24*time.Hour - 1)
	ts := []*paramType{
		{name: "BigInt", kind: kindInt, bits: 64},
		{name: "Int", kind: kindInt, bits: 32},
		{name: "SmallInt", kind: kindInt, bits: 16},
		{name: "TinyInt", kind: kindInt, bits: 8}, // unsigned in SQL Server: 0..255
		{name: "Bit", kind: kindBool},
		{name: "Float", kind: kindFloat, bits: 64},
		{name: "Real", kind: kindFloat, bits: 32},
		{name: "Decimal", kind: kindDecimal},
		{name: "Money", kind: kindDecimal, minDec: "-922337203685477.5808", maxDec: "922337203685477.5807"},
		{name: "SmallMoney", kind: kindDecimal, minDec: "-214748.3648", maxDec: "214748.3647"},
		{name: "Char", kind: kindString, ansi: true},
		{name: "VarChar", kind: kindString, ansi: true},
		{name: "Text", kind: kindString, ansi: true},
		{name: "NChar", kind: kindString},
		{name: "NVarChar", kind: kindString},
		{name: "NText", kind: kindString},
		{name: "String", kind: kindString},
		{name: "Xml", kind: kindString},
		// sql_variant: the server turns a JSON number or boolean given for
		// one into the parameter type it infers (Int, BigInt, Decimal,
		// Float, Bit), so what arrives here is a string or NULL, bound as
		// NVarChar (sql_variant's base type nvarchar).
		{name: "Variant", kind: kindString},
		{name: "Binary", kind: kindBinary},
		// SQL Server's timestamp is rowversion, an 8-byte binary(8).
		{name: "Timestamp", kind: kindBinary, size: 8},
		{name: "VarBinary", kind: kindBinary},
		{name: "Image", kind: kindBinary},
		{name: "Date", kind: kindDate, minTime: day(1, 1, 1), maxTime: maxDate},
		{name: "DateTime", kind: kindDateTime, minTime: day(1753, 1, 1), maxTime: maxDate},
		{name: "DateTime2", kind: kindDateTime, minTime: day(1, 1, 1), maxTime: maxDate},
		{name: "SmallDateTime", kind: kindDateTime, minTime: day(1900, 1, 1), maxTime: day(2079, 6, 6).Add(24*time.Hour - time.Minute)},
		{name: "DateTimeOffset", kind: kindDateTimeOffset, minTime: day(1, 1, 1), maxTime: maxDate},
		{name: "Time", kind: kindTime},
		{name: "UniqueIdentifier", kind: kindUUID},
	}
	m := make(map[string]*paramType, len(ts))
	for _, t := range ts {
		m[strings.ToLower(t.name)] = t
	}
	return m
}()

// unsupportedTypes are passthrough type names the agent refuses: they have
// no meaning outside SQL Server's own client library.
var unsupportedTypes = map[string]bool{"structured": true, "udt": true}

// parseParams validates the request's parameters and converts their values.
// Errors are KindInvalid and name the parameter.
func parseParams(ps []wire.Param) ([]param, *wire.Error) {
	out := make([]param, 0, len(ps))
	seen := make(map[string]bool, len(ps))
	for i, p := range ps {
		name := strings.TrimPrefix(p.Name, "@")
		if !validName(name) {
			return nil, wire.Errorf(wire.KindInvalid, "parameter %d: name %q is not a valid parameter name (letters, digits and _, optionally after @)", i+1, p.Name)
		}
		if seen[strings.ToLower(name)] {
			return nil, wire.Errorf(wire.KindInvalid, "parameter @%s is given twice", name)
		}
		seen[strings.ToLower(name)] = true
		switch strings.ToLower(p.Direction) {
		case "", "input":
		case "output", "inputoutput", "returnvalue":
			return nil, wire.Errorf(wire.KindInvalid, "parameter @%s: direction %s is not supported yet; only input parameters are", name, p.Direction)
		default:
			return nil, wire.Errorf(wire.KindInvalid, "parameter @%s: unknown direction %q (input, output, inputOutput, returnValue)", name, p.Direction)
		}
		lower := strings.ToLower(p.Type)
		typ := paramTypes[lower]
		switch {
		case unsupportedTypes[lower]:
			return nil, wire.Errorf(wire.KindInvalid, "parameter @%s: type %s is unsupported", name, p.Type)
		case p.Type == "":
			return nil, wire.Errorf(wire.KindInvalid, "parameter @%s: type is required (Int, NVarChar, DateTime2, ...)", name)
		case typ == nil:
			return nil, wire.Errorf(wire.KindInvalid, "parameter @%s: unknown type %q", name, p.Type)
		}
		prm := param{name: name, typ: typ}
		if p.Value != nil {
			v, msg := parseValue(typ, *p.Value)
			if msg != "" {
				return nil, wire.Errorf(wire.KindInvalid, "parameter @%s: %s", name, msg)
			}
			prm.value = v
		}
		out = append(out, prm)
	}
	return out, nil
}

// validName accepts the names that every engine binds safely. The name
// reaches SQL Server inside sp_executesql's declaration list, so nothing but
// letters, digits and underscores may pass.
func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}

// parseValue converts one value's text; a non-empty message says why it is
// not a value of the type.
func parseValue(t *paramType, s string) (any, string) {
	switch t.kind {
	case kindString:
		return s, ""
	case kindInt:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		min, max := int64(math.MinInt64)>>(64-t.bits), int64(math.MaxInt64)>>(64-t.bits)
		if t.bits == 8 {
			min, max = 0, 255
		}
		if err != nil && !isRange(err) {
			return nil, "not an integer: " + strconv.Quote(s)
		}
		if err != nil || n < min || n > max {
			return nil, s + " is out of the " + t.name + " range " + strconv.FormatInt(min, 10) + ".." + strconv.FormatInt(max, 10)
		}
		return n, ""
	case kindBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1":
			return true, ""
		case "false", "0":
			return false, ""
		}
		return nil, "not a Bit value (true, false, 1 or 0): " + strconv.Quote(s)
	case kindFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), t.bits)
		if err != nil && !isRange(err) {
			return nil, "not a number: " + strconv.Quote(s)
		}
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, s + " is out of the " + t.name + " range"
		}
		return f, ""
	case kindDecimal:
		return parseDecimal(t, strings.TrimSpace(s))
	case kindBinary:
		if t.size > 0 {
			return parseFixedBinary(t, strings.TrimSpace(s))
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, "not standard base64"
		}
		return b, ""
	case kindUUID:
		u, ok := parseUUID(strings.TrimSpace(s))
		if !ok {
			return nil, "not a UniqueIdentifier (like 6f9619ff-8b86-d011-b42d-00c04fc964ff): " + strconv.Quote(s)
		}
		return u, ""
	}
	return parseTime(t, strings.TrimSpace(s))
}

// parseFixedBinary reads a value of exactly t.size bytes, as base64 or, as
// SQL Server shows rowversions, 0x and two hex digits a byte.
func parseFixedBinary(t *paramType, s string) (any, string) {
	var b []byte
	var err error
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		b, err = hex.DecodeString(h)
	} else {
		b, err = base64.StdEncoding.DecodeString(s)
	}
	if err != nil || len(b) != t.size {
		return nil, "not a " + t.name + " (rowversion: " + strconv.Itoa(t.size) + " bytes, as base64 like AAAAAAAAB9E= or hex like 0x00000000000007D1): " + strconv.Quote(s)
	}
	return b, ""
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// parseDecimal keeps the digits exactly as sent (the engines parse them
// again, as decimals), after checking the shape and, for money, the range.
func parseDecimal(t *paramType, s string) (any, string) {
	digits, dot, frac := 0, false, 0
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		case (c == '-' || c == '+') && i == 0:
		default:
			return nil, "not a decimal number (digits with an optional sign and point, no exponent): " + strconv.Quote(s)
		}
	}
	if digits == 0 {
		return nil, "not a decimal number: " + strconv.Quote(s)
	}
	if digits > 38 {
		return nil, "more than 38 digits: " + strconv.Quote(s)
	}
	if t.maxDec != "" {
		v, _ := new(big.Rat).SetString(s)
		lo, _ := new(big.Rat).SetString(t.minDec)
		hi, _ := new(big.Rat).SetString(t.maxDec)
		if frac > 4 || v.Cmp(lo) < 0 || v.Cmp(hi) > 0 {
			return nil, s + " is not a " + t.name + " value (" + t.minDec + " to " + t.maxDec + ", at most 4 decimal places)"
		}
	}
	return strings.TrimPrefix(s, "+"), ""
}

// Accepted ISO 8601 forms. Date-times without a zone must not carry one:
// guessing which zone was meant would silently shift the value.
var (
	dateLayouts     = []string{"2006-01-02"}
	dateTimeLayouts = []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}
	offsetLayouts   = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"}
	timeLayouts     = []string{"15:04:05.999999999", "15:04"}
)

func parseTime(t *paramType, s string) (any, string) {
	var layouts []string
	var want string
	switch t.kind {
	case kindDate:
		layouts, want = dateLayouts, "a date like 2024-05-31"
	case kindDateTime:
		layouts, want = dateTimeLayouts, "a date-time without zone like 2024-05-31T09:30:00 (use DateTimeOffset for values with an offset)"
	case kindDateTimeOffset:
		layouts, want = offsetLayouts, "a date-time with offset like 2024-05-31T09:30:00+10:00"
	default:
		layouts, want = timeLayouts, "a time of day like 09:30:00"
	}
	for _, l := range layouts {
		v, err := time.Parse(l, s)
		if err != nil {
			continue
		}
		if t.kind == kindTime {
			return time.Date(1, 1, 1, v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC), ""
		}
		if wall := time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC); wall.Before(t.minTime) || wall.After(t.maxTime) {
			return nil, s + " is out of the " + t.name + " range " + t.minTime.Format("2006-01-02") + " to " + t.maxTime.Format("2006-01-02 15:04")
		}
		return v, ""
	}
	return nil, "not " + want + ": " + strconv.Quote(s)
}

// parseUUID accepts the 36-character form, optionally in braces, and 32 hex
// digits, in either case.
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) == 36 {
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return u, false
		}
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	}
	if len(s) != 32 {
		return u, false
	}
	_, err := hex.Decode(u[:], []byte(s))
	return u, err == nil
}

// Canonical text forms of parameter values, for engines that bind them as
// text and let the database parse them with its own rules.
const (
	textDate     = "2006-01-02"
	textDateTime = "2006-01-02 15:04:05.999999999"
	textOffset   = "2006-01-02 15:04:05.999999999-07:00"
	textTime     = "15:04:05.999999999"
)

// textValue is the value of p as text for kinds that such engines bind as
// text (dates, times, UUIDs); other values are returned unchanged.
func textValue(p param) any {
	switch v := p.value.(type) {
	case time.Time:
		switch p.typ.kind {
		case kindDate:
			return v.Format(textDate)
		case kindDateTime:
			return v.Format(textDateTime)
		case kindDateTimeOffset:
			return v.Format(textOffset)
		case kindTime:
			return v.Format(textTime)
		}
	case [16]byte:
		return string(appendUUID(nil, v))
	}
	return p.value
}
