package fhir

import "strings"

// FHIR search values escape the characters that separate values (",") and
// parts of values ("|", "$") with a backslash, and a backslash itself as
// "\\". A backslash before any other character is kept as a plain
// backslash: refusing it would only break values that happen to contain
// one, and keeping it is what a client that forgot to escape meant.

// isEscapable reports whether c may follow a backslash as an escape.
func isEscapable(c byte) bool { return c == ',' || c == '|' || c == '$' || c == '\\' }

// splitUnescaped splits s at each sep not escaped by a backslash. The
// pieces keep their escapes, so a later split on another separator still
// sees them.
func splitUnescaped(s string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && isEscapable(s[i+1]):
			i++
		case s[i] == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unescape removes the search escapes from one value part.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && isEscapable(s[i+1]) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escape is unescape's inverse, for the canonical values of
// Search.Applied: parsing escape(v) gives v back.
func escape(s string) string {
	if !strings.ContainsAny(s, `\,|$`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		if isEscapable(s[i]) {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
