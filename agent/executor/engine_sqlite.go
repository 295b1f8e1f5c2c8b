package executor

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"fhirlink/agent/wire"
)

// sqliteEngine runs queries on SQLite files through modernc.org/sqlite (no
// cgo), for the demo practice. The driver interrupts a statement when its
// context ends.
type sqliteEngine struct{}

func (sqliteEngine) name() string { return "sqlite" }

// open returns a read-only handle for reads (SQLite's mode=ro: every write
// fails with SQLITE_READONLY and a missing file is an error, not a new empty
// database) and, only with writes, a read-write handle on the DSN as given.
func (sqliteEngine) open(dsn string, writes bool) (*sql.DB, *sql.DB, error) {
	roDSN, err := sqliteReadOnlyDSN(dsn)
	if err != nil {
		return nil, nil, err
	}
	read, err := sql.Open("sqlite", roDSN)
	if err != nil {
		return nil, nil, err
	}
	if !writes {
		return read, nil, nil
	}
	write, err := sql.Open("sqlite", dsn)
	if err != nil {
		read.Close()
		return nil, nil, err
	}
	return read, write, nil
}

// sqliteReadOnlyDSN turns a file name or file: URI into a file: URI with
// mode=ro. SQLite applies mode only to URIs; a plain name's query holds just
// the driver's own keys, which keep working in a URI.
func sqliteReadOnlyDSN(dsn string) (string, error) {
	// Like the driver, cut at the first '?': a plain name cannot contain one.
	path, query, _ := strings.Cut(dsn, "?")
	if p, ok := strings.CutPrefix(path, "file:"); ok {
		path = p
	} else {
		// Characters that a URI would read as its own syntax.
		path = strings.NewReplacer("%", "%25", "#", "%23").Replace(path)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("the DSN's parameters cannot be parsed")
	}
	if m := q.Get("mode"); m == "memory" {
		return "", fmt.Errorf("an in-memory database cannot be shared by the agent's connections")
	}
	q.Set("mode", "ro")
	return "file:" + path + "?" + q.Encode(), nil
}

// readTx: the handle is already read-only; the transaction keeps one
// consistent snapshot for the whole read.
func (sqliteEngine) readTx() *sql.TxOptions { return &sql.TxOptions{ReadOnly: true} }

func (sqliteEngine) versionSQL() string { return "SELECT sqlite_version()" }

func (sqliteEngine) procedure(string) *wire.Error {
	return wire.Errorf(wire.KindInvalid, "storedProcedure commands are supported on %s only; SQLite has no stored procedures", procedureEngines)
}

// bind passes the parameters by name; SQLite binds @name natively. Dates,
// times and UUIDs go as the text SQLite's date functions use, since SQLite
// stores them as text. The text's placeholders are checked first, as
// SQLite's tokenizer reads them: each must be an @name of the request
// (exactly: names are case-sensitive here), so that no statement of a
// script runs before a later one fails to bind. SQLite's other syntaxes
// (?, ?1, :name, $name) are refused, as on the other engines.
func (sqliteEngine) bind(text string, params []param) (string, []any, error) {
	names := make(map[string]bool, len(params))
	args := make([]any, len(params))
	for i, p := range params {
		names[p.name] = true
		args[i] = sql.Named(p.name, textValue(p))
	}
	err := sqliteVariables(text, func(v string) error {
		if v[0] != '@' {
			return fmt.Errorf("the command text has the placeholder %s; %s", v, errPositional)
		}
		if !names[v[1:]] {
			return fmt.Errorf("the command text uses %s, which is not among the request's parameters (names are case-sensitive on sqlite)", v)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return text, args, nil
}

// sqliteCodec maps a declared column type by SQLite's own affinity rules,
// refined for the types the demo schema declares (DATE, DATETIME, BOOLEAN,
// NUMERIC). The values themselves may still be of any type; the encoder
// writes each as what it is when it does not fit.
func (sqliteEngine) codec(dbType string) codec {
	t, _, _ := strings.Cut(dbType, "(")
	t = strings.TrimSpace(t)
	switch t {
	case "":
		return codecDynamic
	case "DATE":
		return codecDate
	case "DATETIME", "TIMESTAMP":
		return codecDateTime
	case "TIME":
		return codecTime
	case "BOOLEAN", "BOOL":
		return codecBoolean
	case "NUMERIC", "DECIMAL", "MONEY":
		return codecDecimal
	case "UUID", "UNIQUEIDENTIFIER":
		return codecUUID
	case "JSON":
		return codecJSON
	}
	switch {
	case strings.Contains(t, "INT"):
		return codecInteger
	case strings.Contains(t, "CHAR"), strings.Contains(t, "CLOB"), strings.Contains(t, "TEXT"):
		return codecString
	case strings.Contains(t, "BLOB"):
		return codecBinary
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"):
		return codecFloat
	}
	return codecString
}

// sqliteUnavailable are result codes that mean the file cannot be used.
var sqliteUnavailable = map[int]bool{
	sqlite3.SQLITE_CANTOPEN: true,
	sqlite3.SQLITE_NOTADB:   true,
	sqlite3.SQLITE_CORRUPT:  true,
	sqlite3.SQLITE_PERM:     true,
}

// dbError keeps SQLite's (extended) result code and message.
func (e sqliteEngine) dbError(err error) *wire.Error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	kind := wire.KindDatabase
	if sqliteUnavailable[se.Code()&0xff] {
		kind = wire.KindUnavailable
	}
	return dbErr(e, kind, itoa(int64(se.Code())), se.Error())
}
