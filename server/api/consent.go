package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// consentRoutes are the practice's consent endpoints, which its agent calls
// with the site credential, and the integrator's redemption of a pairing
// code (in g, the authenticated integrator group).
func (s *Server) consentRoutes(e *echo.Echo, g *echo.Group) {
	e.POST(wire.PathPairingCodes, s.issuePairingCode, s.authenticateSite)
	e.GET(wire.PathPairings, s.listPairings, s.authenticateSite)
	e.DELETE(wire.PathPairings+"/:integratorId", s.revokePairing, s.authenticateSite)
	e.PUT(wire.PathWriteGrants+"/:integratorId", s.setWriteGrant, s.authenticateSite)
	e.DELETE(wire.PathWriteGrants+"/:integratorId", s.setWriteGrant, s.authenticateSite)
	g.POST("/pair-site", s.pairSite)
}

const ctxSiteID = "siteId"

// authenticateSite admits a request carrying a site credential (Basic, site
// id and secret, as the tunnel's).
func (s *Server) authenticateSite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		siteID, secret, ok := c.Request().BasicAuth()
		if !ok {
			return server.Errorf(server.EUNAUTHORIZED, "missing site credential: send the site id and agent secret as HTTP Basic authentication")
		}
		if err := s.AuthenticateAgent(c.Request().Context(), siteID, secret); err != nil {
			if code := server.ErrorCode(err); code == server.ENOTFOUND || code == server.EUNAUTHORIZED {
				// One answer for both: nothing tells which part was wrong.
				return server.Errorf(server.EUNAUTHORIZED, "invalid site credential")
			}
			return err
		}
		c.Set(ctxSiteID, siteID)
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// POST /agent/v1/pairing-codes issues a one-time pairing code for the
// calling site.
func (s *Server) issuePairingCode(c echo.Context) error {
	var req wire.PairingCodeRequest
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 64<<10))
	if err != nil {
		return server.Errorf(server.EINVALID, "could not read the request body")
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return server.Errorf(server.EINVALID, "malformed request: send {\"ttlSeconds\": n} or nothing")
		}
	}
	siteID := c.Get(ctxSiteID).(string)
	code, expires, err := server.IssuePairingCode(c.Request().Context(), s.Store, siteID, req.TTLSeconds, time.Now())
	if err != nil {
		return err
	}
	s.log().InfoContext(c.Request().Context(), "pairing code issued", "site", siteID, "expires", expires, "by", "practice")
	return c.JSON(http.StatusCreated, wire.PairingCodeResponse{SiteID: siteID, Code: code, Expires: expires})
}

// GET /agent/v1/pairings lists the integrators paired with the calling site.
func (s *Server) listPairings(c echo.Context) error {
	siteID := c.Get(ctxSiteID).(string)
	list, err := s.Store.Pairings(c.Request().Context(), siteID)
	if err != nil {
		return err
	}
	out := wire.PairingsResponse{SiteID: siteID, Pairings: []wire.Pairing{}}
	for _, p := range list {
		out.Pairings = append(out.Pairings, wire.Pairing{IntegratorID: p.IntegratorID, IntegratorName: p.IntegratorName, PairedAt: p.CreatedAt})
	}
	return c.JSON(http.StatusOK, out)
}

// DELETE /agent/v1/pairings/{integratorId} revokes a pairing of the calling
// site. The integrator's requests in flight at the site are cancelled at
// once on this server node, and by the sweep within a second on others.
func (s *Server) revokePairing(c echo.Context) error {
	siteID, integratorID := c.Get(ctxSiteID).(string), c.Param("integratorId")
	err := s.Store.Unpair(c.Request().Context(), integratorID, siteID)
	if server.ErrorCode(err) == server.ENOTFOUND {
		return server.Errorf(server.ENOTFOUND, "integrator %s is not paired with this site", integratorID)
	} else if err != nil {
		return err
	}
	n := s.CancelInFlight(integratorID, siteID,
		server.Errorf(server.EFORBIDDEN, "the practice revoked this integrator's pairing with site %s", siteID))
	s.log().InfoContext(c.Request().Context(), "pairing revoked by the practice", "site", siteID, "integrator", integratorID, "cancelled", n)
	return c.NoContent(http.StatusNoContent)
}

// PUT /agent/v1/write-grants/{integratorId} grants an integrator writes at
// the calling site, DELETE revokes them; the next write is decided by
// the new grant (the agent keeps its own record and enforces it too).
func (s *Server) setWriteGrant(c echo.Context) error {
	siteID, integratorID := c.Get(ctxSiteID).(string), c.Param("integratorId")
	ctx := c.Request().Context()
	var err error
	if c.Request().Method == http.MethodPut {
		err = s.Store.GrantWrites(ctx, integratorID, siteID)
	} else {
		err = s.Store.RevokeWrites(ctx, integratorID, siteID)
	}
	if server.ErrorCode(err) == server.ENOTFOUND {
		return server.Errorf(server.ENOTFOUND, "no integrator %s: 'fhirlink agent pairings' lists the integrators paired with this site", integratorID)
	} else if err != nil {
		return err
	}
	s.log().Info("write grant changed by the practice", "site", siteID, "integrator", integratorID, "granted", c.Request().Method == http.MethodPut)
	return c.NoContent(http.StatusNoContent)
}

// POST /integrator/pair-site?practiceManagementSiteId=&practiceManagementName=&pairingCode=
// redeems a pairing code: the caller is paired with the code's site, and
// gets the site's status object.
func (s *Server) pairSite(c echo.Context) error {
	code := strings.TrimSpace(c.QueryParam("pairingCode"))
	if code == "" {
		return server.Errorf(server.EINVALID, "pairingCode is required: ask the practice to issue one ('fhirlink agent pairing-code')")
	}
	in := integrator(c)
	site, err := server.PairWithCode(c.Request().Context(), s.Store, code, in.ID,
		strings.TrimSpace(c.QueryParam("practiceManagementSiteId")), c.QueryParam("practiceManagementName"), time.Now())
	if err != nil {
		return err
	}
	s.log().InfoContext(c.Request().Context(), "site paired", "site", site.ID, "integrator", in.ID, "from", c.RealIP())
	return c.JSON(http.StatusOK, s.statusOf(site))
}

// consoleGrants are the console's write grant controls
// (console.WriteGrants): the site's agent keeps the record that decides,
// so a change is asked of it through the tunnel, and the server's copy
// follows what the agent did.
type consoleGrants struct{ s *Server }

// WritesGranted reads the server's copy of a grant.
func (g consoleGrants) WritesGranted(ctx context.Context, integratorID, siteID string) (bool, error) {
	a, err := g.s.Store.Access(ctx, integratorID, siteID)
	return a.WritesGranted, err
}

// SetWriteGrant grants (when the agent takes grants from the console) or
// revokes an integrator's writes at the site's agent and in the server's
// copy. A grant changes nothing unless the agent applied it first; a
// revocation changes the server's copy first and reports agentTold false
// when the agent cannot be told now (it is told when it next connects,
// [Server.SyncWriteGrants]).
func (g consoleGrants) SetWriteGrant(ctx context.Context, integratorID, siteID string, granted bool) (agentTold bool, err error) {
	s := g.s
	ch := wire.WriteGrantChange{IntegratorID: integratorID, Granted: granted, Source: wire.GrantSourceConsole}
	if !granted {
		// From here on the server refuses the integrator's writes, even
		// before the agent hears of it.
		if err := s.Store.RevokeWrites(ctx, integratorID, siteID); err != nil {
			return false, err
		}
		_, err := s.Hub.SetWriteGrant(ctx, siteID, ch)
		if server.ErrorCode(err) == server.EUNAVAILABLE {
			s.log().InfoContext(ctx, "write grant revoked in the console; the agent is told when it connects", "site", siteID, "integrator", integratorID)
			return false, nil
		}
		if err != nil {
			return false, agentGrantError(err)
		}
		s.log().InfoContext(ctx, "write grant revoked in the console", "site", siteID, "integrator", integratorID)
		return true, nil
	}
	st, err := s.Hub.SetWriteGrant(ctx, siteID, ch)
	switch {
	case server.ErrorCode(err) == server.EUNAVAILABLE:
		return false, server.Errorf(server.EUNAVAILABLE, "the practice's agent is not connected, so writes were not granted and nothing changed: "+
			"grant them once it is online, or at the practice server with 'fhirlink agent grant-writes --integrator %s'", integratorID)
	case err != nil:
		return false, agentGrantError(err)
	case !st.Granted:
		return false, fmt.Errorf("the agent of site %s answered a grant of %s without granting it", siteID, integratorID)
	}
	if err := s.Store.GrantWrites(ctx, integratorID, siteID); err != nil {
		// Take the agent's grant back, so the two agree; were that lost
		// too, the next connection's sync removes it.
		if _, uerr := s.Hub.SetWriteGrant(ctx, siteID, wire.WriteGrantChange{IntegratorID: integratorID, Source: wire.GrantSourceConsole}); uerr != nil {
			s.log().WarnContext(ctx, "write grant not recorded and not undone at the agent", "site", siteID, "integrator", integratorID, "err", uerr)
		}
		return true, err
	}
	s.log().InfoContext(ctx, "write grant given in the console", "site", siteID, "integrator", integratorID)
	return true, nil
}

// agentGrantError is what the console shows of an agent's failure to
// change a grant: its refusal as is, anything else as internal.
func agentGrantError(err error) error {
	if werr, ok := errors.AsType[*wire.Error](err); ok {
		if werr.Kind == wire.KindForbidden || werr.Kind == wire.KindInvalid {
			return &server.Error{Code: server.EFORBIDDEN, Message: werr.Message}
		}
		return fmt.Errorf("the agent failed the write grant change: %w", werr)
	}
	return err
}

// syncTimeout bounds [Server.SyncWriteGrants].
const syncTimeout = 30 * time.Second

// SyncWriteGrants revokes, at a site's agent that just connected (info is
// its first report), each write grant its record lists that the server's
// copy does not hold: a revocation made in the console while the agent was
// offline. It only ever revokes: a grant needs the agent's consent
// (--console-grants) or the practice at its server. Set it as the hub's
// Connected.
func (s *Server) SyncWriteGrants(siteID string, info wire.Info) {
	ctx, cancel := context.WithTimeout(context.Background(), syncTimeout)
	defer cancel()
	for _, id := range info.WriteGrants {
		a, err := s.Store.Access(ctx, id, siteID)
		if err != nil {
			s.log().Warn("write grant sync", "site", siteID, "err", err)
			return
		}
		if a.WritesGranted {
			continue
		}
		if _, err := s.Hub.SetWriteGrant(ctx, siteID, wire.WriteGrantChange{IntegratorID: id, Source: wire.GrantSourceSync}); err != nil {
			s.log().Warn("write grant sync: the agent did not revoke", "site", siteID, "integrator", id, "err", err)
			return
		}
		s.log().Info("write grant revoked at the agent on connection: the server's copy no longer holds it", "site", siteID, "integrator", id)
	}
}
