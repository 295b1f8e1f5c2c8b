package tdstest

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// ColType is the SQL Server type of a result column.
type ColType int

// Column types and the Go values a Result row may hold for them (nil is
// NULL in a Nullable column).
const (
	TinyInt          ColType = iota + 1 // any Go integer in 0..255
	SmallInt                            // any Go integer
	Int                                 // any Go integer
	BigInt                              // any Go integer
	Bit                                 // bool
	Decimal                             // string such as "-12.50", or any Go integer
	Numeric                             // as Decimal
	Money                               // as Decimal, at most 4 decimal places
	Float                               // float64 or float32
	Real                                // float64 or float32
	Char                                // string, Windows-1252, space-padded to Length
	VarChar                             // string, Windows-1252
	NVarChar                            // string
	DateTime                            // time.Time (wall clock), 1/300 s
	DateTime2                           // time.Time (wall clock)
	Date                                // time.Time (wall-clock date)
	Time                                // time.Time (wall-clock time of day)
	DateTimeOffset                      // time.Time (instant and its zone offset)
	UniqueIdentifier                    // GUID, any [16]byte array type in text order, or string
	VarBinary                           // []byte
)

// Column describes a result column.
type Column struct {
	Name string
	Type ColType
	// Length is the declared size: bytes for Char, VarChar and VarBinary,
	// characters for NVarChar. Zero means (max) for VarChar, NVarChar and
	// VarBinary, and 1 for Char.
	Length int
	// Precision and Scale apply to Decimal and Numeric; zero Precision means
	// 18. Scale is also the fractional-second digits of DateTime2, Time and
	// DateTimeOffset, where zero means 7 (SQL Server's default).
	Precision, Scale int
	Nullable         bool
}

// GUID is a uniqueidentifier in its text order (the order of
// mssql.UniqueIdentifier and uuid.UUID); on the wire SQL Server
// byte-swaps the first three groups.
type GUID [16]byte

// String formats g as SQL Server does, upper case.
func (g GUID) String() string {
	h := strings.ToUpper(hex.EncodeToString(g[:]))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// swapGUID converts between text order and SQL Server's wire order.
func swapGUID(g [16]byte) [16]byte {
	g[0], g[1], g[2], g[3] = g[3], g[2], g[1], g[0]
	g[4], g[5], g[6], g[7] = g[5], g[4], g[7], g[6]
	return g
}

// TDS data type identifiers (MS-TDS 2.2.5.4) used by columns and
// parameters; fixedSizes and tdsTypeNames list the others.
const (
	typNull       = 0x1F
	typGUID       = 0x24
	typIntN       = 0x26
	typDateN      = 0x28
	typTimeN      = 0x29
	typDateTime2N = 0x2A
	typDTOffsetN  = 0x2B
	typBitN       = 0x68
	typDecimalN   = 0x6A
	typNumericN   = 0x6C
	typFltN       = 0x6D
	typMoneyN     = 0x6E
	typDateTimN   = 0x6F
	typBigVarBin  = 0xA5
	typBigVarChar = 0xA7
	typBigBinary  = 0xAD
	typBigChar    = 0xAF
	typNVarChar   = 0xE7
	typNChar      = 0xEF
	typXML        = 0xF1
)

const (
	maxShortLen     = 0xFFFF  // USHORT maximum length that marks a (max) type
	nullShortLen    = 0xFFFF  // USHORT value length that marks NULL
	daysTo1900      = 693595  // days from 0001-01-01 to 1900-01-01
	unixDaysOf0001  = -719162 // 0001-01-01 in days since 1970-01-01
	defaultTimeDigs = 7
)

// collation is SQL_Latin1_General_CP1_CI_AS (LCID 0x0409, flags, sort id
// 52), whose code page is Windows-1252.
var collation = []byte{0x09, 0x04, 0xD0, 0x00, 52}

var intSizes = map[ColType]int{TinyInt: 1, SmallInt: 2, Int: 4, BigInt: 8}

func (c Column) timeScale() int {
	if c.Scale == 0 {
		return defaultTimeDigs
	}
	return c.Scale
}

func (c Column) decimalPS() (p, s int) {
	p = c.Precision
	if p == 0 {
		p = 18
	}
	return p, c.Scale
}

// decimalSize is the value length of a DECIMALN of precision p.
func decimalSize(p int) int {
	switch {
	case p <= 9:
		return 5
	case p <= 19:
		return 9
	case p <= 28:
		return 13
	}
	return 17
}

// timeSize is the length of a TIME part with the given fractional digits.
func timeSize(scale int) int { return 3 + min(max(scale-1, 0)/2, 2) }

// typeInfo renders the column's TYPE_INFO.
func (c Column) typeInfo() ([]byte, error) {
	shortLen := func(id byte, limit int, coll bool) ([]byte, error) {
		n := c.Length
		if n < 0 || n > limit {
			return nil, errorf("column %q: length %d out of range 0..%d", c.Name, n, limit)
		}
		if c.Type == NVarChar {
			n *= 2
		}
		if n == 0 {
			n = maxShortLen
		}
		b := appendU16([]byte{id}, uint16(n))
		if coll {
			b = append(b, collation...)
		}
		return b, nil
	}
	switch c.Type {
	case TinyInt, SmallInt, Int, BigInt:
		return []byte{typIntN, byte(intSizes[c.Type])}, nil
	case Bit:
		return []byte{typBitN, 1}, nil
	case Decimal, Numeric:
		p, s := c.decimalPS()
		if p < 1 || p > 38 || s < 0 || s > p {
			return nil, errorf("column %q: bad precision/scale %d/%d", c.Name, p, s)
		}
		id := byte(typDecimalN)
		if c.Type == Numeric {
			id = typNumericN
		}
		return []byte{id, byte(decimalSize(p)), byte(p), byte(s)}, nil
	case Money:
		return []byte{typMoneyN, 8}, nil
	case Float:
		return []byte{typFltN, 8}, nil
	case Real:
		return []byte{typFltN, 4}, nil
	case Char:
		if c.Length == 0 {
			c.Length = 1
		}
		return shortLen(typBigChar, 8000, true)
	case VarChar:
		return shortLen(typBigVarChar, 8000, true)
	case NVarChar:
		return shortLen(typNVarChar, 4000, true)
	case VarBinary:
		return shortLen(typBigVarBin, 8000, false)
	case DateTime:
		return []byte{typDateTimN, 8}, nil
	case Date:
		return []byte{typDateN}, nil
	case DateTime2, Time, DateTimeOffset:
		if c.Scale < 0 || c.Scale > 7 {
			return nil, errorf("column %q: bad scale %d", c.Name, c.Scale)
		}
		id := map[ColType]byte{DateTime2: typDateTime2N, Time: typTimeN, DateTimeOffset: typDTOffsetN}[c.Type]
		return []byte{id, byte(c.timeScale())}, nil
	case UniqueIdentifier:
		return []byte{typGUID, 16}, nil
	}
	return nil, errorf("column %q: unknown type %d", c.Name, c.Type)
}

// appendValue appends the non-NULL value v of column c as the ROW token
// carries it (length prefix included).
func appendValue(b []byte, c Column, v any) ([]byte, error) {
	byteLen := func(data []byte) ([]byte, error) { return append(append(b, byte(len(data))), data...), nil }
	switch c.Type {
	case TinyInt, SmallInt, Int, BigInt:
		n, ok := toInt64(v)
		size := intSizes[c.Type]
		lo, hi := int64(-1)<<(8*size-1), int64(uint64(1)<<(8*size-1)-1)
		if c.Type == TinyInt {
			lo, hi = 0, 255
		}
		if !ok || n < lo || n > hi {
			return nil, fmt.Errorf("%v (%T) is not a %d-byte integer", v, v, size)
		}
		return byteLen(binary.LittleEndian.AppendUint64(nil, uint64(n))[:size])
	case Bit:
		x, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want bool, got %T", v)
		}
		if x {
			return byteLen([]byte{1})
		}
		return byteLen([]byte{0})
	case Decimal, Numeric:
		p, s := c.decimalPS()
		n, err := scaledInt(v, s)
		if err != nil {
			return nil, err
		}
		mag := new(big.Int).Abs(n)
		if len(mag.String()) > p {
			return nil, fmt.Errorf("%v has more than %d digits", v, p)
		}
		data := make([]byte, decimalSize(p))
		if n.Sign() >= 0 {
			data[0] = 1
		}
		mag.FillBytes(data[1:]) // big-endian; reversed below
		for i, j := 1, len(data)-1; i < j; i, j = i+1, j-1 {
			data[i], data[j] = data[j], data[i]
		}
		return byteLen(data)
	case Money:
		n, err := scaledInt(v, 4)
		if err != nil {
			return nil, err
		}
		if !n.IsInt64() {
			return nil, fmt.Errorf("%v is out of range for money", v)
		}
		m := uint64(n.Int64())
		return byteLen(appendU32(appendU32(nil, uint32(m>>32)), uint32(m)))
	case Float, Real:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case float32:
			f = float64(x)
		default:
			return nil, fmt.Errorf("want float64, got %T", v)
		}
		if c.Type == Real {
			return byteLen(appendU32(nil, math.Float32bits(float32(f))))
		}
		return byteLen(appendU64(nil, math.Float64bits(f)))
	case Char, VarChar, NVarChar, VarBinary:
		return appendVarLen(b, c, v)
	case DateTime, DateTime2, Date, Time, DateTimeOffset:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("want time.Time, got %T", v)
		}
		return appendTimeValue(b, c, t)
	case UniqueIdentifier:
		g, err := toGUID(v)
		if err != nil {
			return nil, err
		}
		w := swapGUID(g)
		return byteLen(w[:])
	}
	return nil, fmt.Errorf("unknown column type %d", c.Type)
}

// appendVarLen appends a character or binary value: USHORT length, or a
// PLP stream (one chunk) for (max) columns.
func appendVarLen(b []byte, c Column, v any) ([]byte, error) {
	var data []byte
	limit := c.Length
	switch x := v.(type) {
	case string:
		switch c.Type {
		case Char, VarChar:
			enc, err := charmap.Windows1252.NewEncoder().String(x)
			if err != nil {
				return nil, fmt.Errorf("%q is not Windows-1252: %v", x, err)
			}
			data = []byte(enc)
			if c.Type == Char {
				limit = max(c.Length, 1)
				if len(data) < limit {
					data = append(data, strings.Repeat(" ", limit-len(data))...)
				}
			}
		case NVarChar:
			data, _ = appendUCS2(nil, x)
			limit *= 2
		default:
			return nil, fmt.Errorf("want []byte, got string")
		}
	case []byte:
		if c.Type != VarBinary {
			return nil, fmt.Errorf("want string, got []byte")
		}
		data = x
	default:
		return nil, fmt.Errorf("want string or []byte, got %T", v)
	}
	if limit == 0 { // (max): PLP with the known total length
		b = appendU64(b, uint64(len(data)))
		if len(data) > 0 {
			b = append(appendU32(b, uint32(len(data))), data...)
		}
		return appendU32(b, 0), nil
	}
	if len(data) > limit {
		return nil, fmt.Errorf("value of %d bytes exceeds length %d", len(data), limit)
	}
	return append(appendU16(b, uint16(len(data))), data...), nil
}

// appendTimeValue appends the date and time types.
func appendTimeValue(b []byte, c Column, t time.Time) ([]byte, error) {
	_, off := t.Zone()
	if c.Type == DateTimeOffset {
		t = t.UTC()
	}
	if y := t.Year(); y < 1 || y > 9999 || (c.Type == DateTime && y < 1753) {
		return nil, fmt.Errorf("%v is out of range for the column type", t)
	}
	y, m, d := t.Date()
	days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()/86400 - unixDaysOf0001
	secs := int64(t.Hour()*3600 + t.Minute()*60 + t.Second())
	if c.Type == DateTime { // days since 1900 and 1/300 s since midnight
		ticks := secs*300 + (int64(t.Nanosecond())*300+5e8)/1e9
		days -= daysTo1900
		if ticks >= 300*86400 {
			days, ticks = days+1, ticks-300*86400
		}
		return appendU32(appendU32(append(b, 8), uint32(int32(days))), uint32(ticks)), nil
	}
	var v []byte
	if c.Type != Date { // 10^-scale s units since midnight
		scale := c.timeScale()
		units := secs*pow10(scale) + int64(t.Nanosecond())/pow10(9-scale)
		v = appendU64(v, uint64(units))[:timeSize(scale)]
	}
	if c.Type != Time { // days since 0001-01-01, three bytes
		v = append(v, byte(days), byte(days>>8), byte(days>>16))
	}
	if c.Type == DateTimeOffset { // zone offset in minutes
		v = appendU16(v, uint16(int16(off/60)))
	}
	return append(append(b, byte(len(v))), v...), nil
}

func pow10(n int) int64 { return int64(math.Pow10(n)) }

// toInt64 accepts any Go integer kind.
func toInt64(v any) (int64, bool) {
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return r.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(r.Uint()), r.Uint() <= math.MaxInt64
	}
	return 0, false
}

// scaledInt returns v·10^scale for a decimal string or Go integer v,
// refusing values with more decimal places than scale.
func scaledInt(v any, scale int) (*big.Int, error) {
	s, ok := v.(string)
	if n, isInt := toInt64(v); isInt {
		s, ok = fmt.Sprint(n), true
	}
	if !ok {
		return nil, fmt.Errorf("want a decimal string, got %T", v)
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > scale {
		return nil, fmt.Errorf("%q has more than %d decimal places", s, scale)
	}
	n, ok := new(big.Int).SetString(whole+frac+strings.Repeat("0", scale-len(frac)), 10)
	if !ok || strings.ContainsAny(frac, "+-") {
		return nil, fmt.Errorf("%q is not a decimal number", s)
	}
	return n, nil
}

// toGUID accepts GUID, any [16]byte array type (text order) or a string.
func toGUID(v any) (GUID, error) {
	var g GUID
	if s, ok := v.(string); ok {
		h, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
		if err != nil || len(h) != 16 {
			return g, fmt.Errorf("%q is not a GUID", s)
		}
		copy(g[:], h)
		return g, nil
	}
	r := reflect.ValueOf(v)
	if r.Kind() != reflect.Array || r.Len() != 16 || r.Type().Elem().Kind() != reflect.Uint8 {
		return g, fmt.Errorf("want a GUID, got %T", v)
	}
	reflect.Copy(reflect.ValueOf(g[:]), r)
	return g, nil
}
