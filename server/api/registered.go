package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/auth"
	"fhirlink/server/hub"
	"fhirlink/server/passthrough"
	"fhirlink/server/results"
	"fhirlink/server/webhook"
)

// Registered queries.
//
// A registered query runs every frequency seconds for duration seconds,
// from its creation: the scheduler (in the async workers) finds the due
// ones in the state store, claims each run by moving its next run time on
// (so one node runs it), and runs it on the node holding the site's agent
// session at the async priority, with the immediate limits (60 s, 8 MB).
// The rows are hashed (SHA-256 of the JSON array) as they are written to
// the result store; only a result whose hash differs from lastHash is
// kept as the latest and announced by webhook. Runs are counted against
// the daily query quota like any query; a run refused by the quota, or
// while the site is offline, counts as a failed execution. The latest
// result is kept until the registered query is replaced by a newer one;
// it is deleted with the query's results when the query is cancelled.

// Registered query statuses.
const (
	registeredEnabled   = "enabled"
	registeredCancelled = "cancelled"
	registeredCompleted = "completed"
)

// Limits of registered queries.
const (
	DefaultRegisteredMinFrequency = 60 * time.Second
	MaxRegisteredDuration         = 24 * time.Hour
)

// registeredObject is the passthrough API's registered query object.
type registeredObject struct {
	ID                  string                    `json:"id"`
	IntegratorID        string                    `json:"integratorId"`
	SiteID              string                    `json:"siteId"`
	Name                string                    `json:"name"`
	RegisteredQueryType string                    `json:"registeredQueryType"`
	Status              string                    `json:"status"`
	Frequency           int64                     `json:"frequency"`
	Duration            int64                     `json:"duration"`
	LastHash            string                    `json:"lastHash"`
	LastErrorDetails    *passthrough.ErrorDetails `json:"lastErrorDetails,omitempty"`
	Metrics             registeredMetrics         `json:"metrics"`
	CreatedAt           time.Time                 `json:"createdAt"`
	CompletedAt         *time.Time                `json:"completedAt,omitempty"`
	Command             *registeredCommand        `json:"registerCommand,omitempty"`
	// LastChangedAt (an addition) is when the result last changed.
	LastChangedAt *time.Time `json:"lastChangedAt,omitempty"`
}

type registeredCommand struct {
	Command json.RawMessage `json:"command"`
}

type registeredMetrics struct {
	LastSucceededAt         *time.Time `json:"lastSucceededAt"`
	LastFailedAt            *time.Time `json:"lastFailedAt"`
	LastExecutionDuration   int64      `json:"lastExecutionDuration"` // ms
	ExecutionSucceededCount int64      `json:"executionSucceededCount"`
	ExecutionFailedCount    int64      `json:"executionFailedCount"`
	ResultSizeSum           int64      `json:"resultSizeSum"`
	RequestSize             int        `json:"requestSize"`
}

// registeredLatest locates the latest result in the result store.
type registeredLatest struct {
	Key  string `json:"key"`
	Rows int64  `json:"rows"`
	Size int64  `json:"size"`
}

// registeredDoc is what the state store keeps in Doc.
type registeredDoc struct {
	Object *registeredObject  `json:"object"`
	Latest *registeredLatest  `json:"latest,omitempty"`
	Runs   int64              `json:"runs"`
	Cmd    *registeredCommand `json:"cmd,omitempty"`
}

func (o *AsyncOptions) minFrequency() time.Duration {
	return orDefault(o.RegisteredMinFrequency, DefaultRegisteredMinFrequency)
}

func (s *Server) registeredRoutes(g *echo.Group) {
	g.POST("/sites/:siteId/queries/registered", s.createRegistered, s.requirePairing, s.quota)
	g.GET("/sites/:siteId/queries/registered", s.listRegistered, s.requirePairing)
	g.GET("/sites/:siteId/queries/registered/:regId", s.getRegistered, s.requirePairing)
	g.DELETE("/sites/:siteId/queries/registered/:regId", s.cancelRegistered, s.requirePairing)
	g.GET("/sites/:siteId/queries/registered/:regId/results", s.registeredResult, s.requirePairing)
}

// POST /integrator/sites/{siteId}/queries/registered
func (s *Server) createRegistered(c echo.Context) error {
	if s.Async.Results == nil {
		return server.Errorf(server.EUNAVAILABLE, "registered queries are not enabled on this server (no result store)")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxRequestBytes))
	if err != nil {
		return server.Errorf(server.EINVALID, "could not read the request body (at most %d bytes)", maxRequestBytes)
	}
	var in struct {
		Name                string             `json:"name"`
		RegisteredQueryType string             `json:"registeredQueryType"`
		Frequency           *int64             `json:"frequency"`
		Duration            *int64             `json:"duration"`
		RegisterCommand     *registeredCommand `json:"registerCommand"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return server.Errorf(server.EINVALID, "malformed JSON: %v", err)
	}
	minFreq := int64(s.Async.minFrequency() / time.Second)
	switch {
	case in.Name == "":
		return server.Errorf(server.EINVALID, "name is required")
	case in.RegisteredQueryType != "" && in.RegisteredQueryType != "query":
		return server.Errorf(server.EINVALID, "registeredQueryType %q: only \"query\" is supported", in.RegisteredQueryType)
	case in.Frequency == nil || *in.Frequency < minFreq:
		return server.Errorf(server.EINVALID, "frequency is required, in seconds, at least %d", minFreq)
	case in.Duration == nil || *in.Duration < *in.Frequency || *in.Duration > int64(MaxRegisteredDuration/time.Second):
		return server.Errorf(server.EINVALID, "duration is required, in seconds, from frequency to %d", int64(MaxRegisteredDuration/time.Second))
	case in.RegisterCommand == nil || len(in.RegisterCommand.Command) == 0:
		return server.Errorf(server.EINVALID, "registerCommand.command is required")
	}
	var qi passthrough.Input
	if err := json.Unmarshal(body, &struct {
		RegisterCommand *passthrough.Input `json:"registerCommand"`
	}{&qi}); err != nil {
		return server.Errorf(server.EINVALID, "registerCommand: %v", err)
	}
	q, err := qi.Query()
	if err != nil {
		return err
	}
	if q.Mode != wire.ModeReader || q.Type != wire.CommandText {
		return server.Errorf(server.EINVALID, "a registered query is a reader text command")
	}
	auditSQL(c, q.Text, "registered reader")
	if err := requireScope(c, auth.Passthrough, "r", "run SQL passthrough queries"); err != nil {
		return err
	}
	site, integ := site(c), integrator(c)
	q.ID = uuid.NewString()
	q.Priority = wire.PriorityAsync
	now := time.Now().UTC().Truncate(time.Microsecond)
	obj := &registeredObject{ID: q.ID, IntegratorID: integ.ID, SiteID: site.ID, Name: in.Name, RegisteredQueryType: "query",
		Status: registeredEnabled, Frequency: *in.Frequency, Duration: *in.Duration, CreatedAt: now,
		Metrics: registeredMetrics{RequestSize: len(body)}}
	doc := registeredDoc{Object: obj, Cmd: in.RegisterCommand}
	req, _ := json.Marshal(q)
	rec := &server.RegisteredQuery{ID: q.ID, IntegratorID: integ.ID, SiteID: site.ID, Status: registeredEnabled,
		Request: req, NextRunAt: now, CreatedAt: now}
	if rec.Doc, err = json.Marshal(doc); err != nil {
		return err
	}
	if err := s.Store.CreateRegisteredQuery(c.Request().Context(), rec); err != nil {
		return err
	}
	s.kickAsync()
	auditResult(c, q.ID, 0, 0)
	return c.JSON(http.StatusAccepted, map[string]string{"id": q.ID})
}

func decodeRegistered(rec *server.RegisteredQuery) (*registeredDoc, error) {
	var doc registeredDoc
	if err := json.Unmarshal(rec.Doc, &doc); err != nil || doc.Object == nil {
		return nil, server.Errorf(server.EINTERNAL, "registered query %s: unreadable state: %v", rec.ID, err)
	}
	doc.Object.Status = rec.Status
	doc.Object.Command = doc.Cmd
	return &doc, nil
}

func (s *Server) loadRegistered(c echo.Context) (*server.RegisteredQuery, *registeredDoc, error) {
	id := c.Param("regId")
	if _, err := uuid.Parse(id); err != nil {
		return nil, nil, server.Errorf(server.EINVALID, "registered query id %q is not a UUID", id)
	}
	rec, err := s.Store.RegisteredQuery(c.Request().Context(), id)
	if err == nil && (rec.IntegratorID != integrator(c).ID || rec.SiteID != site(c).ID) {
		err = server.Errorf(server.ENOTFOUND, "registered query %s not found", id)
	}
	if err != nil {
		return nil, nil, err
	}
	noteOf(c).queryID = id
	doc, err := decodeRegistered(rec)
	return rec, doc, err
}

// GET /integrator/sites/{siteId}/queries/registered
func (s *Server) listRegistered(c echo.Context) error {
	recs, err := s.Store.RegisteredQueries(c.Request().Context(), integrator(c).ID, site(c).ID)
	if err != nil {
		return err
	}
	out := struct {
		RegisteredQueries []*registeredObject `json:"registeredQueries"`
	}{RegisteredQueries: []*registeredObject{}}
	for _, rec := range recs {
		doc, err := decodeRegistered(rec)
		if err != nil {
			return err
		}
		out.RegisteredQueries = append(out.RegisteredQueries, doc.Object)
	}
	return c.JSON(http.StatusOK, out)
}

// GET /integrator/sites/{siteId}/queries/registered/{queryId}
func (s *Server) getRegistered(c echo.Context) error {
	_, doc, err := s.loadRegistered(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, doc.Object)
}

// DELETE /integrator/sites/{siteId}/queries/registered/{queryId}: 204.
func (s *Server) cancelRegistered(c echo.Context) error {
	ctx := c.Request().Context()
	for range 5 {
		rec, doc, err := s.loadRegistered(c)
		if err != nil {
			return err
		}
		if rec.Status != registeredEnabled {
			return c.NoContent(http.StatusNoContent)
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		rec.Status, doc.Object.Status, doc.Object.CompletedAt = registeredCancelled, registeredCancelled, &now
		if rec.Doc, err = json.Marshal(doc); err != nil {
			return err
		}
		// Moving the next run time makes a run in flight see the change
		// when it records its outcome.
		from := rec.NextRunAt
		if rec.NextRunAt = now; rec.NextRunAt.Equal(from) {
			rec.NextRunAt = now.Add(time.Microsecond)
		}
		err = s.Store.UpdateRegisteredQuery(ctx, rec, from)
		if server.ErrorCode(err) == server.ECONFLICT {
			continue // a run was claimed meanwhile
		}
		if err != nil {
			return err
		}
		s.stopRun("registered/" + rec.ID)
		s.deleteResultsAt(ctx, "registered/"+rec.ID)
		return c.NoContent(http.StatusNoContent)
	}
	return server.Errorf(server.ECONFLICT, "the registered query kept changing while being cancelled; retry")
}

// GET .../queries/registered/{queryId}/results: the latest result,
// {data, parameters, rows, size}.
func (s *Server) registeredResult(c echo.Context) error {
	rec, doc, err := s.loadRegistered(c)
	if err != nil {
		return err
	}
	if doc.Latest == nil {
		return server.Errorf(server.ENOTFOUND, "registered query %s has no result yet (status %s)", rec.ID, rec.Status)
	}
	r, err := s.Async.Results.Open(c.Request().Context(), doc.Latest.Key)
	if err != nil {
		return err
	}
	defer r.Close()
	note := noteOf(c)
	note.rows, note.interaction = doc.Latest.Rows, "results"
	note.countable, note.counted = true, true
	c.Response().Header().Set("Content-Type", "application/json")
	c.Response().Header().Set("Cache-Control", "private, no-store")
	c.Response().WriteHeader(http.StatusOK)
	w := c.Response()
	io.WriteString(w, `{"data":"`)
	enc := base64.NewEncoder(base64.StdEncoding, w)
	if err := passthrough.CopyArray(enc, r); err != nil {
		panic(http.ErrAbortHandler)
	}
	enc.Close()
	io.WriteString(w, `","parameters":[],"rows":`+strconv.FormatInt(doc.Latest.Rows, 10)+`,"size":`+strconv.FormatInt(doc.Latest.Size, 10)+`}`)
	return nil
}

func (s *Server) deleteResultsAt(ctx context.Context, prefix string) {
	if s.Async.Results == nil {
		return
	}
	if err := s.Async.Results.Delete(ctx, prefix); err != nil {
		s.log().Error("results not deleted", "prefix", prefix, "err", err)
	}
}

// scheduleRegistered starts the due runs of registered queries whose site
// is connected to this node, and completes those past their duration.
func (s *Server) scheduleRegistered(ctx context.Context) {
	now := time.Now()
	due, err := s.Store.DueRegisteredQueries(ctx, registeredEnabled, now, 200)
	if err != nil {
		if ctx.Err() == nil {
			s.log().Error("registered queries unreadable", "err", err)
		}
		return
	}
	for _, rec := range due {
		doc, err := decodeRegistered(rec)
		if err != nil {
			s.log().Error("registered query skipped", "query", rec.ID, "err", err)
			continue
		}
		obj := doc.Object
		end := obj.CreatedAt.Add(time.Duration(obj.Duration) * time.Second)
		from := rec.NextRunAt
		if !now.Before(end) {
			t := now.UTC()
			rec.Status, obj.Status, obj.CompletedAt = registeredCompleted, registeredCompleted, &t
			if rec.Doc, err = json.Marshal(doc); err == nil {
				err = s.Store.UpdateRegisteredQuery(ctx, rec, from)
			}
			if err != nil && server.ErrorCode(err) != server.ECONFLICT {
				s.log().Error("registered query not completed", "query", rec.ID, "err", err)
			}
			continue
		}
		if s.Hub.Status(rec.SiteID).Availability != hub.Online {
			// Only the node holding the session runs it; if no node does
			// within a frequency, the run counts as failed there.
			if now.Sub(from) < time.Duration(obj.Frequency)*time.Second {
				continue
			}
		}
		runKey := "registered/" + rec.ID
		if !s.reserve(rec.SiteID, runKey) {
			continue
		}
		// Claim the run: the next one is a frequency later (skipping runs
		// missed while nobody could run them).
		next := from
		for !next.After(now) {
			next = next.Add(time.Duration(obj.Frequency) * time.Second)
		}
		doc.Runs++
		rec.NextRunAt = next
		if rec.Doc, err = json.Marshal(doc); err == nil {
			err = s.Store.UpdateRegisteredQuery(ctx, rec, from)
		}
		if err != nil {
			s.release(rec.SiteID, runKey)
			continue
		}
		runCtx, cancel := context.WithCancel(ctx)
		s.async.mu.Lock()
		s.async.running[runKey] = cancel
		s.async.mu.Unlock()
		s.async.wg.Go(func() {
			defer s.release(rec.SiteID, runKey)
			defer cancel()
			s.runRegistered(runCtx, rec.ID, doc.Runs)
		})
	}
}

// runRegistered makes one run and records its outcome.
func (s *Server) runRegistered(ctx context.Context, id string, run int64) {
	rec, err := s.Store.RegisteredQuery(ctx, id)
	if err != nil {
		return
	}
	var q wire.QueryRequest
	if err := json.Unmarshal(rec.Request, &q); err != nil {
		return
	}
	started := time.Now()
	key := "registered/" + id + "/" + strconv.FormatInt(run, 10)
	hashHex, rows, size, failure := s.registeredRun(ctx, rec, q, key)
	if ctx.Err() != nil {
		s.deleteResultsAt(context.Background(), key)
		return // cancelled, or the node stops
	}
	elapsed := time.Since(started)
	// Record the outcome on the latest state (the next run time may have
	// moved since the claim).
	for range 5 {
		cur, err := s.Store.RegisteredQuery(ctx, id)
		if err != nil {
			return
		}
		doc, err := decodeRegistered(cur)
		if err != nil {
			return
		}
		if cur.Status == registeredCancelled {
			s.deleteResultsAt(ctx, key)
			return
		}
		obj, now := doc.Object, time.Now().UTC()
		obj.Metrics.LastExecutionDuration = elapsed.Milliseconds()
		changed := false
		if failure != nil {
			obj.Metrics.LastFailedAt, obj.LastErrorDetails = &now, failure
			obj.Metrics.ExecutionFailedCount++
		} else {
			obj.Metrics.LastSucceededAt = &now
			obj.Metrics.ExecutionSucceededCount++
			obj.Metrics.ResultSizeSum += size
			changed = hashHex != obj.LastHash
		}
		old := doc.Latest
		if changed {
			obj.LastHash, obj.LastChangedAt = hashHex, &now
			doc.Latest = &registeredLatest{Key: key, Rows: rows, Size: size}
		}
		if cur.Doc, err = json.Marshal(doc); err != nil {
			return
		}
		err = s.Store.UpdateRegisteredQuery(ctx, cur, cur.NextRunAt)
		if server.ErrorCode(err) == server.ECONFLICT {
			continue
		}
		if err != nil {
			s.log().Error("registered run not recorded", "query", id, "err", err)
			return
		}
		if !changed {
			s.deleteResultsAt(ctx, key) // same result as before, or none
		} else {
			if old != nil {
				s.deleteResultsAt(ctx, old.Key)
			}
			s.webhooks.Notify(ctx, cur.IntegratorID, cur.SiteID, id, webhook.SourceRegistered)
		}
		return
	}
}

// registeredRun runs the query once, writing its rows to key and hashing
// them; it returns the failure as the object reports it.
func (s *Server) registeredRun(ctx context.Context, rec *server.RegisteredQuery, q wire.QueryRequest, key string) (string, int64, int64, *passthrough.ErrorDetails) {
	if acc, err := s.Store.Access(ctx, rec.IntegratorID, rec.SiteID); err != nil || !acc.Allowed() {
		if err == nil {
			err = acc.Denial(rec.SiteID)
		}
		return "", 0, 0, passthrough.OwnError(http.StatusForbidden, server.ErrorMessage(err))
	}
	if st := s.Hub.Status(rec.SiteID); st.Availability != hub.Online {
		return "", 0, 0, passthrough.OwnError(http.StatusServiceUnavailable, "the site's agent is "+st.Availability)
	}
	overrides, err := s.Store.Quotas(ctx, rec.IntegratorID)
	if err != nil {
		return "", 0, 0, passthrough.OwnError(http.StatusInternalServerError, "quota unreadable")
	}
	maxQ, maxB := server.EffectiveQuota(overrides, rec.SiteID, s.Limits.DailyQueries, s.Limits.DailyBytes)
	day := server.UsageDay(time.Now())
	if ok, _, err := s.Store.CountQuery(ctx, rec.IntegratorID, rec.SiteID, day, maxQ, maxB); err != nil || !ok {
		return "", 0, 0, passthrough.OwnError(http.StatusTooManyRequests, "the daily quota at this site is used up")
	}
	q.ID = uuid.NewString()
	q.Priority = wire.PriorityAsync
	q.TimeoutMS = orDefault(s.ImmediateTimeout, passthrough.DefaultImmediateTimeout).Milliseconds()
	q.MaxBytes = s.maxBytes()
	q.MaxTimeInQueueMS = passthrough.DefaultMaxTimeInQueue.Milliseconds()
	obj := &passthrough.Object{StatusTiming: map[string]passthrough.Period{}}
	sent := time.Now().UTC()
	rows, err := s.Hub.Query(ctx, rec.SiteID, q)
	if err != nil {
		return "", 0, 0, s.runFailure(obj, err, sent)
	}
	defer rows.Close()
	out, err := s.Async.Results.Create(ctx, key)
	if err != nil {
		return "", 0, 0, passthrough.OwnError(http.StatusInternalServerError, "the result could not be stored")
	}
	h := sha256.New()
	n, size, err := writeHashed(out, h, rows, s.maxBytes())
	if err != nil {
		out.Abort()
		return "", 0, 0, s.runFailure(obj, err, sent)
	}
	if err := out.Close(); err != nil {
		return "", 0, 0, passthrough.OwnError(http.StatusInternalServerError, "the result could not be stored")
	}
	s.auditLog.Add(&server.AuditRecord{Time: sent, IntegratorID: rec.IntegratorID, SiteID: rec.SiteID, Method: "RUN",
		Path: "/integrator/sites/" + rec.SiteID + "/queries/registered/" + rec.ID, Kind: server.AuditPassthrough,
		Interaction: "registered run", Query: q.Text, QueryID: rec.ID, Rows: n, Bytes: size, Status: http.StatusOK,
		DurationUS: time.Since(sent).Microseconds()}, &server.Usage{IntegratorID: rec.IntegratorID, SiteID: rec.SiteID, Day: day, Bytes: size})
	return hex.EncodeToString(h.Sum(nil)), n, size, nil
}

func (s *Server) runFailure(obj *passthrough.Object, err error, sent time.Time) *passthrough.ErrorDetails {
	if _, ok := obj.Fail(err, sent, s.log()); !ok || obj.ErrorDetails == nil {
		return passthrough.OwnError(http.StatusInternalServerError, "the run failed on the server")
	}
	return obj.ErrorDetails
}

// writeHashed writes rows as NDJSON to w and hashes their JSON array form,
// enforcing limit on the array's size.
func writeHashed(w results.Writer, h hash.Hash, rows passthrough.RowSource, limit int64) (n, size int64, err error) {
	h.Write([]byte{'['})
	size = 2
	for rows.Next() {
		row := rows.Row()
		if n > 0 {
			h.Write([]byte{','})
			size++
		}
		h.Write(row)
		size += int64(len(row))
		if size > limit {
			return 0, 0, passthrough.TooLarge(limit)
		}
		if _, err := w.Write(row); err != nil {
			return 0, 0, err
		}
		if _, err := w.Write(newline); err != nil {
			return 0, 0, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	h.Write([]byte{']'})
	return n, size, nil
}
