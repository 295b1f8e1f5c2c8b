package async

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/hub"
	"fhirlink/server/metrics"
	"fhirlink/server/passthrough"
)

// activeStatuses are those of a query that has not ended.
var activeStatuses = []string{passthrough.StatusQueued, passthrough.StatusInitialising, passthrough.StatusExecuting, passthrough.StatusUploading}

// queryDoc is what the state store keeps of an async query in its Doc.
type queryDoc struct {
	Object *passthrough.Object `json:"object"`
}

// Submit queues q (checked by [passthrough.Input.Async]) for integratorID
// at siteID and returns its query object. q.ID is the query's id when set
// (a write's, derived from its idempotency key: [server.ECONFLICT] when
// that query exists), else a new one. requestSize is the request's
// byte length and created when it arrived, as the object reports them.
// It refuses what the site's agent, when connected, says it cannot do.
func (r *Runner) Submit(ctx context.Context, integratorID, siteID string, q wire.QueryRequest, requestSize int, created time.Time) (*passthrough.Object, error) {
	if st := r.Agents.Status(siteID); st.Availability == hub.Online {
		if err := passthrough.CheckAgainstSite(q, st.Info); err != nil {
			return nil, err
		}
	}
	if q.ID == "" {
		q.ID = uuid.NewString()
	}
	q.Priority = wire.PriorityAsync
	q.RequestID = server.RequestID(ctx) // the agent logs the run under the request that submitted it
	if q.Writes() {
		q.ExecutionID = q.ID // the agent runs the write at most once
	}
	obj := &passthrough.Object{
		ID: q.ID, IntegratorID: integratorID, SiteID: siteID, Mode: "async", Status: passthrough.StatusQueued,
		MaxTimeInQueue: q.MaxTimeInQueueMS, RequestSize: requestSize, CommandSize: len(q.Text),
		CreatedAt: created, UpdatedAt: created, StatusTiming: map[string]passthrough.Period{"initialising": {StartTime: created, EndTime: time.Now().UTC()}},
	}
	req, _ := json.Marshal(q)
	rec := &server.AsyncQuery{ID: q.ID, IntegratorID: integratorID, SiteID: siteID, Status: passthrough.StatusQueued, Request: req, CreatedAt: created}
	var err error
	if rec.Doc, err = json.Marshal(queryDoc{Object: obj}); err != nil {
		return nil, err
	}
	if err := r.Store.CreateAsyncQuery(ctx, rec); err != nil {
		return nil, err
	}
	r.Metrics.JobQueued(metrics.JobAsync)
	r.kickDispatch()
	return obj, nil
}

// Get returns the query object of query id of integratorID at siteID:
// [server.EINVALID] for an id that is not a UUID, [server.ENOTFOUND] when
// it is unknown or someone else's.
func (r *Runner) Get(ctx context.Context, integratorID, siteID, id string) (*passthrough.Object, error) {
	_, doc, err := r.load(ctx, integratorID, siteID, id)
	if err != nil {
		return nil, err
	}
	return doc.Object, nil
}

// load reads the query id of integratorID at siteID, as
// [server.ENOTFOUND] when it is someone else's.
func (r *Runner) load(ctx context.Context, integratorID, siteID, id string) (*server.AsyncQuery, *queryDoc, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, nil, server.Errorf(server.EINVALID, "query id %q is not a UUID", id)
	}
	rec, err := r.Store.AsyncQuery(ctx, id)
	if err == nil && (rec.IntegratorID != integratorID || rec.SiteID != siteID) {
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

func decodeDoc(rec *server.AsyncQuery) (*queryDoc, error) {
	var doc queryDoc
	if err := json.Unmarshal(rec.Doc, &doc); err != nil || doc.Object == nil {
		return nil, server.Errorf(server.EINTERNAL, "async query %s: unreadable state: %v", rec.ID, err)
	}
	doc.Object.Status = rec.Status
	doc.Object.UpdatedAt = rec.UpdatedAt
	return &doc, nil
}

// Cancel cancels query id of integratorID at siteID if it has not ended
// (on whichever node runs it) and discards its results either way; it
// returns the query object as it is then.
func (r *Runner) Cancel(ctx context.Context, integratorID, siteID, id string) (*passthrough.Object, error) {
	for range 5 { // a worker may change the status between read and write
		rec, doc, err := r.load(ctx, integratorID, siteID, id)
		if err != nil {
			return nil, err
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
			return nil, err
		}
		err = r.Store.UpdateAsyncQuery(ctx, rec, from...)
		if server.ErrorCode(err) == server.ECONFLICT {
			continue
		}
		if err != nil {
			return nil, err
		}
		r.stopRun(rec.ID)
		r.purgeResults(ctx, rec)
		doc.Object.UpdatedAt = rec.UpdatedAt
		return doc.Object, nil
	}
	return nil, server.Errorf(server.ECONFLICT, "the query kept changing while being cancelled; retry")
}

// Page finds page n (a number from 1, as the caller wrote it) of the
// results of query id of integratorID at siteID, refusing one not written
// yet and, with [server.EGONE], results that expired. Open it with
// [Runner.OpenPage].
func (r *Runner) Page(ctx context.Context, integratorID, siteID, id, n string) (*server.AsyncQuery, *passthrough.Page, error) {
	rec, doc, err := r.load(ctx, integratorID, siteID, id)
	if err != nil {
		return nil, nil, err
	}
	if rec.Purged || (!rec.ExpiresAt.IsZero() && !time.Now().Before(rec.ExpiresAt)) {
		return nil, nil, errGone(rec)
	}
	num, err := strconv.Atoi(n)
	if err != nil || num < 1 {
		return nil, nil, server.Errorf(server.EINVALID, "page %q: pages are numbered from 1", n)
	}
	var pages []*passthrough.Page
	if res := doc.Object.Result; res != nil {
		pages = res.Pages
	}
	if num > len(pages) {
		if slices.Contains(activeStatuses, rec.Status) {
			return nil, nil, server.Errorf(server.ENOTFOUND, "page %d is not written yet: the query is %s", num, rec.Status)
		}
		return nil, nil, server.Errorf(server.ENOTFOUND, "the result has %d pages", len(pages))
	}
	p := pages[num-1]
	if p.Status != passthrough.PageCached {
		return nil, nil, server.Errorf(server.ENOTFOUND, "page %d is still being written; poll the query until its status is cached", num)
	}
	return rec, p, nil
}

// OpenPage opens page p of query rec's results (as [Runner.Page] found
// it): its rows as NDJSON.
func (r *Runner) OpenPage(ctx context.Context, rec *server.AsyncQuery, p *passthrough.Page) (io.ReadCloser, error) {
	rc, err := r.Options.Results.Open(ctx, pageKey(rec.ID, p.PageNumber))
	if server.ErrorCode(err) == server.ENOTFOUND {
		return nil, errGone(rec)
	}
	return rc, err
}

// errGone is the refusal of expired results.
func errGone(rec *server.AsyncQuery) error {
	return server.Errorf(server.EGONE, "the results of query %s expired at %s (async results are kept for a limited time); run the query again",
		rec.ID, rec.ExpiresAt.Format(time.RFC3339))
}

func pageKey(queryID string, n int) string { return asyncPrefix(queryID) + "/" + strconv.Itoa(n) }

func asyncPrefix(id string) string { return "async/" + id }

// purgeResults deletes a query's pages from the result store and marks it
// purged.
func (r *Runner) purgeResults(ctx context.Context, rec *server.AsyncQuery) {
	if r.Options.Results == nil {
		return
	}
	if err := r.Options.Results.Delete(ctx, asyncPrefix(rec.ID)); err != nil {
		r.log().Error("async results not deleted", "query", rec.ID, "err", err)
		return
	}
	rec.Purged = true
	if err := r.Store.UpdateAsyncQuery(ctx, rec, rec.Status); err != nil && server.ErrorCode(err) != server.ECONFLICT {
		r.log().Error("async query not marked purged", "query", rec.ID, "err", err)
	}
}

// deleteResults deletes the results under prefix from the result store.
func (r *Runner) deleteResults(ctx context.Context, prefix string) {
	if r.Options.Results == nil {
		return
	}
	if err := r.Options.Results.Delete(ctx, prefix); err != nil {
		r.log().Error("results not deleted", "prefix", prefix, "err", err)
	}
}
