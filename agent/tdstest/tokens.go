package tdstest

import (
	"encoding/binary"
	"unicode/utf16"
)

// Token types (MS-TDS 2.2.7).
const (
	tokReturnStatus = 0x79
	tokColMetadata  = 0x81
	tokError        = 0xAA
	tokLoginAck     = 0xAD
	tokRow          = 0xD1
	tokNBCRow       = 0xD2
	tokEnvChange    = 0xE3
	tokDone         = 0xFD
	tokDoneProc     = 0xFE
	tokDoneInProc   = 0xFF
)

// DONE status bits and the current-command code of a SELECT.
const (
	doneMore  = 0x01
	doneError = 0x02
	doneCount = 0x10
	doneAttn  = 0x20
	cmdSelect = 0xC1
)

// ENVCHANGE types.
const (
	envDatabase     = 1
	envPacketSize   = 4
	envBeginTran    = 8
	envCommitTran   = 9
	envRollbackTran = 10
)

// progVersion is the server version reported in PRELOGIN and LOGINACK:
// 16.0.2000 (SQL Server 2022), as major, minor and a big-endian build.
var progVersion = []byte{16, 0, 0x07, 0xD0}

func appendU16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
func appendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func appendU64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

// appendUCS2 appends s as UTF-16LE and returns the number of code units.
func appendUCS2(b []byte, s string) ([]byte, int) {
	u := utf16.Encode([]rune(s))
	for _, c := range u {
		b = appendU16(b, c)
	}
	return b, len(u)
}

// appendBVarChar appends a B_VARCHAR: a one-byte length in characters and
// UTF-16LE text, cut to 255 characters.
func appendBVarChar(b []byte, s string) []byte { return appendVarChar(b, s, 1) }

// appendUsVarChar appends a US_VARCHAR: as B_VARCHAR with a two-byte
// length, cut to 65535 characters.
func appendUsVarChar(b []byte, s string) []byte { return appendVarChar(b, s, 2) }

func appendVarChar(b []byte, s string, lenBytes int) []byte {
	u := utf16.Encode([]rune(s))
	u = u[:min(len(u), 1<<(8*lenBytes)-1)]
	b = append(b, byte(len(u)))
	if lenBytes == 2 {
		b = append(b, byte(len(u)>>8))
	}
	for _, c := range u {
		b = appendU16(b, c)
	}
	return b
}

// appendToken appends a token whose body has a two-byte length prefix.
func appendToken(b []byte, tok byte, body []byte) []byte {
	b = append(b, tok)
	b = appendU16(b, uint16(len(body)))
	return append(b, body...)
}

// preloginReply is the PRELOGIN answer: version, encryption not supported
// (the client then sends everything in clear), MARS off.
func preloginReply() []byte {
	opts := []struct {
		id  byte
		val []byte
	}{
		{0, append(append([]byte{}, progVersion...), 0, 0)}, // VERSION + sub-build
		{1, []byte{2}}, // ENCRYPTION: ENCRYPT_NOT_SUP
		{4, []byte{0}}, // MARS: off
	}
	off := 5*len(opts) + 1
	var head, data []byte
	for _, o := range opts {
		head = append(head, o.id, byte(off>>8), byte(off), byte(len(o.val)>>8), byte(len(o.val)))
		data = append(data, o.val...)
		off += len(o.val)
	}
	return append(append(head, 0xFF), data...)
}

// appendLoginAck appends LOGINACK for TDS 7.4 and the T-SQL interface.
func appendLoginAck(b []byte) []byte {
	body := []byte{1, 0x74, 0x00, 0x00, 0x04} // interface SQL_TSQL, TDS version (big-endian)
	body = appendBVarChar(body, "tdstest")
	body = append(body, progVersion...)
	return appendToken(b, tokLoginAck, body)
}

// appendEnvChange appends an ENVCHANGE with B_VARCHAR new and old values.
func appendEnvChange(b []byte, typ byte, newVal, oldVal string) []byte {
	body := appendBVarChar([]byte{typ}, newVal)
	return appendToken(b, tokEnvChange, appendBVarChar(body, oldVal))
}

// appendDone appends a DONE, DONEPROC or DONEINPROC token.
func appendDone(b []byte, tok byte, status, cmd uint16, rows int64) []byte {
	b = append(b, tok)
	b = appendU16(b, status)
	b = appendU16(b, cmd)
	return appendU64(b, uint64(rows))
}

// appendError appends an ERROR token carrying e.
func appendError(b []byte, e *Error) []byte {
	body := appendU32(nil, uint32(e.Number))
	body = append(body, e.State, e.Class)
	body = appendUsVarChar(body, e.Message)
	body = appendBVarChar(body, "tdstest") // server name
	body = appendBVarChar(body, "")        // procedure name
	body = appendU32(body, 1)              // line number
	return appendToken(b, tokError, body)
}

// appendReturnStatus appends the RETURNSTATUS of a procedure call.
func appendReturnStatus(b []byte, status int32) []byte {
	return appendU32(append(b, tokReturnStatus), uint32(status))
}

// appendColMetadata appends COLMETADATA describing cols.
func appendColMetadata(b []byte, cols []Column) ([]byte, error) {
	b = append(b, tokColMetadata)
	b = appendU16(b, uint16(len(cols)))
	for _, c := range cols {
		ti, err := c.typeInfo()
		if err != nil {
			return nil, err
		}
		var flags uint16
		if c.Nullable {
			flags = 1
		}
		b = appendU32(b, 0) // user type
		b = appendU16(b, flags)
		b = append(b, ti...)
		b = appendBVarChar(b, c.Name)
	}
	return b, nil
}

// appendRow appends one row: NBCROW (with a null bitmap) when a value is
// nil, ROW otherwise, as SQL Server does.
func appendRow(b []byte, cols []Column, row []any) ([]byte, error) {
	if len(row) != len(cols) {
		return nil, errorf("row has %d values for %d columns", len(row), len(cols))
	}
	var nulls []byte
	for i, v := range row {
		if v == nil {
			if nulls == nil {
				nulls = make([]byte, (len(cols)+7)/8)
			}
			nulls[i/8] |= 1 << (i % 8)
		}
	}
	if nulls != nil {
		b = append(append(b, tokNBCRow), nulls...)
	} else {
		b = append(b, tokRow)
	}
	var err error
	for i, v := range row {
		switch {
		case v == nil && !cols[i].Nullable:
			return nil, errorf("column %q: NULL in a NOT NULL column", cols[i].Name)
		case v == nil:
		default:
			if b, err = appendValue(b, cols[i], v); err != nil {
				return nil, errorf("column %q: %v", cols[i].Name, err)
			}
		}
	}
	return b, nil
}
