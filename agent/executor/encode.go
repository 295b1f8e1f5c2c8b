package executor

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"fhirlink/agent/wire"
)

// codec says how a column's values are written as JSON. It refines
// wire.Type where a driver hands the same Go type for different things (a
// time.Time may be a date, a wall clock or an instant; []byte may be binary,
// decimal digits or a UUID).
type codec uint8

const (
	codecString         codec = iota // string; the fallback for unknown types
	codecInteger                     // exact integer
	codecDecimal                     // exact digits as a string
	codecFloat                       // float64
	codecFloat32                     // a float32 widened by the driver: printed with 32-bit precision
	codecBoolean                     // bool; SQLite's 0/1 too
	codecDate                        // "2006-01-02"
	codecDateTime                    // wall clock, no zone
	codecDateTimeOffset              // RFC 3339 with offset
	codecTime                        // time of day
	codecBinary                      // base64
	codecUUID                        // 16 bytes in RFC 4122 order, or text
	codecUUIDMixed                   // SQL Server's uniqueidentifier bytes (first three groups little-endian)
	codecJSON                        // JSON text embedded as a value
	codecDynamic                     // no declared type (SQLite expressions): follow the value
	codecTextOrBytes                 // text, or bytes as base64 (Firebird CHAR/VARCHAR/BLOB); text that is not UTF-8 is read as Windows-1252
)

// wireType is the portable column type a codec produces.
func (c codec) wireType() wire.Type {
	switch c {
	case codecInteger:
		return wire.TypeInteger
	case codecDecimal:
		return wire.TypeDecimal
	case codecFloat, codecFloat32:
		return wire.TypeFloat
	case codecBoolean:
		return wire.TypeBoolean
	case codecDate:
		return wire.TypeDate
	case codecDateTime:
		return wire.TypeDateTime
	case codecDateTimeOffset:
		return wire.TypeDateTimeOffset
	case codecTime:
		return wire.TypeTime
	case codecBinary:
		return wire.TypeBinary
	case codecUUID, codecUUIDMixed:
		return wire.TypeUUID
	case codecJSON:
		return wire.TypeJSON
	}
	return wire.TypeString
}

// dynamicCodec is the codec for a value of a column without a declared
// type, chosen from what the driver returned.
func dynamicCodec(v any) codec {
	switch v.(type) {
	case int64:
		return codecInteger
	case float64:
		return codecFloat
	case bool:
		return codecBoolean
	case []byte:
		return codecBinary
	case time.Time:
		return codecDateTimeOffset
	}
	return codecString
}

// Layouts of the wire types (see wire.Type).
const (
	layoutDate           = "2006-01-02"
	layoutDateTime       = "2006-01-02T15:04:05.999999999"
	layoutDateTimeOffset = "2006-01-02T15:04:05.999999999-07:00"
	layoutTime           = "15:04:05.999999999"
)

// appendValue appends v, a value as database/sql drivers return them
// (nil, int64, float64, bool, []byte, string, time.Time), as JSON. The codec
// decides the form where the Go type leaves a choice; a value whose Go type
// does not match its column (SQLite stores anything anywhere) is written in
// its own natural form, so the output is always valid JSON.
func appendValue(b []byte, c codec, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case int64:
		switch c {
		case codecBoolean:
			return strconv.AppendBool(b, v != 0)
		case codecDecimal:
			b = append(b, '"')
			b = strconv.AppendInt(b, v, 10)
			return append(b, '"')
		}
		return strconv.AppendInt(b, v, 10)
	case string:
		if c == codecJSON {
			return appendCompactJSON(b, []byte(v))
		}
		if c == codecTextOrBytes && !utf8.ValidString(v) {
			return appendString(b, decodeWindows1252(v))
		}
		return appendString(b, v)
	case []byte:
		switch c {
		case codecBinary, codecDynamic, codecTextOrBytes:
			return appendBase64(b, v)
		case codecUUID, codecUUIDMixed:
			if len(v) == 16 {
				u := [16]byte(v)
				if c == codecUUIDMixed {
					u = mixedToRFC(u)
				}
				b = append(b, '"')
				b = appendUUID(b, u)
				return append(b, '"')
			}
		case codecJSON:
			return appendCompactJSON(b, v)
		}
		return appendString(b, v)
	case float64:
		return appendFloat(b, c, v)
	case bool:
		return strconv.AppendBool(b, v)
	case time.Time:
		b = append(b, '"')
		b = appendTime(b, c, v)
		return append(b, '"')
	case float32:
		return appendFloat(b, codecFloat32, float64(v))
	case uint64:
		return strconv.AppendUint(b, v, 10)
	}
	// Not a value database/sql drivers return; keep it readable rather than fail the query.
	return appendString(b, fmt.Sprint(v))
}

// appendTime writes t in the layout of the codec. It is written by hand
// because time.AppendFormat, which interprets its layout on every call, was
// the largest cost of encoding a row; years outside 0..9999 still go through
// it.
func appendTime(b []byte, c codec, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		layout := layoutDateTimeOffset
		switch c {
		case codecDate:
			layout = layoutDate
		case codecDateTime:
			layout = layoutDateTime
		case codecTime:
			layout = layoutTime
		}
		return t.AppendFormat(b, layout)
	}
	if c != codecTime {
		b = append2(append2(b, year/100), year%100)
		b = append2(append(b, '-'), int(month))
		b = append2(append(b, '-'), day)
		if c == codecDate {
			return b
		}
		b = append(b, 'T')
	}
	hour, minute, sec := t.Clock()
	b = append2(b, hour)
	b = append2(append(b, ':'), minute)
	b = append2(append(b, ':'), sec)
	if ns := t.Nanosecond(); ns != 0 {
		// Nine digits, then drop the trailing zeros: ".5", ".123456".
		b = append(b, '.')
		for div := 100000000; div > 0; div /= 10 {
			b = append(b, byte('0'+ns/div%10))
		}
		end := len(b)
		for b[end-1] == '0' {
			end--
		}
		b = b[:end]
	}
	if c == codecDate || c == codecDateTime || c == codecTime {
		return b
	}
	_, offset := t.Zone()
	sign := byte('+')
	if offset < 0 {
		sign, offset = '-', -offset
	}
	b = append2(append(b, sign), offset/3600)
	return append2(append(b, ':'), offset/60%60)
}

// append2 appends n, 0..99, as two digits.
func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

func appendFloat(b []byte, c codec, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	bits := 64
	if c == codecFloat32 {
		bits = 32
	}
	if c == codecDecimal {
		b = append(b, '"')
		b = strconv.AppendFloat(b, f, 'f', -1, 64)
		return append(b, '"')
	}
	// 'g' keeps large and tiny magnitudes short and is valid JSON ("1e+21").
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

func appendBase64(b []byte, v []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

// mixedToRFC reorders SQL Server's uniqueidentifier bytes, whose first three
// groups are little-endian, into the order the text form is read in.
func mixedToRFC(u [16]byte) [16]byte {
	u[0], u[1], u[2], u[3] = u[3], u[2], u[1], u[0]
	u[4], u[5] = u[5], u[4]
	u[6], u[7] = u[7], u[6]
	return u
}

// appendUUID appends the canonical lower-case text of u, without quotes.
func appendUUID(b []byte, u [16]byte) []byte {
	const hexDigits = "0123456789abcdef"
	for i, x := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[x>>4], hexDigits[x&0xf])
	}
	return b
}

// plainASCII marks the bytes a JSON string holds as they are.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does; U+2028 and U+2029 are escaped so the text is also safe
// as JavaScript.
func appendString[S string | []byte](b []byte, s S) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune([]byte(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendCompactJSON appends JSON text the database produced without the
// whitespace between tokens: PostgreSQL's json type keeps the newlines it
// was given, and a row must stay on one line of the query answer.
func appendCompactJSON(b []byte, j []byte) []byte {
	inString, escaped := false, false
	start := len(b)
	for _, c := range j {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		b = append(b, c)
	}
	if len(b) == start {
		return append(b, "null"...)
	}
	return b
}

// windows1252High are the characters of Windows-1252's bytes 0x80..0x9f,
// where it differs from Latin-1; its five unassigned bytes become U+FFFD.
var windows1252High = [32]rune{
	'€', '\ufffd', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\ufffd', 'Ž', '\ufffd',
	'\ufffd', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\ufffd', 'ž', 'Ÿ',
}

// decodeWindows1252 reads s as Windows-1252, the code page of Australian
// Windows installations: the bytes of a Firebird column of CHARACTER SET
// NONE arrive as they were stored, which for a Windows PMS is that code page.
func decodeWindows1252(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80 && c < 0xa0:
			r[i] = windows1252High[c-0x80]
		default:
			r[i] = rune(c)
		}
	}
	return string(r)
}
