package async

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/hub"
	"fhirlink/server/metrics"
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

// Registered is the passthrough API's registered query object.
type Registered struct {
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
	Object *Registered        `json:"object"`
	Latest *registeredLatest  `json:"latest,omitempty"`
	Runs   int64              `json:"runs"`
	Cmd    *registeredCommand `json:"cmd,omitempty"`
}

func (o *Options) minFrequency() time.Duration {
	return orDefault(o.RegisteredMinFrequency, DefaultRegisteredMinFrequency)
}

// Registration is a request to register a query, as the passthrough API
// takes it; [Runner.ParseRegistration] checks it.
type Registration struct {
	Name                string             `json:"name"`
	RegisteredQueryType string             `json:"registeredQueryType"`
	Frequency           *int64             `json:"frequency"`
	Duration            *int64             `json:"duration"`
	RegisterCommand     *registeredCommand `json:"registerCommand"`

	// Query is the command in the agent's form; size the request's length.
	Query wire.QueryRequest `json:"-"`
	size  int
}

// ParseRegistration reads and checks a registration request: its
// frequency (at least Options.RegisteredMinFrequency) and duration (from
// the frequency to [MaxRegisteredDuration]), and a reader text command.
func (r *Runner) ParseRegistration(body []byte) (*Registration, error) {
	var in Registration
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, server.Errorf(server.EINVALID, "malformed JSON: %v", err)
	}
	minFreq := int64(r.Options.minFrequency() / time.Second)
	switch {
	case in.Name == "":
		return nil, server.Errorf(server.EINVALID, "name is required")
	case in.RegisteredQueryType != "" && in.RegisteredQueryType != "query":
		return nil, server.Errorf(server.EINVALID, "registeredQueryType %q: only \"query\" is supported", in.RegisteredQueryType)
	case in.Frequency == nil || *in.Frequency < minFreq:
		return nil, server.Errorf(server.EINVALID, "frequency is required, in seconds, at least %d", minFreq)
	case in.Duration == nil || *in.Duration < *in.Frequency || *in.Duration > int64(MaxRegisteredDuration/time.Second):
		return nil, server.Errorf(server.EINVALID, "duration is required, in seconds, from frequency to %d", int64(MaxRegisteredDuration/time.Second))
	case in.RegisterCommand == nil || len(in.RegisterCommand.Command) == 0:
		return nil, server.Errorf(server.EINVALID, "registerCommand.command is required")
	}
	var qi passthrough.Input
	if err := json.Unmarshal(body, &struct {
		RegisterCommand *passthrough.Input `json:"registerCommand"`
	}{&qi}); err != nil {
		return nil, server.Errorf(server.EINVALID, "registerCommand: %v", err)
	}
	q, err := qi.Query()
	if err != nil {
		return nil, err
	}
	if q.Mode != wire.ModeReader || q.Type != wire.CommandText {
		return nil, server.Errorf(server.EINVALID, "a registered query is a reader text command")
	}
	in.Query, in.size = q, len(body)
	return &in, nil
}

// Register stores reg for integratorID at siteID, enabled, its first run
// due now, and returns its id.
func (r *Runner) Register(ctx context.Context, integratorID, siteID string, reg *Registration) (string, error) {
	q := reg.Query
	q.ID = uuid.NewString()
	q.Priority = wire.PriorityAsync
	now := time.Now().UTC().Truncate(time.Microsecond)
	obj := &Registered{ID: q.ID, IntegratorID: integratorID, SiteID: siteID, Name: reg.Name, RegisteredQueryType: "query",
		Status: registeredEnabled, Frequency: *reg.Frequency, Duration: *reg.Duration, CreatedAt: now,
		Metrics: registeredMetrics{RequestSize: reg.size}}
	doc := registeredDoc{Object: obj, Cmd: reg.RegisterCommand}
	req, _ := json.Marshal(q)
	rec := &server.RegisteredQuery{ID: q.ID, IntegratorID: integratorID, SiteID: siteID, Status: registeredEnabled,
		Request: req, NextRunAt: now, CreatedAt: now}
	var err error
	if rec.Doc, err = json.Marshal(doc); err != nil {
		return "", err
	}
	if err := r.Store.CreateRegisteredQuery(ctx, rec); err != nil {
		return "", err
	}
	r.kickDispatch()
	return q.ID, nil
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

// loadRegistered reads registered query id of integratorID at siteID, as
// [server.ENOTFOUND] when it is someone else's.
func (r *Runner) loadRegistered(ctx context.Context, integratorID, siteID, id string) (*server.RegisteredQuery, *registeredDoc, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, nil, server.Errorf(server.EINVALID, "registered query id %q is not a UUID", id)
	}
	rec, err := r.Store.RegisteredQuery(ctx, id)
	if err == nil && (rec.IntegratorID != integratorID || rec.SiteID != siteID) {
		err = server.Errorf(server.ENOTFOUND, "registered query %s not found", id)
	}
	if err != nil {
		return nil, nil, err
	}
	doc, err := decodeRegistered(rec)
	return rec, doc, err
}

// ListRegistered returns the registered queries of integratorID at
// siteID, oldest first.
func (r *Runner) ListRegistered(ctx context.Context, integratorID, siteID string) ([]*Registered, error) {
	recs, err := r.Store.RegisteredQueries(ctx, integratorID, siteID)
	if err != nil {
		return nil, err
	}
	out := []*Registered{}
	for _, rec := range recs {
		doc, err := decodeRegistered(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, doc.Object)
	}
	return out, nil
}

// GetRegistered returns registered query id of integratorID at siteID
// ([server.ENOTFOUND] when it is someone else's).
func (r *Runner) GetRegistered(ctx context.Context, integratorID, siteID, id string) (*Registered, error) {
	_, doc, err := r.loadRegistered(ctx, integratorID, siteID, id)
	if err != nil {
		return nil, err
	}
	return doc.Object, nil
}

// CancelRegistered cancels registered query id of integratorID at siteID
// (a run in flight included) and deletes its results; cancelling one that
// is no longer enabled does nothing.
func (r *Runner) CancelRegistered(ctx context.Context, integratorID, siteID, id string) error {
	for range 5 {
		rec, doc, err := r.loadRegistered(ctx, integratorID, siteID, id)
		if err != nil {
			return err
		}
		if rec.Status != registeredEnabled {
			return nil
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
		err = r.Store.UpdateRegisteredQuery(ctx, rec, from)
		if server.ErrorCode(err) == server.ECONFLICT {
			continue // a run was claimed meanwhile
		}
		if err != nil {
			return err
		}
		r.stopRun("registered/" + rec.ID)
		r.deleteResults(ctx, "registered/"+rec.ID)
		return nil
	}
	return server.Errorf(server.ECONFLICT, "the registered query kept changing while being cancelled; retry")
}

// RegisteredResult opens the latest result of registered query id of
// integratorID at siteID: its rows as NDJSON, their count, and the byte
// length of their JSON array.
func (r *Runner) RegisteredResult(ctx context.Context, integratorID, siteID, id string) (rc io.ReadCloser, rows, size int64, err error) {
	rec, doc, err := r.loadRegistered(ctx, integratorID, siteID, id)
	if err != nil {
		return nil, 0, 0, err
	}
	if doc.Latest == nil {
		return nil, 0, 0, server.Errorf(server.ENOTFOUND, "registered query %s has no result yet (status %s)", rec.ID, rec.Status)
	}
	if rc, err = r.Options.Results.Open(ctx, doc.Latest.Key); err != nil {
		return nil, 0, 0, err
	}
	return rc, doc.Latest.Rows, doc.Latest.Size, nil
}

// scheduleRegistered starts the due runs of registered queries whose site
// is connected to this node, and completes those past their duration.
func (r *Runner) scheduleRegistered(ctx context.Context) {
	now := time.Now()
	due, err := r.Store.DueRegisteredQueries(ctx, registeredEnabled, now, 200)
	if err != nil {
		if ctx.Err() == nil {
			r.log().Error("registered queries unreadable", "err", err)
		}
		return
	}
	for _, rec := range due {
		doc, err := decodeRegistered(rec)
		if err != nil {
			r.log().Error("registered query skipped", "query", rec.ID, "err", err)
			continue
		}
		obj := doc.Object
		end := obj.CreatedAt.Add(time.Duration(obj.Duration) * time.Second)
		from := rec.NextRunAt
		if !now.Before(end) {
			t := now.UTC()
			rec.Status, obj.Status, obj.CompletedAt = registeredCompleted, registeredCompleted, &t
			if rec.Doc, err = json.Marshal(doc); err == nil {
				err = r.Store.UpdateRegisteredQuery(ctx, rec, from)
			}
			if err != nil && server.ErrorCode(err) != server.ECONFLICT {
				r.log().Error("registered query not completed", "query", rec.ID, "err", err)
			}
			continue
		}
		if r.Agents.Status(rec.SiteID).Availability != hub.Online {
			// Only the node holding the session runs it; if no node does
			// within a frequency, the run counts as failed there.
			if now.Sub(from) < time.Duration(obj.Frequency)*time.Second {
				continue
			}
		}
		runKey := "registered/" + rec.ID
		if !r.reserve(rec.SiteID, runKey) {
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
			err = r.Store.UpdateRegisteredQuery(ctx, rec, from)
		}
		if err != nil {
			r.release(rec.SiteID, runKey)
			continue
		}
		r.launch(ctx, rec.SiteID, runKey, func(runCtx context.Context) {
			ended := r.Metrics.JobStarted(metrics.JobRegistered)
			r.runRegistered(runCtx, rec.ID, doc.Runs)
			ended("ran")
		})
	}
}

// runRegistered makes one run and records its outcome.
func (r *Runner) runRegistered(ctx context.Context, id string, run int64) {
	rec, err := r.Store.RegisteredQuery(ctx, id)
	if err != nil {
		return
	}
	var q wire.QueryRequest
	if err := json.Unmarshal(rec.Request, &q); err != nil {
		return
	}
	started := time.Now()
	key := "registered/" + id + "/" + strconv.FormatInt(run, 10)
	hashHex, rows, size, failure := r.registeredRun(ctx, rec, q, key)
	if ctx.Err() != nil {
		r.deleteResults(context.Background(), key)
		return // cancelled, or the node stops
	}
	elapsed := time.Since(started)
	// Record the outcome on the latest state (the next run time may have
	// moved since the claim).
	for range 5 {
		cur, err := r.Store.RegisteredQuery(ctx, id)
		if err != nil {
			return
		}
		doc, err := decodeRegistered(cur)
		if err != nil {
			return
		}
		if cur.Status == registeredCancelled {
			r.deleteResults(ctx, key)
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
		err = r.Store.UpdateRegisteredQuery(ctx, cur, cur.NextRunAt)
		if server.ErrorCode(err) == server.ECONFLICT {
			continue
		}
		if err != nil {
			r.log().Error("registered run not recorded", "query", id, "err", err)
			return
		}
		if !changed {
			r.deleteResults(ctx, key) // same result as before, or none
		} else {
			if old != nil {
				r.deleteResults(ctx, old.Key)
			}
			r.Webhooks.Notify(ctx, cur.IntegratorID, cur.SiteID, id, webhook.SourceRegistered)
		}
		return
	}
}

// registeredRun runs the query once, writing its rows to key and hashing
// them; it returns the failure as the object reports it.
func (r *Runner) registeredRun(ctx context.Context, rec *server.RegisteredQuery, q wire.QueryRequest, key string) (string, int64, int64, *passthrough.ErrorDetails) {
	if acc, err := r.Store.Access(ctx, rec.IntegratorID, rec.SiteID); err != nil || !acc.Allowed() {
		if err == nil {
			err = acc.Denial(rec.SiteID)
		}
		return "", 0, 0, passthrough.OwnError(http.StatusForbidden, server.ErrorMessage(err))
	}
	if st := r.Agents.Status(rec.SiteID); st.Availability != hub.Online {
		return "", 0, 0, passthrough.OwnError(http.StatusServiceUnavailable, "the site's agent is "+st.Availability)
	}
	maxQ, maxB, err := r.Quotas.Effective(ctx, rec.IntegratorID, rec.SiteID)
	if err != nil {
		return "", 0, 0, passthrough.OwnError(http.StatusInternalServerError, "quota unreadable")
	}
	day := server.UsageDay(time.Now())
	if ok, _, err := r.Store.CountQuery(ctx, rec.IntegratorID, rec.SiteID, day, maxQ, maxB); err != nil || !ok {
		return "", 0, 0, passthrough.OwnError(http.StatusTooManyRequests, "the daily quota at this site is used up")
	}
	q.ID = uuid.NewString()
	q.Priority = wire.PriorityAsync
	q.TimeoutMS = r.runTimeout().Milliseconds()
	q.MaxBytes = r.runMaxBytes()
	q.MaxTimeInQueueMS = passthrough.DefaultMaxTimeInQueue.Milliseconds()
	obj := &passthrough.Object{StatusTiming: map[string]passthrough.Period{}}
	sent := time.Now().UTC()
	rows, err := r.Agents.Query(ctx, rec.SiteID, q)
	if err != nil {
		return "", 0, 0, r.runFailure(obj, err, sent)
	}
	defer rows.Close()
	out, err := r.Options.Results.Create(ctx, key)
	if err != nil {
		return "", 0, 0, passthrough.OwnError(http.StatusInternalServerError, "the result could not be stored")
	}
	h := sha256.New()
	n, size, err := writeHashed(out, h, rows, r.runMaxBytes())
	if err != nil {
		out.Abort()
		return "", 0, 0, r.runFailure(obj, err, sent)
	}
	if err := out.Close(); err != nil {
		return "", 0, 0, passthrough.OwnError(http.StatusInternalServerError, "the result could not be stored")
	}
	r.Audit.Add(&server.AuditRecord{Time: sent, IntegratorID: rec.IntegratorID, SiteID: rec.SiteID, Method: "RUN",
		Path: "/integrator/sites/" + rec.SiteID + "/queries/registered/" + rec.ID, Kind: server.AuditPassthrough,
		Interaction: "registered run", Query: q.Text, QueryID: rec.ID, Rows: n, Bytes: size, Status: http.StatusOK,
		DurationUS: time.Since(sent).Microseconds()}, &server.Usage{IntegratorID: rec.IntegratorID, SiteID: rec.SiteID, Day: day, Bytes: size})
	return hex.EncodeToString(h.Sum(nil)), n, size, nil
}

func (r *Runner) runFailure(obj *passthrough.Object, err error, sent time.Time) *passthrough.ErrorDetails {
	if _, ok := obj.Fail(err, sent, r.log()); !ok || obj.ErrorDetails == nil {
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
