package executor

import (
	"errors"
	"fmt"
	"strings"
)

// Parameters are written @name on every engine, as on SQL Server. The
// scanners here find the placeholders of a command text the way the engine's
// own tokenizer would (outside string literals, quoted names and comments),
// so that a placeholder no parameter fills, or one in another syntax, is
// refused before any statement of the text runs, naming it.

// errPositional is the advice for placeholders in other syntaxes.
const errPositional = "write parameters as @name"

// scanPostgresSQL splits text into plain chunks and placeholders, and calls
// emit with each in order; the chunks concatenated are the rest of the text
// unchanged. Placeholders are @name (a letter or _ then letters, digits and
// _, as pgx and the SQL Server convention read them) and PostgreSQL's own
// $n. Skipped: '...' (and E'...' with backslash escapes), "...",
// $tag$...$tag$, -- and nested /* */ comments, and identifiers (which may
// hold a '$'). '@' before anything else is PostgreSQL's operator.
func scanPostgresSQL(text string, emit func(chunk string, placeholder bool) error) error {
	start := 0
	flush := func(end int) error {
		if end > start {
			if err := emit(text[start:end], false); err != nil {
				return err
			}
		}
		start = end
		return nil
	}
	placeholder := func(i, j int) (int, error) {
		if err := flush(i); err != nil {
			return 0, err
		}
		if err := emit(text[i:j], true); err != nil {
			return 0, err
		}
		start = j
		return j, nil
	}
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case isIdentStart(c):
			j := i + 1
			for j < len(text) && isIdentByte(text[j]) {
				j++
			}
			if j == i+1 && (c == 'e' || c == 'E') && j < len(text) && text[j] == '\'' {
				var err error
				if j, err = endEString(text, j); err != nil {
					return err
				}
			}
			i = j
		case c == '\'' || c == '"':
			end := strings.IndexByte(text[i+1:], c)
			if end < 0 {
				return fmt.Errorf("the command text has an unterminated %c", c)
			}
			i += end + 2 // '' or "" inside: scanning on from the next quote does the same
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				end = len(text) - i
			}
			i += end
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			depth, j := 1, i+2
			for depth > 0 {
				switch {
				case j+1 >= len(text):
					return errors.New("the command text has an unterminated /* comment")
				case text[j] == '/' && text[j+1] == '*':
					depth++
					j += 2
				case text[j] == '*' && text[j+1] == '/':
					depth--
					j += 2
				default:
					j++
				}
			}
			i = j
		case c == '$':
			j := i + 1
			if j < len(text) && text[j] >= '0' && text[j] <= '9' {
				for j < len(text) && text[j] >= '0' && text[j] <= '9' {
					j++
				}
				var err error
				if i, err = placeholder(i, j); err != nil {
					return err
				}
				continue
			}
			// $tag$ opens a dollar-quoted string closed by the same tag.
			for j < len(text) && isIdentByte(text[j]) && text[j] != '$' {
				j++
			}
			if j < len(text) && text[j] == '$' {
				tag := text[i : j+1]
				end := strings.Index(text[j+1:], tag)
				if end < 0 {
					return errors.New("the command text has an unterminated dollar-quoted string")
				}
				i = j + 1 + end + len(tag)
				continue
			}
			i++
		case c == '@' && i+1 < len(text) && (isLetter(text[i+1]) || text[i+1] == '_'):
			j := i + 2
			for j < len(text) && (isLetter(text[j]) || text[j] == '_' || (text[j] >= '0' && text[j] <= '9')) {
				j++
			}
			var err error
			if i, err = placeholder(i, j); err != nil {
				return err
			}
		default:
			i++
		}
	}
	return flush(len(text))
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// sqliteVariables calls emit with each placeholder of text as SQLite's
// tokenizer reads them: ? and ?NNN, and @, :, $ or # followed by identifier
// characters (with SQLite's ::segments and (suffix) for Tcl variables).
// Skipped: '...', "...", `...`, [...], -- and /* */ comments, and
// identifiers and numbers (in which a '$' is an ordinary character).
func sqliteVariables(text string, emit func(placeholder string) error) error {
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case isIdentByte(c) && c != '$':
			j := i + 1
			for j < len(text) && isIdentByte(text[j]) {
				j++
			}
			i = j
		case c == '\'' || c == '"' || c == '`':
			end := strings.IndexByte(text[i+1:], c)
			if end < 0 {
				return fmt.Errorf("the command text has an unterminated %c", c)
			}
			i += end + 2
		case c == '[':
			end := strings.IndexByte(text[i+1:], ']')
			if end < 0 {
				return errors.New("the command text has an unterminated [")
			}
			i += end + 2
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				end = len(text) - i
			}
			i += end
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return nil // SQLite ends such a comment at the end of the text
			}
			i += end + 4
		case c == '?':
			j := i + 1
			for j < len(text) && text[j] >= '0' && text[j] <= '9' {
				j++
			}
			if err := emit(text[i:j]); err != nil {
				return err
			}
			i = j
		case c == '@' || c == ':' || c == '$' || c == '#':
			j := i + 1
			n := 0 // identifier characters in the name
		name:
			for j < len(text) {
				switch {
				case isIdentByte(text[j]):
					n++
					j++
				case text[j] == ':' && j+1 < len(text) && text[j+1] == ':':
					j += 2
				case text[j] == '(' && n > 0:
					k := j + 1
					for k < len(text) && text[k] != ')' && !isSpace(text[k]) {
						k++
					}
					if k < len(text) && text[k] == ')' {
						j = k + 1
					}
					break name
				default:
					break name
				}
			}
			if n > 0 {
				if err := emit(text[i:j]); err != nil {
					return err
				}
				i = j
			} else {
				i++
			}
		default:
			i++
		}
	}
	return nil
}

// endEString returns the index after the E'...' literal whose quote is at
// q: a backslash escapes the next character, and a doubled quote is one.
func endEString(text string, q int) (int, error) {
	for k := q + 1; k < len(text); k++ {
		switch text[k] {
		case '\\':
			k++
		case '\'':
			if k+1 < len(text) && text[k+1] == '\'' {
				k++
				continue
			}
			return k + 1, nil
		}
	}
	return 0, errors.New("the command text has an unterminated E'...' string literal")
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
