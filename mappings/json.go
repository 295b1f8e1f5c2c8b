package mappings

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// JSON writes one FHIR resource's JSON by appending to a buffer: what a row
// function builds a resource with, in place of model structs and
// json.Marshal (which cost about 90 allocations a resource, by reflection).
//
// Every member is written with its name (key); inside an array the name is
// "". An empty value is left out, as FHIR requires: a string "" is not
// written, and an object or array that ends with no member is taken back
// out, name and all. Strings are escaped exactly as encoding/json escapes
// them (HTML-safe, invalid UTF-8 as U+FFFD). Names are the caller's
// constants and are written as given.
//
// Start a resource with NewResource, write its members in FHIR's element
// order, and take the bytes with Bytes, which also returns the writer's
// buffer for the next resource.
type JSON struct {
	buf   []byte
	more  bool // the open container already has a member
	depth int
	open  [maxDepth]frame
}

// maxDepth is how deeply containers may nest (a resource nests about 5).
const maxDepth = 16

type frame struct {
	start int  // where the member began, to take it back out when empty
	more  bool // whether the enclosing container had a member before it
	close byte // '}' or ']'
}

var writers = sync.Pool{New: func() any { return &JSON{buf: make([]byte, 0, 4096)} }}

// NewResource starts the resource {"resourceType":typ, ...}.
func NewResource(typ string) *JSON {
	w := writers.Get().(*JSON)
	w.buf = append(w.buf[:0], `{"resourceType":"`...)
	w.buf = append(w.buf, typ...)
	w.buf = append(w.buf, '"')
	w.more, w.depth = true, 1
	w.open[0] = frame{close: '}'}
	return w
}

// Bytes closes what is open and returns the resource, a copy of its own;
// the writer goes back to the pool and must not be used again.
func (w *JSON) Bytes() []byte {
	for w.depth > 0 {
		w.End()
	}
	out := make([]byte, len(w.buf))
	copy(out, w.buf)
	if cap(w.buf) <= 1<<20 {
		writers.Put(w)
	}
	return out
}

// name writes the separator and, outside an array, "key":.
func (w *JSON) name(key string) {
	if w.more {
		w.buf = append(w.buf, ',')
	}
	w.more = true
	if key != "" {
		w.buf = append(w.buf, '"')
		w.buf = append(w.buf, key...)
		w.buf = append(w.buf, '"', ':')
	}
}

func (w *JSON) begin(key string, open, close byte) {
	if w.depth == maxDepth {
		panic("mappings: JSON nested too deeply")
	}
	w.open[w.depth] = frame{start: len(w.buf), more: w.more, close: close}
	w.depth++
	w.name(key)
	w.buf = append(w.buf, open)
	w.more = false
}

// Object opens the object member key; End closes it.
func (w *JSON) Object(key string) { w.begin(key, '{', '}') }

// Array opens the array member key; End closes it.
func (w *JSON) Array(key string) { w.begin(key, '[', ']') }

// End closes the object or array opened last, taking it out when it has
// no member.
func (w *JSON) End() {
	w.depth--
	f := w.open[w.depth]
	if !w.more && w.depth > 0 {
		w.buf = w.buf[:f.start]
		w.more = f.more
		return
	}
	w.buf = append(w.buf, f.close)
	w.more = true
}

// String writes the string member key, unless v is "".
func (w *JSON) String(key, v string) {
	if v == "" {
		return
	}
	w.name(key)
	w.buf = AppendString(w.buf, v)
}

// Strings writes the array of strings key, leaving out the "" ones (and
// the array when every one is).
func (w *JSON) Strings(key string, vs ...string) {
	w.Array(key)
	for _, v := range vs {
		w.String("", v)
	}
	w.End()
}

// Bool writes the boolean member key.
func (w *JSON) Bool(key string, v bool) {
	w.name(key)
	w.buf = strconv.AppendBool(w.buf, v)
}

// Int writes the integer member key.
func (w *JSON) Int(key string, v int64) {
	w.name(key)
	w.buf = strconv.AppendInt(w.buf, v, 10)
}

// Float writes the number member key with the given number of decimals
// (-1: as few as give the value back).
func (w *JSON) Float(key string, v float64, decimals int) {
	w.name(key)
	w.buf = strconv.AppendFloat(w.buf, v, 'f', decimals, 64)
}

// Raw writes the member key as the JSON value raw, which must be valid.
func (w *JSON) Raw(key string, raw []byte) {
	w.name(key)
	w.buf = append(w.buf, raw...)
}

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped as encoding/json
// escapes it: ", \ and the control characters escaped (\b, \f, \n, \r, \t
// by name, the rest as \u00XX), <, > and & as \u003c, \u003e and \u0026,
// U+2028 and U+2029 as \u2028 and \u2029, and each byte of invalid UTF-8
// as \ufffd.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	return append(appendEscaped(b, s), '"')
}

// Joined writes the string member key made of parts joined, unless it is
// "" (a reference's Type/id, without building the string first).
func (w *JSON) Joined(key string, parts ...string) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n == 0 {
		return
	}
	w.name(key)
	w.buf = append(w.buf, '"')
	for _, p := range parts {
		w.buf = appendEscaped(w.buf, p)
	}
	w.buf = append(w.buf, '"')
}

// Words writes the string member key made of the non-blank parts, each
// trimmed, joined with single spaces (a person's name from its parts, as
// PersonName makes it); nothing when every part is blank.
func (w *JSON) Words(key string, parts ...string) {
	n := 0
	for _, p := range parts {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if n == 0 {
			w.name(key)
			w.buf = append(w.buf, '"')
		} else {
			w.buf = append(w.buf, ' ')
		}
		w.buf = appendEscaped(w.buf, p)
		n++
	}
	if n > 0 {
		w.buf = append(w.buf, '"')
	}
}

// appendEscaped appends s escaped for a JSON string, without the quotes.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// jsonSafe is the ASCII that a JSON string holds as it is: not a control
// character, ", \, nor the HTML-sensitive <, > and &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()
