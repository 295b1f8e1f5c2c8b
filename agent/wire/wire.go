// Package wire is the protocol between the fhirlink server and its agents.
//
// The agent dials out and carries a yamux session over a WebSocket; the server
// then calls the agent, never the reverse, by sending ordinary HTTP/1.1
// requests on yamux streams to the small API described here. One stream
// carries one request, so cancelling a query is closing its stream.
//
// A query answer (POST [PathQuery]) is either an error status with an [Error]
// body, produced before any row was read, or 200 with a stream of frames, one
// per line: a header frame, zero or more row frames and exactly one trailer
// frame ([FrameWriter] writes them, [FrameReader] reads them). A frame is one
// kind byte followed by compact JSON and a newline:
//
//	H{"columns":[...]}      the result's columns, sent once rows are ready
//	R{"Surname":"Smith"}    one row, a JSON object keyed by column name
//	T{"rows":1,...}         totals and, when the query failed midway, its error
//
// Rows are encoded once, at the agent, in the layout the passthrough API
// returns, so the server can forward them without decoding them.
package wire

import (
	"fmt"
	"time"
)

// Version is the protocol version an agent reports in [Info]. A server
// refuses agents whose major protocol version it does not know.
const Version = "1"

// Paths of the agent's internal API.
const (
	PathInfo  = "/v1/info"
	PathQuery = "/v1/query"
)

// PathConnect is the server's WebSocket endpoint agents dial.
const PathConnect = "/agent/v1/connect"

// Frame kinds, the first byte of each line of a query answer.
const (
	FrameHeader  = 'H'
	FrameRow     = 'R'
	FrameTrailer = 'T'
)

// Practice management systems, as an agent reports its own in
// [Info.PMSType], the server records a site's and the passthrough API names
// it. Every side uses these names; a new PMS is added here first.
const (
	PMSBestPractice = "BestPractice" // Bp Premier, on SQL Server
	PMSZedmed       = "Zedmed"       // Zedmed, on Firebird
	PMSD4w          = "D4w"          // D4w, recorded for sites; no mapping yet
)

// Database engines an agent runs queries on, as it reports its own in
// [Info.Engine] and names it in a database [Error]. The server picks the
// SQL dialect by this name.
const (
	EngineSQLServer = "sqlserver"
	EnginePostgres  = "postgres"
	EngineSQLite    = "sqlite"
	EngineFirebird  = "firebird"
)

// Mode says what a query returns, as the passthrough API's executionMode.
type Mode string

// Execution modes.
const (
	ModeReader   Mode = "reader"   // rows
	ModeScalar   Mode = "scalar"   // the first value of the first row
	ModeNonQuery Mode = "nonQuery" // a write; the trailer carries rowsAffected
)

// Writes reports whether the mode may change data.
func (m Mode) Writes() bool { return m == ModeNonQuery }

// CommandType says how the command text is executed.
type CommandType string

// Command types.
const (
	CommandText            CommandType = "text"
	CommandStoredProcedure CommandType = "storedProcedure"
)

// Priority is the agent scheduler's class for a query: higher classes are
// served first and lower classes never take the last free execution slot.
type Priority string

// Priority classes, highest first.
const (
	PriorityInteractive Priority = "interactive" // immediate passthrough queries and FHIR searches
	PriorityAsync       Priority = "async"       // async and registered queries
	PriorityBulk        Priority = "bulk"        // bulk export
)

// Param is one named parameter. Type is a SQL Server type name as the
// passthrough API spells it (Int, NVarChar, DateTime2, ...); Value is its text
// or nil for NULL; the agent converts it to the engine's type.
type Param struct {
	Name      string  `json:"name"`
	Type      string  `json:"type"`
	Value     *string `json:"value"`
	Direction string  `json:"direction,omitempty"`
	Size      int     `json:"size,omitempty"`
}

// QueryRequest is the body of POST [PathQuery].
type QueryRequest struct {
	ID        string      `json:"id"`                  // the server's query id, for the agent's logs
	Catalogue string      `json:"catalogue,omitempty"` // empty: the default catalogue
	Text      string      `json:"text"`
	Mode      Mode        `json:"mode"`
	Type      CommandType `json:"type"`
	Params    []Param     `json:"params,omitempty"`
	Priority  Priority    `json:"priority"`
	// MaxTimeInQueueMS bounds the wait for an execution slot; 0 means do not
	// wait at all.
	MaxTimeInQueueMS int64 `json:"maxTimeInQueueMs"`
	// TimeoutMS bounds execution, from leaving the queue to the last row.
	TimeoutMS int64 `json:"timeoutMs"`
	// MaxBytes caps the encoded rows; 0 means no cap.
	MaxBytes int64 `json:"maxBytes"`
	// ExecutionID, on a write, makes it run at most once under that id:
	// a repeat is answered with the first outcome (see [PathExecutions]).
	ExecutionID string `json:"executionId,omitempty"`
	// RequestID is the id of the integrator's HTTP request that sent the
	// query (X-Request-Id), so the agent's log line for the query carries
	// it; empty for work no request is waiting on. Agents that predate it
	// ignore it.
	RequestID string `json:"requestId,omitempty"`
	// IntegratorID, on a write, is the integrator it is made for: the
	// agent runs it only when the practice granted that integrator writes
	// (see [PathWriteGrants]).
	IntegratorID string `json:"integratorId,omitempty"`
	// Prepare marks a reader or scalar whose text is the server's own
	// fixed SQL (a FHIR search), never an integrator's: the agent may keep
	// it prepared on connections that run nothing else, so the database
	// plans it once rather than for every page. Values stay parameters.
	Prepare bool `json:"prepare,omitempty"`
}

// Writes reports whether q may change data: a nonQuery or a stored
// procedure, which need the practice's write access and grant.
func (q *QueryRequest) Writes() bool {
	return q.Mode.Writes() || q.Type == CommandStoredProcedure
}

// AtMostOnce reports whether the agent runs q at most once: a write with
// an execution id.
func (q *QueryRequest) AtMostOnce() bool {
	return q.ExecutionID != "" && q.Writes()
}

// Column describes one result column.
type Column struct {
	Name string `json:"name"`
	// Type is the portable type of the column's JSON values; see [Type].
	Type Type `json:"type"`
	// DBType is the engine's own type name (INT8, NVARCHAR, ...).
	DBType   string `json:"dbType"`
	Nullable *bool  `json:"nullable,omitempty"`
}

// Type is the portable type of a column, which fixes how its values appear
// in JSON.
type Type string

// Column types and their JSON encodings.
const (
	TypeBoolean        Type = "boolean"        // true / false
	TypeInteger        Type = "integer"        // a JSON number with every digit (64-bit safe in the text)
	TypeDecimal        Type = "decimal"        // a string with the exact digits and scale: "12.50"
	TypeFloat          Type = "float"          // a JSON number; NaN and infinities as strings
	TypeString         Type = "string"         // a string, padding kept as stored
	TypeDate           Type = "date"           // "2024-05-31"
	TypeDateTime       Type = "datetime"       // "2024-05-31T09:30:00.5", wall-clock time without a zone
	TypeDateTimeOffset Type = "datetimeoffset" // RFC 3339 with the stored offset: "2024-05-31T09:30:00+10:00"
	TypeTime           Type = "time"           // "09:30:00.25"
	TypeBinary         Type = "binary"         // standard base64
	TypeUUID           Type = "uuid"           // "6f9619ff-8b86-d011-b42d-00c04fc964ff"
	TypeJSON           Type = "json"           // the JSON value itself
)

// Header is the first frame of a successful query answer.
type Header struct {
	Columns []Column `json:"columns"`
	// QueuedMS is how long the query waited for an execution slot.
	QueuedMS int64 `json:"queuedMs"`
	// StartedAt is when execution started on the agent.
	StartedAt time.Time `json:"startedAt"`
}

// Trailer is the last frame of a query answer. A query that failed after its
// header was sent has Error set; its rows are incomplete.
type Trailer struct {
	Rows         int64  `json:"rows"`
	Bytes        int64  `json:"bytes"`
	RowsAffected *int64 `json:"rowsAffected,omitempty"`
	// ExecutionMS is the time from handing the query to the database to its
	// last row or error.
	ExecutionMS int64  `json:"executionMs"`
	Error       *Error `json:"error,omitempty"`
	// Replayed is set on the answer to a repeated execution id: the write
	// had already committed and was not run again; this is its first
	// outcome.
	Replayed bool `json:"replayed,omitempty"`
}

// ErrorKind classifies a query failure so the server can choose the status
// and the passthrough API's status value.
type ErrorKind string

// Error kinds.
const (
	KindInvalid        ErrorKind = "invalid"        // the request itself is wrong (bad parameter, unknown catalogue)
	KindForbidden      ErrorKind = "forbidden"      // writes are not allowed at this site
	KindExpiredInQueue ErrorKind = "expiredInQueue" // no execution slot within maxTimeInQueue
	KindDatabase       ErrorKind = "database"       // the database refused or failed the statement
	KindTimeout        ErrorKind = "timeout"        // the execution deadline passed; the statement was cancelled
	KindTooLarge       ErrorKind = "tooLarge"       // the result passed MaxBytes; the statement was cancelled
	KindUnavailable    ErrorKind = "unavailable"    // the database cannot be reached
	KindCanceled       ErrorKind = "canceled"       // the caller went away
	KindInternal       ErrorKind = "internal"       // a bug in the agent
	// KindOutcomeUnknown: a write's execution id was started before but
	// its outcome was never learnt; it is not run again.
	KindOutcomeUnknown ErrorKind = "outcomeUnknown"
)

// Error is a query failure as the agent reports it, either as the body of a
// non-200 answer or inside a [Trailer].
type Error struct {
	Kind ErrorKind `json:"kind"`
	// Engine names the database engine for database errors: sqlserver,
	// postgres, sqlite, firebird.
	Engine string `json:"engine,omitempty"`
	// Code is the engine's error number or SQLSTATE, when it has one.
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	// QueuedMS and ExecutionMS are the timings up to the failure.
	QueuedMS    int64 `json:"queuedMs,omitempty"`
	ExecutionMS int64 `json:"executionMs,omitempty"`
}

func (e *Error) Error() string {
	if e.Engine != "" {
		return fmt.Sprintf("%s: %s error: %s", e.Kind, e.Engine, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

// Errorf returns an [Error] of the given kind.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Catalogue is one database of a site; Zedmed has a pair.
type Catalogue struct {
	Name      string `json:"name"`
	IsDefault bool   `json:"isDefault"`
}

// Info is the agent's description of itself, answered on [PathInfo]. The
// server asks for it when a session opens and with every status heartbeat.
type Info struct {
	Protocol      string      `json:"protocol"`
	Version       string      `json:"version"`       // the agent's build version
	Engine        string      `json:"engine"`        // one of the Engine names: EngineSQLServer, ...
	EngineVersion string      `json:"engineVersion"` // as the database reports it
	Catalogues    []Catalogue `json:"catalogues"`
	AllowWrites   bool        `json:"allowWrites"`
	// ConsoleGrants is set when the practice lets the web console grant
	// writes (the agent's --console-grants; see [PathGrants]).
	ConsoleGrants bool `json:"consoleGrants,omitempty"`
	// WriteGrants are the integrators the agent's record grants writes
	// (package agent/grants), so the server can show them and revoke at
	// the agent what its own copy no longer holds; agents that predate it
	// send none.
	WriteGrants []string `json:"writeGrants,omitempty"`
	Concurrency int      `json:"concurrency"`
	// Running and Queued are the queries running on the database and
	// waiting for an execution slot when the agent answered (servers show
	// them in their metrics; agents that predate them send neither).
	Running int `json:"running,omitempty"`
	Queued  int `json:"queued,omitempty"`
	// PMSType and the practice fields describe the practice management
	// system, as the passthrough API's site status reports them.
	PMSType                   string `json:"pmsType,omitempty"`
	PracticeName              string `json:"practiceName,omitempty"`
	PracticeManagementSiteID  string `json:"practiceManagementSiteId,omitempty"`
	PracticeManagementVersion string `json:"practiceManagementVersion,omitempty"`
	// TimeZone is the practice's IANA time zone (Australia/Sydney): PMS
	// databases store local wall-clock times without a zone.
	TimeZone string `json:"timeZone,omitempty"`
	// Clock is the agent's time when it answered, so the server can warn
	// about drift.
	Clock time.Time `json:"clock"`
}

// ParamTypes are the parameter type names a query may use, as the
// passthrough API spells them (SQL Server's SqlDbType names). Structured,
// Udt, Variant and Timestamp are recognised so they can be refused clearly.
var ParamTypes = []string{
	"BigInt", "Binary", "Bit", "Char", "String", "Date", "DateTime", "DateTime2", "DateTimeOffset",
	"Decimal", "Float", "Image", "Int", "Money", "NChar", "NText", "NVarChar", "Real",
	"SmallDateTime", "SmallInt", "SmallMoney", "Structured", "Text", "Time", "Timestamp", "TinyInt",
	"Udt", "UniqueIdentifier", "VarBinary", "VarChar", "Variant", "Xml",
}

// Directions are the parameter directions a query may use.
var Directions = []string{"input", "output", "inputOutput", "returnValue"}
