package executor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/libc"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"fhirlink/agent/wire"
)

// sqliteEngine runs queries on SQLite files through modernc.org/sqlite (no
// cgo), for the demo practice. The driver interrupts a statement when its
// context ends only while its query or exec call runs, which computes the
// first row; interruptRows interrupts the steps that compute the others.
type sqliteEngine struct{}

func (sqliteEngine) name() string { return wire.EngineSQLite }

// sqliteDriverName is the agent's own registration of the SQLite driver:
// its connections, and only they (not the server's state store in the same
// process), carry the authorizer sqliteAuthorize.
const sqliteDriverName = "fhirlink-agent-sqlite"

// sqliteDriver is the driver registered as sqliteDriverName.
var sqliteDriver = &sqlite.Driver{}

func init() {
	sqliteDriver.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		r, ok := c.(sqlite.AuthorizerRegisterer)
		if !ok {
			return errors.New("this SQLite driver cannot install an authorizer")
		}
		// Checked on every connection, so that a driver whose connection
		// no longer looks as sqliteInterrupter expects fails at once
		// rather than leaving statements that cannot be stopped.
		if _, err := sqliteInterrupter(c); err != nil {
			return err
		}
		return r.RegisterAuthorizer(sqliteAuthorize)
	})
	sql.Register(sqliteDriverName, sqliteDriver)
}

// interruptRows stops the statement on conn in SQLite, with
// sqlite3_interrupt, once ctx ends, until stop is called; stop waits for an
// interrupt under way, so none reaches a later statement on conn. SQLite
// checks the flag between the steps of its program, so a statement ends
// within a step of ctx's end, however many rows it has sent.
func (sqliteEngine) interruptRows(ctx context.Context, conn *sql.Conn) (stop func(), err error) {
	var interrupt func()
	err = conn.Raw(func(dc any) (err error) {
		interrupt, err = sqliteInterrupter(dc)
		return err
	})
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	live := true
	unwatch := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if live {
			interrupt()
		}
	})
	return func() {
		unwatch()
		mu.Lock()
		live = false
		mu.Unlock()
	}, nil
}

// sqliteInterrupter returns a function that interrupts the statement
// running on dc, a connection of the driver, from any goroutine. The driver
// has no such call of its own: it interrupts only during its query and exec
// calls, and rows.Next steps on without watching any context. So this
// reads the connection's SQLite handle, which the driver keeps unexported
// (its field db), under the lock that the driver's own interrupt and Close
// take: a closed connection's handle is 0 and is not touched.
func sqliteInterrupter(dc any) (func(), error) {
	errShape := fmt.Errorf("this SQLite driver's connection (%T) has no handle that can be interrupted", dc)
	mu, ok := dc.(sync.Locker)
	v := reflect.ValueOf(dc)
	if !ok || v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, errShape
	}
	db := v.Elem().FieldByName("db")
	if db.Kind() != reflect.Uintptr {
		return nil, errShape
	}
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if h := uintptr(db.Uint()); h != 0 {
			// A TLS of its own, as the driver's interrupt does: the
			// connection's is in use by the statement being stopped.
			tls := libc.NewTLS()
			defer tls.Close()
			sqlite3.Xsqlite3_interrupt(tls, h)
		}
	}, nil
}

// sqliteAuthorize is consulted by SQLite itself, with its own parse of each
// statement, as every statement is compiled on the agent's connections. It
// refuses ATTACH and DETACH (another site's file, or a new file, would
// become readable or be created, and the attachment would outlive the
// request on the pooled connection) and every PRAGMA but those in
// sqliteReadPragmas: the others change the connection (query_only,
// writable_schema, case_sensitive_like, cache_size) or the file
// (journal_mode), or are costly checks. A refusal is SQLITE_AUTH, which
// dbError reports as forbidden.
func sqliteAuthorize(action sqlite.AuthorizerActionCode, arg1, arg2, _, _ string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthAttach, sqlite.AuthDetach:
		return sqlite.AuthorizerDeny
	case sqlite.AuthPragma:
		// arg1 is the pragma's name, arg2 its argument ("" without one).
		withArg, ok := sqliteReadPragmas[strings.ToLower(arg1)]
		if !ok || (arg2 != "" && !withArg) {
			return sqlite.AuthorizerDeny
		}
	}
	return sqlite.AuthorizerOK
}

// sqliteReadPragmas are the PRAGMAs a request may run, as statements or as
// pragma_* table-valued functions: true for those whose argument names what
// to describe (a table or index), false for settings that may only be read
// (an argument would set them).
var sqliteReadPragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_info": true, "index_xinfo": true,
	"index_list": true, "foreign_key_list": true, "database_list": false, "collation_list": false,
	"function_list": false, "module_list": false, "pragma_list": false, "compile_options": false,
	"user_version": false, "application_id": false, "schema_version": false, "data_version": false,
	"encoding": false, "page_size": false, "page_count": false, "freelist_count": false,
	"foreign_keys": false, "journal_mode": false, "query_only": false, "auto_vacuum": false,
}

// sqliteLeftovers counts what a request can leave in a connection that the
// authorizer does not prevent: temp tables, views and triggers (a reader
// can make them after ending the read transaction with its own ROLLBACK),
// and, for safety, any attached database.
const sqliteLeftovers = `SELECT (SELECT count(*) FROM temp.sqlite_schema) +
	(SELECT count(*) FROM pragma_database_list WHERE name NOT IN ('main', 'temp'))`

// reset discards a connection that a request left in a transaction (a
// nonQuery "BEGIN; ..." never committed: its changes are rolled back with
// the connection) or with leftovers; SQLite connections are cheap to open.
func (sqliteEngine) reset(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return errDirtySession // "cannot start a transaction within a transaction"
	}
	var n int
	err := conn.QueryRowContext(ctx, sqliteLeftovers).Scan(&n)
	if _, rerr := conn.ExecContext(ctx, "ROLLBACK"); err == nil {
		err = rerr
	}
	if err == nil && n > 0 {
		err = errDirtySession
	}
	return err
}

// open returns a read-only handle for reads (SQLite's mode=ro: every write
// fails with SQLITE_READONLY and a missing file is an error, not a new empty
// database) and, only with writes, a read-write handle on the DSN as given.
//
// Both wait for another connection's lock (the practice's own program, or
// a concurrent write of the agent) rather than fail at once with
// SQLITE_BUSY: concurrent bookings of one slot then run one after the
// other, and the second finds the slot taken. The wait is bounded by the
// statement's deadline, which ends it (the driver's busy handler watches
// the context); a DSN that sets its own busy timeout keeps it.
func (sqliteEngine) open(dsn string, writes bool) (*sql.DB, *sql.DB, error) {
	dsn, err := sqliteBusyDSN(dsn)
	if err != nil {
		return nil, nil, err
	}
	roDSN, err := sqliteReadOnlyDSN(dsn)
	if err != nil {
		return nil, nil, err
	}
	read, err := sql.Open(sqliteDriverName, roDSN)
	if err != nil {
		return nil, nil, err
	}
	if !writes {
		return read, nil, nil
	}
	write, err := sql.Open(sqliteDriverName, dsn)
	if err != nil {
		read.Close()
		return nil, nil, err
	}
	return read, write, nil
}

// sqliteBusyWait is the lock wait of the agent's SQLite connections: longer
// than any statement's deadline, so that the deadline decides.
const sqliteBusyWait = 2 * time.Hour

// sqliteBusyDSN adds the driver's _busy_timeout to dsn unless it sets a
// busy timeout already.
func sqliteBusyDSN(dsn string) (string, error) {
	path, query, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("the DSN's parameters cannot be parsed")
	}
	if q.Has("_busy_timeout") || q.Has("_timeout") {
		return dsn, nil
	}
	for _, p := range q["_pragma"] {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(p)), "busy_timeout") {
			return dsn, nil
		}
	}
	q.Set("_busy_timeout", strconv.FormatInt(sqliteBusyWait.Milliseconds(), 10))
	return path + "?" + q.Encode(), nil
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
	return wire.Errorf(wire.KindInvalid, "storedProcedure commands are supported on %s only: SQLite has no stored procedures; "+
		"send the statement as a text command (a nonQuery with RETURNING returns the rows it changed)", procedureEngines)
}

// call is never reached: procedure refuses every name.
func (e sqliteEngine) call(context.Context, *sql.Conn, string, []param) (string, []any, error) {
	return "", nil, e.procedure("")
}

func (sqliteEngine) returnsRows(text string) bool { return hasReturning(text, sqliteDialect) }

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
	kind, msg := wire.KindDatabase, se.Error()
	switch {
	case sqliteUnavailable[se.Code()&0xff]:
		kind = wire.KindUnavailable
	case se.Code()&0xff == sqlite3.SQLITE_AUTH:
		kind = wire.KindForbidden
		msg = "not allowed on this practice's database: ATTACH, DETACH and PRAGMAs other than those that read the schema " +
			"(table_info, index_list, ...) or a setting (PRAGMA user_version without a value); SQLite said: " + msg
	}
	return dbErr(e, kind, itoa(int64(se.Code())), msg)
}
