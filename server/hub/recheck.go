package hub

import (
	"context"
	"time"

	"fhirlink/server"
)

// Credential rotation takes effect on running sessions.
//
// The operator rotates a site's credential with the admin CLI, which writes
// the state store directly: there is no admin HTTP API through which to
// tell the serving process. So each session re-validates the credential it
// connected with against the store every CredentialCheck (default: the
// keepalive interval), through the same Authenticate that admitted it, and
// closes itself as soon as the store refuses it (a rotated secret, a site
// removed). The agent's reconnection then fails with the old secret. A
// check that fails for another reason (the store unreachable) leaves the
// session up; the next check tries again. The cost is one primary-key read
// per connected agent per interval; with several server nodes each node
// checks its own sessions, so no node needs telling.

func (h *Hub) credentialCheck() time.Duration { return orDefault(h.CredentialCheck, h.keepAlive()) }

// recheck re-validates the session's credential until the session ends.
func (h *Hub) recheck(ctx context.Context, siteID, secret string, s *session) {
	t := time.NewTicker(h.credentialCheck())
	defer t.Stop()
	for {
		select {
		case <-s.ys.CloseChan():
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := h.Authenticate(cctx, siteID, secret)
		cancel()
		if err == nil {
			continue
		}
		switch server.ErrorCode(err) {
		case server.EUNAUTHORIZED, server.ENOTFOUND, server.EFORBIDDEN:
			h.log().Warn("agent credential no longer valid: closing its session", "site", siteID, "reason", server.ErrorMessage(err))
			s.ys.Close()
			return
		}
		h.log().Warn("could not re-check an agent's credential", "site", siteID, "err", err)
	}
}
