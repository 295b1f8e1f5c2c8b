// Package inflight makes withdrawing an integrator's access take effect at
// once, on the work it has in flight too.
//
// Every request (and async query run) admitted at a site is registered in
// a [Registry] under its (integrator, site) pair, with the function
// cancelling its context. Two things cancel them:
//
//   - a change this process makes itself (the practice revoking a pairing
//     through the agent API) cancels the pair's work on the spot
//     ([Registry.Cancel]);
//   - a change another server node made reaches this one at once when the
//     nodes share NATS: the node that made it announces it (server/cluster)
//     and every other node re-reads that pair's access ([Registry.Recheck]);
//   - any other change (the admin CLI writes to the state store directly),
//     and an announcement lost, is picked up by a sweep that, while
//     anything is in flight, re-reads every in-flight pair's access each
//     interval and cancels the pairs no longer allowed.
//
// Cancelling the context cancels the query in the practice database (the
// tunnel closes the query's stream and the agent cancels the statement).
// The registry is per server process: with several nodes, each sweeps its
// own work against the shared store, so a change reaches every node within
// one interval even without an announcement.
package inflight

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"fhirlink/server"
)

// DefaultSweepInterval is how often work in flight is re-checked against
// the store.
const DefaultSweepInterval = time.Second

// AccessStore is what the sweep reads: the part of [server.ConsentStore]
// deciding access.
type AccessStore interface {
	Access(ctx context.Context, integratorID, siteID string) (server.Access, error)
}

// Registry is the work in flight of one server process. Set Store (without
// it nothing is swept); Every defaults to [DefaultSweepInterval].
type Registry struct {
	Store  AccessStore
	Every  time.Duration
	Logger *slog.Logger

	mu    sync.Mutex
	reqs  map[*flight]struct{}
	sweep *time.Timer // the next sweep; nil while nothing is in flight
}

type pair struct{ integratorID, siteID string }

type flight struct {
	pair
	cancel context.CancelCauseFunc
}

// Add registers work of integratorID at siteID and returns its context,
// which the registry may cancel with a [server.EFORBIDDEN] cause, and the
// function removing it once the work ends.
func (r *Registry) Add(ctx context.Context, integratorID, siteID string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	f := &flight{pair: pair{integratorID, siteID}, cancel: cancel}
	r.mu.Lock()
	if r.reqs == nil {
		r.reqs = map[*flight]struct{}{}
	}
	r.reqs[f] = struct{}{}
	if r.sweep == nil && r.Store != nil {
		r.sweep = time.AfterFunc(r.every(), r.sweeper)
	}
	r.mu.Unlock()
	return ctx, func() {
		r.mu.Lock()
		delete(r.reqs, f)
		r.mu.Unlock()
		cancel(nil)
	}
}

// Cancel cancels the work in flight of integratorID at siteID (every site
// when siteID is empty), each with cause as the error the integrator sees
// (a [server.EFORBIDDEN] error; one saying access was withdrawn when nil).
// It returns how many it cancelled.
func (r *Registry) Cancel(integratorID, siteID string, cause error) int {
	if cause == nil {
		cause = server.Errorf(server.EFORBIDDEN, "access to site %s was withdrawn", siteID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for f := range r.reqs {
		if f.integratorID == integratorID && (siteID == "" || f.siteID == siteID) {
			f.cancel(cause)
			n++
		}
	}
	return n
}

// Recheck re-reads, at once, the access of the work in flight of
// integratorID at siteID (every site when siteID is empty) and cancels
// what is no longer allowed: what a node does when another tells it that
// access changed. The store decides, not the message. It returns how many
// it cancelled.
func (r *Registry) Recheck(integratorID, siteID string) int {
	if r.Store == nil {
		return 0
	}
	pairs := r.pairs()
	for p := range pairs {
		if p.integratorID != integratorID || (siteID != "" && p.siteID != siteID) {
			delete(pairs, p)
		}
	}
	n := 0
	for p, err := range r.checkAccess(pairs) {
		n += r.Cancel(p.integratorID, p.siteID, err)
	}
	return n
}

// pairs returns the distinct pairs in flight.
func (r *Registry) pairs() map[pair]struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[pair]struct{}, len(r.reqs))
	for f := range r.reqs {
		out[f.pair] = struct{}{}
	}
	return out
}

// sweeper re-checks the pairs in flight, and comes back an interval later
// while anything is in flight. A timer rather than a goroutine of its own:
// a sweeper goroutine that ended with the last request started again with
// the next one, and requests one after another each paid a goroutine, a
// ticker and a wake-up.
func (r *Registry) sweeper() {
	if pairs := r.pairs(); len(pairs) > 0 {
		for p, err := range r.checkAccess(pairs) {
			r.Cancel(p.integratorID, p.siteID, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		r.sweep = nil // the next Add arms a new one
		return
	}
	r.sweep.Reset(r.every())
}

func (r *Registry) every() time.Duration {
	if r.Every <= 0 {
		return DefaultSweepInterval
	}
	return r.Every
}

// checkAccess re-reads the access of each pair (one store read each, bounded in
// time) and returns the denied ones with the reason. A pair whose check
// fails (the store is unreachable) is left running: the next sweep tries
// again.
func (r *Registry) checkAccess(pairs map[pair]struct{}) map[pair]error {
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var denied map[pair]error
	for p := range pairs {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		acc, err := r.Store.Access(ctx, p.integratorID, p.siteID)
		cancel()
		if err != nil {
			log.Warn("in-flight access check failed", "integrator", p.integratorID, "site", p.siteID, "err", err)
			continue
		}
		if !acc.Allowed() {
			if denied == nil {
				denied = map[pair]error{}
			}
			denied[p] = acc.Denial(p.siteID)
			log.Info("access withdrawn: cancelling in-flight requests", "integrator", p.integratorID, "site", p.siteID)
		}
	}
	return denied
}
