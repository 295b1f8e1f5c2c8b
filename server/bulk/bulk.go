// Package bulk runs FHIR Bulk Data exports in the background and keeps
// their NDJSON files until they expire. It knows nothing of HTTP, FHIR
// searches or agents: the caller's [Manager.Run] writes the resources of
// one export through an [Output], and the manager keeps job state and
// files.
//
// Shared by every server node: a job's state is in the state store
// ([server.ExportStore]) and its files are in the result store
// ([results.Store]), so any node answers its status and serves its files.
// Jobs are claimed from the store by whichever node has room, one running
// per site; the running node holds a lease it renews every Lease/3, and a
// job whose lease runs out (its node died or froze) is claimed by another
// node, which resumes it from its last checkpoint.
//
// Nothing is lost or duplicated across a takeover: a file becomes part of
// the job only at a checkpoint ([Output.Checkpoint]), which commits the
// open files to the result store and records them, with the caller's
// cursor, in the store in one write. Rows written after the last checkpoint
// are in files no one records, and the next node exports them again from
// the cursor into new files. File keys carry the claim's attempt number, so
// a node that lost its lease cannot overwrite what the next one recorded.
package bulk

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"sync"
	"time"

	"fhirlink/server"
	"fhirlink/server/quota"
	"fhirlink/server/results"
)

// Defaults of a [Manager].
const (
	DefaultMaxFileBytes    = 100 << 20
	DefaultExpiry          = 24 * time.Hour
	DefaultPollInterval    = 5 * time.Second
	DefaultQueuedPerSite   = 4
	DefaultLease           = 15 * time.Second
	DefaultCheckpointEvery = 5 * time.Minute
	DefaultRunningPerNode  = 8
)

// State is where a job is.
type State string

// Job states.
const (
	Queued    State = server.ExportQueued    // waiting for the site's running export to end, or for a node
	Running   State = server.ExportRunning   // writing files
	Completed State = server.ExportCompleted // files ready until ExpiresAt
	Failed    State = server.ExportFailed    // ended by an error: Err says which
)

// Errors of the manager.
var (
	// ErrBusy: the site has as many exports queued as it may.
	ErrBusy = errors.New("bulk: too many exports queued for this site")
	// ErrNotFound: no such job (never made, deleted or expired).
	ErrNotFound = errors.New("bulk: no such export")
	// ErrClosed: the manager is shutting down.
	ErrClosed = errors.New("bulk: shutting down")
)

// Request is what an export is for. Owner identifies who may see it.
type Request struct {
	Owner  string   `json:"owner"` // the integrator
	SiteID string   `json:"siteId"`
	URL    string   `json:"url"` // the kick-off request URL, for the manifest
	Types  []string `json:"types"`
	// Spec is the caller's description of the work, handed back to Run
	// on whichever node runs the job.
	Spec json.RawMessage `json:"spec,omitempty"`
}

// File is one output file: resources of one type, or OperationOutcomes.
type File struct {
	Type  string `json:"type"`
	Name  string `json:"name"` // the file's name in the job's URLs
	Key   string `json:"key"`  // where it is in the result store
	Count int64  `json:"count"`
	Bytes int64  `json:"bytes"`
}

// Status is a snapshot of a job.
type Status struct {
	ID              string
	Request         Request
	State           State
	Created         time.Time
	TransactionTime time.Time // when the export started reading
	Finished        time.Time
	ExpiresAt       time.Time
	Progress        string
	Resources       int64
	Output, Errors  []File
	Err             error
}

// Func writes one export: resources through out.Write, failures as
// OperationOutcomes through out.Error, and a checkpoint through
// out.Checkpoint now and then. A job taken over from another node starts
// with out.Cursor set to its last checkpoint. It must return soon after
// ctx is done. Returning an error fails the whole job.
type Func func(ctx context.Context, req Request, out *Output) error

// Manager runs exports: one at a time per site, later ones queued (at most
// QueuedPerSite), each claimed by one node, in its own goroutine, that
// outlives the kick-off request. Set Store and Run (and Results, for
// several nodes) before the first call.
type Manager struct {
	Store server.ExportStore
	// Results keeps the files; a temporary directory, removed on Close,
	// when nil (one node, nothing survives it).
	Results results.Store
	// Run writes a job's export: the same function on every node.
	Run Func
	// Wrap, when set, derives a running job's context (to let revoked
	// access cancel it); its function is called when the run ends.
	Wrap func(ctx context.Context, req Request) (context.Context, func())
	// Node names this node as a job's holder (default: random).
	Node string
	// MaxFileBytes splits a type's output into several files.
	MaxFileBytes int64
	// Expiry is how long a completed or failed job's files stay.
	Expiry time.Duration
	// PollInterval is the least time between two status requests of a
	// running job (Retry-After); polling faster is refused: by each node
	// for the polls it answers, or with PollTokens by all of them at once.
	PollInterval time.Duration
	// PollTokens, when set, keeps each job's poll interval in a token
	// bucket every node shares (the PostgreSQL store's, as the integrator
	// rate limit does), so that a client polling through a round-robin
	// balancer is held to the interval, not to one poll per node in it.
	// A node that cannot reach the bucket answers the poll.
	PollTokens quota.TokenStore
	// QueuedPerSite bounds the exports of a site waiting or running.
	QueuedPerSite int
	// Lease is how long a running job stays its node's without being
	// renewed; the node renews it every Lease/3. The nodes' clocks must
	// agree well within it.
	Lease time.Duration
	// CheckpointEvery is how often a running job records its progress
	// (the most work a takeover redoes); Run reads it through
	// [Output.CheckpointDue].
	CheckpointEvery time.Duration
	// RunningPerNode bounds the jobs this node runs at once.
	RunningPerNode int
	Logger         *slog.Logger

	once    sync.Once
	initErr error
	tempDir string
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	kick    chan struct{}

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc
	polls   map[string]time.Time // job → last poll answered here
	closed  bool
}

// Causes of a run's end other than its own.
var (
	errStopping = errors.New("bulk: this node is stopping")
	errDeleted  = errors.New("bulk: the export was deleted")
	errLost     = errors.New("bulk: another node took the export over")
)

func (m *Manager) init() error {
	m.once.Do(func() {
		m.MaxFileBytes = orDefault(m.MaxFileBytes, DefaultMaxFileBytes)
		m.Expiry = orDefault(m.Expiry, DefaultExpiry)
		m.PollInterval = orDefault(m.PollInterval, DefaultPollInterval)
		m.QueuedPerSite = orDefault(m.QueuedPerSite, DefaultQueuedPerSite)
		m.Lease = orDefault(m.Lease, DefaultLease)
		m.CheckpointEvery = orDefault(m.CheckpointEvery, DefaultCheckpointEvery)
		m.RunningPerNode = orDefault(m.RunningPerNode, DefaultRunningPerNode)
		if m.Node == "" {
			m.Node = newID()
		}
		if m.Logger == nil {
			m.Logger = slog.New(slog.DiscardHandler)
		}
		m.ctx, m.cancel = context.WithCancel(context.Background())
		m.running, m.polls = map[string]context.CancelCauseFunc{}, map[string]time.Time{}
		m.kick = make(chan struct{}, 1)
		if m.Store == nil || m.Run == nil {
			m.initErr = errors.New("bulk: the manager has no store or no run function")
			return
		}
		if m.Results == nil {
			if m.tempDir, m.initErr = os.MkdirTemp("", "fhirlink-export-"); m.initErr == nil {
				m.Results, m.initErr = results.NewDir(m.tempDir)
			}
		}
		if m.initErr == nil {
			m.wg.Add(1)
			go m.loop()
		}
	})
	return m.initErr
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Ready reports whether the manager can run exports, and starts its
// workers: a node calls it at start-up so that it takes up the jobs of
// nodes that died.
func (m *Manager) Ready() bool { return m.init() == nil }

// Start queues an export of req and returns its id; a node with room
// claims it at once (this one, normally).
func (m *Manager) Start(ctx context.Context, req Request) (string, error) {
	if err := m.init(); err != nil {
		return "", err
	}
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return "", ErrClosed
	}
	rb, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	d, _ := json.Marshal(jobDoc{Progress: "queued"})
	j := &server.ExportJob{ID: newID(), IntegratorID: req.Owner, SiteID: req.SiteID, Request: rb, Doc: d}
	ok, err := m.Store.CreateExportJob(ctx, j, m.QueuedPerSite)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrBusy
	}
	m.wake()
	return j.ID, nil
}

func (m *Manager) wake() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// jobDoc is the job's Doc in the store: as of its last checkpoint, with
// the live progress the heartbeat adds.
type jobDoc struct {
	Progress  string    `json:"progress"`
	Resources int64     `json:"resources"`
	TxTime    time.Time `json:"transactionTime,omitzero"`
	Finished  time.Time `json:"finished,omitzero"`
	Output    []File    `json:"output,omitempty"`
	Errors    []File    `json:"errors,omitempty"`
	// Cursor is the Run function's checkpoint.
	Cursor string `json:"cursor,omitempty"`
	Err    string `json:"err,omitempty"`
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// jobID is what a job id looks like.
var jobID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// load returns owner's job id with its request and doc.
func (m *Manager) load(ctx context.Context, owner, id string) (*server.ExportJob, Request, *jobDoc, error) {
	if err := m.init(); err != nil {
		return nil, Request{}, nil, err
	}
	if !jobID.MatchString(id) {
		return nil, Request{}, nil, ErrNotFound
	}
	j, err := m.Store.ExportJob(ctx, id)
	if server.ErrorCode(err) == server.ENOTFOUND {
		return nil, Request{}, nil, ErrNotFound
	}
	if err != nil {
		return nil, Request{}, nil, err
	}
	var req Request
	var d jobDoc
	if err := json.Unmarshal(j.Request, &req); err != nil {
		return nil, Request{}, nil, err
	}
	if err := json.Unmarshal(j.Doc, &d); err != nil {
		return nil, Request{}, nil, err
	}
	if j.IntegratorID != owner || (!j.ExpiresAt.IsZero() && time.Now().After(j.ExpiresAt)) {
		return nil, Request{}, nil, ErrNotFound
	}
	return j, req, &d, nil
}

// PollError is a status request made sooner than the poll interval after
// the previous one: Wait is how long is left.
type PollError struct{ Wait time.Duration }

func (e *PollError) Error() string { return fmt.Sprintf("bulk: polled too soon; retry in %v", e.Wait) }

// Poll returns the status of owner's job id. While the job is queued or
// running, a poll sooner than PollInterval after the previous one (of this
// node, or of any node with PollTokens) fails with a *PollError.
func (m *Manager) Poll(ctx context.Context, owner, id string) (*Status, error) {
	j, req, d, err := m.load(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	st := State(j.State)
	if st == Queued || st == Running {
		if wait := m.tooSoon(ctx, id, time.Now()); wait > 0 {
			return nil, &PollError{Wait: wait}
		}
	}
	s := &Status{ID: j.ID, Request: req, State: st, Created: j.CreatedAt, TransactionTime: d.TxTime,
		Finished: d.Finished, ExpiresAt: j.ExpiresAt, Progress: d.Progress, Resources: d.Resources,
		Output: d.Output, Errors: d.Errors}
	if d.Err != "" {
		s.Err = errors.New(d.Err)
	}
	return s, nil
}

// Open opens a file of owner's completed job id for reading, with its
// description.
func (m *Manager) Open(ctx context.Context, owner, id, name string) (io.ReadCloser, File, error) {
	j, _, d, err := m.load(ctx, owner, id)
	if err != nil {
		return nil, File{}, err
	}
	if State(j.State) != Completed {
		return nil, File{}, ErrNotFound
	}
	i := slices.IndexFunc(append(slices.Clone(d.Output), d.Errors...), func(f File) bool { return f.Name == name })
	if i < 0 {
		return nil, File{}, ErrNotFound
	}
	f := append(d.Output, d.Errors...)[i]
	rc, err := m.Results.Open(ctx, f.Key)
	if server.ErrorCode(err) == server.ENOTFOUND {
		return nil, File{}, ErrNotFound
	}
	if err != nil {
		return nil, File{}, err
	}
	return rc, f, nil
}

// Owned returns the request of owner's job id, without counting as a
// poll.
func (m *Manager) Owned(ctx context.Context, owner, id string) (Request, error) {
	_, req, _, err := m.load(ctx, owner, id)
	return req, err
}

// Delete removes owner's job id with its files; the node running it, this
// one or another, stops it within a heartbeat.
func (m *Manager) Delete(ctx context.Context, owner, id string) error {
	if _, _, _, err := m.load(ctx, owner, id); err != nil {
		return err
	}
	if err := m.Store.DeleteExportJob(ctx, id); err != nil {
		if server.ErrorCode(err) == server.ENOTFOUND {
			return ErrNotFound
		}
		return err
	}
	m.stop(id, errDeleted)
	return m.Results.Delete(ctx, prefix(id))
}

// prefix is where a job's files are in the result store.
func prefix(id string) string { return "export/" + id }

func (m *Manager) stop(id string, cause error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cancel := m.running[id]; cancel != nil {
		cancel(cause)
	}
}

// loop claims jobs while this node has room, and removes expired ones.
func (m *Manager) loop() {
	defer m.wg.Done()
	claim := time.NewTicker(time.Second)
	defer claim.Stop()
	var swept time.Time
	for {
		for m.claim() {
		}
		if time.Since(swept) > min(time.Minute, m.Expiry) {
			m.sweep()
			swept = time.Now()
		}
		select {
		case <-m.ctx.Done():
			return
		case <-claim.C:
		case <-m.kick:
		}
	}
}

// claim takes one job if this node has room, and reports whether it did.
func (m *Manager) claim() bool {
	m.mu.Lock()
	room := !m.closed && len(m.running) < m.RunningPerNode
	m.mu.Unlock()
	if !room {
		return false
	}
	now := time.Now()
	j, err := m.Store.ClaimExportJob(m.ctx, m.Node, now, now.Add(m.Lease))
	if err != nil {
		if m.ctx.Err() == nil {
			m.Logger.Error("export: cannot claim jobs", "err", err)
		}
		return false
	}
	if j == nil {
		return false
	}
	ctx, cancel := context.WithCancelCause(m.ctx)
	m.mu.Lock()
	m.running[j.ID] = cancel
	m.mu.Unlock()
	m.wg.Go(func() {
		defer func() {
			m.mu.Lock()
			delete(m.running, j.ID)
			m.mu.Unlock()
			cancel(nil)
			m.wake() // room for the next job
		}()
		m.run(ctx, j)
	})
	return true
}

// tooSoon records a poll of job id at now and returns how long the poller
// should have waited, 0 when it waited long enough.
func (m *Manager) tooSoon(ctx context.Context, id string, now time.Time) time.Duration {
	if m.PollTokens != nil {
		rate := 1 / m.PollInterval.Seconds()
		taken, left, err := m.PollTokens.TakeRateTokens(ctx, "poll:"+id, rate, 1, 1, now)
		if err != nil {
			m.Logger.Warn("export poll interval: the shared bucket is unreachable; poll answered", "job", id, "err", err)
			return 0
		}
		if taken == 0 {
			return max(time.Nanosecond, time.Duration((1-left)/rate*float64(time.Second)))
		}
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	last, ok := m.polls[id]
	if since := now.Sub(last); ok && since < m.PollInterval {
		return m.PollInterval - since
	}
	m.polls[id] = now
	return 0
}

// sweep removes the jobs that expired, and the poll times of jobs no one
// polls.
func (m *Manager) sweep() {
	now := time.Now()
	m.mu.Lock()
	for id, t := range m.polls {
		if now.Sub(t) > m.PollInterval {
			delete(m.polls, id)
		}
	}
	m.mu.Unlock()
	for range 100 { // bounded: at most 100 batches a round
		old, err := m.Store.ExpiredExportJobs(m.ctx, now, 100)
		if err != nil || len(old) == 0 {
			return
		}
		for _, j := range old {
			if err := m.Results.Delete(m.ctx, prefix(j.ID)); err != nil {
				m.Logger.Error("export: expired files not deleted", "job", j.ID, "err", err)
				return
			}
			m.Store.DeleteExportJob(m.ctx, j.ID)
		}
	}
}

// run runs a claimed job to its end, or until this node stops or loses
// it.
func (m *Manager) run(ctx context.Context, j *server.ExportJob) {
	r := &running{m: m, job: j}
	var req Request
	err := json.Unmarshal(j.Request, &req)
	if err == nil {
		err = json.Unmarshal(j.Doc, &r.doc)
	}
	if err != nil {
		r.doc.Err = "the stored export is unreadable"
		r.end(Failed)
		return
	}
	resumed := r.doc.Cursor != ""
	if r.doc.TxTime.IsZero() {
		r.doc.TxTime = time.Now().UTC()
	}
	r.live = r.doc.Resources
	if r.doc.Progress == "queued" {
		r.doc.Progress = "started"
	}
	r.liveProgress = r.doc.Progress
	m.Logger.Info("export: running", "job", j.ID, "site", j.SiteID, "attempt", j.Attempt, "resumed", resumed)
	release := func() {}
	if m.Wrap != nil {
		ctx, release = m.Wrap(ctx, req)
	}
	defer release()
	hbCtx, stopHB := context.WithCancel(ctx)
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		r.heartbeat(hbCtx, func(cause error) { m.stop(j.ID, cause) })
	}()
	out := &Output{r: r, files: map[string]*typeFile{}}
	err = m.Run(ctx, req, out)
	stopHB()
	<-hbDone
	defer out.abort() // what no checkpoint recorded is not part of the job
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, errStopping):
		r.handOver()
		return
	case errors.Is(cause, errLost):
		m.Logger.Warn("export: lost to another node", "job", j.ID)
		return
	case errors.Is(cause, errDeleted), server.ErrorCode(err) == server.ENOTFOUND:
		m.Results.Delete(context.Background(), prefix(j.ID)) // files committed after the delete
		return
	}
	if err == nil && ctx.Err() != nil {
		err = cause
	}
	if err == nil {
		err = out.commit("")
	}
	if err != nil {
		r.doc.Err = err.Error()
		r.end(Failed)
		return
	}
	r.end(Completed)
}

// running is a job running on this node.
type running struct {
	m   *Manager
	job *server.ExportJob

	mu           sync.Mutex // serialises the store writes: the heartbeat writes too
	doc          jobDoc     // as of the last checkpoint
	live         int64      // resources written, checkpointed or not
	liveProgress string
}

// save writes the doc with the live progress and renews the lease.
func (r *running) save(ctx context.Context) error {
	d := r.doc
	d.Progress, d.Resources = r.liveProgress, r.live
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	r.job.Doc, r.job.LeaseUntil = b, time.Now().Add(r.m.Lease)
	return r.m.Store.UpdateExportJob(ctx, r.job)
}

// heartbeat renews the lease every Lease/3 until ctx ends; when the job
// was deleted or taken over it stops the run with that cause.
func (r *running) heartbeat(ctx context.Context, stop func(error)) {
	t := time.NewTicker(r.m.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.mu.Lock()
		err := r.save(ctx)
		r.mu.Unlock()
		switch server.ErrorCode(err) {
		case server.ENOTFOUND:
			stop(errDeleted)
			return
		case server.ECONFLICT:
			stop(errLost)
			return
		}
		if err != nil && ctx.Err() == nil {
			r.m.Logger.Warn("export: lease not renewed", "job", r.job.ID, "err", err)
		}
	}
}

// handOver gives the job up as of its last checkpoint, lease expired, so
// any node takes it up at once.
func (r *running) handOver() {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := json.Marshal(r.doc)
	if err != nil {
		return
	}
	r.job.Doc, r.job.LeaseUntil = b, time.Now().Add(-time.Millisecond)
	if err := r.m.Store.UpdateExportJob(context.Background(), r.job); err != nil {
		r.m.Logger.Warn("export: not handed over; another node takes it up when its lease runs out", "job", r.job.ID, "err", err)
		return
	}
	r.m.Logger.Info("export: handed over as of its last checkpoint", "job", r.job.ID)
}

// end records the job's end.
func (r *running) end(st State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now().UTC()
	r.doc.Finished, r.doc.Progress, r.doc.Resources = now, string(st), r.live
	b, _ := json.Marshal(r.doc)
	r.job.State, r.job.Doc, r.job.LeaseUntil, r.job.ExpiresAt = string(st), b, time.Time{}, now.Add(r.m.Expiry)
	if err := r.m.Store.UpdateExportJob(context.Background(), r.job); err != nil {
		r.m.Logger.Error("export: end not recorded", "job", r.job.ID, "state", st, "err", err)
		return
	}
	r.m.Logger.Info("export: ended", "job", r.job.ID, "state", st, "resources", r.live, "err", r.doc.Err)
}

// Close stops the jobs running on this node, handing them over as of their
// last checkpoint (another node, or this one when it starts again, resumes
// them), and removes a temporary directory.
func (m *Manager) Close() {
	if m.init() != nil {
		return
	}
	m.mu.Lock()
	m.closed = true
	for _, cancel := range m.running {
		cancel(errStopping)
	}
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	if m.tempDir != "" {
		os.RemoveAll(m.tempDir)
	}
}

// Output is where an export writes: one NDJSON file per type at a time,
// a new one when MaxFileBytes is reached, and an error file of
// OperationOutcomes. It is used by the job's goroutine only.
type Output struct {
	r       *running
	files   map[string]*typeFile
	errs    *typeFile
	pending []File // closed since the last checkpoint
}

type typeFile struct {
	typ   string
	w     results.Writer
	entry File
}

// WriteError is a failure to write an export's files: it ends the job.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "bulk: writing the export: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// safeType is what a type must look like to name a file.
var safeType = regexp.MustCompile(`^[A-Za-z]{1,64}$`)

// Cursor is the job's last checkpoint, as Run gave it to Checkpoint; ""
// for a job that starts from the beginning.
func (o *Output) Cursor() string { return o.r.doc.Cursor }

// Resources is how many resources the job has written so far.
func (o *Output) Resources() int64 { return o.r.live }

// CheckpointDue reports whether a checkpoint is due for work going on
// since since.
func (o *Output) CheckpointDue(since time.Time) bool {
	return time.Since(since) >= o.r.m.CheckpointEvery
}

// Write appends one resource (one line of JSON without a newline) of type
// typ.
func (o *Output) Write(typ string, resource []byte) error {
	tf := o.files[typ]
	if tf == nil {
		if !safeType.MatchString(typ) {
			return &WriteError{Err: fmt.Errorf("bad resource type %q", typ)}
		}
		tf = &typeFile{typ: typ}
		o.files[typ] = tf
	}
	if err := o.write(tf, resource); err != nil {
		return err
	}
	o.r.mu.Lock()
	o.r.live++
	o.r.mu.Unlock()
	return nil
}

// Error appends an OperationOutcome to the error file.
func (o *Output) Error(outcome []byte) error {
	if o.errs == nil {
		o.errs = &typeFile{typ: "OperationOutcome"}
	}
	return o.write(o.errs, outcome)
}

// Progress sets the job's progress text.
func (o *Output) Progress(text string) {
	o.r.mu.Lock()
	o.r.liveProgress = text
	o.r.mu.Unlock()
}

// Checkpoint makes everything written so far part of the job, with cursor
// (the caller's, handed back by Cursor to a node resuming the job): the
// open files are completed in the result store and recorded in the state
// store. Its error ends the job.
func (o *Output) Checkpoint(cursor string) error { return o.commit(cursor) }

func (o *Output) commit(cursor string) error {
	for _, tf := range o.all() {
		if err := o.closeFile(tf); err != nil {
			return &WriteError{Err: err}
		}
	}
	r := o.r
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range o.pending {
		if f.Type == "OperationOutcome" {
			r.doc.Errors = append(r.doc.Errors, f)
		} else {
			r.doc.Output = append(r.doc.Output, f)
		}
	}
	o.pending = nil
	r.doc.Cursor, r.doc.Resources, r.doc.Progress = cursor, r.live, r.liveProgress
	return r.save(r.m.ctx)
}

// ReadBack calls fn with each line of the recorded files of type typ, in
// order: what a resumed job needs to know of the work done before.
func (o *Output) ReadBack(ctx context.Context, typ string, fn func(line []byte) error) error {
	for _, f := range o.r.doc.Output {
		if f.Type != typ {
			continue
		}
		rc, err := o.r.m.Results.Open(ctx, f.Key)
		if err != nil {
			return err
		}
		err = eachLine(rc, fn)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (o *Output) all() []*typeFile {
	var out []*typeFile
	for _, tf := range o.files {
		out = append(out, tf)
	}
	if o.errs != nil {
		out = append(out, o.errs)
	}
	return out
}

func (o *Output) write(tf *typeFile, line []byte) error {
	if err := o.writeLine(tf, line); err != nil {
		return &WriteError{Err: err}
	}
	return nil
}

func (o *Output) writeLine(tf *typeFile, line []byte) error {
	if tf.w != nil && tf.entry.Bytes > 0 && tf.entry.Bytes+int64(len(line))+1 > o.r.m.MaxFileBytes {
		if err := o.closeFile(tf); err != nil {
			return err
		}
	}
	if tf.w == nil {
		n := 1
		for _, f := range slices.Concat(o.r.doc.Output, o.r.doc.Errors, o.pending) {
			if f.Type == tf.typ {
				n++
			}
		}
		name := fmt.Sprintf("%s-%d.ndjson", tf.typ, n)
		key := fmt.Sprintf("%s/%d-%s", prefix(o.r.job.ID), o.r.job.Attempt, name)
		w, err := o.r.m.Results.Create(o.r.m.ctx, key)
		if err != nil {
			return err
		}
		tf.w, tf.entry = w, File{Type: tf.typ, Name: name, Key: key}
	}
	if _, err := tf.w.Write(line); err != nil {
		return err
	}
	if _, err := tf.w.Write([]byte{'\n'}); err != nil {
		return err
	}
	tf.entry.Count++
	tf.entry.Bytes += int64(len(line)) + 1
	return nil
}

// closeFile completes tf's open file; it is recorded at the next
// checkpoint.
func (o *Output) closeFile(tf *typeFile) error {
	if tf.w == nil {
		return nil
	}
	err := tf.w.Close()
	tf.w = nil
	if err == nil {
		o.pending = append(o.pending, tf.entry)
	}
	return err
}

// abort discards the files still open.
func (o *Output) abort() {
	for _, tf := range o.all() {
		if tf.w != nil {
			tf.w.Abort()
			tf.w = nil
		}
	}
}

// eachLine calls fn with each line of r, without its newline.
func eachLine(r io.Reader, fn func([]byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}
