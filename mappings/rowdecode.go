package mappings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unsafe"
)

// DecodeRow decodes a result row, the agent's JSON object of one row keyed
// by column alias, into dst, a row struct whose fields are [Text], [Int]
// and [Wall] columns named by their json tags (fields of embedded structs
// too). Columns the struct does not name are skipped; a column the row
// lacks keeps its zero value. Names match exactly or, as encoding/json
// does, ignoring ASCII case.
//
// It reads the row in one pass and writes each value straight into its
// field through an offset worked out once per struct type: with
// json.Unmarshal, reflection over the struct and a call through
// json.Unmarshaler per column were more than half of a row's cost on the
// server.
func DecodeRow[R any](row []byte, dst *R) error {
	p, err := planOf(reflect.TypeFor[R]())
	if err != nil {
		return err
	}
	return p.decode(row, unsafe.Pointer(dst))
}

// columnKind is the type of a row struct's field.
type columnKind uint8

const (
	kindText columnKind = iota
	kindInt
	kindWall
)

// rowField is where one column goes.
type rowField struct {
	name   string
	offset uintptr
	kind   columnKind
}

// rowPlan is how rows decode into one struct type: its fields in
// declaration order (which is the select order of its columns, so the
// n-th column of a row is normally the n-th field) and by name.
type rowPlan struct {
	fields []rowField
	byName map[string]int // exact names
	folded map[string]int // lower-cased names
}

var rowPlans sync.Map // reflect.Type → *rowPlan or error

var (
	textType = reflect.TypeFor[Text]()
	intType  = reflect.TypeFor[Int]()
	wallType = reflect.TypeFor[Wall]()
)

func planOf(t reflect.Type) (*rowPlan, error) {
	if v, ok := rowPlans.Load(t); ok {
		if p, ok := v.(*rowPlan); ok {
			return p, nil
		}
		return nil, v.(error)
	}
	p := &rowPlan{byName: map[string]int{}, folded: map[string]int{}}
	var walk func(t reflect.Type, base uintptr) error
	walk = func(t reflect.Type, base uintptr) error {
		if t.Kind() != reflect.Struct {
			return fmt.Errorf("mappings: a row must be a struct, not %s", t)
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				if err := walk(f.Type, base+f.Offset); err != nil {
					return err
				}
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				return fmt.Errorf("mappings: %s.%s has no json column name", t.Name(), f.Name)
			}
			var kind columnKind
			switch f.Type {
			case textType:
				kind = kindText
			case intType:
				kind = kindInt
			case wallType:
				kind = kindWall
			default:
				return fmt.Errorf("mappings: %s.%s is a %s; a row column is a Text, Int or Wall", t.Name(), f.Name, f.Type)
			}
			p.byName[name] = len(p.fields)
			if _, dup := p.folded[strings.ToLower(name)]; !dup {
				p.folded[strings.ToLower(name)] = len(p.fields)
			}
			p.fields = append(p.fields, rowField{name: name, offset: base + f.Offset, kind: kind})
		}
		return nil
	}
	var v any = p
	if err := walk(t, 0); err != nil {
		v = err
	}
	v, _ = rowPlans.LoadOrStore(t, v)
	if err, ok := v.(error); ok {
		return nil, err
	}
	return v.(*rowPlan), nil
}

// field finds the field of column key, the n-th of its row.
func (p *rowPlan) field(key []byte, n int) (rowField, bool) {
	if n < len(p.fields) && p.fields[n].name == string(key) {
		return p.fields[n], true
	}
	if i, ok := p.byName[string(key)]; ok {
		return p.fields[i], true
	}
	if bytes.IndexFunc(key, func(r rune) bool { return 'A' <= r && r <= 'Z' }) < 0 {
		return rowField{}, false
	}
	i, ok := p.folded[strings.ToLower(string(key))]
	return p.fields[i], ok
}

func (p *rowPlan) decode(row []byte, base unsafe.Pointer) error {
	s := rowScanner{b: row}
	s.space()
	if !s.eat('{') {
		return s.errorf("a row is a JSON object")
	}
	s.space()
	if s.eat('}') {
		return s.end()
	}
	for n := 0; ; n++ {
		key, err := s.key()
		if err != nil {
			return err
		}
		s.space()
		if !s.eat(':') {
			return s.errorf("a ':' after the column name")
		}
		s.space()
		value, err := s.value()
		if err != nil {
			return err
		}
		if f, ok := p.field(key, n); ok {
			ptr := unsafe.Add(base, f.offset)
			switch f.kind {
			case kindText:
				err = (*Text)(ptr).UnmarshalJSON(value)
			case kindInt:
				err = (*Int)(ptr).UnmarshalJSON(value)
			case kindWall:
				err = (*Wall)(ptr).UnmarshalJSON(value)
			}
			if err != nil {
				return fmt.Errorf("column %s: %w", key, err)
			}
		}
		s.space()
		if s.eat('}') {
			return s.end()
		}
		if !s.eat(',') {
			return s.errorf("',' or '}' after a value")
		}
		s.space()
	}
}

// rowScanner reads the parts of a row object.
type rowScanner struct {
	b []byte
	i int
}

func (s *rowScanner) errorf(want string) error {
	return fmt.Errorf("mappings: malformed row at byte %d: want %s", s.i, want)
}

func (s *rowScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *rowScanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *rowScanner) end() error {
	s.space()
	if s.i != len(s.b) {
		return s.errorf("nothing after the row object")
	}
	return nil
}

// key reads a column name. Aliases need no escapes; one that has them is
// unescaped as JSON.
func (s *rowScanner) key() ([]byte, error) {
	start := s.i
	raw, err := s.str()
	if err != nil {
		return nil, err
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], nil
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		s.i = start
		return nil, s.errorf("a column name")
	}
	return []byte(name), nil
}

// str reads a string, quotes included.
func (s *rowScanner) str() ([]byte, error) {
	start := s.i
	if !s.eat('"') {
		return nil, s.errorf("a string")
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			s.i++
			return s.b[start:s.i], nil
		case '\\':
			s.i++ // and the byte it escapes
		}
		s.i++
	}
	s.i = len(s.b)
	return nil, s.errorf("the end of a string")
}

// value reads one value as it is: a string, a literal or number, or a
// nested object or array (a JSON column).
func (s *rowScanner) value() ([]byte, error) {
	if s.i >= len(s.b) {
		return nil, s.errorf("a value")
	}
	start := s.i
	switch s.b[s.i] {
	case '"':
		return s.str()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, err := s.str(); err != nil {
					return nil, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return s.b[start:s.i], nil
			}
		}
		return nil, s.errorf("the end of a nested value")
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ' ', '\t', '\n', '\r':
			v := s.b[start:s.i]
			if !literal(v) {
				s.i = start
				return nil, s.errorf("a value")
			}
			return v, nil
		}
		s.i++
	}
	return nil, s.errorf("the end of the row")
}

// literal reports whether v is null, true, false or a JSON number.
func literal(v []byte) bool {
	switch string(v) {
	case "null", "true", "false":
		return true
	}
	if _, ok := parseInt(v); ok {
		return true
	}
	return json.Valid(v) && (v[0] == '-' || '0' <= v[0] && v[0] <= '9')
}
