// Package bulk runs FHIR Bulk Data exports in the background and keeps
// their NDJSON files on disk until they expire. It knows nothing of HTTP,
// FHIR searches or agents: the caller hands it a function that writes the
// resources of one export through an [Output], and reads back job status
// and files.
//
// State is in this process's memory and the files under one directory:
// with several server nodes, an export's status and files are on the node
// that accepted it (an open point: the shared result store).
package bulk

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"
)

// Defaults of a [Manager].
const (
	DefaultMaxFileBytes  = 100 << 20
	DefaultExpiry        = 24 * time.Hour
	DefaultPollInterval  = 5 * time.Second
	DefaultQueuedPerSite = 4
)

// State is where a job is.
type State string

// Job states.
const (
	Queued    State = "queued"    // waiting for the site's running export to end
	Running   State = "running"   // writing files
	Completed State = "completed" // files ready until ExpiresAt
	Failed    State = "failed"    // ended by an error: Err says which
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
	Owner  string // the integrator
	SiteID string
	URL    string // the kick-off request URL, for the manifest
	Types  []string
}

// File is one output file: resources of one type, or OperationOutcomes.
type File struct {
	Type  string
	Name  string // file name inside the job's directory
	Count int64
	Bytes int64
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
// OperationOutcomes through out.Error. It must return soon after ctx is
// done. Returning an error fails the whole job.
type Func func(ctx context.Context, out *Output) error

// Manager runs exports: one at a time per site, later ones queued (at most
// QueuedPerSite), each in its own goroutine that outlives the kick-off
// request and stops when the manager closes.
type Manager struct {
	// Dir holds a directory per job; a temporary directory, removed on
	// Close, when empty.
	Dir string
	// MaxFileBytes splits a type's output into several files.
	MaxFileBytes int64
	// Expiry is how long a completed or failed job's files stay.
	Expiry time.Duration
	// PollInterval is the least time between two status requests of a
	// running job (Retry-After); polling faster is refused.
	PollInterval time.Duration
	// QueuedPerSite bounds the exports of a site waiting or running.
	QueuedPerSite int

	once    sync.Once
	initErr error
	tempDir bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu     sync.Mutex
	jobs   map[string]*job
	sites  map[string]chan struct{} // per site: a slot for the running export
	closed bool
}

type job struct {
	id      string
	req     Request
	dir     string
	cancel  context.CancelFunc
	done    chan struct{}
	created time.Time

	mu       sync.Mutex
	state    State
	txTime   time.Time
	finished time.Time
	progress string
	count    int64
	output   []File
	errors   []File
	err      error
	lastPoll time.Time
}

func (m *Manager) init() error {
	m.once.Do(func() {
		m.MaxFileBytes = orDefault(m.MaxFileBytes, DefaultMaxFileBytes)
		m.Expiry = orDefault(m.Expiry, DefaultExpiry)
		m.PollInterval = orDefault(m.PollInterval, DefaultPollInterval)
		m.QueuedPerSite = orDefault(m.QueuedPerSite, DefaultQueuedPerSite)
		if m.Dir == "" {
			m.Dir, m.initErr = os.MkdirTemp("", "fhirlink-export-")
			m.tempDir = true
		} else if m.initErr = os.MkdirAll(m.Dir, 0o700); m.initErr == nil {
			m.removeOrphans()
		}
		m.ctx, m.cancel = context.WithCancel(context.Background())
		m.jobs, m.sites = map[string]*job{}, map[string]chan struct{}{}
		if m.initErr == nil {
			m.wg.Add(1)
			go m.sweeper()
		}
	})
	return m.initErr
}

// jobDir is the name of a job's directory.
var jobDir = regexp.MustCompile(`^[0-9a-f]{32}$`)

// removeOrphans removes the job directories a previous process left: jobs
// live in memory, so nothing can serve them any more.
func (m *Manager) removeOrphans() {
	entries, _ := os.ReadDir(m.Dir)
	for _, e := range entries {
		if e.IsDir() && jobDir.MatchString(e.Name()) {
			os.RemoveAll(filepath.Join(m.Dir, e.Name()))
		}
	}
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Ready reports whether the manager can run exports (its directory is
// usable).
func (m *Manager) Ready() bool { return m.init() == nil }

// Start queues an export of req run by run and returns its id. wrap, when
// set, derives the job's context (to let revoked access cancel it).
func (m *Manager) Start(req Request, run Func, wrap func(context.Context) (context.Context, func())) (string, error) {
	if err := m.init(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return "", ErrClosed
	}
	n := 0
	for _, j := range m.jobs {
		if j.req.SiteID == req.SiteID {
			if st := j.snapshotState(); st == Queued || st == Running {
				n++
			}
		}
	}
	if n >= m.QueuedPerSite {
		return "", ErrBusy
	}
	id := newID()
	dir := filepath.Join(m.Dir, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	ctx, cancel := context.WithCancel(m.ctx)
	release := func() {}
	if wrap != nil {
		ctx, release = wrap(ctx)
	}
	j := &job{id: id, req: req, dir: dir, cancel: cancel, done: make(chan struct{}), created: time.Now(), state: Queued, progress: "queued"}
	m.jobs[id] = j
	slot := m.sites[req.SiteID]
	if slot == nil {
		slot = make(chan struct{}, 1)
		m.sites[req.SiteID] = slot
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(j.done)
		defer cancel()
		defer release()
		m.run(ctx, j, slot, run)
	}()
	return id, nil
}

func (m *Manager) run(ctx context.Context, j *job, slot chan struct{}, run Func) {
	select {
	case slot <- struct{}{}:
		defer func() { <-slot }()
	case <-ctx.Done():
		j.finish(Failed, ctx.Err())
		return
	}
	j.mu.Lock()
	j.state, j.txTime, j.progress = Running, time.Now(), "started"
	j.mu.Unlock()
	out := &Output{m: m, j: j, files: map[string]*typeFile{}}
	err := run(ctx, out)
	if cerr := out.close(); err == nil {
		err = cerr
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		j.finish(Failed, err)
		return
	}
	j.finish(Completed, nil)
}

func (j *job) finish(st State, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.state, j.err, j.finished = st, err, time.Now()
	if st == Completed {
		j.progress = "completed"
	} else {
		j.progress = "failed"
	}
}

func (j *job) snapshotState() State {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.state
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// lookup returns owner's job id.
func (m *Manager) lookup(owner, id string) (*job, error) {
	if err := m.init(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	j := m.jobs[id]
	m.mu.Unlock()
	if j == nil || j.req.Owner != owner || m.expired(j, time.Now()) {
		return nil, ErrNotFound
	}
	return j, nil
}

func (m *Manager) expired(j *job, now time.Time) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return !j.finished.IsZero() && now.Sub(j.finished) > m.Expiry
}

// PollError is a status request made sooner than the poll interval after
// the previous one: Wait is how long is left.
type PollError struct{ Wait time.Duration }

func (e *PollError) Error() string { return fmt.Sprintf("bulk: polled too soon; retry in %v", e.Wait) }

// Poll returns the status of owner's job id. While the job is queued or
// running, a poll sooner than PollInterval after the previous one fails
// with a *PollError.
func (m *Manager) Poll(owner, id string) (*Status, error) {
	j, err := m.lookup(owner, id)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state == Queued || j.state == Running {
		if since := now.Sub(j.lastPoll); !j.lastPoll.IsZero() && since < m.PollInterval {
			return nil, &PollError{Wait: m.PollInterval - since}
		}
		j.lastPoll = now
	}
	st := &Status{ID: j.id, Request: j.req, State: j.state, Created: j.created, TransactionTime: j.txTime,
		Finished: j.finished, Progress: j.progress, Resources: j.count, Err: j.err,
		Output: slices.Clone(j.output), Errors: slices.Clone(j.errors)}
	if !j.finished.IsZero() {
		st.ExpiresAt = j.finished.Add(m.Expiry)
	}
	return st, nil
}

// Open opens a file of owner's completed job id for reading, with its
// description.
func (m *Manager) Open(owner, id, name string) (*os.File, File, error) {
	j, err := m.lookup(owner, id)
	if err != nil {
		return nil, File{}, err
	}
	j.mu.Lock()
	var found *File
	if j.state == Completed {
		for _, list := range [][]File{j.output, j.errors} {
			for i := range list {
				if list[i].Name == name {
					found = &list[i]
				}
			}
		}
	}
	var f File
	if found != nil {
		f = *found
	}
	j.mu.Unlock()
	if found == nil {
		return nil, File{}, ErrNotFound
	}
	fh, err := os.Open(filepath.Join(j.dir, name))
	if err != nil {
		return nil, File{}, ErrNotFound
	}
	return fh, f, nil
}

// Owned returns the request of owner's job id, without counting as a
// poll.
func (m *Manager) Owned(owner, id string) (Request, error) {
	j, err := m.lookup(owner, id)
	if err != nil {
		return Request{}, err
	}
	return j.req, nil
}

// Delete cancels owner's job id if it runs, waits for it to stop and
// removes it with its files.
func (m *Manager) Delete(owner, id string) error {
	j, err := m.lookup(owner, id)
	if err != nil {
		return err
	}
	m.remove(j)
	return nil
}

func (m *Manager) remove(j *job) {
	j.cancel()
	<-j.done
	m.mu.Lock()
	delete(m.jobs, j.id)
	m.mu.Unlock()
	os.RemoveAll(j.dir)
}

// sweeper removes expired jobs every minute (or Expiry, when shorter).
func (m *Manager) sweeper() {
	defer m.wg.Done()
	t := time.NewTicker(min(time.Minute, m.Expiry))
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case now := <-t.C:
			m.mu.Lock()
			var old []*job
			for _, j := range m.jobs {
				if m.expired(j, now) {
					old = append(old, j)
				}
			}
			m.mu.Unlock()
			for _, j := range old {
				m.remove(j)
			}
		}
	}
}

// Close cancels every job, waits for their goroutines and removes a
// temporary directory.
func (m *Manager) Close() {
	if m.init() != nil {
		return
	}
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	if m.tempDir {
		os.RemoveAll(m.Dir)
	}
}

// Output is where an export writes: one NDJSON file per type at a time,
// a new one when MaxFileBytes is reached, and an error file of
// OperationOutcomes. It is used by the job's goroutine only.
type Output struct {
	m     *Manager
	j     *job
	files map[string]*typeFile
	errs  *typeFile
}

type typeFile struct {
	typ   string
	seq   int
	f     *os.File
	w     *bufio.Writer
	entry *File // the job's record of the open file
	list  *[]File
}

// WriteError is a failure to write an export's files: it ends the job.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "bulk: writing the export: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// safeType is what a type must look like to name a file.
var safeType = regexp.MustCompile(`^[A-Za-z]{1,64}$`)

// Write appends one resource (one line of JSON without a newline) of type
// typ.
func (o *Output) Write(typ string, resource []byte) error {
	tf := o.files[typ]
	if tf == nil {
		if !safeType.MatchString(typ) {
			return &WriteError{Err: fmt.Errorf("bad resource type %q", typ)}
		}
		tf = &typeFile{typ: typ, list: &o.j.output}
		o.files[typ] = tf
	}
	if err := o.write(tf, resource); err != nil {
		return err
	}
	o.j.mu.Lock()
	o.j.count++
	o.j.mu.Unlock()
	return nil
}

// Error appends an OperationOutcome to the error file.
func (o *Output) Error(outcome []byte) error {
	if o.errs == nil {
		o.errs = &typeFile{typ: "OperationOutcome", list: &o.j.errors}
	}
	return o.write(o.errs, outcome)
}

// Progress sets the job's progress text.
func (o *Output) Progress(text string) {
	o.j.mu.Lock()
	o.j.progress = text
	o.j.mu.Unlock()
}

func (o *Output) write(tf *typeFile, line []byte) error {
	if err := o.writeLine(tf, line); err != nil {
		return &WriteError{Err: err}
	}
	return nil
}

func (o *Output) writeLine(tf *typeFile, line []byte) error {
	if tf.f != nil && tf.entry.Bytes > 0 && tf.entry.Bytes+int64(len(line))+1 > o.m.MaxFileBytes {
		if err := tf.closeFile(); err != nil {
			return err
		}
	}
	if tf.f == nil {
		tf.seq++
		name := fmt.Sprintf("%s-%d.ndjson", tf.typ, tf.seq)
		f, err := os.OpenFile(filepath.Join(o.j.dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		tf.f, tf.w = f, bufio.NewWriterSize(f, 64<<10)
		o.j.mu.Lock()
		*tf.list = append(*tf.list, File{Type: tf.typ, Name: name})
		o.j.mu.Unlock()
		tf.entry = &File{Type: tf.typ, Name: name}
	}
	if _, err := tf.w.Write(line); err != nil {
		return err
	}
	if err := tf.w.WriteByte('\n'); err != nil {
		return err
	}
	tf.entry.Count++
	tf.entry.Bytes += int64(len(line)) + 1
	// The job's copy, which status requests read, is updated under its
	// lock (found from the end: the open file is the latest).
	o.j.mu.Lock()
	list := *tf.list
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Name == tf.entry.Name {
			list[i] = *tf.entry
			break
		}
	}
	o.j.mu.Unlock()
	return nil
}

func (tf *typeFile) closeFile() error {
	if tf.f == nil {
		return nil
	}
	err := tf.w.Flush()
	if cerr := tf.f.Close(); err == nil {
		err = cerr
	}
	tf.f, tf.w = nil, nil
	return err
}

// close flushes and closes every open file.
func (o *Output) close() error {
	var first error
	for _, tf := range o.files {
		if err := tf.closeFile(); err != nil && first == nil {
			first = err
		}
	}
	if o.errs != nil {
		if err := o.errs.closeFile(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
