package api

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/server"
)

// Revocation takes effect at once, in-flight queries included.
//
// Every request that passed requirePairing is registered here, under its
// (integrator, site) pair, with the function cancelling its context. Two
// things cancel them:
//
//   - a change this process makes itself (the practice revoking a pairing
//     through the agent API) cancels the pair's requests on the spot;
//   - a change made elsewhere (the admin CLI writes to the state store
//     directly; another server node) is picked up by a sweep that, while any
//     request is in flight, re-reads every in-flight pair's access each
//     SweepInterval and cancels the pairs no longer allowed.
//
// Cancelling a request's context cancels its query in the practice database
// (the tunnel closes the query's stream and the agent cancels the
// statement). The registry is per server process: with several nodes, each
// node sweeps its own requests against the shared store, so a change reaches
// every node within one interval.
type inflight struct {
	mu    sync.Mutex
	reqs  map[*flight]struct{}
	stop  chan struct{} // closes the sweeper; nil while none runs
	sweep func(pairs map[pair]struct{}) map[pair]error
	every time.Duration
}

type pair struct{ integratorID, siteID string }

type flight struct {
	pair
	cancel context.CancelCauseFunc
}

// DefaultSweepInterval is how often in-flight requests are re-checked
// against the store.
const DefaultSweepInterval = time.Second

// add registers a request of in at site and returns its context, which the
// registry may cancel with a [server.EFORBIDDEN] cause, and the function
// removing it once the request ends.
func (r *inflight) add(ctx context.Context, p pair) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	f := &flight{pair: p, cancel: cancel}
	r.mu.Lock()
	if r.reqs == nil {
		r.reqs = map[*flight]struct{}{}
	}
	r.reqs[f] = struct{}{}
	if r.stop == nil && r.sweep != nil {
		r.stop = make(chan struct{})
		go r.sweeper(r.stop)
	}
	r.mu.Unlock()
	return ctx, func() {
		r.mu.Lock()
		delete(r.reqs, f)
		if len(r.reqs) == 0 && r.stop != nil {
			close(r.stop) // nothing to watch: the sweeper ends now, not a tick later
			r.stop = nil
		}
		r.mu.Unlock()
		cancel(nil)
	}
}

// cancel cancels every in-flight request matching p, with cause as the
// error the integrator sees. An empty siteID matches every site.
func (r *inflight) cancel(p pair, cause error) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for f := range r.reqs {
		if f.integratorID == p.integratorID && (p.siteID == "" || f.siteID == p.siteID) {
			f.cancel(cause)
			n++
		}
	}
	return n
}

// pairs returns the distinct pairs in flight.
func (r *inflight) pairs() map[pair]struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[pair]struct{}, len(r.reqs))
	for f := range r.reqs {
		out[f.pair] = struct{}{}
	}
	return out
}

// sweeper re-checks the pairs in flight every interval until stop closes.
func (r *inflight) sweeper(stop chan struct{}) {
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		for p, err := range r.sweep(r.pairs()) {
			r.cancel(p, err)
		}
	}
}

// sweepAccess is the sweep of a [Server]: it re-reads the access of each
// pair (one store read each, bounded in time) and returns the denied ones
// with the reason. A pair whose check fails (the store is unreachable) is
// left running: the next sweep tries again.
func (s *Server) sweepAccess(pairs map[pair]struct{}) map[pair]error {
	var denied map[pair]error
	for p := range pairs {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		acc, err := s.Store.Access(ctx, p.integratorID, p.siteID)
		cancel()
		if err != nil {
			s.log().Warn("in-flight access check failed", "integrator", p.integratorID, "site", p.siteID, "err", err)
			continue
		}
		if !acc.Allowed() {
			if denied == nil {
				denied = map[pair]error{}
			}
			denied[p] = acc.Denial(p.siteID)
			s.log().Info("access withdrawn: cancelling in-flight requests", "integrator", p.integratorID, "site", p.siteID)
		}
	}
	return denied
}

// flights returns the server's registry, set up on first use.
func (s *Server) flights() *inflight {
	s.flightsOnce.Do(func() {
		s.inflight.sweep = s.sweepAccess
		s.inflight.every = orDefault(s.SweepInterval, DefaultSweepInterval)
	})
	return &s.inflight
}

// CancelInFlight cancels the in-flight requests of an integrator at a site
// (every site when siteID is empty) on this server process, each answered
// with cause (a [server.EFORBIDDEN] error). It returns how many it
// cancelled.
func (s *Server) CancelInFlight(integratorID, siteID string, cause error) int {
	if cause == nil {
		cause = server.Errorf(server.EFORBIDDEN, "access to site %s was withdrawn", siteID)
	}
	return s.flights().cancel(pair{integratorID, siteID}, cause)
}

// inFlight runs next registered as in flight for (integratorID, siteID).
// When the registry cancels it, the integrator gets the cancellation's
// cause (403, saying why) instead of whatever the interrupted handler made
// of its cancelled context, unless the response had already started.
func (s *Server) inFlight(c echo.Context, next echo.HandlerFunc, integratorID, siteID string) error {
	req := c.Request()
	ctx, done := s.flights().add(req.Context(), pair{integratorID, siteID})
	defer done()
	c.SetRequest(req.WithContext(ctx))
	err := next(c)
	if ctx.Err() != nil && req.Context().Err() == nil && !c.Response().Committed {
		if cause, ok := errors.AsType[*server.Error](context.Cause(ctx)); ok {
			return cause
		}
	}
	return err
}
