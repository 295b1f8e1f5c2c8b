package fhir

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// ParseQuery parses a query string, or a form body, as FHIR searches are
// written: pairs separated by '&' only, each name=value (a name alone has
// the value ""), percent-decoded with '+' as a space; empty pairs are
// skipped. A ';' is an ordinary character of a name or value: FHIR values
// may hold one, and Go's url.ParseQuery, which refuses such pairs, makes a
// caller that ignores its error drop them, and the filters they carry,
// silently.
//
// It refuses the whole query, naming the pair, for a bad percent-escape, a
// name or value that is not UTF-8 once decoded, or one holding a control
// character other than tab, CR and LF, which no FHIR string may contain.
func ParseQuery(raw string) (url.Values, error) {
	v := url.Values{}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		n, err := url.QueryUnescape(name)
		if err != nil {
			return nil, fmt.Errorf("the query pair %q has a malformed percent-escape (write %%25 for a literal %%)", pair)
		}
		val, err := url.QueryUnescape(value)
		if err != nil {
			return nil, fmt.Errorf("the query pair %q has a malformed percent-escape (write %%25 for a literal %%)", pair)
		}
		for _, s := range []string{n, val} {
			if !utf8.ValidString(s) {
				return nil, fmt.Errorf("the query pair %q is not UTF-8 once decoded", pair)
			}
			if i := strings.IndexFunc(s, isControl); i >= 0 {
				return nil, fmt.Errorf("the query pair %q holds a control character (U+%04X)", pair, s[i])
			}
		}
		v[n] = append(v[n], val)
	}
	return v, nil
}

// isControl is a character below U+0020 other than tab, LF and CR.
func isControl(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' }
