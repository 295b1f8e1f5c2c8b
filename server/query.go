package server

import (
	"context"

	"fhirlink/agent/wire"
)

// Querier runs one query on a site's agent and streams its answer. The hub
// implements it for the agents connected to this node; everything that runs
// SQL on a practice (FHIR searches, passthrough, async work, exports) takes
// a Querier, so a router that reaches agents held by other nodes can stand
// in for the hub without their knowing.
//
// Query fails with [EUNAVAILABLE] when the site cannot be reached, or with
// the agent's [*wire.Error] when the query failed before producing rows.
// Cancelling ctx or closing the rows cancels the query in the database.
type Querier interface {
	Query(ctx context.Context, siteID string, q wire.QueryRequest) (Rows, error)
}

// Rows is a query answer streaming from an agent: call Next until it
// returns false, then Err; always Close.
type Rows interface {
	// Header describes the columns and the time the query queued.
	Header() wire.Header
	// Next advances to the next row, reporting false at the end of the
	// result or on an error.
	Next() bool
	// Row returns the current row, a JSON object, valid until the next call
	// to Next.
	Row() []byte
	// Trailer returns the agent's totals, valid once Next returned false
	// without an error.
	Trailer() wire.Trailer
	// Err returns the error that ended the rows: a [*wire.Error] from the
	// agent, [EUNAVAILABLE] when the tunnel broke, or the context's error.
	Err() error
	// Close releases the stream; closing before the end cancels the query.
	Close() error
}
