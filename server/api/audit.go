package api

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/server"
)

// The audit log records every request to the integrator API once its
// response is complete: who (integrator, client address), where (site),
// what (the FHIR interaction and query string, or the full SQL text and
// mode), and what came of it (status, rows, bytes, duration, query id).
//
// Records are not written on the request's path: the middleware hands each
// to the audit writer (package audit), which appends them to the store in
// batches, together with the requests' usage.

const (
	ctxAudit = "fhirlink.audit"
	// auditQueryMax bounds the text kept of a FHIR query string; SQL text is
	// kept whole (the request body is bounded by maxRequestBytes).
	auditQueryMax = 8 << 10
)

// StatusClientClosed is the status audited for a request whose caller went
// away before it was answered (nginx's convention); nothing was sent.
const StatusClientClosed = 499

// PathAgentAudit is where a practice reads its own site's audit log, with
// its site credential.
const PathAgentAudit = "/agent/v1/audit"

// auditNote is what handlers tell the audit middleware about a request.
type auditNote struct {
	interaction, query, queryID string
	rows, bytes                 int64
	// countable: a query the quota middleware let through; counted: already
	// counted in the store (a query cap applies).
	countable, counted bool
	// clientGone: the integrator went away before an answer was written.
	clientGone bool
	// write: the request is a write; targets is what it names and
	// outcome what came of it (see server.AuditRecord), derived from the
	// status when the handler noted none.
	write            bool
	targets, outcome string
}

func noteOf(c echo.Context) *auditNote {
	n, _ := c.Get(ctxAudit).(*auditNote)
	if n == nil {
		n = &auditNote{} // not under the audit middleware: notes go nowhere
		c.Set(ctxAudit, n)
	}
	return n
}

// auditSQL notes a passthrough command's SQL text and mode.
func auditSQL(c echo.Context, text, mode string) {
	n := noteOf(c)
	n.query, n.interaction = text, mode
}

// auditResult notes a passthrough query's id and the rows and row bytes
// that went to the integrator.
func auditResult(c echo.Context, queryID string, rows, bytes int64) {
	n := noteOf(c)
	n.queryID, n.rows, n.bytes = queryID, rows, bytes
}

// auditRows notes how many resources a FHIR response carried.
func auditRows(c echo.Context, rows int) { noteOf(c).rows = int64(rows) }

// audited is the integrator API's outermost middleware: it answers errors
// itself (so that their status is known) and records the request.
func (s *Server) audited(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		n := &auditNote{}
		c.Set(ctxAudit, n)
		panicked := true
		defer func() {
			// A panic (a streamed result aborted on purpose) still leaves a
			// record of what was sent; the panic goes on up.
			s.record(c, n, start, panicked)
		}()
		err := next(c)
		if err != nil {
			c.Error(err)
		} else if !c.Response().Committed && c.Request().Context().Err() != nil {
			n.clientGone = true
		}
		panicked = false
		return nil
	}
}

// record builds the request's audit record and queues it.
func (s *Server) record(c echo.Context, n *auditNote, start time.Time, aborted bool) {
	req, resp := c.Request(), c.Response()
	rec := &server.AuditRecord{
		Time: start.UTC(), Method: req.Method, Path: req.URL.Path, Kind: server.AuditOther,
		Status: resp.Status, DurationUS: time.Since(start).Microseconds(), ClientAddr: s.clientAddr(req),
		Rows: n.rows, Bytes: resp.Size, QueryID: n.queryID, RequestID: server.RequestID(req.Context()),
	}
	switch {
	case aborted && !resp.Committed:
		rec.Status = http.StatusInternalServerError
	case n.clientGone:
		rec.Status = StatusClientClosed
	}
	if in, ok := c.Get(ctxIntegrator).(*server.Integrator); ok {
		rec.IntegratorID = in.ID
	}
	rec.SiteID = truncate(c.Param("siteId"), 64)
	route := c.Path()
	switch {
	case strings.Contains(route, fhirBase):
		rec.Kind, rec.ResourceType = server.AuditFHIR, truncate(c.Param("type"), 64)
		q := req.URL.RawQuery
		if len(req.PostForm) > 0 { // POST _search: the form is the query
			q = strings.TrimPrefix(q+"&"+req.PostForm.Encode(), "&")
		}
		rec.Query = truncate(q, auditQueryMax)
		switch {
		case strings.HasSuffix(route, "/metadata"):
			rec.Interaction = "capabilities"
		case strings.HasSuffix(route, "/:type/:id"):
			rec.Interaction = "read"
		case n.interaction != "": // $export and its status and files
			rec.Interaction = n.interaction
		default:
			rec.Interaction = "search-type"
		}
	case strings.HasSuffix(route, "/queries/immediate"):
		rec.Kind, rec.Interaction, rec.Query = server.AuditPassthrough, n.interaction, n.query
		if !aborted {
			rec.Bytes = n.bytes // the rows, not the envelope around them (nor an error)
		}
	case strings.Contains(route, "/queries/"): // async and registered queries, their status and results
		rec.Kind, rec.Interaction, rec.Query = server.AuditPassthrough, n.interaction, n.query
	}
	if n.write {
		rec.Targets, rec.Outcome = n.targets, n.outcome
		if rec.Outcome == "" {
			switch {
			case rec.Status < 300:
				rec.Outcome = server.WriteCommitted
			case rec.Status == http.StatusForbidden:
				rec.Outcome = server.WriteRefused
			default:
				rec.Outcome = server.WriteFailed
			}
		}
	}
	var usage *server.Usage
	if n.countable && rec.IntegratorID != "" && rec.SiteID != "" {
		usage = &server.Usage{IntegratorID: rec.IntegratorID, SiteID: rec.SiteID, Day: server.UsageDay(start), Bytes: rec.Bytes}
		if !n.counted {
			usage.Queries = 1
		}
	}
	s.auditLog.Add(rec, usage)
}

// clientAddr is the caller's address: the connection's peer, or with
// TrustProxy the address the proxy in front appended to X-Forwarded-For
// (its last entry; earlier ones come from the client and may be forged).
func (s *Server) clientAddr(r *http.Request) string {
	if s.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a := strings.TrimSpace(last); a != "" {
				return truncate(a, 64)
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// FlushAudit waits until every queued audit record and usage count is in
// the store, or ctx is done. The server calls it on shutdown.
func (s *Server) FlushAudit(ctx context.Context) error {
	s.setup()
	return s.auditLog.Flush(ctx)
}

// GET /agent/v1/audit?from=&to=&limit= (site credential): the site's own
// audit records, oldest first.
func (s *Server) agentAudit(c echo.Context) error {
	siteID, _ := c.Get(ctxSiteID).(string)
	if siteID == "" {
		return server.Errorf(server.EUNAUTHORIZED, "invalid site credential")
	}
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	f.SiteID = siteID
	recs, err := s.Store.Audit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"siteId": siteID, "records": recs})
}

// auditFilter reads from, to (RFC 3339 or YYYY-MM-DD, UTC) and limit.
func auditFilter(c echo.Context) (server.AuditFilter, error) {
	var f server.AuditFilter
	var err error
	if f.From, err = server.ParseAuditTime(c.QueryParam("from"), "from"); err != nil {
		return f, err
	}
	if f.To, err = server.ParseAuditTime(c.QueryParam("to"), "to"); err != nil {
		return f, err
	}
	if l := c.QueryParam("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil || f.Limit < 1 || f.Limit > server.MaxAuditLimit {
			return f, server.Errorf(server.EINVALID, "limit must be a number from 1 to %d", server.MaxAuditLimit)
		}
	} else {
		f.Limit = 1000
	}
	return f, nil
}
