package executor

import (
	"database/sql"
	"strconv"

	"fhirlink/agent/wire"
)

// rowEncoder turns the rows of one result into JSON objects. Its scanners
// keep the driver's values without copying them (database/sql copies []byte
// into an *any destination, not into a Scanner), and the row is encoded into
// one buffer reused for every row, so a row costs no allocation of its own.
type rowEncoder struct {
	keys    [][]byte // `"name":` for each kept column, with a leading ',' after the first
	codecs  []codec
	dest    []any // Scan destinations: *slot for kept columns, discard for the rest
	slots   []slot
	columns []wire.Column
	buf     []byte
}

// slot receives one column's value from rows.Scan. The value is valid only
// until the next Scan, which is as long as it is needed.
type slot struct{ v any }

func (s *slot) Scan(v any) error { s.v = v; return nil }

// discard takes the columns a scalar query does not return.
type discard struct{}

func (discard) Scan(any) error { return nil }

// columnCoder is implemented by engines whose driver's type name alone does
// not fix a column's codec (Firebird: INTEGER and NUMERIC(9,2) are both LONG).
type columnCoder interface {
	columnCodec(ct *sql.ColumnType) codec
}

// newRowEncoder prepares the encoding of the columns of rows; keep is how
// many leading columns to return (all when negative).
func newRowEncoder(e engine, rows *sql.Rows, keep int) (*rowEncoder, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	if keep < 0 || keep > len(types) {
		keep = len(types)
	}
	r := &rowEncoder{
		keys:    make([][]byte, keep),
		codecs:  make([]codec, keep),
		dest:    make([]any, len(types)),
		slots:   make([]slot, keep),
		columns: make([]wire.Column, keep),
	}
	names := columnNames(types[:keep])
	for i, ct := range types {
		if i >= keep {
			r.dest[i] = discard{}
			continue
		}
		r.dest[i] = &r.slots[i]
		dbType := ct.DatabaseTypeName()
		if cc, ok := e.(columnCoder); ok {
			r.codecs[i] = cc.columnCodec(ct)
		} else {
			r.codecs[i] = e.codec(dbType)
		}
		col := wire.Column{Name: names[i], Type: r.codecs[i].wireType(), DBType: dbType}
		if nullable, ok := ct.Nullable(); ok {
			col.Nullable = &nullable
		}
		r.columns[i] = col
		var key []byte
		if i > 0 {
			key = append(key, ',')
		}
		key = appendString(key, names[i])
		r.keys[i] = append(key, ':')
	}
	return r, nil
}

// columnNames returns unique, non-empty JSON keys: a nameless column is
// "column<position>", and a repeated name gets "_2", "_3", ... so that no
// value is lost to a duplicate key.
func columnNames(types []*sql.ColumnType) []string {
	names := make([]string, len(types))
	taken := make(map[string]bool, len(types))
	for i, ct := range types {
		name := ct.Name()
		if name == "" {
			name = "column" + strconv.Itoa(i+1)
		}
		if taken[name] {
			for n := 2; ; n++ {
				if alt := name + "_" + strconv.Itoa(n); !taken[alt] {
					name = alt
					break
				}
			}
		}
		taken[name] = true
		names[i] = name
	}
	return names
}

// settleDynamic gives columns without a declared type (SQLite expressions)
// the type of their value in the first row, before the header is sent;
// columns of text or bytes are binary when the first value is bytes.
func (r *rowEncoder) settleDynamic(first bool) {
	for i, c := range r.codecs {
		if c == codecTextOrBytes {
			if _, ok := r.slots[i].v.([]byte); ok && first {
				r.columns[i].Type = wire.TypeBinary
			}
			continue
		}
		if c != codecDynamic {
			continue
		}
		if first && r.slots[i].v != nil {
			c = dynamicCodec(r.slots[i].v)
			r.codecs[i] = c
		}
		r.columns[i].Type = c.wireType()
	}
}

// allNull reports whether every kept value of the scanned row is NULL.
func (r *rowEncoder) allNull() bool {
	for _, s := range r.slots {
		if s.v != nil {
			return false
		}
	}
	return true
}

// scan reads the current row into the slots.
func (r *rowEncoder) scan(rows *sql.Rows) error { return rows.Scan(r.dest...) }

// encode returns the scanned row as a JSON object, in a buffer that the next
// call overwrites.
func (r *rowEncoder) encode() []byte {
	b := append(r.buf[:0], '{')
	for i, c := range r.codecs {
		b = append(b, r.keys[i]...)
		b = appendValue(b, c, r.slots[i].v)
	}
	b = append(b, '}')
	r.buf = b
	return b
}
