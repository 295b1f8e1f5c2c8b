package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
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
)

// queryInput is the passthrough API's query request.
type queryInput struct {
	Command *struct {
		Text          string       `json:"text"`
		ExecutionMode string       `json:"executionMode"`
		Type          string       `json:"type"`
		Parameters    []inputParam `json:"parameters"`
	} `json:"command"`
	MaxTimeInQueue *int64 `json:"maxTimeInQueue"`
	Catalogue      string `json:"catalogue"`
}

// inputParam is a parameter as the passthrough API sends it: a wire.Param
// whose value is still JSON, since a Variant's may be a number or a boolean.
type inputParam struct {
	Name      string          `json:"name"`
	Type      string          `json:"type"`
	Value     json.RawMessage `json:"value"`
	Direction string          `json:"direction,omitempty"`
	Size      int             `json:"size,omitempty"`
}

// param turns p into the agent's form. A value is a JSON string or null;
// for a Variant (SQL Server's sql_variant, whose value carries its own
// type) it may also be a number or a boolean, and the parameter gets the
// type of that value, as a .NET client's would: Int or BigInt for an
// integer, Decimal for a number with a fraction (kept exact), Float for one
// with an exponent (or beyond Decimal's 38 digits), Bit for a boolean. A
// Variant string stays a Variant, which the agent binds as NVarChar.
func (p inputParam) param() (wire.Param, error) {
	w := wire.Param{Name: p.Name, Type: p.Type, Direction: p.Direction, Size: p.Size}
	raw := bytes.TrimSpace(p.Value)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return w, nil
	case raw[0] == '"':
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return w, server.Errorf(server.EINVALID, "parameter %s: the value is not a valid JSON string", p.Name)
		}
		w.Value = &v
		return w, nil
	case !strings.EqualFold(p.Type, "Variant"):
		return w, server.Errorf(server.EINVALID, "parameter %s: the value must be a string or null, like \"42\" (a JSON number or boolean is taken for Variant parameters only)", p.Name)
	case string(raw) == "true" || string(raw) == "false":
		v := string(raw)
		w.Type, w.Value = "Bit", &v
		return w, nil
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		v := string(raw)
		w.Type, w.Value = variantNumberType(v), &v
		return w, nil
	}
	return w, server.Errorf(server.EINVALID, "parameter %s: a Variant value must be a string, a number, a boolean or null, not an object or array", p.Name)
}

// variantNumberType is the parameter type of a JSON number given for a
// Variant.
func variantNumberType(n string) string {
	if strings.ContainsAny(n, "eE") {
		return "Float"
	}
	if !strings.Contains(n, ".") {
		if i, err := strconv.ParseInt(n, 10, 64); err == nil {
			if i >= math.MinInt32 && i <= math.MaxInt32 {
				return "Int"
			}
			return "BigInt"
		}
	}
	digits := 0
	for i := 0; i < len(n); i++ {
		if n[i] >= '0' && n[i] <= '9' {
			digits++
		}
	}
	if digits > 38 {
		return "Float"
	}
	return "Decimal"
}

// queryObject is the passthrough API's query object.
type queryObject struct {
	ID             string            `json:"id"`
	IntegratorID   string            `json:"integratorId"`
	SiteID         string            `json:"siteId"`
	Mode           string            `json:"mode"`
	Status         string            `json:"status"`
	MaxTimeInQueue int64             `json:"maxTimeInQueue"`
	RequestSize    int               `json:"requestSize"`
	CommandSize    int               `json:"commandSize"`
	CreatedAt      time.Time         `json:"createdAt"`
	UpdatedAt      time.Time         `json:"updatedAt"`
	StatusTiming   map[string]period `json:"statusTiming"`
	Metrics        *metrics          `json:"metrics,omitempty"`
	Result         *queryResult      `json:"result,omitempty"`
	ErrorDetails   *errorDetails     `json:"errorDetails,omitempty"`
	// Async queries: the total result size and when the query ended, and
	// (an addition) when its results stop being served.
	ResultSize      *int64     `json:"resultSize,omitempty"`
	CompletedAt     *time.Time `json:"completedAt,omitempty"`
	ResultsExpireAt *time.Time `json:"resultsExpireAt,omitempty"`
}

type period struct {
	StartTime time.Time `json:"startTime"`
	EndTime   time.Time `json:"endTime"`
}

type metrics struct {
	SQLExecutionDuration int64 `json:"sqlExecutionDuration"` // ms
}

type queryResult struct {
	Rows         *int64 `json:"rows,omitempty"`
	RowsAffected *int64 `json:"rowsAffected,omitempty"`
	// Size is the byte length of the JSON inside data.
	Size int64 `json:"size"`
	// Data is JSON, base64-encoded by encoding/json: an array of row
	// objects for reader, the value itself for scalar.
	Data       []byte        `json:"data,omitempty"`
	Parameters []wire.Param  `json:"parameters"`
	Columns    []wire.Column `json:"columns,omitempty"`
	// Pages are an async query's result pages.
	Pages []*resultPage `json:"pages,omitempty"`
}

type errorDetails struct {
	ErrorType    string `json:"errorType"`
	ErrorCode    int    `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	// SQLState is the engine's SQLSTATE, where it has one (an addition).
	SQLState string `json:"sqlState,omitempty"`
}

// Query statuses.
const (
	statusSuccessful      = "successful"
	statusExecutionFailed = "executionFailed"
	statusExpiredInQueue  = "expiredInQueue"
	statusSiteOffline     = "initialisationFailedSiteOffline"
	statusSiteUnreachable = "initialisationFailedSiteUnreachable"
)

// errorTypeOf names engines as the passthrough API's errorType does; our
// own limits and failures are "fhirlink".
var errorTypeOf = map[string]string{"sqlserver": "mssql", "firebird": "fbsql"}

// POST /integrator/sites/{siteId}/queries/immediate
func (s *Server) immediate(c echo.Context) error {
	created := time.Now().UTC()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxRequestBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return server.Errorf(server.ETOOLARGE, "request body over %d bytes", maxRequestBytes)
		}
		return server.Errorf(server.EINVALID, "could not read the request body")
	}
	var in queryInput
	if err := json.Unmarshal(body, &in); err != nil {
		return server.Errorf(server.EINVALID, "malformed JSON: %v", err)
	}
	q, err := in.validate()
	if err != nil {
		return err
	}
	auditSQL(c, q.Text, string(q.Mode))
	// A token needs the passthrough scope: r to read, cud to write.
	if q.Mode.Writes() || q.Type == wire.CommandStoredProcedure {
		err = requireScope(c, auth.Passthrough, "cud", "run nonQuery or storedProcedure commands")
	} else {
		err = requireScope(c, auth.Passthrough, "r", "run SQL passthrough queries")
	}
	if err != nil {
		return err
	}
	site, integ := site(c), integrator(c)
	q.ID = uuid.NewString()
	q.TimeoutMS = orDefault(s.ImmediateTimeout, DefaultImmediateTimeout).Milliseconds()
	q.MaxBytes = s.maxBytes()
	obj := &queryObject{
		ID: q.ID, IntegratorID: integ.ID, SiteID: site.ID, Mode: "immediate",
		MaxTimeInQueue: q.MaxTimeInQueueMS, RequestSize: len(body), CommandSize: len(q.Text),
		CreatedAt: created, StatusTiming: map[string]period{},
	}

	st := s.Hub.Status(site.ID)
	if st.Availability != hub.Online {
		obj.Status = statusSiteOffline
		if st.Availability == hub.Unreachable {
			obj.Status = statusSiteUnreachable
		}
		obj.ErrorDetails = ownError(http.StatusServiceUnavailable, "The site's agent is "+st.Availability+"; retry later.")
		c.Response().Header().Set("Retry-After", "30")
		return s.answer(c, http.StatusServiceUnavailable, obj)
	}
	if err := checkAgainstSite(q, st.Info); err != nil {
		return err
	}

	sent := time.Now().UTC()
	obj.StatusTiming["initialising"] = period{created, sent}
	rows, err := s.Hub.Query(c.Request().Context(), site.ID, q)
	if err != nil {
		return s.failed(c, obj, err, sent)
	}
	defer rows.Close()
	queuedEnd := sent.Add(time.Duration(rows.Header().QueuedMS) * time.Millisecond)
	obj.StatusTiming["queued"] = period{sent, queuedEnd}
	if wantsNDJSON(c.Request()) {
		return s.stream(c, obj, rows)
	}

	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuf(buf)
	data, n, err := s.collect(buf, q.Mode, rows)
	if err != nil {
		return s.failed(c, obj, err, sent)
	}
	tr := rows.Trailer()
	obj.StatusTiming["executing"] = period{queuedEnd, time.Now().UTC()}
	obj.Metrics = &metrics{SQLExecutionDuration: tr.ExecutionMS}
	obj.Status = statusSuccessful
	res := &queryResult{Size: int64(len(data)), Parameters: []wire.Param{}}
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
	return DefaultImmediateMaxBytes
}

// validate checks an immediate query request and turns it into the agent's
// form.
func (in *queryInput) validate() (wire.QueryRequest, error) {
	q, err := in.command()
	if err != nil {
		return q, err
	}
	wait := DefaultMaxTimeInQueue.Milliseconds()
	if in.MaxTimeInQueue != nil {
		wait = *in.MaxTimeInQueue
	}
	if wait < 0 || wait > MaxImmediateTimeInQueue.Milliseconds() {
		return q, server.Errorf(server.EINVALID, "maxTimeInQueue must be between 0 and %d ms for immediate queries", MaxImmediateTimeInQueue.Milliseconds())
	}
	q.MaxTimeInQueueMS = wait
	return q, nil
}

// command checks the command of a query request (all but maxTimeInQueue,
// whose range depends on the kind of query) and turns it into the agent's
// form, at the interactive priority.
func (in *queryInput) command() (wire.QueryRequest, error) {
	var q wire.QueryRequest
	if in.Command == nil || strings.TrimSpace(in.Command.Text) == "" {
		return q, server.Errorf(server.EINVALID, "command.text is required")
	}
	q.Text, q.Catalogue, q.Priority = in.Command.Text, in.Catalogue, wire.PriorityInteractive
	switch m := wire.Mode(in.Command.ExecutionMode); m {
	case "":
		q.Mode = wire.ModeReader
	case wire.ModeReader, wire.ModeScalar, wire.ModeNonQuery:
		q.Mode = m
	default:
		return q, server.Errorf(server.EINVALID, "unknown command.executionMode %q: use reader, scalar or nonQuery", m)
	}
	switch t := wire.CommandType(in.Command.Type); t {
	case "":
		q.Type = wire.CommandText
	case wire.CommandText, wire.CommandStoredProcedure:
		q.Type = t
	default:
		return q, server.Errorf(server.EINVALID, "unknown command.type %q: use text or storedProcedure", t)
	}
	for i, p := range in.Command.Parameters {
		if strings.TrimLeft(p.Name, "@") == "" {
			return q, server.Errorf(server.EINVALID, "command.parameters[%d].name is required", i)
		}
		t := slices.IndexFunc(wire.ParamTypes, func(s string) bool { return strings.EqualFold(s, p.Type) })
		if t < 0 {
			return q, server.Errorf(server.EINVALID, "parameter %s: unknown type %q; use a SQL Server type name such as Int, NVarChar, DateTime2 or Decimal", p.Name, p.Type)
		}
		p.Type = wire.ParamTypes[t]
		if p.Direction != "" && !slices.Contains(wire.Directions, p.Direction) {
			return q, server.Errorf(server.EINVALID, "parameter %s: unknown direction %q; use input, output, inputOutput or returnValue", p.Name, p.Direction)
		}
		wp, err := p.param()
		if err != nil {
			return q, err
		}
		q.Params = append(q.Params, wp)
	}
	return q, nil
}

// checkAgainstSite refuses what the connected agent says it cannot do.
func checkAgainstSite(q wire.QueryRequest, info wire.Info) error {
	if (q.Mode.Writes() || q.Type == wire.CommandStoredProcedure) && !info.AllowWrites {
		return server.Errorf(server.EFORBIDDEN, "this site is read-only: the practice has not enabled writes, so nonQuery and storedProcedure commands are refused")
	}
	if q.Catalogue == "" {
		return nil
	}
	var names []string
	for _, cat := range info.Catalogues {
		if cat.Name == q.Catalogue {
			return nil
		}
		names = append(names, strconv.Quote(cat.Name))
	}
	return server.Errorf(server.EINVALID, "unknown catalogue %q; this site has %s", q.Catalogue, strings.Join(names, ", "))
}

// collect reads a whole result for the JSON answer, enforcing the size cap
// here too: the agent enforces it first, this keeps a faulty agent from
// filling the server's memory.
func (s *Server) collect(buf *bytes.Buffer, mode wire.Mode, rows server.Rows) ([]byte, int64, error) {
	limit := s.maxBytes()
	var n int64
	buf.WriteByte('[')
	for rows.Next() {
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(rows.Row())
		n++
		if int64(buf.Len()) > limit {
			return nil, 0, tooLarge(limit)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	buf.WriteByte(']')
	if mode != wire.ModeScalar {
		return buf.Bytes(), n, nil
	}
	// A scalar is the first value of the first row, or null.
	var objs []map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &objs); err != nil {
		return nil, 0, err
	}
	for _, cols := range objs {
		for _, v := range cols {
			return v, 1, nil
		}
	}
	return []byte("null"), 0, nil
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

func tooLarge(limit int64) *wire.Error {
	return wire.Errorf(wire.KindTooLarge, "Immediate query results beyond message size limit (%dmb)", limit>>20)
}

// failed answers a query that did not succeed.
func (s *Server) failed(c echo.Context, obj *queryObject, err error, sent time.Time) error {
	ctx := c.Request().Context()
	if ctx.Err() != nil {
		return nil // the integrator went away; the query was cancelled
	}
	status, ok := s.settle(obj, err, sent)
	if !ok {
		return err
	}
	if obj.Status == statusExpiredInQueue {
		c.Response().Header().Set("Retry-After", "5")
	} else if status == http.StatusServiceUnavailable {
		// The tunnel, or the server node holding it, broke mid-query: the
		// agent reconnects within seconds. As FHIR answers a 503.
		c.Response().Header().Set("Retry-After", "10")
	}
	return s.answer(c, status, obj)
}

// settle records on obj a query's failure: its status, error details,
// metrics and timings, and returns the HTTP status the failure maps to. It
// reports false, changing nothing, for an error that is neither the
// agent's nor the tunnel's (the caller's own failure).
func (s *Server) settle(obj *queryObject, err error, sent time.Time) (int, bool) {
	werr, ok := errors.AsType[*wire.Error](err)
	if !ok {
		if server.ErrorCode(err) != server.EUNAVAILABLE {
			return 0, false
		}
		obj.Status = statusExecutionFailed
		obj.ErrorDetails = ownError(http.StatusServiceUnavailable, server.ErrorMessage(err))
		return http.StatusServiceUnavailable, true
	}
	status := http.StatusBadRequest
	obj.Status = statusExecutionFailed
	obj.ErrorDetails = ownError(status, werr.Message)
	switch werr.Kind {
	case wire.KindDatabase:
		obj.ErrorDetails = databaseError(werr)
	case wire.KindUnavailable:
		status = http.StatusServiceUnavailable
		obj.ErrorDetails = databaseError(werr)
		obj.ErrorDetails.ErrorCode = status
	case wire.KindForbidden:
		status = http.StatusForbidden
	case wire.KindExpiredInQueue:
		status, obj.Status = http.StatusServiceUnavailable, statusExpiredInQueue
	case wire.KindTimeout:
		status = http.StatusGatewayTimeout
	case wire.KindTooLarge:
		status = http.StatusRequestEntityTooLarge
	case wire.KindInvalid:
	case wire.KindOutcomeUnknown, wire.KindCanceled:
		// A write's first run as the agent answers a repeat of its
		// execution id: never run again (a cancel is otherwise never seen,
		// its caller having gone).
		status = http.StatusConflict
	default:
		s.log().Error("agent failure", "query", obj.ID, "kind", werr.Kind, "err", werr.Message)
		status = http.StatusInternalServerError
		werr.Message = "the query failed in the agent; the failure has been logged"
	}
	if obj.ErrorDetails.ErrorType == "fhirlink" {
		obj.ErrorDetails = ownError(status, werr.Message)
	}
	if werr.ExecutionMS > 0 {
		obj.Metrics = &metrics{SQLExecutionDuration: werr.ExecutionMS}
	}
	queuedEnd := sent.Add(time.Duration(werr.QueuedMS) * time.Millisecond)
	obj.StatusTiming["queued"] = period{sent, queuedEnd}
	if obj.Status != statusExpiredInQueue {
		obj.StatusTiming["executing"] = period{queuedEnd, time.Now().UTC()}
	}
	return status, true
}

func ownError(status int, msg string) *errorDetails {
	return &errorDetails{ErrorType: "fhirlink", ErrorCode: status, ErrorMessage: msg}
}

// databaseError reports an engine's error with the engine's own error
// number (SQL Server, Firebird, SQLite), or for PostgreSQL, whose codes are
// SQLSTATEs, with the HTTP status as errorCode and the SQLSTATE beside it.
func databaseError(werr *wire.Error) *errorDetails {
	d := &errorDetails{ErrorType: werr.Engine, ErrorMessage: werr.Message, ErrorCode: http.StatusBadRequest}
	if t, ok := errorTypeOf[werr.Engine]; ok {
		d.ErrorType = t
	}
	if n, err := strconv.Atoi(werr.Code); err == nil && werr.Engine != "postgres" {
		d.ErrorCode = n
	} else {
		d.SQLState = werr.Code
	}
	return d
}

func (s *Server) answer(c echo.Context, status int, obj *queryObject) error {
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
func (s *Server) stream(c echo.Context, obj *queryObject, rows server.Rows) error {
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
			s.abort(obj, tooLarge(limit))
		}
		bw.Write(row)
		if err := bw.WriteByte('\n'); err != nil {
			return nil // the integrator went away; returning closes the rows
		}
		n++
	}
	if err := rows.Err(); err != nil {
		s.abort(obj, err)
	}
	bw.Flush()
	auditResult(c, obj.ID, n, size)
	h.Set("Fhirlink-Rows", strconv.FormatInt(n, 10))
	h.Set("Fhirlink-Status", statusSuccessful)
	return nil
}

func (s *Server) abort(obj *queryObject, err error) {
	s.log().Info("streamed query failed midway", "query", obj.ID, "site", obj.SiteID, "err", err)
	panic(http.ErrAbortHandler)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
