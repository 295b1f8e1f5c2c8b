package executor

import "strings"

// A nonQuery whose statement returns rows (INSERT ... RETURNING, or OUTPUT
// inserted.* on SQL Server) runs as a query: its rows stream like a
// reader's, and its rowsAffected is the number of rows it returned, since
// these clauses return one row per row the statement changed. Which texts
// do is decided from the text itself, before it runs: no driver reports
// both the rows of a statement and its count of changed rows through
// database/sql, and only PostgreSQL could describe a statement first.

// singletonReturning is implemented by engines whose RETURNING answers a
// statement that changed no row with one row of NULLs: nullRowIsNone
// reports whether text is such a statement, so that the row is not
// returned and counted.
type singletonReturning interface {
	nullRowIsNone(text string) bool
}

// dialect says how an engine's tokenizer reads quoted text and comments,
// for sqlWords.
type dialect struct {
	brackets       bool // [quoted name] (SQL Server, SQLite)
	backticks      bool // `quoted name` (SQLite)
	dollarQuotes   bool // $tag$...$tag$ and E'...' with backslash escapes (PostgreSQL)
	qStrings       bool // q'{...}' (Firebird)
	nestedComments bool // /* /* */ */ (PostgreSQL, SQL Server)
}

var (
	tsqlDialect     = dialect{brackets: true, nestedComments: true}
	postgresDialect = dialect{dollarQuotes: true, nestedComments: true}
	sqliteDialect   = dialect{brackets: true, backticks: true}
	firebirdDialect = dialect{qStrings: true}
)

// sqlWords calls word with each word of text (a run of letters, digits, _
// and $, as written) outside string literals, quoted names and comments,
// until word returns false. An unterminated literal or comment ends the
// text: the database refuses it anyway.
func sqlWords(text string, d dialect, word func(w string) bool) {
	skipTo := func(i int, closer string) int {
		end := strings.Index(text[i:], closer)
		if end < 0 {
			return len(text)
		}
		return i + end + len(closer)
	}
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case d.dollarQuotes && (c == 'e' || c == 'E') && i+1 < len(text) && text[i+1] == '\'' && (i == 0 || !isIdentByte(text[i-1])):
			end, err := endEString(text, i+1)
			if err != nil {
				return
			}
			i = end
		case d.qStrings && (c == 'q' || c == 'Q') && i+2 < len(text) && text[i+1] == '\'' && (i == 0 || !isIdentByte(text[i-1])):
			closer := map[byte]byte{'(': ')', '[': ']', '{': '}', '<': '>'}[text[i+2]]
			if closer == 0 {
				closer = text[i+2]
			}
			i = skipTo(i+3, string(closer)+"'")
		case d.dollarQuotes && c == '$' && (i == 0 || !isIdentByte(text[i-1])):
			// $tag$ opens a dollar-quoted string; $1 is a placeholder.
			j := i + 1
			for j < len(text) && isIdentByte(text[j]) && text[j] != '$' {
				j++
			}
			if j < len(text) && text[j] == '$' && (j == i+1 || !(text[i+1] >= '0' && text[i+1] <= '9')) {
				i = skipTo(j+1, text[i:j+1])
				continue
			}
			i = j
		case isIdentByte(c):
			j := i + 1
			for j < len(text) && isIdentByte(text[j]) {
				j++
			}
			if !word(text[i:j]) {
				return
			}
			i = j
		case c == '\'' || c == '"':
			// A doubled quote inside is the quote itself: scanning on from
			// the next one does the same.
			i = skipTo(i+1, string(c))
		case c == '[' && d.brackets:
			i = skipTo(i+1, "]")
		case c == '`' && d.backticks:
			i = skipTo(i+1, "`")
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			i = skipTo(i, "\n")
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			depth, j := 1, i+2
			for j < len(text) && depth > 0 {
				switch {
				case strings.HasPrefix(text[j:], "*/"):
					depth--
					j += 2
				case d.nestedComments && strings.HasPrefix(text[j:], "/*"):
					depth++
					j += 2
				default:
					j++
				}
			}
			i = j
		default:
			i++
		}
	}
}

// hasReturning reports a RETURNING clause: the keyword as a word of text.
// It is reserved on PostgreSQL and Firebird, and SQLite reads it as the
// clause wherever it may stand.
func hasReturning(text string, d dialect) bool {
	found := false
	sqlWords(text, d, func(w string) bool {
		found = strings.EqualFold(w, "RETURNING")
		return !found
	})
	return found
}

// hasOutputClause reports a T-SQL OUTPUT clause that returns rows: OUTPUT
// followed by inserted.*, deleted.* or $action (OUTPUT is not reserved, so
// a column may be called so), with no INTO after it, which would send the
// rows to a table instead.
func hasOutputClause(text string) bool {
	var prev string
	output, into := false, false
	sqlWords(text, tsqlDialect, func(w string) bool {
		if strings.EqualFold(prev, "OUTPUT") && (strings.EqualFold(w, "inserted") || strings.EqualFold(w, "deleted") || strings.EqualFold(w, "$action")) {
			output = true
		}
		if output && strings.EqualFold(w, "INTO") {
			into = true
			return false
		}
		prev = w
		return true
	})
	return output && !into
}

// quotedNameLen is the length of the "quoted name" at the start of s ("" in
// it stands for "), or 0: without control characters, and not empty.
func quotedNameLen(s string) int {
	if len(s) < 3 || s[0] != '"' {
		return 0
	}
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] < 0x20:
			return 0
		case s[i] == '"' && i+1 < len(s) && s[i+1] == '"':
			i++
		case s[i] == '"':
			if i == 1 {
				return 0
			}
			return i + 1
		}
	}
	return 0
}

// checkProcName reports whether s is one to maxParts dot-separated parts,
// each a regular identifier (a letter or _, then letters, digits, _ and $)
// or a "quoted" one: the procedure names PostgreSQL and Firebird accept,
// and nothing else, so that a name can stand in a statement as given.
func checkProcName(s string, maxParts int) bool {
	for parts := 1; parts <= maxParts; parts++ {
		n := quotedNameLen(s)
		if n == 0 && len(s) > 0 && isIdentStart(s[0]) && s[0] < 0x80 {
			n = 1
			for n < len(s) && s[n] < 0x80 && isIdentByte(s[n]) {
				n++
			}
		}
		if n == 0 {
			return false
		}
		s = s[n:]
		if s == "" {
			return true
		}
		if s[0] != '.' {
			return false
		}
		s = s[1:]
	}
	return false
}
