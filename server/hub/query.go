package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// Query sends a query to a site's agent (the hub is a [server.Querier]) and returns its rows as they
// arrive. It fails with [server.EUNAVAILABLE] when the site has no session,
// or with the agent's [*wire.Error] when the query failed before producing
// rows. Cancelling ctx or closing the rows cancels the query in the database.
func (h *Hub) Query(ctx context.Context, siteID string, q wire.QueryRequest) (server.Rows, error) {
	body, err := h.Frames(ctx, siteID, q)
	if err != nil {
		return nil, err
	}
	rows, err := NewRows(ctx, body)
	if err != nil {
		return nil, err // not a nil *Rows in a non-nil server.Rows
	}
	return rows, nil
}

// Frames sends a query to a site's agent, with the request id ctx carries
// unless q has one, and returns its answer as the agent streams it: the frames of [wire] (header, rows, trailer), one per
// line, unread. A cluster node serving another node's query forwards them
// as they are; [NewRows] reads them. Frames fails as Query does; closing
// the body before its end cancels the query in the database.
func (h *Hub) Frames(ctx context.Context, siteID string, q wire.QueryRequest) (io.ReadCloser, error) {
	s := h.session(siteID)
	if s == nil {
		return nil, errUnavailable(siteID)
	}
	if q.RequestID == "" {
		q.RequestID = server.RequestID(ctx)
	}
	body, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://agent"+wire.PathQuery, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, server.Errorf(server.EUNAVAILABLE, "lost the connection to the agent of site %s", siteID)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var werr wire.Error
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&werr); err != nil || werr.Kind == "" {
			return nil, fmt.Errorf("agent answered %s without an error body", resp.Status)
		}
		return nil, &werr
	}
	return resp.Body, nil
}

// NewRows reads a query answer from body, a stream of [wire] frames, up to
// the header, and returns the rows that follow. A body that breaks or ends
// before the trailer fails the rows with [server.EUNAVAILABLE] (or ctx's
// error once ctx is done). Closing the rows closes body.
func NewRows(ctx context.Context, body io.ReadCloser) (*Rows, error) {
	r := &Rows{body: body, fr: wire.NewFrameReader(body, 64<<10)}
	var err error
	if r.header, err = r.fr.Header(); err != nil {
		r.Close()
		return nil, r.transportErr(ctx, err)
	}
	r.ctx = ctx
	return r, nil
}

// Rows is a result streaming from an agent. Call Next until it returns false,
// then Err; always Close.
type Rows struct {
	header wire.Header

	ctx     context.Context
	body    io.ReadCloser
	fr      *wire.FrameReader
	row     []byte
	trailer wire.Trailer
	done    bool
	err     error
}

// Next advances to the next row, reporting false at the end of the result
// or on an error.
func (r *Rows) Next() bool {
	if r.done {
		return false
	}
	row, trailer, err := r.fr.Next()
	switch {
	case errors.Is(err, wire.ErrFrame):
		r.finish(err) // the agent's fault, not the connection's
		return false
	case err != nil:
		r.finish(r.transportErr(r.ctx, err))
		return false
	case trailer != nil:
		r.trailer = *trailer
		if trailer.Error != nil {
			r.finish(trailer.Error)
		} else {
			r.finish(nil)
		}
		// Read on to the end of the body, which follows the trailer at once:
		// a connection whose answer was read to its end is reused for the
		// next query, where one closed before it is dropped and the next
		// query opens another stream to the agent.
		r.fr.Next()
		return false
	}
	r.row = row
	return true
}

// Ready reports whether the next row (or the end) is already here, so
// that Next returns without waiting for the agent.
func (r *Rows) Ready() bool { return r.fr != nil && !r.done && r.fr.Ready() }

// Header describes the columns; it is set when Query returns.
func (r *Rows) Header() wire.Header { return r.header }

// Row returns the current row, a JSON object. It is valid until the next
// call to Next.
func (r *Rows) Row() []byte { return r.row }

// Trailer returns the totals the agent sent; valid once Next returned false
// without an error.
func (r *Rows) Trailer() wire.Trailer { return r.trailer }

// Err returns the error that ended the rows: a [*wire.Error] from the agent,
// [server.EUNAVAILABLE] when the tunnel broke, or the context's error.
func (r *Rows) Err() error { return r.err }

// Close releases the stream. Closing before the end cancels the query,
// unless the rest of the answer is already here (a page's extra row is
// followed at once by the trailer): that is read first, so the stream is
// kept for the next query instead of dropped (see Next).
func (r *Rows) Close() error {
	if r.fr == nil {
		return nil // closed already
	}
	for r.Ready() && r.Next() {
	}
	r.done = true
	err := r.body.Close()
	r.fr.Release()
	r.fr = nil
	return err
}

func (r *Rows) finish(err error) {
	r.done, r.err = true, err
	r.row = nil
}

func (r *Rows) transportErr(ctx context.Context, err error) error {
	if ctx != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return server.Errorf(server.EUNAVAILABLE, "the connection to the site's agent broke during the query; retry later")
}
