package tdstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"
	"time"
	"unicode/utf16"
)

// Query is one request as the handler sees it.
type Query struct {
	// SQL is the text of a SQL batch or the @stmt of sp_executesql.
	SQL string
	// ParamDecl is sp_executesql's @params, e.g. "@p1 bigint,@p2 nvarchar(5)".
	ParamDecl string
	// Params are the typed parameter values in the order sent, without
	// sp_executesql's @stmt and @params.
	Params []Param
	// IsProc reports an RPC call of the stored procedure named Proc.
	// For sp_executesql IsProc is false and Proc is "sp_executesql".
	IsProc bool
	Proc   string
	// Database is the database the connection logged in to.
	Database string
	// Transaction is the descriptor of the transaction the request ran in,
	// as begun by a TransactionManager request and carried back in the
	// request's ALL_HEADERS; 0 outside a transaction. The server refuses a
	// request whose descriptor is not its connection's open transaction.
	Transaction uint64
}

// Param is one RPC parameter.
type Param struct {
	// Name as sent, such as "@p1" or "@id"; empty for an unnamed
	// stored-procedure argument.
	Name string
	// Type is the TDS type name without MS-TDS's TYPE suffix: "INTN",
	// "BITN", "FLTN", "DECIMALN", "NUMERICN", "MONEYN", "DATETIMN", "DATEN",
	// "TIMEN", "DATETIME2N", "DATETIMEOFFSETN", "GUID", "NVARCHAR", "NCHAR",
	// "BIGVARCHR", "BIGCHAR", "BIGVARBIN", "BIGBINARY", "XML", the
	// fixed-length "INT4" and the like, or "NULL" for an untyped nil.
	Type string
	// Value is nil for NULL, otherwise: int64 (integers), bool (bit),
	// float64 (float, real), string (decimal, numeric and money as decimal
	// text, character types), []byte (binary types), GUID, and time.Time in
	// UTC for the date and time types (time of day on 0001-01-01) except
	// datetimeoffset, which keeps its offset.
	Value any
	// Output reports a by-reference (OUTPUT) parameter.
	Output bool
}

// Error is a SQL Server error. A Handler that returns one makes the server
// answer with an ERROR token, which go-mssqldb returns as mssql.Error with
// the same Number, State, Class and Message. Any other handler error is sent
// as number 50000, class 16, with the error's text.
type Error struct {
	Number  int32
	State   uint8 // 0 means 1
	Class   uint8 // severity; 0 means 16
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("tdstest: error %d: %s", e.Number, e.Message) }

// sqlError converts any error to the Error sent to the client.
func sqlError(err error) *Error {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Number: 50000, Message: err.Error()}
	}
	out := *e
	if out.Class == 0 {
		out.Class = 16
	}
	if out.State == 0 {
		out.State = 1
	}
	return &out
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("tdstest: "+format, args...)
}

// reader decodes little-endian request fields. The first read past the end
// sets err; later reads return zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	d := r.b[:n:n]
	r.b = r.b[n:]
	return d
}

func (r *reader) u8() byte {
	if d := r.bytes(1); d != nil {
		return d[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if d := r.bytes(2); d != nil {
		return binary.LittleEndian.Uint16(d)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if d := r.bytes(4); d != nil {
		return binary.LittleEndian.Uint32(d)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if d := r.bytes(8); d != nil {
		return binary.LittleEndian.Uint64(d)
	}
	return 0
}

// bVarChar reads a B_VARCHAR.
func (r *reader) bVarChar() string { return ucs2(r.bytes(2 * int(r.u8()))) }

// plp reads a PLP value: total length (all ones for NULL), then chunks
// ended by an empty one.
func (r *reader) plp() (data []byte, null bool) {
	if r.u64() == ^uint64(0) {
		return nil, r.err == nil
	}
	for r.err == nil {
		n := int(r.u32())
		if n == 0 {
			break
		}
		data = append(data, r.bytes(n)...)
	}
	return data, false
}

// ALL_HEADERS header types (MS-TDS 2.2.5.3).
const hdrTransDescr = 2

// allHeaders reads the ALL_HEADERS block that starts batch, RPC and
// TransactionManager requests and returns the transaction descriptor of
// its transaction descriptor header (0 without one).
func (r *reader) allHeaders() (descr uint64) {
	size := len(r.b)
	total := int(r.u32())
	h := &reader{b: r.bytes(total - 4)}
	if r.err != nil {
		r.err = fmt.Errorf("ALL_HEADERS of %d bytes in a request of %d", total, size)
		return 0
	}
	for len(h.b) > 0 && h.err == nil { // each header consumes at least 6 bytes
		n := int(h.u32()) - 6
		typ := h.u16()
		data := h.bytes(n)
		if typ == hdrTransDescr && len(data) >= 8 {
			descr = binary.LittleEndian.Uint64(data)
		}
	}
	if h.err != nil {
		r.err = errors.New("ALL_HEADERS cut short")
	}
	return descr
}

func ucs2(d []byte) string {
	u := make([]uint16, len(d)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(d[2*i:])
	}
	return string(utf16.Decode(u))
}

// login is what the server keeps from LOGIN7.
type login struct {
	packetSize int
	database   string
}

// parseLogin7 reads the requested packet size and database from LOGIN7.
func parseLogin7(d []byte) (login, error) {
	const fixedLen = 94 // through ChangePassword's offset and length
	if len(d) < fixedLen {
		return login{}, errorf("LOGIN7 of %d bytes", len(d))
	}
	l := login{packetSize: int(binary.LittleEndian.Uint32(d[8:12]))}
	l.packetSize = min(max(l.packetSize, 512), 32767)
	off, n := int(binary.LittleEndian.Uint16(d[68:])), 2*int(binary.LittleEndian.Uint16(d[70:]))
	if off+n > len(d) {
		return login{}, errorf("LOGIN7 database name out of bounds")
	}
	l.database = ucs2(d[off : off+n])
	if l.database == "" {
		l.database = "master"
	}
	return l, nil
}

// parseBatch reads a SQL batch: ALL_HEADERS and UTF-16 text.
func parseBatch(d []byte) (Query, error) {
	r := &reader{b: d}
	if tx := r.allHeaders(); r.err == nil {
		return Query{SQL: ucs2(r.b), Transaction: tx}, nil
	}
	return Query{}, errorf("malformed SQL batch: %v", r.err)
}

// parseRPC reads one RPC request: procedure name or id, option flags, and
// parameters. sp_executesql's first two parameters become SQL and
// ParamDecl.
func parseRPC(d []byte) (Query, error) {
	r := &reader{b: d}
	q := Query{Transaction: r.allHeaders()}
	if r.err != nil {
		return q, errorf("malformed RPC request: %v", r.err)
	}
	if n := r.u16(); n != 0xFFFF {
		q.Proc, q.IsProc = ucs2(r.bytes(2*int(n))), true
	} else if id := r.u16(); id == 10 {
		q.Proc = "sp_executesql"
	} else if r.err == nil {
		return q, errorf("unsupported RPC procedure id %d", id)
	}
	r.u16() // option flags
	for len(r.b) > 0 && r.err == nil {
		if r.b[0] == 0x80 || r.b[0] == 0xFF {
			return q, errorf("batched RPC requests are not supported")
		}
		p, err := readParam(r)
		if err != nil {
			return q, err
		}
		q.Params = append(q.Params, p)
	}
	if r.err != nil {
		return q, errorf("malformed RPC request: %v", r.err)
	}
	if q.Proc == "sp_executesql" {
		if len(q.Params) < 2 {
			return q, errorf("sp_executesql without @stmt and @params")
		}
		q.SQL, _ = q.Params[0].Value.(string)
		q.ParamDecl, _ = q.Params[1].Value.(string)
		q.Params = q.Params[2:]
	}
	return q, nil
}

// tdsTypeNames names the parameter types decoded by readParam, as MS-TDS
// does without its TYPE suffix.
var tdsTypeNames = map[byte]string{
	typNull: "NULL", 0x30: "INT1", 0x32: "BIT", 0x34: "INT2", 0x38: "INT4", 0x7F: "INT8",
	0x3B: "FLT4", 0x3E: "FLT8", 0x3C: "MONEY", 0x7A: "MONEY4", 0x3D: "DATETIME", 0x3A: "DATETIM4",
	typIntN: "INTN", typBitN: "BITN", typFltN: "FLTN", typMoneyN: "MONEYN", typDateTimN: "DATETIMN",
	typGUID: "GUID", typDecimalN: "DECIMALN", typNumericN: "NUMERICN", typDateN: "DATEN",
	typTimeN: "TIMEN", typDateTime2N: "DATETIME2N", typDTOffsetN: "DATETIMEOFFSETN",
	typBigVarBin: "BIGVARBIN", typBigBinary: "BIGBINARY", typBigVarChar: "BIGVARCHR",
	typBigChar: "BIGCHAR", typNVarChar: "NVARCHAR", typNChar: "NCHAR", typXML: "XML",
}

// fixedSizes holds the lengths of the fixed-length types.
var fixedSizes = map[byte]int{typNull: 0, 0x30: 1, 0x32: 1, 0x34: 2, 0x38: 4, 0x7F: 8,
	0x3B: 4, 0x3E: 8, 0x3C: 8, 0x7A: 4, 0x3D: 8, 0x3A: 4}

// readParam reads one RPC parameter: name, status, TYPE_INFO and value.
func readParam(r *reader) (p Param, err error) {
	defer func() {
		if recover() != nil { // a value of impossible length
			err = errorf("parameter %q: malformed %s value", p.Name, p.Type)
		}
	}()
	p.Name = r.bVarChar()
	p.Output = r.u8()&1 != 0
	id := r.u8()
	name, known := tdsTypeNames[id]
	if r.err != nil || !known {
		return p, errorf("parameter %q: unsupported type 0x%02X %v", p.Name, id, r.err)
	}
	p.Type = name
	var scale byte
	var data []byte
	null := id == typNull
	switch {
	case id == typNull:
	case fixedSizes[id] > 0:
		data = r.bytes(fixedSizes[id])
	case id == typXML:
		if r.u8() != 0 {
			return p, errorf("parameter %q: typed XML is not supported", p.Name)
		}
		data, null = r.plp()
	case id == typBigVarBin || id == typBigBinary || id == typBigVarChar ||
		id == typBigChar || id == typNVarChar || id == typNChar: // USHORT length, PLP when (max)
		maxLen := r.u16()
		if id != typBigVarBin && id != typBigBinary {
			r.bytes(len(collation))
		}
		if maxLen == maxShortLen {
			data, null = r.plp()
		} else {
			n := r.u16()
			null = n == nullShortLen
			if !null {
				data = r.bytes(int(n))
			}
		}
	default: // BYTE-length types
		switch id {
		case typDateN:
		case typTimeN, typDateTime2N, typDTOffsetN:
			scale = r.u8()
		case typDecimalN, typNumericN: // size, precision, scale
			r.u8()
			r.u8()
			scale = r.u8()
		default:
			r.u8()
		}
		n := int(r.u8())
		null = n == 0
		data = r.bytes(n)
	}
	if r.err != nil {
		return p, errorf("parameter %q: %v", p.Name, r.err)
	}
	if !null {
		p.Value = decodeValue(id, scale, data)
	}
	return p, nil
}

// decodeValue turns a parameter value into the Go value documented on Param.
func decodeValue(id, scale byte, d []byte) any {
	le := func(b []byte) uint64 {
		var x [8]byte
		copy(x[:], b)
		return binary.LittleEndian.Uint64(x[:])
	}
	dateOf := func(b []byte) time.Time { return time.Unix((int64(le(b))+unixDaysOf0001)*86400, 0).UTC() }
	timeOf := func(b []byte) time.Duration { return time.Duration(int64(le(b)) * pow10(9-int(scale))) }
	switch name := tdsTypeNames[id]; {
	case strings.HasPrefix(name, "INT"):
		if len(d) == 1 {
			return int64(d[0])
		}
		return int64(le(d)<<(64-8*len(d))) >> (64 - 8*len(d)) // sign-extend
	case name == "BIT" || name == "BITN":
		return d[0] != 0
	case strings.HasPrefix(name, "FLT"):
		if len(d) == 4 {
			return float64(math.Float32frombits(uint32(le(d))))
		}
		return math.Float64frombits(le(d))
	case strings.HasPrefix(name, "MONEY"):
		n := int64(int32(le(d)))
		if len(d) == 8 {
			n = int64(le(d[:4])<<32 | le(d[4:]))
		}
		return formatScaled(big.NewInt(n), 4)
	case id == typDecimalN || id == typNumericN:
		mag := make([]byte, len(d)-1)
		for i := range mag {
			mag[i] = d[len(d)-1-i]
		}
		n := new(big.Int).SetBytes(mag)
		if d[0] == 0 {
			n.Neg(n)
		}
		return formatScaled(n, int(scale))
	case name == "DATETIME" || name == "DATETIM4" || id == typDateTimN:
		base := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
		if len(d) == 4 {
			return base.AddDate(0, 0, int(le(d[:2]))).Add(time.Duration(le(d[2:])) * time.Minute)
		}
		ticks := time.Duration(le(d[4:])) * time.Second / 300
		return base.AddDate(0, 0, int(int32(le(d[:4])))).Add(ticks.Round(time.Millisecond))
	case id == typDateN:
		return dateOf(d)
	case id == typTimeN:
		return time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Add(timeOf(d))
	case id == typDateTime2N:
		return dateOf(d[len(d)-3:]).Add(timeOf(d[:len(d)-3]))
	case id == typDTOffsetN:
		n := len(d) - 5
		off := int(int16(le(d[n+3:])))
		return dateOf(d[n : n+3]).Add(timeOf(d[:n])).In(time.FixedZone("", off*60))
	case id == typGUID:
		return GUID(swapGUID([16]byte(d)))
	case id == typNVarChar || id == typNChar || id == typXML:
		return ucs2(d)
	case id == typBigVarChar || id == typBigChar:
		return string(d)
	}
	return append([]byte{}, d...)
}

// formatScaled formats n·10^-scale as a decimal string.
func formatScaled(n *big.Int, scale int) string {
	s := new(big.Int).Abs(n).String()
	if scale > 0 {
		s = strings.Repeat("0", max(scale+1-len(s), 0)) + s
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if n.Sign() < 0 {
		s = "-" + s
	}
	return s
}
