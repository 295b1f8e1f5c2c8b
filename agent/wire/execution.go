package wire

import (
	"encoding/json"
	"time"
)

// Writes that run at most once.
//
// A write request (ModeNonQuery, or CommandStoredProcedure) may carry an
// execution id ([QueryRequest.ExecutionID]): a UUID its sender assigns once,
// when the write is created, and sends again with every retry of that same
// write. The agent then runs the write at most once under that id. It keeps
// a journal of the ids it has started, with their outcome (rows affected and
// the write's result rows, or the error's kind, engine and code; never the
// command's text or values), and answers a repeat of an id without touching
// the database:
//
//   - committed: the first outcome again, as an ordinary answer whose
//     trailer has Replayed set: rowsAffected as first reported, and the
//     result rows a stored procedure or a nonQuery's RETURNING (OUTPUT)
//     clause returned, such as the id of a new appointment, when they were
//     numbers only (ids, counts: never text or dates, which may be patient
//     data) and at most [MaxKeptResult]; any other result was streamed but
//     not kept, and its replay fails with [KindTooLarge] saying so;
//   - failed: the first failure's kind, engine and code, with a message
//     saying it is not run again;
//   - unknown (the agent stopped between handing the write to the database
//     and recording its outcome): [KindOutcomeUnknown], never a new run;
//   - still running (a retry that overtook the first attempt): the answer
//     waits for the first attempt's outcome.
//
// A write that never reached the database (refused, expired in the queue,
// no connection to be had) leaves no trace and may be sent again. Reads
// ignore the id: they can always be retried.
//
// GET [PathExecutions]/{id} asks the agent for an id's outcome without
// running anything, so a server that lost a write's answer (it crashed, the
// tunnel broke) can settle the write instead of sending it again blindly.
// Any sender of writes can use the mechanism: async queries use their query
// id as the execution id; a FHIR write would assign one per create request.

// PathExecutions is the agent's endpoint for outcomes of writes by
// execution id: GET PathExecutions + "/" + id answers an [Execution].
const PathExecutions = "/v1/executions"

// ExecutionState is what the agent knows of an execution id.
type ExecutionState string

// Execution states.
const (
	// ExecutionNotStarted: the agent has no record of the id; the write
	// never reached the database here (or its record is older than the
	// journal keeps, [ExecutionRetention]).
	ExecutionNotStarted ExecutionState = "notStarted"
	// ExecutionRunning: the write is running now.
	ExecutionRunning ExecutionState = "running"
	// ExecutionCommitted: the write took effect; RowsAffected is its count.
	ExecutionCommitted ExecutionState = "committed"
	// ExecutionFailed: the database failed the write; Error says how.
	ExecutionFailed ExecutionState = "failed"
	// ExecutionUnknown: the write reached the database but the agent
	// stopped before learning its outcome; it may or may not have taken
	// effect, and it is never run again under this id.
	ExecutionUnknown ExecutionState = "unknown"
)

// ExecutionRetention is how long the agent keeps an execution id's record:
// far longer than any retry of the write can come (an async query waits at
// most two hours in the queue).
const ExecutionRetention = 7 * 24 * time.Hour

// Execution is the agent's record of one execution id.
type Execution struct {
	ID    string         `json:"executionId"`
	State ExecutionState `json:"state"`
	// RowsAffected is a committed nonQuery's count.
	RowsAffected *int64 `json:"rowsAffected,omitempty"`
	// Result is a committed write's result rows; nil when the write
	// returned no result set (a nonQuery without RETURNING or OUTPUT).
	Result *Result `json:"result,omitempty"`
	// ExecutionMS is the first run's execution time.
	ExecutionMS int64 `json:"executionMs,omitempty"`
	// Error is a failed write's kind, engine and code; its message says
	// only what happened, the database's own text is not kept.
	Error      *Error    `json:"error,omitempty"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
}

// MaxKeptResult caps the result rows the agent keeps with a committed
// write's record, in bytes of their encoded JSON. A write's result is the
// few rows it created (a new record's id, a booking's outcome); one larger
// than this was streamed in full on its first run but cannot be replayed.
//
// A larger result cannot be refused instead: a stored procedure and an
// autocommitted statement commit on their own, often before their rows are
// read (a procedure's INSERT before its SELECT), so refusing the rows would
// not undo the write; the record keeps the outcome and says the rows are
// gone.
const MaxKeptResult = 64 << 10

// Result is a committed write's result rows, as the journal keeps them.
type Result struct {
	Columns []Column `json:"columns"`
	// Rows are the rows as their row frames carried them, in order.
	Rows []json.RawMessage `json:"rows,omitempty"`
	// Count and Bytes are the rows' number and encoded size, as the first
	// run's trailer reported them.
	Count int64 `json:"count"`
	Bytes int64 `json:"bytes"`
	// Dropped is set when Bytes passed MaxKeptResult or a value was not a
	// number: Rows are not kept.
	Dropped bool `json:"dropped,omitempty"`
}
