// Package async runs the passthrough API's async and registered queries on
// the server node holding the site's agent session, so a query outlives the
// request that created it.
//
// [Runner.Submit] stores a query as queued (status and query object in the
// state store); the dispatcher of a node whose hub holds the site's session
// claims it and runs it. Rows stream from the agent into result pages of
// about Options.PageSize bytes in the result store; each page is written as
// its rows arrive and the page index is kept in the query object, so no node
// ever holds a whole result. The integrator polls the query (or gets a
// webhook) and downloads the pages.
//
// Pages are stored as NDJSON (one row object a line); the API serves them
// as the JSON array of rows ([passthrough.CopyArray]). A page's size is the
// byte length of that JSON array; rows.rangeStart and rangeEnd number the
// page's first and last rows from 1 across the whole result.
//
// [Runner.Cancel] cancels a query that has not ended (status cancelled, an
// addition to the mirrored status set; the statement is cancelled in the
// practice database and any pages written are deleted) and discards the
// results of one that has (they answer [server.EGONE] from then on).
//
// A running query's record is leased: its node renews it, and any node
// takes up a query whose lease ran out (see [Options]). Registered queries
// are scheduled by the same workers (registered.go).
package async

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/audit"
	"fhirlink/server/hub"
	"fhirlink/server/inflight"
	"fhirlink/server/metrics"
	"fhirlink/server/passthrough"
	"fhirlink/server/quota"
	"fhirlink/server/results"
	"fhirlink/server/webhook"
)

// Defaults of [Options].
const (
	DefaultTimeout   = 5 * time.Minute
	DefaultRetention = 24 * time.Hour
	DefaultPageSize  = 1 << 20
	DefaultPerSite   = 2
	DefaultLease     = 5 * time.Second
)

// Options configure async and registered queries. Zero values take the
// defaults.
type Options struct {
	// Results keeps result pages; async queries are refused while nil.
	Results results.Store
	// Timeout bounds an async query's execution on the agent (default
	// [DefaultTimeout]); queueing and upload are not counted.
	Timeout time.Duration
	// Retention is how long results are kept after a query ends (default
	// [DefaultRetention]); then their pages answer 410.
	Retention time.Duration
	// PageSize is the size at which a result page is closed and the next
	// begun (default [DefaultPageSize]).
	PageSize int64
	// PerSite bounds the async queries a server node runs at once for one
	// site (default [DefaultPerSite]); the agent's scheduler bounds
	// them again, below its interactive work.
	PerSite int
	// Poll is how often the workers look for work in the state store
	// (default 1 s); a query created on this node starts at once.
	Poll time.Duration
	// Lease is how long a running query's record stays its node's without
	// being refreshed (default [DefaultLease]): a query whose record
	// is older than that (its node died or froze) is taken up again by any
	// node within a poll, a read queued again, a write settled with the
	// agent first (see [Runner.recoverRun]). Heartbeat is how often the
	// running node renews the lease, which also notices a cancel made on
	// another node (default a third of Lease, never more than half), so a
	// long query is never taken from a live node. The nodes' clocks must
	// agree well within the lease.
	Lease, Heartbeat time.Duration

	// RegisteredMinFrequency is the shortest frequency a registered query
	// may have (default [DefaultRegisteredMinFrequency], as documented;
	// tests lower it).
	RegisteredMinFrequency time.Duration
}

func (o *Options) timeout() time.Duration { return orDefault(o.Timeout, DefaultTimeout) }

func (o *Options) retention() time.Duration {
	return orDefault(o.Retention, DefaultRetention)
}

func (o *Options) poll() time.Duration { return orDefault(o.Poll, time.Second) }

func (o *Options) lease() time.Duration { return orDefault(o.Lease, DefaultLease) }

func (o *Options) heartbeat() time.Duration {
	if h := o.Heartbeat; h > 0 && h <= o.lease()/2 {
		return h
	}
	return o.lease() / 3
}

func (o *Options) pageSize() int64 {
	if o.PageSize > 0 {
		return o.PageSize
	}
	return DefaultPageSize
}

func (o *Options) perSite() int {
	if o.PerSite > 0 {
		return o.PerSite
	}
	return DefaultPerSite
}

// Store is what the workers need of the state store.
type Store interface {
	server.AsyncStore
	server.RegisteredStore
	// Access is checked again before each run: pairing, blocks and
	// quarantine may have changed while the query waited.
	Access(ctx context.Context, integratorID, siteID string) (server.Access, error)
	// CountQuery counts each registered run against the daily quota.
	CountQuery(ctx context.Context, integratorID, siteID, day string, maxQueries, maxBytes int64) (bool, *server.Usage, error)
}

// Agents reach the sites' agents: Query runs SQL (the hub, or a router
// reaching other nodes' agents); Status says whether a site's agent is
// connected, which decides the node that runs its queries; Execution asks
// an agent what became of a write (see [hub.Hub.Execution]).
type Agents interface {
	server.Querier
	Status(siteID string) hub.Status
	Execution(ctx context.Context, siteID, executionID string) (wire.Execution, error)
}

// Runner runs this node's async and registered queries. Set every field
// but Logger (the zero one discards) and the run limits, then Start it.
type Runner struct {
	Store   Store
	Agents  Agents
	Options Options
	// Flights registers each run, so that withdrawing the integrator's
	// access cancels it.
	Flights *inflight.Registry
	// Webhooks announces queries that ended and registered results that
	// changed.
	Webhooks *webhook.Notifier
	// Audit records each registered run, with its usage; Quotas gives the
	// daily limits it is counted against.
	Audit  *audit.Writer
	Quotas *quota.Quotas
	// RunTimeout and RunMaxBytes limit a registered query's run: the
	// immediate limits (defaults [passthrough.DefaultImmediateTimeout] and
	// [passthrough.DefaultImmediateMaxBytes]).
	RunTimeout  time.Duration
	RunMaxBytes int64
	Logger      *slog.Logger
	// Metrics counts the jobs queued, running and ended; nil counts none.
	Metrics *metrics.Metrics

	// The node's running work.
	mu      sync.Mutex
	running map[string]context.CancelFunc
	perSite map[string]int
	kick    chan struct{}
	wg      sync.WaitGroup
}

func (r *Runner) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

func (r *Runner) runTimeout() time.Duration {
	return orDefault(r.RunTimeout, passthrough.DefaultImmediateTimeout)
}

func (r *Runner) runMaxBytes() int64 {
	if r.RunMaxBytes > 0 {
		return r.RunMaxBytes
	}
	return passthrough.DefaultImmediateMaxBytes
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Start starts the workers running async and registered queries, and the
// janitor deleting expired results. The returned function stops them,
// cancelling the queries running on this node (they are queued again for
// any node), and waits for them.
func (r *Runner) Start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	r.mu.Lock()
	r.running, r.perSite = map[string]context.CancelFunc{}, map[string]int{}
	r.kick = make(chan struct{}, 1)
	r.mu.Unlock()
	r.wg.Go(func() { r.loop(ctx) })
	return func() {
		cancel()
		r.wg.Wait()
	}
}

// kickDispatch wakes the dispatcher: a query was just queued.
func (r *Runner) kickDispatch() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kick != nil {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// stopRun cancels the query id if it runs on this node.
func (r *Runner) stopRun(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cancel := r.running[id]; cancel != nil {
		cancel()
	}
}

func (r *Runner) loop(ctx context.Context) {
	tick := time.NewTicker(r.Options.poll())
	defer tick.Stop()
	var lastJanitor time.Time
	for {
		r.dispatch(ctx)
		r.scheduleRegistered(ctx)
		if time.Since(lastJanitor) > max(10*r.Options.poll(), time.Minute) || r.Options.Retention < time.Minute {
			r.janitor(ctx)
			lastJanitor = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-r.kick:
		}
	}
}

// dispatch expires queries that waited too long and starts those whose
// site's agent is connected to this node, within the per-site bound.
func (r *Runner) dispatch(ctx context.Context) {
	queued, err := r.Store.AsyncQueries(ctx, server.AsyncFilter{Statuses: []string{passthrough.StatusQueued}, Limit: 500})
	if err != nil {
		if ctx.Err() == nil {
			r.log().Error("async queue unreadable", "err", err)
		}
		return
	}
	now := time.Now()
	for _, rec := range queued {
		doc, err := decodeDoc(rec)
		if err != nil {
			r.log().Error("async query dropped", "query", rec.ID, "err", err)
			continue
		}
		obj := doc.Object
		if now.Sub(rec.CreatedAt) >= time.Duration(obj.MaxTimeInQueue)*time.Millisecond {
			obj.Status = passthrough.StatusExpiredInQueue
			obj.ErrorDetails = passthrough.OwnError(http.StatusServiceUnavailable, "the query was not started within its maxTimeInQueue: the site's agent was offline or busy")
			obj.StatusTiming["queued"] = passthrough.Period{StartTime: rec.CreatedAt, EndTime: now.UTC()}
			r.finish(ctx, rec, doc, passthrough.StatusQueued)
			continue
		}
		if r.Agents.Status(rec.SiteID).Availability != hub.Online {
			continue // wait for the agent (here or on another node) until maxTimeInQueue
		}
		if !r.reserve(rec.SiteID, rec.ID) {
			continue
		}
		rec.Status, obj.Status = passthrough.StatusInitialising, passthrough.StatusInitialising
		if rec.Doc, err = json.Marshal(doc); err == nil {
			err = r.Store.UpdateAsyncQuery(ctx, rec, passthrough.StatusQueued)
		}
		if err != nil { // another node claimed it, or the integrator cancelled it
			r.release(rec.SiteID, rec.ID)
			continue
		}
		r.launch(ctx, rec.SiteID, rec.ID, func(runCtx context.Context) {
			ended := r.Metrics.JobStarted(metrics.JobAsync)
			r.runQuery(runCtx, ctx, rec, doc)
			ended(doc.Object.Status)
		})
	}
	r.requeueStale(ctx)
}

func (r *Runner) reserve(siteID, id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.perSite[siteID] >= r.Options.perSite() || r.running[id] != nil {
		return false
	}
	r.perSite[siteID]++
	return true
}

// launch runs run in the background as the work id of siteID, which
// reserve admitted: stopRun(id) cancels its context, and it is released
// when it returns.
func (r *Runner) launch(ctx context.Context, siteID, id string, run func(context.Context)) {
	runCtx, cancel := context.WithCancel(ctx)
	r.mu.Lock()
	r.running[id] = cancel
	r.mu.Unlock()
	r.wg.Go(func() {
		defer r.release(siteID, id)
		defer cancel()
		run(runCtx)
	})
}

func (r *Runner) release(siteID, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.perSite[siteID]--; r.perSite[siteID] <= 0 {
		delete(r.perSite, siteID)
	}
	delete(r.running, id)
}

// requeueStale takes up the queries whose lease ran out: their node
// stopped refreshing them.
func (r *Runner) requeueStale(ctx context.Context) {
	stale, err := r.Store.AsyncQueries(ctx, server.AsyncFilter{
		Statuses: []string{passthrough.StatusInitialising, passthrough.StatusExecuting, passthrough.StatusUploading}, UpdatedBefore: time.Now().Add(-r.Options.lease()), Limit: 100})
	if err != nil {
		return
	}
	for _, rec := range stale {
		if r.runsHere(rec.ID) {
			continue // its heartbeat is late, but this node is running it
		}
		r.recoverRun(ctx, rec, rec.Status)
	}
}

// runsHere reports whether this node runs the query id now.
func (r *Runner) runsHere(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running[id] != nil
}
