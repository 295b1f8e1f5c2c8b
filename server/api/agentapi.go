package api

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// agentRoutes are the endpoints an agent calls outside its session: the
// enrollment exchange and the clock. Neither takes a credential; an
// enrollment code is the credential of the first.
func (s *Server) agentRoutes(e *echo.Echo) {
	e.POST(wire.PathEnroll, s.enroll)
	e.GET(wire.PathTime, func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.JSON(http.StatusOK, wire.TimeResponse{Time: time.Now().UTC()})
	})
}

// enroll exchanges a one-time enrollment code for a fresh site credential.
// The old credential stops working in the same transaction, and the session
// it holds (if any) is closed, so a re-enrolled server takes over at once.
func (s *Server) enroll(c echo.Context) error {
	var req wire.EnrollRequest
	if err := json.NewDecoder(io.LimitReader(c.Request().Body, 64<<10)).Decode(&req); err != nil {
		return server.Errorf(server.EINVALID, "malformed enrollment request: send {\"code\": \"...\"}")
	}
	if req.Code == "" {
		return server.Errorf(server.EINVALID, "missing code: send the enrollment code the operator issued")
	}
	ctx := c.Request().Context()
	siteID, secret, err := server.Enroll(ctx, s.Store, req.Code, time.Now())
	if err != nil {
		return err
	}
	s.Hub.Disconnect(siteID)
	s.log().InfoContext(c.Request().Context(), "site enrolled", "site", siteID, "host", req.Hostname, "version", req.Version, "from", c.RealIP())
	resp := wire.EnrollResponse{SiteID: siteID, Secret: secret}
	if site, err := s.Store.Site(ctx, siteID); err == nil {
		resp.Name, resp.PMSType, resp.PracticeManagementSiteID = site.Name, site.PMSType, site.PracticeManagementSiteID
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, resp)
}
