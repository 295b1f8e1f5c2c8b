package executor

import (
	"context"
	"database/sql"
	"errors"

	"fhirlink/agent/wire"
)

// engine is what differs between database engines. Each engine lives in one
// file (engine_<name>.go) and is listed in [engines]; adding an engine is one
// more such file and one more line there.
type engine interface {
	// name is the engine's name in Config.Engine and wire.Error.Engine.
	name() string
	// open returns the handle that reader and scalar queries use and, when
	// writes is set, the handle for nonQuery and stored procedures (which may
	// be the same one). It should not connect yet: Open pings afterwards.
	open(dsn string, writes bool) (read, write *sql.DB, err error)
	// readTx is the transaction reader and scalar queries run in, always
	// rolled back; read-only where the engine has such transactions. nil
	// runs them outside one, for an engine whose read handle's sessions
	// are read-only themselves.
	readTx() *sql.TxOptions
	// bind turns validated parameters into the text and arguments the
	// driver needs; values are always bound, never spliced into the text.
	bind(text string, params []param) (string, []any, error)
	// codec maps a column's ColumnType.DatabaseTypeName to its encoding.
	codec(dbType string) codec
	// versionSQL returns one row with one column: the server's version.
	versionSQL() string
	// dbError converts an error of the engine's driver that the database
	// reported (with its code) to a wire.Error; nil when it is not one.
	dbError(err error) *wire.Error
	// procedure checks that name can be called as a stored procedure (a
	// name and nothing else), before any connection is taken; engines
	// without procedures refuse with KindInvalid.
	procedure(name string) *wire.Error
	// call returns the statement that calls the procedure name, checked by
	// procedure, with params bound by name; conn is the connection it will
	// run on, for engines that must look the procedure up first. Errors are
	// the driver's or *wire.Error.
	call(ctx context.Context, conn *sql.Conn, name string, params []param) (string, []any, error)
	// returnsRows reports whether a nonQuery text returns the rows it
	// changed (RETURNING, OUTPUT), so that it runs as a query whose rows
	// stream (see returning.go).
	returnsRows(text string) bool
	// reset runs after every request on the connection it used (once Run
	// has returned, beside the answer going out), before the
	// connection goes back to the pool: it undoes, or detects, the session
	// state the request may have left (settings, temp tables, attached
	// databases, variables, an open transaction), so that nothing of one
	// request, often another integrator's, reaches the next. An error
	// discards the connection.
	reset(ctx context.Context, conn *sql.Conn) error
}

// preparer is implemented by engines that keep the server's own statements
// (wire.QueryRequest.Prepare) prepared, on a read pool of their own.
type preparer interface {
	// openPrepared returns that pool: read-only as open's, its statements
	// prepared once per connection and kept. Its connections run only the
	// server's SQL, which leaves no session state, so they are not reset.
	openPrepared(dsn string) (*sql.DB, error)
}

// errDirtySession is a reset that found state it cannot undo in place: the
// connection is discarded, which ends the session and all it held.
var errDirtySession = errors.New("the session holds state a request left behind")

// engines are the supported values of Config.Engine.
var engines = map[string]engine{
	wire.EnginePostgres:  postgresEngine{},
	wire.EngineSQLServer: sqlserverEngine{},
	wire.EngineSQLite:    sqliteEngine{},
	wire.EngineFirebird:  firebirdEngine{},
}

// procedureEngines names the engines that run CommandStoredProcedure, for
// the error that other engines return.
const procedureEngines = wire.EngineSQLServer + ", " + wire.EnginePostgres + " and " + wire.EngineFirebird
