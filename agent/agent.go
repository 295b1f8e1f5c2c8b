// Package agent is the practice-side program: it keeps the tunnel to the
// server up and answers the server's queries on the practice database
// through the guard (scheduler, deadlines, size caps, read-only mode).
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/executor"
	"fhirlink/agent/grants"
	"fhirlink/agent/guard"
	"fhirlink/agent/journal"
	"fhirlink/agent/tunnel"
	"fhirlink/agent/wire"
)

// Version is the agent's build version, set by the linker in releases.
var Version = "0.1.0-dev"

// Config is everything an agent needs.
type Config struct {
	ServerURL string // the fhirlink server, https://...
	SiteID    string
	Secret    string

	Database executor.Config
	// Concurrency bounds the queries running at once on the database
	// (default 2).
	Concurrency int
	// Journal is the file recording the writes that must run at most once
	// (see package journal), opened when writes are allowed. Empty keeps
	// it in memory, which does not survive a restart: for tests only.
	Journal string
	// WriteGrants is the file of the integrators the practice lets write
	// (see package grants), read again for each write. Empty grants
	// nobody: with AllowWrites, every write is still refused.
	WriteGrants string
	// ConsoleGrants lets the practice grant writes from the server's web
	// console as well as with 'fhirlink agent grant-writes': the server
	// relays a grant made there ([wire.PathGrants]) and the agent records
	// it in WriteGrants. Off, the agent refuses such a grant, so the
	// server cannot grant writes on its own; a revocation from the console
	// is applied either way.
	ConsoleGrants bool

	// Practice metadata reported in the site status.
	PMSType                   string
	PracticeName              string
	PracticeManagementSiteID  string
	PracticeManagementVersion string
	// TimeZone is the practice's IANA time zone (default Australia/Sydney).
	TimeZone string

	// DrainTimeout bounds a graceful shutdown (default 30 s): queries running
	// when it starts may finish within it, then the rest are cancelled.
	DrainTimeout time.Duration

	// ReconnectMin and ReconnectMax bound the reconnect backoff (default 1 s
	// and 60 s); KeepAlive is the tunnel heartbeat interval (default 5 s).
	ReconnectMin, ReconnectMax, KeepAlive time.Duration

	Logger *slog.Logger
}

// Agent serves queries from the server on the practice database.
type Agent struct {
	cfg   Config
	exec  *executor.Executor
	jrnl  *journal.Journal // nil without AllowWrites
	grant *grants.File
	sched *guard.Scheduler
	log   *slog.Logger

	// settings in force: the configuration's, changed by what the server
	// pushes (see [Agent.ApplySettings]).
	setMu    sync.Mutex
	settings wire.Settings

	// draining is set when shutdown starts: new queries are refused (the
	// tunnel waits for the running ones).
	draining atomic.Bool
}

// maxRequestBytes bounds a query request: the SQL text and its parameters.
const maxRequestBytes = 16 << 20

// New opens the practice database and returns an agent ready to [Agent.Run].
func New(ctx context.Context, cfg Config) (*Agent, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.TimeZone == "" {
		cfg.TimeZone = "Australia/Sydney"
	}
	if _, err := time.LoadLocation(cfg.TimeZone); err != nil {
		return nil, fmt.Errorf("time zone %q: %w", cfg.TimeZone, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var jr *journal.Journal
	if cfg.Database.AllowWrites {
		var err error
		if jr, err = journal.Open(ctx, cfg.Journal); err != nil {
			return nil, fmt.Errorf("writes are allowed, and they need the execution journal: %w", err)
		}
	}
	ex, err := executor.Open(ctx, cfg.Database)
	if err != nil {
		if jr != nil {
			jr.Close()
		}
		return nil, err
	}
	return &Agent{cfg: cfg, exec: ex, jrnl: jr, grant: grants.Open(cfg.WriteGrants), sched: guard.New(cfg.Concurrency), log: log,
		settings: wire.Settings{Concurrency: cfg.Concurrency}}, nil
}

// Close closes the database and the journal.
func (a *Agent) Close() error {
	err := a.exec.Close()
	if a.jrnl != nil {
		err = errors.Join(err, a.jrnl.Close())
	}
	return err
}

// Run keeps the tunnel up until ctx is done, then drains: queries already
// running get up to Config.DrainTimeout to finish while new ones are refused,
// and whatever still runs after that is cancelled as the session closes.
func (a *Agent) Run(ctx context.Context) error {
	drain := a.cfg.DrainTimeout
	if drain <= 0 {
		drain = 30 * time.Second
	}
	c := &tunnel.Client{
		ServerURL: a.cfg.ServerURL,
		SiteID:    a.cfg.SiteID,
		Secret:    a.cfg.Secret,
		Handler:   a.Handler(),
		Logger:    a.log,

		MinBackoff: a.cfg.ReconnectMin,
		MaxBackoff: a.cfg.ReconnectMax,
		KeepAlive:  a.cfg.KeepAlive,

		DrainTimeout: drain,
		OnDrain: func() {
			a.log.Info("shutting down: refusing new queries, letting running ones finish", "within", drain)
			a.drain()
		},
	}
	return c.Run(ctx)
}

// Load reports how many queries hold an execution slot and how many wait
// for one. Tests use it to see a query queued, which leaves no other trace.
func (a *Agent) Load() (running, queued int) { return a.sched.Stats() }

// drain refuses new queries from now on.
func (a *Agent) drain() { a.draining.Store(true) }

// Settings returns the settings in force.
func (a *Agent) Settings() wire.Settings {
	a.setMu.Lock()
	defer a.setMu.Unlock()
	return a.settings
}

// ApplySettings changes the settings the server may push, at once: a
// larger concurrency starts queued queries now, a smaller one lets running
// queries finish; timeout caps apply to queries that arrive from now on.
// Zero fields leave a setting unchanged.
func (a *Agent) ApplySettings(s wire.Settings) (wire.Settings, error) {
	if s.Concurrency < 0 || s.Concurrency > 64 || s.MaxTimeoutMS < 0 || s.MaxTimeInQueueMS < 0 {
		return a.Settings(), wire.Errorf(wire.KindInvalid, "settings out of range: concurrency 1-64, caps not negative")
	}
	a.setMu.Lock()
	defer a.setMu.Unlock()
	if s.Concurrency > 0 {
		a.settings.Concurrency = s.Concurrency
		a.sched.SetConcurrency(s.Concurrency)
	}
	if s.MaxTimeoutMS > 0 {
		a.settings.MaxTimeoutMS = s.MaxTimeoutMS
	}
	if s.MaxTimeInQueueMS > 0 {
		a.settings.MaxTimeInQueueMS = s.MaxTimeInQueueMS
	}
	a.log.Info("settings applied", "concurrency", a.settings.Concurrency,
		"maxTimeoutMs", a.settings.MaxTimeoutMS, "maxTimeInQueueMs", a.settings.MaxTimeInQueueMS)
	return a.settings, nil
}

func (a *Agent) serveSettings(w http.ResponseWriter, r *http.Request) {
	var s wire.Settings
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&s); err != nil {
		writeError(w, wire.Errorf(wire.KindInvalid, "malformed settings: %v", err))
		return
	}
	now, err := a.ApplySettings(s)
	if err != nil {
		writeError(w, asWireError(err))
		return
	}
	writeJSON(w, http.StatusOK, now)
}

// Handler is the agent's API, served to the server over the tunnel.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+wire.PathInfo, a.serveInfo)
	mux.HandleFunc("POST "+wire.PathQuery, a.serveQuery)
	mux.HandleFunc("POST "+wire.PathSettings, a.serveSettings)
	mux.HandleFunc("GET "+wire.PathExecutions+"/{id}", a.serveExecution)
	mux.HandleFunc("POST "+wire.PathGrants, a.serveGrant)
	return mux
}

// serveGrant applies a write grant change the server relays from the web
// console: a revocation always, a grant only with Config.ConsoleGrants.
func (a *Agent) serveGrant(w http.ResponseWriter, r *http.Request) {
	var ch wire.WriteGrantChange
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&ch); err != nil || uuid.Validate(ch.IntegratorID) != nil {
		writeError(w, wire.Errorf(wire.KindInvalid, "malformed write grant change: send {\"integratorId\": a UUID, \"granted\": true|false}"))
		return
	}
	if ch.Granted && !a.cfg.ConsoleGrants {
		a.log.Warn("write grant from the server refused: console grants are off", "integrator", ch.IntegratorID, "source", ch.Source)
		writeError(w, wire.Errorf(wire.KindForbidden,
			"the practice's agent does not take write grants from the console (it runs without --console-grants): "+
				"grant them at the practice server with 'fhirlink agent grant-writes --integrator %s'", ch.IntegratorID))
		return
	}
	change := a.grant.Revoke
	if ch.Granted {
		change = a.grant.Grant
	}
	if err := change(ch.IntegratorID); err != nil {
		a.log.Error("write grants", "err", err)
		writeError(w, wire.Errorf(wire.KindInternal, "the practice's record of write grants cannot be changed; see the agent's log"))
		return
	}
	list, err := a.grant.List()
	if err != nil {
		a.log.Error("write grants", "err", err)
		writeError(w, wire.Errorf(wire.KindInternal, "the practice's record of write grants cannot be read; see the agent's log"))
		return
	}
	a.log.Info("write grant changed", "integrator", ch.IntegratorID, "granted", ch.Granted, "source", ch.Source)
	st := wire.WriteGrantState{IntegratorID: ch.IntegratorID, WriteGrants: grantedIDs(list),
		AllowWrites: a.cfg.Database.AllowWrites, ConsoleGrants: a.cfg.ConsoleGrants}
	st.Granted = slices.Contains(st.WriteGrants, ch.IntegratorID)
	writeJSON(w, http.StatusOK, st)
}

// grantedIDs are the integrators of a list of grants.
func grantedIDs(list []grants.Grant) []string {
	ids := make([]string, len(list))
	for i, g := range list {
		ids[i] = g.IntegratorID
	}
	return ids
}

// serveExecution answers what the journal knows of an execution id.
func (a *Agent) serveExecution(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if a.jrnl == nil {
		// Without writes nothing was ever run under an execution id.
		writeJSON(w, http.StatusOK, wire.Execution{ID: id, State: wire.ExecutionNotStarted})
		return
	}
	ex, err := a.jrnl.Lookup(r.Context(), id)
	if err != nil {
		a.log.Error("execution journal", "err", err)
		writeError(w, wire.Errorf(wire.KindInternal, "the execution journal cannot be read; see the agent's log"))
		return
	}
	writeJSON(w, http.StatusOK, ex)
}

// mayWrite refuses a write for an integrator the practice has not granted
// writes (package grants), before anything of it is recorded or run. The
// executor refuses every write when writes are not allowed at all.
func (a *Agent) mayWrite(req wire.QueryRequest) *wire.Error {
	if !req.Writes() || !a.cfg.Database.AllowWrites {
		return nil
	}
	if req.IntegratorID == "" {
		return wire.Errorf(wire.KindForbidden, "the write names no integrator, and the practice grants writes per integrator: upgrade the server")
	}
	ok, err := a.grant.Granted(req.IntegratorID)
	if err != nil {
		a.log.Error("write grants", "err", err)
		return wire.Errorf(wire.KindForbidden, "no write grant for integrator %s: the practice's record of write grants cannot be read; see the agent's log", req.IntegratorID)
	}
	if !ok {
		return wire.Errorf(wire.KindForbidden, "no write grant for integrator %s at this site: the practice gives it with 'fhirlink agent grant-writes --integrator %s'", req.IntegratorID, req.IntegratorID)
	}
	return nil
}

// claim reserves req's execution id for this run. When the id already has
// an outcome it answers the first one instead and returns ok false, as it
// does when the caller went away meanwhile.
func (a *Agent) claim(w http.ResponseWriter, r *http.Request, req wire.QueryRequest) (c *journal.Claim, ok bool) {
	c, prior, err := a.jrnl.Claim(r.Context(), req.ExecutionID)
	switch {
	case err != nil && r.Context().Err() != nil:
		return nil, false
	case err != nil:
		a.log.Error("execution journal", "err", err)
		writeError(w, wire.Errorf(wire.KindInternal, "the write was not run: the execution journal cannot be read; see the agent's log"))
		return nil, false
	case prior == nil:
		return c, true
	}
	a.log.Info("write not run again", "id", req.ID, "requestId", req.RequestID, "executionId", req.ExecutionID, "state", prior.State)
	switch prior.State {
	case wire.ExecutionCommitted:
		replay(w, req, prior)
	case wire.ExecutionFailed:
		werr := *prior.Error
		werr.Message = fmt.Sprintf("%s; execution id %s is not run again", werr.Message, req.ExecutionID)
		werr.ExecutionMS = prior.ExecutionMS
		writeError(w, &werr)
	default:
		writeError(w, wire.Errorf(wire.KindOutcomeUnknown,
			"the write with execution id %s was started at %s but the agent stopped before its outcome was known: "+
				"it may or may not have taken effect, and it is not run again; check the practice database",
			req.ExecutionID, prior.StartedAt.Format(time.RFC3339)))
	}
	return nil, false
}

// replay answers a repeat of a committed write as its first run was
// answered: the same columns and rows (the result the journal kept), then
// a trailer with Replayed set. A result too large to have been kept is
// refused, saying that the write did commit.
func replay(w http.ResponseWriter, req wire.QueryRequest, prior *wire.Execution) {
	r := prior.Result
	if r != nil && r.Dropped {
		writeError(w, wire.Errorf(wire.KindTooLarge,
			"the write with execution id %s committed on its first run, but its result (%d rows, %d bytes) was not kept for a repeat: "+
				"the agent keeps at most %d KiB of numbers (ids) and never other values, which may be patient data; "+
				"its rows cannot be returned again, and it is not run again",
			req.ExecutionID, r.Count, r.Bytes, wire.MaxKeptResult>>10))
		return
	}
	tr := wire.Trailer{RowsAffected: prior.RowsAffected, ExecutionMS: prior.ExecutionMS, Replayed: true}
	if r == nil {
		r = &wire.Result{Columns: []wire.Column{}}
	}
	tr.Rows, tr.Bytes = r.Count, r.Bytes
	sink := &frameSink{rw: w, startedAt: prior.StartedAt}
	sink.Header(wire.Header{Columns: r.Columns})
	for _, row := range r.Rows {
		sink.Row(row)
	}
	sink.fw.Trailer(tr)
	sink.fw.Flush()
	sink.fw.Release()
}

func (a *Agent) serveInfo(w http.ResponseWriter, r *http.Request) {
	version, catalogues, err := a.exec.Info(r.Context())
	if err != nil {
		// The agent is up even when the database is not; the server learns
		// that from the empty engine version and from query errors.
		a.log.Warn("database info", "err", err)
	}
	running, queued := a.Load()
	granted, err := a.grant.List()
	if err != nil {
		a.log.Warn("write grants", "err", err)
	}
	writeJSON(w, http.StatusOK, wire.Info{
		Protocol:                  wire.Version,
		Version:                   Version,
		Engine:                    a.cfg.Database.Engine,
		EngineVersion:             version,
		Catalogues:                catalogues,
		AllowWrites:               a.cfg.Database.AllowWrites,
		ConsoleGrants:             a.cfg.ConsoleGrants,
		WriteGrants:               grantedIDs(granted),
		Concurrency:               a.Settings().Concurrency,
		Running:                   running,
		Queued:                    queued,
		PMSType:                   a.cfg.PMSType,
		PracticeName:              a.cfg.PracticeName,
		PracticeManagementSiteID:  a.cfg.PracticeManagementSiteID,
		PracticeManagementVersion: a.cfg.PracticeManagementVersion,
		TimeZone:                  a.cfg.TimeZone,
		Clock:                     time.Now(),
	})
}

func (a *Agent) serveQuery(w http.ResponseWriter, r *http.Request) {
	var req wire.QueryRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, maxRequestBytes)).Decode(&req); err != nil {
		writeError(w, wire.Errorf(wire.KindInvalid, "malformed query request: %v", err))
		return
	}
	if req.Priority == "" {
		req.Priority = wire.PriorityInteractive
	}
	set := a.Settings()
	if c := set.MaxTimeoutMS; c > 0 && (req.TimeoutMS <= 0 || req.TimeoutMS > c) {
		req.TimeoutMS = c
	}
	if c := set.MaxTimeInQueueMS; c > 0 && req.MaxTimeInQueueMS > c {
		req.MaxTimeInQueueMS = c
	}
	if werr := a.mayWrite(req); werr != nil {
		a.log.Info("write refused", "id", req.ID, "integrator", req.IntegratorID, "err", werr.Message)
		writeError(w, werr)
		return
	}
	var claim *journal.Claim
	if req.AtMostOnce() && a.jrnl != nil {
		var ok bool
		if claim, ok = a.claim(w, r, req); !ok {
			return
		}
		defer claim.Release()
	}
	queued := time.Now()
	release, err := a.sched.Acquire(r.Context(), req.Priority, time.Duration(req.MaxTimeInQueueMS)*time.Millisecond)
	if err != nil {
		if errors.Is(err, guard.ErrExpired) {
			werr := wire.Errorf(wire.KindExpiredInQueue, "no execution slot became free within %d ms", req.MaxTimeInQueueMS)
			werr.QueuedMS = time.Since(queued).Milliseconds()
			writeError(w, werr)
		}
		return // otherwise the server went away
	}
	defer release()
	if a.draining.Load() {
		writeError(w, wire.Errorf(wire.KindUnavailable, "the agent is shutting down; retry in a moment"))
		return
	}

	sink := &frameSink{rw: w, queued: time.Since(queued), startedAt: time.Now()}
	var j executor.Journal
	if claim != nil {
		j = claim
	}
	trailer, err := a.exec.RunOnce(r.Context(), req, sink, j)
	if err != nil {
		werr := asWireError(err)
		if werr.Kind != wire.KindCanceled {
			a.log.Info("query failed", "id", req.ID, "requestId", req.RequestID, "kind", werr.Kind, "err", werr.Message)
		}
		if !sink.started {
			werr.QueuedMS = sink.queued.Milliseconds()
			writeError(w, werr)
			return
		}
		trailer.Error = werr
	}
	if err == nil {
		// One line per query, for the practice's IT and the server's
		// operators: no SQL text and no values, which may be patient data.
		a.log.Info("query", "id", req.ID, "requestId", req.RequestID, "mode", req.Mode, "priority", req.Priority,
			"rows", trailer.Rows, "bytes", trailer.Bytes, "queuedMs", sink.queued.Milliseconds(), "executionMs", trailer.ExecutionMS)
	}
	sink.fw.Trailer(trailer)
	// Returning ends the response with one write: the frames still buffered
	// and the chunked terminator together.
	sink.fw.Flush()
	sink.fw.Release()
}

// frameSink writes a result as frames (see package wire) as the executor
// reads it, once the answer's status is sent.
type frameSink struct {
	rw        http.ResponseWriter
	fw        *wire.FrameWriter
	queued    time.Duration
	startedAt time.Time
	started   bool
}

func (s *frameSink) Header(h wire.Header) error {
	h.QueuedMS = s.queued.Milliseconds()
	h.StartedAt = s.startedAt
	s.rw.Header().Set("Content-Type", "application/x-fhirlink-frames")
	s.rw.WriteHeader(http.StatusOK)
	s.fw = wire.NewFrameWriter(s.rw, 128<<10)
	s.started = true
	return s.fw.Header(h)
}

func (s *frameSink) Row(row []byte) error { return s.fw.Row(row) }

func asWireError(err error) *wire.Error {
	if werr, ok := errors.AsType[*wire.Error](err); ok {
		return werr
	}
	return wire.Errorf(wire.KindInternal, "the agent failed unexpectedly; see its log")
}

// statusOf is the HTTP status an agent answers for an error kind; the server
// reads the kind, the status is for people reading logs and traces.
var statusOf = map[wire.ErrorKind]int{
	wire.KindInvalid:        http.StatusBadRequest,
	wire.KindForbidden:      http.StatusForbidden,
	wire.KindExpiredInQueue: http.StatusServiceUnavailable,
	wire.KindDatabase:       http.StatusUnprocessableEntity,
	wire.KindTimeout:        http.StatusGatewayTimeout,
	wire.KindTooLarge:       http.StatusRequestEntityTooLarge,
	wire.KindUnavailable:    http.StatusServiceUnavailable,
	wire.KindCanceled:       499, // the caller closed the request
	wire.KindOutcomeUnknown: http.StatusConflict,
}

func writeError(w http.ResponseWriter, e *wire.Error) {
	status, ok := statusOf[e.Kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
