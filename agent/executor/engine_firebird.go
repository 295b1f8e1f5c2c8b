package executor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nakagami/firebirdsql"

	"fhirlink/agent/wire"
)

// firebirdEngine runs queries on Firebird 3 (Zedmed's database) through
// github.com/nakagami/firebirdsql, a pure-Go driver of the wire protocol.
//
// What Firebird and the driver give, and how it is used here:
//
//   - Read-only transactions are real: BeginTx with ReadOnly starts a READ
//     COMMITTED transaction with isc_tpb_read, and the server refuses every
//     change in it (SQLCODE -817, GDS 335544361 "attempted update during
//     read-only transaction", SQLSTATE 25006), including changes made in
//     EXECUTE BLOCK, in autonomous transactions started inside it, and DDL
//     (SQLCODE -607). Sequences are outside transactions: GEN_ID and NEXT
//     VALUE FOR still advance them in a read-only transaction; only the
//     database user's privileges (USAGE on the sequence) prevent that.
//   - A cancelled context makes the driver send op_cancel (the wire form of
//     fb_cancel_operation with fb_cancel_raise, Firebird 2.5 and later) while
//     it waits for the server; the server interrupts the running statement
//     and the connection stays usable (the same attachment serves the next
//     query). The tests see a CPU-bound SELECT and an UPDATE waiting for a
//     record lock both leave MON$STATEMENTS within milliseconds. As a
//     fallback for a server that does not answer the cancel, the DSN gets
//     cancel_hard_drop: after firebirdHardDrop the driver closes the socket
//     and the connection is discarded; the server ends the attachment, and
//     rolls back its transaction, only once it notices the socket is gone
//     (the tests never reach this fallback).
//   - Firebird 3 has no time zone types: DATE, TIME and TIMESTAMP are wall
//     clocks. The DSN gets timezone=UTC so that the driver builds them in
//     UTC, where every wall clock exists (in time.Local, a time in the hour
//     a daylight saving change skips would be moved).
//   - Text: the connection's character set is the driver's default, UTF8
//     (a DSN may set charset=...), and the server converts columns of
//     WIN1252, UTF8 and other character sets to it. Columns of CHARACTER
//     SET NONE arrive as the bytes stored; those that are not UTF-8 are read
//     as Windows-1252 (see codecTextOrBytes). OCTETS columns and binary
//     BLOBs arrive as bytes.
type firebirdEngine struct{}

func (firebirdEngine) name() string { return wire.EngineFirebird }

// firebirdHardDrop is how long the driver waits for the server to confirm
// a cancel before it closes the connection; within cleanupGrace.
const firebirdHardDrop = 2 * time.Second

// open returns separate handles for reads and, with writes, for writes.
// One pool cannot serve both: after a read-only transaction has ended, the
// driver (v0.9.23) runs the connection's next statement outside a
// transaction of ours (nonQuery's autocommit) with that transaction's
// parameters, so a write on a connection that last served a reader fails
// with "attempted update during read-only transaction".
func (firebirdEngine) open(dsn string, writes bool) (*sql.DB, *sql.DB, error) {
	dsn, err := firebirdDSN(dsn)
	if err != nil {
		return nil, nil, err
	}
	// sql.Open only keeps the DSN; the driver parses it when connecting.
	read, err := sql.Open("firebirdsql", dsn)
	if err != nil || !writes {
		return read, nil, err
	}
	write, err := sql.Open("firebirdsql", dsn)
	if err != nil {
		read.Close()
		return nil, nil, err
	}
	return read, write, nil
}

// firebirdDSN sets the driver options the engine relies on (see
// firebirdEngine): timezone=UTC always, and cancel_hard_drop unless the DSN
// chooses otherwise. The driver reads everything after the first '?' as the
// options, as here.
func firebirdDSN(dsn string) (string, error) {
	base, query, _ := strings.Cut(dsn, "?")
	// The driver parses the DSN as a URL, and Go's URL errors quote it,
	// password and all: check it here, saying nothing about it.
	u, err := url.Parse("firebird://" + strings.TrimPrefix(base, "firebird://"))
	if err != nil || u.User == nil || strings.Trim(u.Path, "/") == "" {
		return "", errors.New("the DSN is not of the form user:password@host[:port]/path/to/database.fdb")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", errors.New("the DSN's parameters cannot be parsed")
	}
	q.Set("timezone", "UTC")
	if !q.Has("cancel_hard_drop") {
		q.Set("cancel_hard_drop", "true")
		q.Set("cancel_hard_drop_grace", fmt.Sprint(firebirdHardDrop.Milliseconds()))
	}
	return base + "?" + q.Encode(), nil
}

// fbLeftovers is 1 when the attachment holds state a request may have left
// for the next: context variables of the USER_SESSION namespace
// (RDB$SET_CONTEXT, which a reader may call), or rows in a global temporary
// table ON COMMIT PRESERVE ROWS (which even a reader can fill, from an
// autonomous transaction: GTTs are writable in read-only transactions).
// Firebird 3 cannot reset a session in place (ALTER SESSION RESET is new
// in Firebird 4), so such an attachment is discarded instead. Reading
// MON$CONTEXT_VARIABLES takes a monitoring snapshot, which is cheap on a
// practice server's few dozen attachments.
const fbLeftovers = `EXECUTE BLOCK RETURNS (dirty INTEGER) AS
DECLARE n VARCHAR(128);
BEGIN
  dirty = 0;
  IF (EXISTS (SELECT 1 FROM MON$CONTEXT_VARIABLES
      WHERE MON$ATTACHMENT_ID = CURRENT_CONNECTION AND MON$TRANSACTION_ID IS NULL)) THEN
    dirty = 1;
  FOR SELECT TRIM(RDB$RELATION_NAME) FROM RDB$RELATIONS WHERE RDB$RELATION_TYPE = 4 INTO :n DO
    IF (dirty = 0) THEN
      EXECUTE STATEMENT 'SELECT COUNT(*) FROM (SELECT FIRST 1 1 AS x FROM "' || REPLACE(n, '"', '""') || '")' INTO :dirty;
  SUSPEND;
END`

// reset discards an attachment with leftovers (see fbLeftovers).
func (firebirdEngine) reset(ctx context.Context, conn *sql.Conn) error {
	var dirty int
	if err := conn.QueryRowContext(ctx, fbLeftovers).Scan(&dirty); err != nil {
		return err
	}
	if dirty != 0 {
		return errDirtySession
	}
	return nil
}

func (firebirdEngine) readTx() *sql.TxOptions { return &sql.TxOptions{ReadOnly: true} }

func (firebirdEngine) versionSQL() string {
	return "SELECT rdb$get_context('SYSTEM', 'ENGINE_VERSION') FROM rdb$database"
}

// procedure accepts one regular or "quoted" identifier: Firebird 3 has no
// schemas (packaged procedures are not called this way).
func (firebirdEngine) procedure(name string) *wire.Error {
	if !checkProcName(name, 1) {
		return wire.Errorf(wire.KindInvalid, `a storedProcedure command's text must be just the procedure's name, like BP_ADDAPPOINTMENT or "AddAppointment"; pass its arguments as params`)
	}
	return nil
}

// fbProcedure describes a procedure and its parameters, inputs first, each
// in declaration order.
const fbProcedure = `SELECT p.RDB$PROCEDURE_TYPE, TRIM(pp.RDB$PARAMETER_NAME), pp.RDB$PARAMETER_TYPE,
  IIF(pp.RDB$DEFAULT_SOURCE IS NULL, 0, 1)
FROM RDB$PROCEDURES p
LEFT JOIN RDB$PROCEDURE_PARAMETERS pp ON pp.RDB$PROCEDURE_NAME = p.RDB$PROCEDURE_NAME AND pp.RDB$PACKAGE_NAME IS NULL
WHERE p.RDB$PROCEDURE_NAME = ? AND p.RDB$PACKAGE_NAME IS NULL
ORDER BY pp.RDB$PARAMETER_TYPE, pp.RDB$PARAMETER_NUMBER`

// Firebird's procedure types (RDB$PROCEDURE_TYPE).
const fbSelectable = 1

// call looks the procedure up (Firebird binds arguments by position only)
// and binds each request parameter to the input of the same name, ignoring
// case. A selectable procedure (one that SUSPENDs rows) is read with
// SELECT * FROM name(?, ...); an executable one runs as EXECUTE PROCEDURE,
// whose output parameters come back as one row. A trailing input with a
// default may be left out; any other missing input, and any parameter the
// procedure does not have, is an error naming it.
func (firebirdEngine) call(ctx context.Context, conn *sql.Conn, name string, params []param) (string, []any, error) {
	key := strings.ToUpper(name)
	if n := quotedNameLen(name); n > 0 {
		key = strings.ReplaceAll(name[1:n-1], `""`, `"`)
	}
	rows, err := conn.QueryContext(ctx, fbProcedure, key)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	type input struct {
		name       string
		hasDefault bool
	}
	var (
		found  bool
		kind   sql.NullInt64
		inputs []input
	)
	for rows.Next() {
		var pname sql.NullString
		var ptype, hasDefault sql.NullInt64
		if err := rows.Scan(&kind, &pname, &ptype, &hasDefault); err != nil {
			return "", nil, err
		}
		found = true
		if pname.Valid && ptype.Int64 == 0 {
			inputs = append(inputs, input{pname.String, hasDefault.Int64 == 1})
		}
	}
	if err := rows.Err(); err != nil {
		return "", nil, err
	}
	if !found {
		return "", nil, wire.Errorf(wire.KindInvalid, "there is no procedure %s in this database", name)
	}
	byName := make(map[string]int, len(params))
	for i, p := range params {
		byName[strings.ToLower(p.name)] = i
	}
	var args []any
	omitted := "" // the first input left to its default
	for _, in := range inputs {
		i, ok := byName[strings.ToLower(in.name)]
		switch {
		case !ok && in.hasDefault:
			if omitted == "" {
				omitted = in.name
			}
			continue
		case !ok:
			return "", nil, wire.Errorf(wire.KindInvalid, "procedure %s needs parameter @%s", name, in.name)
		case omitted != "":
			return "", nil, wire.Errorf(wire.KindInvalid,
				"procedure %s: @%s is given but @%s before it is not; Firebird passes arguments by position, so give @%s too", name, in.name, omitted, omitted)
		}
		delete(byName, strings.ToLower(in.name))
		v, err := fbValue(params[i])
		if err != nil {
			return "", nil, wire.Errorf(wire.KindInvalid, "%v", err)
		}
		args = append(args, v)
	}
	for _, p := range params {
		if _, left := byName[strings.ToLower(p.name)]; left {
			names := make([]string, len(inputs))
			for i, in := range inputs {
				names[i] = "@" + in.name
			}
			return "", nil, wire.Errorf(wire.KindInvalid, "procedure %s has no parameter @%s (its parameters: %s)", name, p.name, strings.Join(names, ", "))
		}
	}
	text := "EXECUTE PROCEDURE " + name
	if kind.Int64 == fbSelectable {
		text = "SELECT * FROM " + name
	}
	if len(args) > 0 {
		text += "(" + strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ") + ")"
	}
	return text, args, nil
}

func (firebirdEngine) returnsRows(text string) bool { return hasReturning(text, firebirdDialect) }

// nullRowIsNone: Firebird 3 has RETURNING for single-row changes only, and
// an UPDATE or DELETE with RETURNING that matched no row still answers one
// row, of NULLs. Such a row is taken for no row, so rowsAffected is 0; a
// statement that returns the changed row's key, never NULL, is read right
// whatever it changed.
func (firebirdEngine) nullRowIsNone(text string) bool {
	first := ""
	sqlWords(text, firebirdDialect, func(w string) bool { first = w; return false })
	return strings.EqualFold(first, "UPDATE") || strings.EqualFold(first, "DELETE")
}

// bind rewrites the @name placeholders to Firebird's positional '?', one
// argument per occurrence, skipping string literals, quoted names and
// comments. Names match parameters ignoring case, as on SQL Server. A
// placeholder without a parameter, and a bare '?', are errors.
func (firebirdEngine) bind(text string, params []param) (string, []any, error) {
	byName := make(map[string]int, len(params))
	for i, p := range params {
		byName[strings.ToLower(p.name)] = i
	}
	var b strings.Builder
	var args []any
	err := scanFirebirdSQL(text, func(chunk string, placeholder bool) error {
		if !placeholder {
			b.WriteString(chunk)
			return nil
		}
		if chunk == "?" {
			return errors.New("the command text has a '?' placeholder; write parameters as @name")
		}
		i, ok := byName[strings.ToLower(chunk[1:])]
		if !ok {
			return fmt.Errorf("the command text uses %s, which is not among the request's parameters", chunk)
		}
		v, err := fbValue(params[i])
		if err != nil {
			return err
		}
		b.WriteByte('?')
		args = append(args, v)
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return b.String(), args, nil
}

// scanFirebirdSQL splits text into plain chunks and placeholders (@name or
// '?') outside string literals ('...', and q'x...x' alternative quoting),
// quoted identifiers ("...") and comments, and calls emit with each in order.
// The plain chunks, concatenated, are the rest of the text unchanged.
func scanFirebirdSQL(text string, emit func(chunk string, placeholder bool) error) error {
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
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case (c == 'q' || c == 'Q') && i+2 < len(text) && text[i+1] == '\'' && (i == 0 || !isIdentByte(text[i-1])):
			// q'{...}': the delimiter after the quote closes it, paired for brackets.
			closer := text[i+2]
			switch closer {
			case '(':
				closer = ')'
			case '[':
				closer = ']'
			case '{':
				closer = '}'
			case '<':
				closer = '>'
			}
			end := strings.Index(text[i+3:], string(closer)+"'")
			if end < 0 {
				return errors.New("the command text has an unterminated q'...' string literal")
			}
			i += 3 + end + 2
		case c == '\'' || c == '"':
			// '' or "" inside stands for the quote itself: scanning on from
			// the next quote does the same.
			end := strings.IndexByte(text[i+1:], c)
			if end < 0 {
				return fmt.Errorf("the command text has an unterminated %c", c)
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
				return errors.New("the command text has an unterminated /* comment")
			}
			i += end + 4
		case c == '?':
			if err := flush(i); err != nil {
				return err
			}
			if err := emit("?", true); err != nil {
				return err
			}
			i++
			start = i
		case c == '@' && i+1 < len(text) && isIdentStart(text[i+1]):
			if err := flush(i); err != nil {
				return err
			}
			j := i + 2
			for j < len(text) && isIdentByte(text[j]) {
				j++
			}
			if err := emit(text[i:j], true); err != nil {
				return err
			}
			i, start = j, j
		default:
			i++
		}
	}
	return flush(len(text))
}

func isIdentStart(c byte) bool {
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

func isIdentByte(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$' }

// Text forms of date and time parameters. Firebird keeps 1/10000 s, and
// refuses text with more fractional digits, so the value is cut there.
const (
	fbDate     = "2006-01-02"
	fbDateTime = "2006-01-02 15:04:05.9999"
	fbTime     = "15:04:05.9999"
)

// fbValue is what the driver binds for p. The driver declares each value
// by its Go type and the server converts it to the type the statement
// needs: text becomes a DATE, TIMESTAMP, TIME or NUMERIC by the server's own
// rules, so dates carry no client time zone and decimals stay exact.
func fbValue(p param) (any, error) {
	switch v := p.value.(type) {
	case time.Time:
		switch p.typ.kind {
		case kindDate:
			return v.Format(fbDate), nil
		case kindTime:
			return v.Format(fbTime), nil
		case kindDateTimeOffset:
			return nil, fmt.Errorf("parameter @%s: Firebird 3 has no time zone types; pass a DateTime (the wall clock) instead of a DateTimeOffset", p.name)
		}
		return v.Format(fbDateTime), nil
	case [16]byte:
		// Firebird has no UUID type; CHAR_TO_UUID(@id) converts the text.
		return string(appendUUID(nil, v)), nil
	}
	// int64, float64, bool, string (decimals too), []byte and nil.
	return p.value, nil
}

// fbCodecs maps the driver's type names (Firebird's internal type names).
// SHORT, LONG and INT64 are also NUMERIC and DECIMAL with a scale; the
// driver returns those as exact text, and columnCodec tells them apart.
var fbCodecs = map[string]codec{
	"SHORT": codecInteger, "LONG": codecInteger, "INT64": codecInteger,
	"INT128": codecDecimal, "DECFLOAT(16)": codecDecimal, "DECFLOAT(34)": codecDecimal, "DECFIXED": codecDecimal,
	"FLOAT": codecFloat32, "DOUBLE": codecFloat, "D_FLOAT": codecFloat,
	"BOOLEAN":                 codecBoolean,
	"DATE":                    codecDate,
	"TIME":                    codecTime,
	"TIMESTAMP":               codecDateTime,
	"TIMESTAMP WITH TIMEZONE": codecDateTimeOffset,
	"TIME WITH TIMEZONE":      codecTime,
	// CHAR, VARCHAR and BLOB come as text or, for CHARACTER SET OCTETS and
	// binary BLOBs, as bytes; the type name does not say which.
	"TEXT": codecTextOrBytes, "VARYING": codecTextOrBytes, "BLOB": codecTextOrBytes,
}

func (firebirdEngine) codec(dbType string) codec {
	if c, ok := fbCodecs[dbType]; ok {
		return c
	}
	return codecString
}

// columnCodec refines codec with the column's scale: a scaled SHORT, LONG
// or INT64 is a NUMERIC or DECIMAL.
func (e firebirdEngine) columnCodec(ct *sql.ColumnType) codec {
	c := e.codec(ct.DatabaseTypeName())
	if c == codecInteger {
		if _, scale, ok := ct.DecimalSize(); ok && scale != 0 {
			return codecDecimal
		}
	}
	return c
}

// GDS codes of the Firebird status vector.
const (
	gdsDSQLError    = 335544569 // Dynamic SQL Error
	gdsSQLErr       = 335544436 // SQL error code = @1
	gdsRandom       = 335544382 // @1 (text that completes the error before it)
	gdsDSQLLineCol  = 336397208 // At line @1, column @2
	gdsReadOnlyTx   = 335544361 // attempted update during read-only transaction
	gdsCancelled    = 335544794 // operation was cancelled
	gdsLogin        = 335544472 // user name and password are not defined
	gdsIOError      = 335544344 // I/O error (database file cannot be opened)
	gdsBadDBFormat  = 335544323 // not a valid database
	gdsUnavailable  = 335544375 // unavailable database
	gdsShutdown     = 335544528 // database shutdown
	gdsNetworkError = 335544721 // unable to complete network request
	gdsNetReadErr   = 335544726 // error reading data from the connection
	gdsNetWriteErr  = 335544727 // error writing data to the connection
	gdsAttShutdown  = 335544856 // connection shutdown
	gdsNoPriv       = 335544352 // no permission for ... access
)

// fbGeneric are the codes that frame or complete a more specific error.
var fbGeneric = map[int]bool{gdsDSQLError: true, gdsSQLErr: true, gdsRandom: true, gdsDSQLLineCol: true}

// fbUnavailable are errors that mean the database cannot be used at all,
// rather than that this statement failed.
var fbUnavailable = map[int]bool{
	gdsLogin: true, gdsIOError: true, gdsBadDBFormat: true, gdsUnavailable: true, gdsShutdown: true,
	gdsNetworkError: true, gdsNetReadErr: true, gdsNetWriteErr: true, gdsAttShutdown: true,
}

// dbError keeps Firebird's message, one line, and as the code the GDS
// number of the most specific error of the status vector (for "Table
// unknown" 335544580 rather than the generic "Dynamic SQL Error"), with
// SQLCODE and SQLSTATE in the message.
func (e firebirdEngine) dbError(err error) *wire.Error {
	var fe *firebirdsql.FbError
	if !errors.As(err, &fe) {
		return nil
	}
	code := 0
	for _, c := range fe.GDSCodes {
		if !fbGeneric[c] {
			code = c
			break
		}
	}
	if code == 0 && len(fe.GDSCodes) > 0 {
		code = fe.GDSCodes[0]
	}
	kind := wire.KindDatabase
	if fbUnavailable[code] {
		kind = wire.KindUnavailable
	}
	msg := strings.Join(strings.FieldsFunc(fe.Message, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
	var extra []string
	if fe.SQLCode != 0 {
		extra = append(extra, fmt.Sprintf("SQLCODE %d", fe.SQLCode))
	}
	if fe.SQLState != "" {
		extra = append(extra, "SQLSTATE "+fe.SQLState)
	}
	if len(extra) > 0 {
		msg += " (" + strings.Join(extra, ", ") + ")"
	}
	return dbErr(e, kind, itoa(int64(code)), oneLine(msg))
}
