package executor

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"

	"fhirlink/agent/wire"
)

// postgresEngine runs queries through pgx's database/sql driver.
type postgresEngine struct{}

func (postgresEngine) name() string { return wire.EnginePostgres }

// pgCancelDeadline is how long pgx waits for the server to end a cancelled
// statement before it gives up on the connection.
const pgCancelDeadline = 2 * time.Second

func (postgresEngine) open(dsn string, writes bool) (*sql.DB, *sql.DB, error) {
	cfg, err := pgConfig(dsn)
	if err != nil {
		return nil, nil, err
	}
	var write *sql.DB
	if writes {
		write = stdlib.OpenDB(*cfg.Copy())
	}
	// The readers' sessions start read-only: every statement runs in a
	// read-only transaction of its own without the BEGIN READ ONLY and
	// ROLLBACK round trips an explicit one costs (two of the five a search
	// made). A statement cannot leave it: the extended protocol takes one
	// statement per request, and SET TRANSACTION READ WRITE fails once a
	// query ran. A SET that makes later transactions writable is undone by
	// reset's DISCARD ALL, which restores this start-up value.
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	// Readers read their results as text (see oneTrip): these make the
	// text of floats and bytea exact and readable whatever the server's
	// defaults. 3 digits is what PostgreSQL's JDBC driver asks for too; from
	// PostgreSQL 12 any value above 0 prints the shortest exact form, so
	// only a server set to round floats prints them differently in a query's
	// own ::text.
	cfg.RuntimeParams["extra_float_digits"] = "3"
	cfg.RuntimeParams["bytea_output"] = "hex"
	return stdlib.OpenDB(*cfg), write, nil
}

// oneTrip returns the arguments that make pgx run a reader's statement in
// one round trip (Parse, Bind and Execute sent together, QueryExecModeExec)
// instead of describing it first, or args unchanged when that could read a
// value differently. No named statement is kept, so reset's DISCARD ALL
// loses nothing.
//
// The parameters stay bound and keep their types: bind sends every value
// as text, and without a type of its own each parameter gets the one the
// statement gives it, as the describe step would have reported (an int
// column makes @n an int, SELECT @n a text). The results arrive as text
// instead of binary for the few types database/sql reads in binary
// (integers, floats, bool, bytea, date and timestamps), which pgx reads
// back to the same values when the session prints them as pgx parses them:
// dates and times in the ISO DateStyle (checked here, from the value the
// server reports), floats exact and bytea in hex (set by open).
func (postgresEngine) oneTrip(conn *sql.Conn, args []any) []any {
	for _, a := range args {
		if _, ok := a.(string); !ok && a != nil {
			return args // only text values are typed by the server alone
		}
	}
	iso := false
	_ = conn.Raw(func(dc any) error {
		if c, ok := dc.(*stdlib.Conn); ok {
			iso = strings.HasPrefix(c.Conn().PgConn().ParameterStatus("DateStyle"), "ISO")
		}
		return nil
	})
	if !iso {
		return args
	}
	return append([]any{pgx.QueryExecModeExec}, args...)
}

// pgConfig is the connection configuration of every pool: the DSN's, with
// statements cancelled in the server and, unless a pool says otherwise,
// no named prepared statements.
func pgConfig(dsn string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message quotes the DSN with the password redacted only on a
		// best-effort basis; say nothing that could carry it.
		return nil, errors.New("the DSN cannot be parsed as a PostgreSQL URL or key=value string")
	}
	// By default pgx only closes the socket when a context ends, and the
	// server keeps running the statement (pg_sleep, a huge sort) until it
	// next writes. A CancelRequest stops it in the server at once.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, CancelRequestDelay: 0, DeadlineDelay: pgCancelDeadline}
	}
	// No named prepared statements where integrators' SQL runs: reset's
	// DISCARD ALL deallocates every statement of the session after each
	// request, which would leave pgx's statement cache pointing at
	// statements that no longer exist (and a request could otherwise read
	// the texts of earlier requests' statements in pg_prepared_statements).
	// Each statement is described, then run, unless oneTrip says otherwise.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeDescribeExec
	return cfg, nil
}

// openPrepared is the readers' pool for the server's own SQL: read-only
// sessions as open's, in pgx's statement cache mode (each text is
// prepared once per connection and then only bound and executed, one
// round trip; PostgreSQL plans it a few times and then keeps a generic
// plan when that costs no more). A search plan of the 13-join Patient
// query took longer than running it.
func (postgresEngine) openPrepared(dsn string) (*sql.DB, error) {
	cfg, err := pgConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	cfg.AfterConnect = jitOff
	return stdlib.OpenDB(*cfg), nil
}

// jitOff turns PostgreSQL's JIT compilation off for a session of the
// server's own SQL. Those statements are searches and keyset reads whose
// rows stream out as they are found; JIT pays off for long CPU-bound
// queries, and here it only adds its compile time before the first row,
// which grows with the estimated cost: on the 50,000-patient practice an
// export's MedicationRequest query spent 0.9 s of its 1.4 s compiling
// (JIT turns inlining and optimization on above a cost the large tables
// reach). Servers before PostgreSQL 11 have no JIT, nor the setting.
func jitOff(ctx context.Context, c *pgconn.PgConn) error {
	major, _, _ := strings.Cut(c.ParameterStatus("server_version"), ".")
	if v, err := strconv.Atoi(major); err != nil || v < 11 {
		return nil
	}
	return c.Exec(ctx, "SET jit = off").Close()
}

// readTx is nil: the readers' sessions are read-only (see open).
func (postgresEngine) readTx() *sql.TxOptions { return nil }

// reset ends the session state a request may have left: DISCARD ALL
// restores every setting (SET, set_config) to the connection's defaults,
// drops temp tables, deallocates prepared statements, closes cursors,
// releases session advisory locks and stops LISTENs. It refuses to run in
// a transaction block, so a transaction a request left open discards the
// connection (and so rolls back).
func (postgresEngine) reset(ctx context.Context, conn *sql.Conn) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		return c.Conn().PgConn().Exec(ctx, "DISCARD ALL").Close()
	})
}

func (postgresEngine) versionSQL() string { return "SHOW server_version" }

// procedure accepts a function name, possibly schema-qualified, of regular
// or "quoted" identifiers; unquoted parts fold to lower case, as in SQL.
func (postgresEngine) procedure(name string) *wire.Error {
	if !checkProcName(name, 2) {
		return wire.Errorf(wire.KindInvalid, `a storedProcedure command's text must be just the function's name, like bp_addappointment or practice."BP_AddAppointment"; pass its arguments as params`)
	}
	return nil
}

// call selects from the function with its arguments in named notation,
// SELECT * FROM name("aptdate" => $1, ...), each name as the parameter's
// lower-cased (PostgreSQL folds unquoted names, so @AptDate finds aptdate,
// as SQL Server matches names regardless of case) and each value bound.
//
// A function, not a procedure run with CALL: SELECT * FROM returns a
// function's result rows (a set-returning function's rows, its OUT
// parameters as the columns of one row, a scalar's value as one column)
// in the one transaction of the statement, which is what a caller of Bp
// Premier's procedures reads (the new RECORDID, the free appointments).
// CALL only returns a procedure's OUT parameters, never a result set, so
// the procedures of a PostgreSQL practice are written as functions; a
// PROCEDURE named here fails with PostgreSQL's own "is a procedure" error.
func (postgresEngine) call(_ context.Context, _ *sql.Conn, name string, params []param) (string, []any, error) {
	var b strings.Builder
	b.WriteString("SELECT * FROM ")
	b.WriteString(name)
	b.WriteByte('(')
	args := make([]any, len(params))
	for i, p := range params {
		if i > 0 {
			b.WriteString(", ")
		}
		// validName allows letters, digits and _ only: quoting needs no
		// escape.
		b.WriteString(`"` + strings.ToLower(p.name) + `" => $` + strconv.Itoa(i+1))
		args[i] = pgValue(p)
	}
	b.WriteByte(')')
	return b.String(), args, nil
}

func (postgresEngine) returnsRows(text string) bool { return hasReturning(text, postgresDialect) }

// bind rewrites the @name placeholders integrators write for SQL Server to
// PostgreSQL's $n (one per distinct name, as pgx.NamedArgs would), outside
// literals, quoted names and comments (see scanPostgresSQL). Every
// placeholder must name one of the request's parameters, exactly (names are
// case-sensitive here): one that does not is an error naming it, before the
// statement is sent, rather than a NULL or a message of the driver. $n
// placeholders in the text are refused: they would silently stand for
// whichever @name was given that number.
func (postgresEngine) bind(text string, params []param) (string, []any, error) {
	index := make(map[string]int, len(params))
	for i, p := range params {
		index[p.name] = i
	}
	ordinal := map[string]int{}
	var args []any
	var b strings.Builder
	err := scanPostgresSQL(text, func(chunk string, placeholder bool) error {
		if !placeholder {
			b.WriteString(chunk)
			return nil
		}
		if chunk[0] == '$' {
			return fmt.Errorf("the command text has the positional placeholder %s; %s", chunk, errPositional)
		}
		name := chunk[1:]
		n, ok := ordinal[name]
		if !ok {
			i, ok := index[name]
			if !ok {
				return fmt.Errorf("the command text uses %s, which is not among the request's parameters (names are case-sensitive on postgres)", chunk)
			}
			args = append(args, pgValue(params[i]))
			n = len(args)
			ordinal[name] = n
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return b.String(), args, nil
}

// pgValue sends every value as text, so that the server parses it for the
// type the statement needs: an int column, or text where nothing gives a
// type (SELECT @n), which a binary int8 could not be sent as. Dates are then
// read without a client time zone, and decimals stay exact. Binary goes in
// bytea's hex text form.
func pgValue(p param) any {
	switch v := p.value.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, p.typ.bits)
	case []byte:
		return `\x` + hex.EncodeToString(v)
	}
	return textValue(p)
}

// pgCodecs maps pgx's type names (upper-cased pg_type names).
var pgCodecs = map[string]codec{
	"INT2": codecInteger, "INT4": codecInteger, "INT8": codecInteger, "OID": codecInteger, "XID": codecInteger, "CID": codecInteger,
	"NUMERIC": codecDecimal,
	"FLOAT4":  codecFloat32, "FLOAT8": codecFloat,
	"BOOL":        codecBoolean,
	"DATE":        codecDate,
	"TIMESTAMP":   codecDateTime,
	"TIMESTAMPTZ": codecDateTimeOffset,
	"TIME":        codecTime,
	"BYTEA":       codecBinary,
	"UUID":        codecUUID,
	"JSON":        codecJSON, "JSONB": codecJSON,
	// Everything else (text, varchar, bpchar, name, money, interval, arrays,
	// timetz, xml) arrives as the server's text form.
}

func (postgresEngine) codec(dbType string) codec {
	if c, ok := pgCodecs[dbType]; ok {
		return c
	}
	return codecString
}

// dbError maps errors the server sent (SQLSTATE and message) and failures
// to connect.
func (e postgresEngine) dbError(err error) *wire.Error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.Detail != "" {
			msg += " (" + pe.Detail + ")"
		}
		if pe.Hint != "" {
			msg += " Hint: " + pe.Hint
		}
		kind := wire.KindDatabase
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "28"),                           // invalid authorization
			pe.Code == "3D000",                                         // database does not exist
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // shutting down, cannot connect now
			kind = wire.KindUnavailable
		}
		return dbErr(e, kind, pe.Code, msg)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return dbErr(e, wire.KindUnavailable, "", "the database cannot be reached: "+oneLine(ce.Error()))
	}
	return nil
}
