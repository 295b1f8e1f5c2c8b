package api

import (
	"context"
	"errors"

	"github.com/labstack/echo/v4"

	"fhirlink/server"
)

// CancelInFlight cancels the in-flight requests of an integrator at a site
// (every site when siteID is empty) on this server process, each answered
// with cause (a [server.EFORBIDDEN] error), and announces the change to the
// other nodes (AccessChanged). It returns how many it cancelled here. See
// package inflight.
func (s *Server) CancelInFlight(integratorID, siteID string, cause error) int {
	s.setup()
	if s.AccessChanged != nil {
		s.AccessChanged(integratorID, siteID)
	}
	return s.flights.Cancel(integratorID, siteID, cause)
}

// RecheckInFlight re-reads the access of the integrator's in-flight work at
// a site (every site when siteID is empty) and cancels what is no longer
// allowed: another node announced a change. It returns how many it
// cancelled.
func (s *Server) RecheckInFlight(integratorID, siteID string) int {
	s.setup()
	return s.flights.Recheck(integratorID, siteID)
}

// inFlight runs next registered as in flight for (integratorID, siteID).
// When the registry cancels it, the integrator gets the cancellation's
// cause (403, saying why) instead of whatever the interrupted handler made
// of its cancelled context, unless the response had already started.
func (s *Server) inFlight(c echo.Context, next echo.HandlerFunc, integratorID, siteID string) error {
	req := c.Request()
	ctx, done := s.flights.Add(req.Context(), integratorID, siteID)
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
