package async

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/hub"
	"fhirlink/server/passthrough"
	"fhirlink/server/results"
	"fhirlink/server/webhook"
)

// recoverRun takes up a query whose run was interrupted (its node died,
// the tunnel broke, the node is stopping) in status from. A read is queued
// again. A write that may have reached the agent is never simply sent
// again: the agent is asked what became of its execution id first.
//
//   - committed: the query ends successful with the first run's rows
//     affected; it is not run again.
//   - failed, or unknown (the agent stopped while running it): the query
//     ends executionFailed, its errorDetails saying so.
//   - running: it is left as it is and asked about again on a later pass.
//   - notStarted: it is queued again.
//
// When the agent cannot be asked (offline, or the node stopping), the
// write is queued again all the same: it goes out with the same execution
// id, and the agent answers a repeat with the first outcome instead of
// running it, so the query still ends as above.
func (r *Runner) recoverRun(ctx context.Context, rec *server.AsyncQuery, from string) {
	var q wire.QueryRequest
	if from == passthrough.StatusInitialising || json.Unmarshal(rec.Request, &q) != nil || !q.Writes() ||
		ctx.Err() != nil || r.Agents.Status(rec.SiteID).Availability != hub.Online {
		r.requeue(context.WithoutCancel(ctx), rec, from)
		return
	}
	askCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ex, err := r.Agents.Execution(askCtx, rec.SiteID, executionID(rec.ID, q))
	if err != nil {
		r.log().Warn("async write's outcome not known yet; queued again with its execution id", "query", rec.ID, "err", err)
		r.requeue(ctx, rec, from)
		return
	}
	doc, err := decodeDoc(rec)
	if err != nil {
		return
	}
	obj := doc.Object
	switch ex.State {
	case wire.ExecutionNotStarted:
		r.requeue(ctx, rec, from)
		return
	case wire.ExecutionRunning:
		return
	case wire.ExecutionCommitted:
		obj.Status = passthrough.StatusSuccessful
		obj.ErrorDetails = nil
		obj.Result = &passthrough.Result{RowsAffected: ex.RowsAffected, Parameters: []wire.Param{}}
		obj.Metrics = &passthrough.Metrics{SQLExecutionDuration: ex.ExecutionMS}
		if !ex.StartedAt.IsZero() && !ex.FinishedAt.IsZero() {
			obj.StatusTiming["executing"] = passthrough.Period{StartTime: ex.StartedAt, EndTime: ex.FinishedAt}
		}
	case wire.ExecutionFailed:
		obj.Status = passthrough.StatusExecutionFailed
		werr := wire.Error{Kind: wire.KindDatabase, Message: "the write failed"}
		if ex.Error != nil {
			werr = *ex.Error
		}
		werr.Message += "; the server lost the agent's answer, and the write is not run again"
		if _, ok := obj.Fail(&werr, rec.CreatedAt, r.log()); !ok {
			obj.ErrorDetails = passthrough.OwnError(http.StatusInternalServerError, werr.Message)
		}
	default: // unknown
		obj.Status = passthrough.StatusExecutionFailed
		obj.ErrorDetails = passthrough.OwnError(http.StatusConflict, outcomeUnknown(ex.StartedAt))
	}
	r.log().Info("async write settled with its agent", "query", rec.ID, "agentState", ex.State, "status", obj.Status)
	r.deleteResults(ctx, asyncPrefix(rec.ID))
	r.finish(ctx, rec, doc, from)
}

// outcomeUnknown is the errorDetails message of a write whose outcome the
// agent could not learn.
func outcomeUnknown(started time.Time) string {
	msg := "the outcome of this write cannot be known: the agent stopped while it ran"
	if !started.IsZero() {
		msg += " (started " + started.Format(time.RFC3339) + ")"
	}
	return msg + ", so it may or may not have taken effect; it is not run again. Check the practice's data before submitting it again"
}

// executionID is the execution id a write is sent with: its async query's
// id (records from before execution ids have none stored).
func executionID(queryID string, q wire.QueryRequest) string {
	if q.ExecutionID != "" {
		return q.ExecutionID
	}
	return queryID
}

// requeue puts a query back in the queue, its pages deleted.
func (r *Runner) requeue(ctx context.Context, rec *server.AsyncQuery, from string) {
	doc, err := decodeDoc(rec)
	if err != nil {
		return
	}
	r.deleteResults(ctx, asyncPrefix(rec.ID))
	doc.Object.Status, doc.Object.Result, doc.Object.Metrics = passthrough.StatusQueued, nil, nil
	delete(doc.Object.StatusTiming, "executing")
	rec.Status = passthrough.StatusQueued
	if rec.Doc, err = json.Marshal(doc); err == nil {
		err = r.Store.UpdateAsyncQuery(ctx, rec, from)
	}
	if err == nil {
		r.log().Info("async query queued again", "query", rec.ID, "was", from)
	}
}

// runQuery runs one claimed query. ctx ends when the query is cancelled or
// the workers stop (nodeCtx done): then the query is queued again.
func (r *Runner) runQuery(ctx, nodeCtx context.Context, rec *server.AsyncQuery, doc *queryDoc) {
	obj := doc.Object
	var q wire.QueryRequest
	if err := json.Unmarshal(rec.Request, &q); err != nil {
		obj.Status = passthrough.StatusExecutionFailed
		obj.ErrorDetails = passthrough.OwnError(http.StatusInternalServerError, "the stored query is unreadable")
		r.finish(nodeCtx, rec, doc, passthrough.StatusInitialising)
		return
	}
	// The integrator's access is checked again: pairing, blocks and
	// quarantine may have changed while the query waited.
	// A write needs the practice's write grant still (the agent checks it
	// again, with its own --allow-writes).
	if acc, err := r.Store.Access(ctx, rec.IntegratorID, rec.SiteID); err != nil || !acc.Allowed() || (q.Writes() && !acc.WritesGranted) {
		if err == nil {
			err = errors.Join(acc.Denial(rec.SiteID), acc.WriteDenial(rec.SiteID, true))
		}
		obj.Status = passthrough.StatusExecutionFailed
		obj.ErrorDetails = passthrough.OwnError(http.StatusForbidden, server.ErrorMessage(err))
		r.finish(nodeCtx, rec, doc, passthrough.StatusInitialising)
		return
	}
	// Registered like a request: revoking the pairing, blocking the
	// integrator or quarantining the site cancels the running query too.
	ctx, landed := r.Flights.Add(ctx, rec.IntegratorID, rec.SiteID)
	defer landed()
	sent := time.Now().UTC()
	q.Priority = wire.PriorityAsync
	if q.Writes() {
		// Every attempt of the write carries the same id: the agent runs it
		// at most once.
		q.ExecutionID = executionID(rec.ID, q)
		q.IntegratorID = rec.IntegratorID // the agent checks the practice's grant
	}
	q.MaxBytes = 0 // unlimited: the rows go to pages
	q.TimeoutMS = r.Options.timeout().Milliseconds()
	q.MaxTimeInQueueMS = max(0, obj.MaxTimeInQueue-sent.Sub(rec.CreatedAt).Milliseconds())

	w := &asyncRun{r: r, rec: rec, doc: doc, status: passthrough.StatusInitialising}
	// The heartbeat renews the lease until the run settles; it is stopped,
	// and waited for, before the record is written for the last time (it
	// reads the record the end writes).
	hbCtx, cancelHB := context.WithCancel(ctx)
	hbDone := make(chan struct{})
	stopHB := func() { cancelHB(); <-hbDone }
	defer cancelHB()
	r.wg.Go(func() {
		defer close(hbDone)
		w.heartbeat(hbCtx)
	})

	// The query is executing from the moment it is sent: the agent
	// answers only once the first rows are ready, and its queue time comes
	// with them.
	var rows server.Rows
	err := w.save(ctx, passthrough.StatusExecuting)
	if err == nil {
		rows, err = r.Agents.Query(ctx, rec.SiteID, q)
	}
	if err == nil {
		queuedEnd := sent.Add(time.Duration(rows.Header().QueuedMS) * time.Millisecond)
		obj.StatusTiming["queued"] = passthrough.Period{StartTime: rec.CreatedAt, EndTime: queuedEnd}
		err = w.pages(ctx, rows, rows.Header().Columns)
		rows.Close()
		if err == nil {
			tr := rows.Trailer()
			end := time.Now().UTC()
			obj.StatusTiming["executing"] = passthrough.Period{StartTime: queuedEnd, EndTime: end}
			obj.Metrics = &passthrough.Metrics{SQLExecutionDuration: tr.ExecutionMS}
			obj.Status = passthrough.StatusSuccessful
			if q.Mode == wire.ModeNonQuery {
				obj.Result = &passthrough.Result{RowsAffected: tr.RowsAffected, Parameters: []wire.Param{}}
			}
			if tr.Replayed {
				r.log().Info("async write had already committed at the agent; its first outcome is kept", "query", rec.ID)
			}
			stopHB()
			r.finish(nodeCtx, rec, doc, w.status)
			return
		}
	}
	stopHB()
	switch {
	case nodeCtx.Err() != nil:
		// The node is stopping: queued again for any node (a write keeps
		// its execution id, so the agent will not run it twice).
		r.requeue(context.Background(), rec, w.status)
		return
	case server.ErrorCode(err) == server.EUNAVAILABLE:
		// The tunnel broke (the agent restarted, or its node is
		// stopping): the query runs again when the agent is
		// back, unless its maxTimeInQueue (counted from its creation) has
		// passed by then; a write only after asking the agent.
		r.recoverRun(context.WithoutCancel(nodeCtx), rec, w.status)
		return
	case ctx.Err() != nil, server.ErrorCode(err) == server.ECONFLICT: // cancelled by the integrator
		r.deleteResults(nodeCtx, asyncPrefix(rec.ID)) // a page may have been completed after the cancel deleted them
		return
	}
	if _, ok := errors.AsType[*uploadError](err); ok {
		obj.Status = passthrough.StatusUploadFailed
		obj.ErrorDetails = passthrough.OwnError(http.StatusInternalServerError, "the result could not be stored; run the query again")
		r.log().Error("async result not stored", "query", rec.ID, "err", err)
	} else if _, ok := obj.Fail(err, sent, r.log()); !ok {
		obj.Status = passthrough.StatusExecutionFailed
		obj.ErrorDetails = passthrough.OwnError(http.StatusInternalServerError, "the query failed on the server; the failure has been logged")
		r.log().Error("async query failed", "query", rec.ID, "err", err)
	}
	if obj.Status == passthrough.StatusExecutionFailed && obj.ErrorDetails != nil && obj.ErrorDetails.ErrorType == "fhirlink" &&
		obj.ErrorDetails.ErrorCode == http.StatusGatewayTimeout {
		obj.ErrorDetails.ErrorMessage = "Async query execution beyond the time limit (" + r.Options.timeout().String() + ")"
	}
	r.deleteResults(nodeCtx, asyncPrefix(rec.ID))
	r.finish(nodeCtx, rec, doc, w.status)
}

var newline = []byte{'\n'}

// uploadError is a failure of the result store.
type uploadError struct{ err error }

func (e *uploadError) Error() string { return "result store: " + e.err.Error() }

func (e *uploadError) Unwrap() error { return e.err }

// asyncRun is one running query's state.
type asyncRun struct {
	r      *Runner
	rec    *server.AsyncQuery
	doc    *queryDoc
	mu     sync.Mutex // serialises saves: the heartbeat saves too
	status string     // the status last saved
}

// save writes the query object with status, provided nobody else changed
// the record (a cancel): then it fails with ECONFLICT.
func (w *asyncRun) save(ctx context.Context, status string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rec.Status, w.doc.Object.Status = status, status
	doc, err := json.Marshal(w.doc)
	if err != nil {
		return err
	}
	w.rec.Doc = doc
	if err := w.r.Store.UpdateAsyncQuery(ctx, w.rec, w.status); err != nil {
		return err
	}
	w.status = status
	return nil
}

// heartbeat refreshes the record (as last saved) and stops the run when
// the write conflicts: the query was cancelled, maybe on another node.
func (w *asyncRun) heartbeat(ctx context.Context) {
	t := time.NewTicker(w.r.Options.heartbeat())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		err := w.r.Store.UpdateAsyncQuery(ctx, w.rec, w.status)
		w.mu.Unlock()
		if code := server.ErrorCode(err); err != nil && (code == server.ECONFLICT || code == server.ENOTFOUND) {
			w.r.stopRun(w.rec.ID)
			return
		}
	}
}

// pages writes the rows into pages of about PageSize bytes, saving the page
// index as each page is completed. It holds one row and the writer's buffer
// at a time.
func (w *asyncRun) pages(ctx context.Context, rows passthrough.RowSource, columns []wire.Column) error {
	store, limit := w.r.Options.Results, w.r.Options.pageSize()
	obj := w.doc.Object
	obj.Result = &passthrough.Result{Parameters: []wire.Param{}, Columns: columns}
	var (
		out        results.Writer
		page       *passthrough.Page
		total, all int64
	)
	defer func() {
		if out != nil {
			out.Abort()
		}
	}()
	closePage := func(status string) error {
		if err := out.Close(); err != nil {
			return &uploadError{err}
		}
		out = nil
		page.Size++ // the closing bracket
		page.Status = passthrough.PageCached
		total += page.Size
		return w.save(ctx, status)
	}
	for rows.Next() {
		row := rows.Row()
		if page == nil {
			var err error
			n := len(obj.Result.Pages) + 1
			if out, err = store.Create(ctx, pageKey(w.rec.ID, n)); err != nil {
				return &uploadError{err}
			}
			page = &passthrough.Page{PageNumber: n, Status: passthrough.PageUploading, Size: 1, Rows: passthrough.PageRows{RangeStart: all + 1}}
			obj.Result.Pages = append(obj.Result.Pages, page)
		}
		if _, err := out.Write(row); err != nil {
			return &uploadError{err}
		}
		if _, err := out.Write(newline); err != nil {
			return &uploadError{err}
		}
		if page.Rows.Count > 0 {
			page.Size++ // the comma
		}
		page.Size += int64(len(row))
		page.Rows.Count++
		all++
		page.Rows.RangeEnd = all
		if page.Size >= limit {
			if err := closePage(passthrough.StatusExecuting); err != nil {
				return err
			}
			page = nil
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	obj.Result.Rows = &all
	if page != nil {
		if err := closePage(passthrough.StatusUploading); err != nil {
			return err
		}
	} else if err := w.save(ctx, passthrough.StatusUploading); err != nil {
		return err
	}
	obj.Result.Size = total
	obj.ResultSize = &total
	return nil
}

// finish records a query's end (obj.Status set by the caller): completion
// and expiry times, and a webhook. from is the status it must still have.
func (r *Runner) finish(ctx context.Context, rec *server.AsyncQuery, doc *queryDoc, from string) {
	now := time.Now().UTC()
	exp := now.Add(r.Options.retention())
	obj := doc.Object
	obj.CompletedAt, obj.ResultsExpireAt = &now, &exp
	rec.Status, rec.ExpiresAt = obj.Status, exp
	if obj.Result == nil && obj.Status == passthrough.StatusSuccessful {
		obj.Result = &passthrough.Result{Parameters: []wire.Param{}}
	}
	var err error
	if rec.Doc, err = json.Marshal(doc); err == nil {
		err = r.Store.UpdateAsyncQuery(ctx, rec, from)
	}
	if err != nil {
		if server.ErrorCode(err) != server.ECONFLICT {
			r.log().Error("async query end not recorded", "query", rec.ID, "status", obj.Status, "err", err)
		}
		return
	}
	r.log().Info("async query ended", "query", rec.ID, "site", rec.SiteID, "status", obj.Status)
	r.Webhooks.Notify(ctx, rec.IntegratorID, rec.SiteID, rec.ID, webhook.SourceAsync)
}

// janitor deletes expired results, and the records of queries whose
// results expired over a week ago (until then their pages answer 410, not
// 404).
func (r *Runner) janitor(ctx context.Context) {
	now := time.Now()
	for range 100 { // bounded: at most 100 batches a round
		expired, err := r.Store.AsyncQueries(ctx, server.AsyncFilter{ExpiredBefore: now, Limit: 100})
		if err != nil || len(expired) == 0 {
			break
		}
		for _, rec := range expired {
			if !slices.Contains(activeStatuses, rec.Status) {
				r.purgeResults(ctx, rec)
			}
		}
		if len(expired) < 100 {
			break
		}
	}
	if _, err := r.Store.DeleteAsyncQueries(ctx, now.Add(-max(r.Options.retention(), 7*24*time.Hour))); err != nil && ctx.Err() == nil {
		r.log().Error("expired async queries not deleted", "err", err)
	}
}
