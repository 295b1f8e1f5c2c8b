package passthrough

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"fhirlink/agent/wire"
)

// RowSource is a result streaming in, as [server.Rows] delivers it.
type RowSource interface {
	Next() bool
	Row() []byte
	Err() error
}

// TooLarge is the failure of a result over limit bytes.
func TooLarge(limit int64) *wire.Error {
	return wire.Errorf(wire.KindTooLarge, "Immediate query results beyond message size limit (%dmb)", limit>>20)
}

// Collect reads a whole result into buf as the data of a [Result]: the
// JSON array of the rows, or for scalar the first value of the first row
// (null without one). It returns the data (in buf) and the row count, and
// fails with [TooLarge] past limit bytes: the agent enforces the cap
// first, this keeps a faulty agent from filling the server's memory.
func Collect(buf *bytes.Buffer, mode wire.Mode, rows RowSource, limit int64) ([]byte, int64, error) {
	var n int64
	buf.WriteByte('[')
	for rows.Next() {
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(rows.Row())
		n++
		if int64(buf.Len()) > limit {
			return nil, 0, TooLarge(limit)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	buf.WriteByte(']')
	if mode != wire.ModeScalar {
		return buf.Bytes(), n, nil
	}
	var objs []map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &objs); err != nil {
		return nil, 0, err
	}
	for _, cols := range objs {
		for _, v := range cols {
			return v, 1, nil
		}
	}
	return []byte("null"), 0, nil
}

// CopyArray copies NDJSON rows (as result pages keep them) from r to w as
// one JSON array (as the API serves them), holding one buffer of rows at a
// time, never the page.
func CopyArray(w io.Writer, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	first, lineStart := true, true
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			end := len(chunk)
			complete := chunk[end-1] == '\n'
			if complete {
				end--
			}
			if lineStart && end > 0 && !first {
				if _, werr := io.WriteString(w, ","); werr != nil {
					return werr
				}
			}
			if lineStart && end > 0 {
				first = false
			}
			if _, werr := w.Write(chunk[:end]); werr != nil {
				return werr
			}
			lineStart = complete
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			_, err = io.WriteString(w, "]")
			return err
		default:
			return err
		}
	}
}
