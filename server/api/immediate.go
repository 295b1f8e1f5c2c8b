package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/auth"
	"fhirlink/server/hub"
	"fhirlink/server/passthrough"
)

// readQuery reads a passthrough query request's body.
func readQuery(c echo.Context) ([]byte, *passthrough.Input, error) {
	body, err := readBody(c)
	if err != nil {
		return nil, nil, err
	}
	var in passthrough.Input
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, nil, server.Errorf(server.EINVALID, "malformed JSON: %v", err)
	}
	return body, &in, nil
}

// checkQuery checks that the request may run q: a token's passthrough
// scope (r to read, cud to write) and, for a write, the agent's writes and
// the practice's grant (see checkWrite); a write is stamped with its
// integrator, which the agent checks too.
func (s *Server) checkQuery(c echo.Context, q *wire.QueryRequest) error {
	if q.Writes() {
		return s.passthroughWrite(c, q)
	}
	return requireScope(c, auth.Passthrough, "r", "run SQL passthrough queries")
}

// POST /integrator/sites/{siteId}/queries/immediate
func (s *Server) immediate(c echo.Context) error {
	created := time.Now().UTC()
	body, in, err := readQuery(c)
	if err != nil {
		return err
	}
	q, err := in.Immediate()
	if err != nil {
		return err
	}
	auditSQL(c, q.Text, string(q.Mode))
	if err := s.checkQuery(c, &q); err != nil {
		return err
	}
	if !q.Writes() {
		return s.runImmediate(c, q, len(body), created)
	}
	return s.idempotent(c, body, func(c echo.Context) error {
		q.ExecutionID = server.ExecutionID(c.Request().Context())
		return s.runImmediate(c, q, len(body), created)
	})
}

// runImmediate runs a checked immediate query and answers it.
func (s *Server) runImmediate(c echo.Context, q wire.QueryRequest, requestSize int, created time.Time) error {
	site, integ := site(c), integrator(c)
	q.ID = uuid.NewString()
	q.TimeoutMS = orDefault(s.ImmediateTimeout, passthrough.DefaultImmediateTimeout).Milliseconds()
	q.MaxBytes = s.maxBytes()
	obj := &passthrough.Object{
		ID: q.ID, IntegratorID: integ.ID, SiteID: site.ID, Mode: "immediate",
		MaxTimeInQueue: q.MaxTimeInQueueMS, RequestSize: requestSize, CommandSize: len(q.Text),
		CreatedAt: created, StatusTiming: map[string]passthrough.Period{},
	}

	st := s.Hub.Status(site.ID)
	if st.Availability != hub.Online {
		obj.Status = passthrough.StatusSiteOffline
		if st.Availability == hub.Unreachable {
			obj.Status = passthrough.StatusSiteUnreachable
		}
		obj.ErrorDetails = passthrough.OwnError(http.StatusServiceUnavailable, "The site's agent is "+st.Availability+"; retry later.")
		c.Response().Header().Set("Retry-After", "30")
		return s.answer(c, http.StatusServiceUnavailable, obj)
	}
	if err := passthrough.CheckAgainstSite(q, st.Info); err != nil {
		return err
	}

	sent := time.Now().UTC()
	obj.StatusTiming["initialising"] = passthrough.Period{StartTime: created, EndTime: sent}
	rows, err := s.Hub.Query(c.Request().Context(), site.ID, q)
	if err != nil {
		return s.failed(c, obj, err, sent)
	}
	defer rows.Close()
	queuedEnd := sent.Add(time.Duration(rows.Header().QueuedMS) * time.Millisecond)
	obj.StatusTiming["queued"] = passthrough.Period{StartTime: sent, EndTime: queuedEnd}
	if wantsNDJSON(c.Request()) {
		return s.stream(c, obj, rows)
	}

	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuf(buf)
	data, n, err := passthrough.Collect(buf, q.Mode, rows, s.maxBytes())
	if err != nil {
		return s.failed(c, obj, err, sent)
	}
	tr := rows.Trailer()
	obj.StatusTiming["executing"] = passthrough.Period{StartTime: queuedEnd, EndTime: time.Now().UTC()}
	obj.Metrics = &passthrough.Metrics{SQLExecutionDuration: tr.ExecutionMS}
	obj.Status = passthrough.StatusSuccessful
	if tr.Replayed {
		noteOf(c).outcome = server.WriteReplayed
	}
	res := &passthrough.Result{Size: int64(len(data)), Parameters: []wire.Param{}}
	if q.Mode == wire.ModeNonQuery {
		res.RowsAffected = tr.RowsAffected
	} else {
		res.Rows, res.Data, res.Columns = &n, data, rows.Header().Columns
	}
	obj.Result = res
	return s.answer(c, http.StatusOK, obj)
}

func (s *Server) maxBytes() int64 {
	if s.ImmediateMaxBytes > 0 {
		return s.ImmediateMaxBytes
	}
	return passthrough.DefaultImmediateMaxBytes
}

// bufPool recycles result buffers: an immediate result is up to 8 MB, and
// growing a fresh buffer for each one costs more than reading the rows.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 16<<20 {
		b.Reset()
		bufPool.Put(b)
	}
}

// failed answers a query that did not succeed.
func (s *Server) failed(c echo.Context, obj *passthrough.Object, err error, sent time.Time) error {
	ctx := c.Request().Context()
	if ctx.Err() != nil {
		return nil // the integrator went away; the query was cancelled
	}
	status, ok := obj.Fail(err, sent, s.log())
	if !ok {
		return err
	}
	if werr, isWire := errors.AsType[*wire.Error](err); isWire && werr.Kind == wire.KindOutcomeUnknown {
		noteOf(c).outcome = server.WriteUnknown
	}
	if obj.Status == passthrough.StatusExpiredInQueue {
		c.Response().Header().Set("Retry-After", "5")
	} else if status == http.StatusServiceUnavailable {
		// The tunnel, or the server node holding it, broke mid-query: the
		// agent reconnects within seconds. As FHIR answers a 503.
		c.Response().Header().Set("Retry-After", "10")
	}
	return s.answer(c, status, obj)
}

func (s *Server) answer(c echo.Context, status int, obj *passthrough.Object) error {
	obj.UpdatedAt = time.Now().UTC()
	if r := obj.Result; r != nil && r.Rows != nil {
		auditResult(c, obj.ID, *r.Rows, r.Size)
	} else {
		auditResult(c, obj.ID, 0, 0)
	}
	return c.JSON(status, obj)
}

// wantsNDJSON reports whether the client asked for rows as NDJSON.
func wantsNDJSON(r *http.Request) bool {
	if r.URL.Query().Get("format") == "ndjson" {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/x-ndjson") || strings.Contains(accept, "application/ndjson")
}

// stream writes the rows as NDJSON as they arrive: one JSON object per line,
// nothing else. Column types travel in the Fhirlink-Columns header. A result
// that fails midway (size cap, database error, lost agent) is cut off without
// the chunked terminator, so no client can take a partial result for a
// whole one; Fhirlink-Rows and Fhirlink-Status trailers end a complete one.
func (s *Server) stream(c echo.Context, obj *passthrough.Object, rows server.Rows) error {
	h := c.Response().Header()
	cols, _ := json.Marshal(rows.Header().Columns)
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Fhirlink-Query-Id", obj.ID)
	h.Set("Fhirlink-Columns", string(cols))
	h.Set("Trailer", "Fhirlink-Rows, Fhirlink-Status")
	c.Response().WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(c.Response(), 32<<10)
	var n, size int64
	limit := s.maxBytes()
	for rows.Next() {
		row := rows.Row()
		size += int64(len(row))
		if size > limit {
			s.abort(c, obj, passthrough.TooLarge(limit))
		}
		bw.Write(row)
		if err := bw.WriteByte('\n'); err != nil {
			return nil // the integrator went away; returning closes the rows
		}
		n++
	}
	if err := rows.Err(); err != nil {
		s.abort(c, obj, err)
	}
	bw.Flush()
	auditResult(c, obj.ID, n, size)
	h.Set("Fhirlink-Rows", strconv.FormatInt(n, 10))
	h.Set("Fhirlink-Status", passthrough.StatusSuccessful)
	return nil
}

func (s *Server) abort(c echo.Context, obj *passthrough.Object, err error) {
	s.log().InfoContext(c.Request().Context(), "streamed query failed midway", "query", obj.ID, "site", obj.SiteID, "err", err)
	panic(http.ErrAbortHandler)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
