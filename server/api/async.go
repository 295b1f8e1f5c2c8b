package api

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/hub"
	"fhirlink/server/passthrough"
)

// Async queries.
//
// POST .../queries/async stores the query as queued (status and query
// object in the state store) and returns at once; a worker on the server
// node holding the site's agent session runs it (see async_worker.go), so
// the query outlives the request that created it. Rows stream from the
// agent into result pages of about AsyncOptions.PageSize bytes in the result
// store; each page is written as its rows arrive and the page index is kept
// in the query object, so no node ever holds a whole result. The integrator
// polls GET .../queries/{id} (or gets a webhook) and downloads the pages.
//
// Pages are stored as NDJSON (one row object a line); the API serves them
// as the JSON array of rows: base64-encoded in data, as the mirrored API
// does, or raw (or NDJSON) from the /stream endpoint. A page's size is the
// byte length of that JSON array; rows.rangeStart and rangeEnd number the
// page's first and last rows from 1 across the whole result.
//
// DELETE .../queries/{id} cancels a query that has not ended (status
// cancelled, an addition to the mirrored status set; the statement is
// cancelled in the practice database and any pages written are deleted)
// and discards the results of one that has (they answer 410 from then on).

// Limits and defaults of async queries.
const (
	DefaultAsyncTimeout   = 5 * time.Minute
	DefaultAsyncRetention = 24 * time.Hour
	DefaultAsyncPageSize  = 1 << 20
	DefaultAsyncPerSite   = 2
	DefaultAsyncLease     = 5 * time.Second
	maxStatusBatch        = 100
)

// activeStatuses are those of a query that has not ended.
var activeStatuses = []string{passthrough.StatusQueued, passthrough.StatusInitialising, passthrough.StatusExecuting, passthrough.StatusUploading}

// asyncDoc is what the state store keeps of an async query in its Doc.
type asyncDoc struct {
	Object *passthrough.Object `json:"object"`
}

func (s *Server) asyncRoutes(g *echo.Group) {
	g.POST("/sites/:siteId/queries/async", s.createAsync, s.requirePairing, s.quota)
	g.POST("/sites/:siteId/queries/status", s.asyncStatusBatch, s.requirePairing)
	g.GET("/sites/:siteId/queries/:queryId", s.asyncStatus, s.requirePairing)
	g.DELETE("/sites/:siteId/queries/:queryId", s.cancelAsync, s.requirePairing)
	g.GET("/sites/:siteId/queries/:queryId/results/:page", s.asyncPage, s.requirePairing)
	g.GET("/sites/:siteId/queries/:queryId/results/:page/stream", s.asyncPageStream, s.requirePairing)
	g.GET("/webhooks/deliveries", s.webhookDeliveries)
	s.registeredRoutes(g)
}

// POST /integrator/sites/{siteId}/queries/async
func (s *Server) createAsync(c echo.Context) error {
	created := time.Now().UTC()
	if s.Async.Results == nil {
		return server.Errorf(server.EUNAVAILABLE, "async queries are not enabled on this server (no result store)")
	}
	body, in, err := readQuery(c)
	if err != nil {
		return err
	}
	q, err := in.Async()
	if err != nil {
		return err
	}
	auditSQL(c, q.Text, "async "+string(q.Mode))
	if err := requireQueryScope(c, q); err != nil {
		return err
	}
	site, integ := site(c), integrator(c)
	if st := s.Hub.Status(site.ID); st.Availability == hub.Online {
		if err := passthrough.CheckAgainstSite(q, st.Info); err != nil {
			return err
		}
	}
	q.ID = uuid.NewString()
	q.Priority = wire.PriorityAsync
	if passthrough.Writes(q) {
		q.ExecutionID = q.ID // the agent runs the write at most once
	}
	obj := &passthrough.Object{
		ID: q.ID, IntegratorID: integ.ID, SiteID: site.ID, Mode: "async", Status: passthrough.StatusQueued,
		MaxTimeInQueue: q.MaxTimeInQueueMS, RequestSize: len(body), CommandSize: len(q.Text),
		CreatedAt: created, UpdatedAt: created, StatusTiming: map[string]passthrough.Period{"initialising": {StartTime: created, EndTime: time.Now().UTC()}},
	}
	req, _ := json.Marshal(q)
	rec := &server.AsyncQuery{ID: q.ID, IntegratorID: integ.ID, SiteID: site.ID, Status: passthrough.StatusQueued, Request: req, CreatedAt: created}
	if rec.Doc, err = json.Marshal(asyncDoc{Object: obj}); err != nil {
		return err
	}
	if err := s.Store.CreateAsyncQuery(c.Request().Context(), rec); err != nil {
		return err
	}
	s.kickAsync()
	auditResult(c, obj.ID, 0, 0)
	return c.JSON(http.StatusCreated, obj)
}

// loadAsync reads the query :queryId of the caller at the site, as
// [server.ENOTFOUND] when it is someone else's.
func (s *Server) loadAsync(c echo.Context, id string) (*server.AsyncQuery, *asyncDoc, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, nil, server.Errorf(server.EINVALID, "query id %q is not a UUID", id)
	}
	rec, err := s.Store.AsyncQuery(c.Request().Context(), id)
	if err == nil && (rec.IntegratorID != integrator(c).ID || rec.SiteID != site(c).ID) {
		err = server.Errorf(server.ENOTFOUND, "query %s not found", id)
	}
	if err != nil {
		if server.ErrorCode(err) == server.ENOTFOUND {
			err = server.Errorf(server.ENOTFOUND, "query %s not found at this site: async query results are kept for a limited time", id)
		}
		return nil, nil, err
	}
	doc, err := decodeDoc(rec)
	return rec, doc, err
}

func decodeDoc(rec *server.AsyncQuery) (*asyncDoc, error) {
	var doc asyncDoc
	if err := json.Unmarshal(rec.Doc, &doc); err != nil || doc.Object == nil {
		return nil, server.Errorf(server.EINTERNAL, "async query %s: unreadable state: %v", rec.ID, err)
	}
	doc.Object.Status = rec.Status
	doc.Object.UpdatedAt = rec.UpdatedAt
	return &doc, nil
}

// GET /integrator/sites/{siteId}/queries/{queryId}
func (s *Server) asyncStatus(c echo.Context) error {
	_, doc, err := s.loadAsync(c, c.Param("queryId"))
	if err != nil {
		return err
	}
	note := noteOf(c)
	note.queryID, note.interaction = doc.Object.ID, "status"
	return c.JSON(http.StatusOK, doc.Object)
}

type statusBatchResult struct {
	QueryID string              `json:"queryId"`
	Status  string              `json:"status"` // found or notFound
	Query   *passthrough.Object `json:"query,omitempty"`
}

// POST /integrator/sites/{siteId}/queries/status {"queryIds": [...]}
func (s *Server) asyncStatusBatch(c echo.Context) error {
	var in struct {
		QueryIDs []string `json:"queryIds"`
	}
	if err := json.NewDecoder(io.LimitReader(c.Request().Body, maxRequestBytes)).Decode(&in); err != nil {
		return server.Errorf(server.EINVALID, "malformed JSON: want {\"queryIds\": [...]}: %v", err)
	}
	if len(in.QueryIDs) == 0 || len(in.QueryIDs) > maxStatusBatch {
		return server.Errorf(server.EINVALID, "queryIds must list 1 to %d query ids", maxStatusBatch)
	}
	out := struct {
		Results []statusBatchResult `json:"results"`
	}{Results: []statusBatchResult{}}
	for _, id := range in.QueryIDs {
		r := statusBatchResult{QueryID: id, Status: "notFound"}
		_, doc, err := s.loadAsync(c, id)
		switch code := server.ErrorCode(err); {
		case err == nil:
			r.Status, r.Query = "found", doc.Object
		case code != server.ENOTFOUND && code != server.EINVALID:
			return err
		}
		out.Results = append(out.Results, r)
	}
	return c.JSON(http.StatusOK, out)
}

// DELETE /integrator/sites/{siteId}/queries/{queryId}
func (s *Server) cancelAsync(c echo.Context) error {
	ctx := c.Request().Context()
	for range 5 { // a worker may change the status between read and write
		rec, doc, err := s.loadAsync(c, c.Param("queryId"))
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		from := []string{rec.Status}
		if slices.Contains(activeStatuses, rec.Status) {
			rec.Status = passthrough.StatusCancelled
			doc.Object.Status = passthrough.StatusCancelled
			doc.Object.CompletedAt = &now
		}
		// Either way the results go now.
		rec.ExpiresAt = now
		doc.Object.ResultsExpireAt = &now
		if rec.Doc, err = json.Marshal(doc); err != nil {
			return err
		}
		err = s.Store.UpdateAsyncQuery(ctx, rec, from...)
		if server.ErrorCode(err) == server.ECONFLICT {
			continue
		}
		if err != nil {
			return err
		}
		s.stopRun(rec.ID)
		s.purgeResults(ctx, rec)
		note := noteOf(c)
		note.queryID, note.interaction = rec.ID, "cancel"
		doc.Object.UpdatedAt = rec.UpdatedAt
		return c.JSON(http.StatusOK, doc.Object)
	}
	return server.Errorf(server.ECONFLICT, "the query kept changing while being cancelled; retry")
}

// page resolves :page of the caller's query, refusing expired results.
func (s *Server) page(c echo.Context) (*server.AsyncQuery, *passthrough.Page, error) {
	rec, doc, err := s.loadAsync(c, c.Param("queryId"))
	if err != nil {
		return nil, nil, err
	}
	if rec.Purged || (!rec.ExpiresAt.IsZero() && !time.Now().Before(rec.ExpiresAt)) {
		return nil, nil, errGone(rec)
	}
	n, err := strconv.Atoi(c.Param("page"))
	if err != nil || n < 1 {
		return nil, nil, server.Errorf(server.EINVALID, "page %q: pages are numbered from 1", c.Param("page"))
	}
	var pages []*passthrough.Page
	if r := doc.Object.Result; r != nil {
		pages = r.Pages
	}
	if n > len(pages) {
		if slices.Contains(activeStatuses, rec.Status) {
			return nil, nil, server.Errorf(server.ENOTFOUND, "page %d is not written yet: the query is %s", n, rec.Status)
		}
		return nil, nil, server.Errorf(server.ENOTFOUND, "the result has %d pages", len(pages))
	}
	p := pages[n-1]
	if p.Status != passthrough.PageCached {
		return nil, nil, server.Errorf(server.ENOTFOUND, "page %d is still being written; poll the query until its status is cached", n)
	}
	note := noteOf(c)
	note.queryID, note.rows, note.interaction = rec.ID, p.Rows.Count, "results"
	// The page's bytes count toward the daily quota; the query itself was
	// counted when it was created.
	note.countable, note.counted = true, true
	return rec, p, nil
}

// errGone is the 410 of expired results.
func errGone(rec *server.AsyncQuery) error {
	return echo.NewHTTPError(http.StatusGone, "the results of query "+rec.ID+" expired at "+
		rec.ExpiresAt.Format(time.RFC3339)+" (async results are kept for a limited time); run the query again")
}

func pageKey(queryID string, n int) string { return asyncPrefix(queryID) + "/" + strconv.Itoa(n) }

func (s *Server) openPage(c echo.Context, rec *server.AsyncQuery, p *passthrough.Page) (io.ReadCloser, error) {
	r, err := s.Async.Results.Open(c.Request().Context(), pageKey(rec.ID, p.PageNumber))
	if server.ErrorCode(err) == server.ENOTFOUND {
		return nil, errGone(rec)
	}
	return r, err
}

func pageHeaders(c echo.Context, p *passthrough.Page) {
	h := c.Response().Header()
	h.Set("Size", strconv.FormatInt(p.Size, 10))
	h.Set("Rows-Count", strconv.FormatInt(p.Rows.Count, 10))
	h.Set("Rows-Range-Start", strconv.FormatInt(p.Rows.RangeStart, 10))
	h.Set("Rows-Range-End", strconv.FormatInt(p.Rows.RangeEnd, 10))
	h.Set("Cache-Control", "private, no-store")
}

// GET .../queries/{queryId}/results/{pageNumber}: {"data": base64 of the
// page's JSON array of rows, "parameters": []}, streamed from the result
// store.
func (s *Server) asyncPage(c echo.Context) error {
	rec, p, err := s.page(c)
	if err != nil {
		return err
	}
	r, err := s.openPage(c, rec, p)
	if err != nil {
		return err
	}
	defer r.Close()
	pageHeaders(c, p)
	c.Response().Header().Set("Content-Type", "application/json")
	c.Response().WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(c.Response(), 32<<10)
	bw.WriteString(`{"data":"`)
	enc := base64.NewEncoder(base64.StdEncoding, bw)
	if err := passthrough.CopyArray(enc, r); err != nil {
		s.log().Error("result page unreadable", "query", rec.ID, "page", p.PageNumber, "err", err)
		panic(http.ErrAbortHandler) // cut off: no client takes a partial page for a whole one
	}
	enc.Close()
	bw.WriteString(`","parameters":[]}`)
	return bw.Flush()
}

// GET .../results/{pageNumber}/stream: the page's rows as a JSON array, or
// as NDJSON (Accept: application/x-ndjson or ?format=ndjson).
func (s *Server) asyncPageStream(c echo.Context) error {
	rec, p, err := s.page(c)
	if err != nil {
		return err
	}
	r, err := s.openPage(c, rec, p)
	if err != nil {
		return err
	}
	defer r.Close()
	pageHeaders(c, p)
	if wantsNDJSON(c.Request()) {
		c.Response().Header().Set("Content-Type", "application/x-ndjson")
		c.Response().WriteHeader(http.StatusOK)
		if _, err := io.Copy(c.Response(), r); err != nil {
			panic(http.ErrAbortHandler)
		}
		return nil
	}
	c.Response().Header().Set("Content-Type", "application/json")
	c.Response().WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(c.Response(), 32<<10)
	if err := passthrough.CopyArray(bw, r); err != nil {
		panic(http.ErrAbortHandler)
	}
	return bw.Flush()
}

// purgeResults deletes a query's pages from the result store and marks it
// purged.
func (s *Server) purgeResults(ctx context.Context, rec *server.AsyncQuery) {
	if s.Async.Results == nil {
		return
	}
	if err := s.Async.Results.Delete(ctx, asyncPrefix(rec.ID)); err != nil {
		s.log().Error("async results not deleted", "query", rec.ID, "err", err)
		return
	}
	rec.Purged = true
	if err := s.Store.UpdateAsyncQuery(ctx, rec, rec.Status); err != nil && server.ErrorCode(err) != server.ECONFLICT {
		s.log().Error("async query not marked purged", "query", rec.ID, "err", err)
	}
}

func asyncPrefix(id string) string { return "async/" + id }
