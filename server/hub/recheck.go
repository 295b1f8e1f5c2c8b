package hub

import (
	"context"
	"time"

	"fhirlink/server"
)

// Credential changes take effect on running sessions.
//
// A site's agent credential changes when the operator rotates it (the
// admin CLI writes the state store directly; the admin HTTP API also
// disconnects the site at once, on every node), when its agent re-enrols,
// or when the site's row is deleted. Every CredentialCheck (default: the
// keepalive interval) the hub sweeps: one CredentialChanges read asks the
// store which sites' credentials changed since the previous sweep, and only
// the sessions of those sites are re-validated, through the same
// Authenticate that admitted them; a refused one is closed, and the agent's
// reconnection then fails with the old secret. So a node makes one store
// read per interval, plus one per session of a changed site, whatever the
// number of sessions it holds (the per-session check it replaces made
// 2,000 reads a second at 10,000 agents, more than SQLite kept up with).
//
// Each sweep asks from sweepOverlap before the store's clock at the
// previous one, so that a change whose transaction committed after the
// time it carries is not missed, nor one made while a session was being
// admitted (between its Authenticate and its attach, at most the agent
// info's 30 s); a site changed lately is so re-validated at a few sweeps,
// which costs a read each.
//
// A sweep that fails (the store unreachable, or an Authenticate failing
// for a reason other than a refusal) keeps the sessions and the point it
// asked from: the next sweep asks again from there, so a change made
// meanwhile closes its sessions at the first sweep that succeeds. The store
// remembers changes for [server.CredentialChangesKept]; when no sweep has
// succeeded for half of that, the next one re-validates every session
// once, one after the other, as each session's own check did before.

// sweepOverlap is how far before the previous sweep's store clock the next
// sweep asks from.
const sweepOverlap = time.Minute

// checkTimeout bounds each store read of a sweep.
const checkTimeout = 10 * time.Second

func (h *Hub) credentialCheck() time.Duration { return orDefault(h.CredentialCheck, h.keepAlive()) }

// startSweep starts the credential sweep unless it runs (or cannot run:
// no CredentialChanges); [Hub.Close] stops it.
func (h *Hub) startSweep() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopSweep != nil || h.CredentialChanges == nil {
		return
	}
	h.stopSweep = make(chan struct{})
	go h.sweepCredentials(h.stopSweep)
}

// sweepCredentials sweeps every CredentialCheck until stop is closed.
func (h *Hub) sweepCredentials(stop <-chan struct{}) {
	t := time.NewTicker(h.credentialCheck())
	defer t.Stop()
	var since time.Time // by the store's clock; zero: every change it keeps
	lastGood := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		full := time.Since(lastGood) > orDefault(h.changesKept, server.CredentialChangesKept)/2
		if next, ok := h.sweep(since, full); ok {
			since, lastGood = next, time.Now()
		}
	}
}

// sweep re-validates the sessions of the sites whose credential changed
// since (every session when full), closing those refused. It reports
// whether it checked them all, and where the next sweep asks from.
func (h *Hub) sweep(since time.Time, full bool) (next time.Time, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	changed, now, err := h.CredentialChanges(ctx, since)
	cancel()
	h.Metrics.CredentialReads(1)
	if err != nil {
		h.log().Warn("could not ask the state store which agent credentials changed; sessions kept, asked again at the next sweep", "err", err)
		return since, false
	}
	var sites []string
	if !full {
		sites = changed
	}
	ok = true
	for _, c := range h.held(sites, full) {
		ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
		err := h.Authenticate(ctx, c.siteID, c.sess.secret)
		cancel()
		h.Metrics.CredentialReads(1)
		if err == nil {
			continue
		}
		switch server.ErrorCode(err) {
		case server.EUNAUTHORIZED, server.ENOTFOUND, server.EFORBIDDEN:
			h.log().Warn("agent credential no longer valid: closing its session", "site", c.siteID, "reason", server.ErrorMessage(err))
			c.sess.ys.Close()
		default:
			h.log().Warn("could not re-check an agent's credential; session kept, checked again at the next sweep", "site", c.siteID, "err", err)
			ok = false
		}
	}
	return now.Add(-orDefault(h.overlap, sweepOverlap)), ok
}

type heldSession struct {
	siteID string
	sess   *session
}

// held returns the sessions of the given sites that the hub holds, or of
// every site when all.
func (h *Hub) held(siteIDs []string, all bool) []heldSession {
	h.mu.Lock()
	defer h.mu.Unlock()
	var list []heldSession
	if all {
		for id, st := range h.sites {
			if st.sess != nil {
				list = append(list, heldSession{id, st.sess})
			}
		}
		return list
	}
	for _, id := range siteIDs {
		if st := h.sites[id]; st != nil && st.sess != nil {
			list = append(list, heldSession{id, st.sess})
		}
	}
	return list
}
