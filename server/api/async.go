package api

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/passthrough"
)

// Async queries: the routes of package async, which queues and runs them.
//
// POST .../queries/async queues a query and returns at once; the integrator
// polls GET .../queries/{id} (or gets a webhook) and downloads the result
// pages, as the JSON array of rows: base64-encoded in data, as the mirrored
// API does, or raw (or NDJSON) from the /stream endpoint. DELETE
// .../queries/{id} cancels a query that has not ended and discards the
// results of one that has (they answer 410 from then on).

// maxStatusBatch is the most query ids one status request may list.
const maxStatusBatch = 100

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
	if err := s.checkQuery(c, &q); err != nil {
		return err
	}
	if !q.Writes() {
		return s.submitAsync(c, q, len(body), created)
	}
	return s.idempotent(c, body, func(c echo.Context) error {
		// The write's query id is its execution id: under an
		// Idempotency-Key, a retry names the query its first attempt made.
		q.ID = server.ExecutionID(c.Request().Context())
		return s.submitAsync(c, q, len(body), created)
	})
}

// submitAsync queues a checked async query and answers its object. A
// query of the id already queued (a retry of the write) is answered as it
// stands.
func (s *Server) submitAsync(c echo.Context, q wire.QueryRequest, requestSize int, created time.Time) error {
	ctx := c.Request().Context()
	obj, err := s.async.Submit(ctx, integrator(c).ID, site(c).ID, q, requestSize, created)
	if server.ErrorCode(err) == server.ECONFLICT && q.ID != "" {
		obj, err = s.async.Get(ctx, integrator(c).ID, site(c).ID, q.ID)
	}
	if err != nil {
		return err
	}
	auditResult(c, obj.ID, 0, 0)
	return c.JSON(http.StatusCreated, obj)
}

// GET /integrator/sites/{siteId}/queries/{queryId}
func (s *Server) asyncStatus(c echo.Context) error {
	obj, err := s.async.Get(c.Request().Context(), integrator(c).ID, site(c).ID, c.Param("queryId"))
	if err != nil {
		return err
	}
	note := noteOf(c)
	note.queryID, note.interaction = obj.ID, "status"
	return c.JSON(http.StatusOK, obj)
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
		obj, err := s.async.Get(c.Request().Context(), integrator(c).ID, site(c).ID, id)
		switch code := server.ErrorCode(err); {
		case err == nil:
			r.Status, r.Query = "found", obj
		case code != server.ENOTFOUND && code != server.EINVALID:
			return err
		}
		out.Results = append(out.Results, r)
	}
	return c.JSON(http.StatusOK, out)
}

// DELETE /integrator/sites/{siteId}/queries/{queryId}
func (s *Server) cancelAsync(c echo.Context) error {
	obj, err := s.async.Cancel(c.Request().Context(), integrator(c).ID, site(c).ID, c.Param("queryId"))
	if err != nil {
		return err
	}
	note := noteOf(c)
	note.queryID, note.interaction = obj.ID, "cancel"
	return c.JSON(http.StatusOK, obj)
}

// openPage opens :page of the caller's query :queryId.
func (s *Server) openPage(c echo.Context) (*server.AsyncQuery, *passthrough.Page, io.ReadCloser, error) {
	ctx := c.Request().Context()
	rec, p, err := s.async.Page(ctx, integrator(c).ID, site(c).ID, c.Param("queryId"), c.Param("page"))
	if err != nil {
		return nil, nil, nil, err
	}
	note := noteOf(c)
	note.queryID, note.rows, note.interaction = rec.ID, p.Rows.Count, "results"
	// The page's bytes count toward the daily quota; the query itself was
	// counted when it was created.
	note.countable, note.counted = true, true
	r, err := s.async.OpenPage(ctx, rec, p)
	return rec, p, r, err
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
	rec, p, r, err := s.openPage(c)
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
		s.log().ErrorContext(c.Request().Context(), "result page unreadable", "query", rec.ID, "page", p.PageNumber, "err", err)
		panic(http.ErrAbortHandler) // cut off: no client takes a partial page for a whole one
	}
	enc.Close()
	bw.WriteString(`","parameters":[]}`)
	return bw.Flush()
}

// GET .../results/{pageNumber}/stream: the page's rows as a JSON array, or
// as NDJSON (Accept: application/x-ndjson or ?format=ndjson).
func (s *Server) asyncPageStream(c echo.Context) error {
	_, p, r, err := s.openPage(c)
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
