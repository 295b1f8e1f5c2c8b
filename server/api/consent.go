package api

import (
	"encoding/json"
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
