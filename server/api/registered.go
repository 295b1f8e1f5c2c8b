package api

import (
	"encoding/base64"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"fhirlink/server"
	"fhirlink/server/async"
	"fhirlink/server/auth"
	"fhirlink/server/passthrough"
)

// Registered queries: the routes of package async, which schedules and
// runs them.

func (s *Server) registeredRoutes(g *echo.Group) {
	g.POST("/sites/:siteId/queries/registered", s.createRegistered, s.requirePairing, s.quota)
	g.GET("/sites/:siteId/queries/registered", s.listRegistered, s.requirePairing)
	g.GET("/sites/:siteId/queries/registered/:regId", s.getRegistered, s.requirePairing)
	g.DELETE("/sites/:siteId/queries/registered/:regId", s.cancelRegistered, s.requirePairing)
	g.GET("/sites/:siteId/queries/registered/:regId/results", s.registeredResult, s.requirePairing)
}

// POST /integrator/sites/{siteId}/queries/registered
func (s *Server) createRegistered(c echo.Context) error {
	if s.Async.Results == nil {
		return server.Errorf(server.EUNAVAILABLE, "registered queries are not enabled on this server (no result store)")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxRequestBytes))
	if err != nil {
		return server.Errorf(server.EINVALID, "could not read the request body (at most %d bytes)", maxRequestBytes)
	}
	reg, err := s.async.ParseRegistration(body)
	if err != nil {
		return err
	}
	auditSQL(c, reg.Query.Text, "registered reader")
	if err := requireScope(c, auth.Passthrough, "r", "run SQL passthrough queries"); err != nil {
		return err
	}
	id, err := s.async.Register(c.Request().Context(), integrator(c).ID, site(c).ID, reg)
	if err != nil {
		return err
	}
	auditResult(c, id, 0, 0)
	return c.JSON(http.StatusAccepted, map[string]string{"id": id})
}

// GET /integrator/sites/{siteId}/queries/registered
func (s *Server) listRegistered(c echo.Context) error {
	list, err := s.async.ListRegistered(c.Request().Context(), integrator(c).ID, site(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		RegisteredQueries []*async.Registered `json:"registeredQueries"`
	}{list})
}

// GET /integrator/sites/{siteId}/queries/registered/{queryId}
func (s *Server) getRegistered(c echo.Context) error {
	obj, err := s.async.GetRegistered(c.Request().Context(), integrator(c).ID, site(c).ID, c.Param("regId"))
	if err != nil {
		return err
	}
	noteOf(c).queryID = obj.ID
	return c.JSON(http.StatusOK, obj)
}

// DELETE /integrator/sites/{siteId}/queries/registered/{queryId}: 204.
func (s *Server) cancelRegistered(c echo.Context) error {
	id := c.Param("regId")
	if err := s.async.CancelRegistered(c.Request().Context(), integrator(c).ID, site(c).ID, id); err != nil {
		return err
	}
	noteOf(c).queryID = id
	return c.NoContent(http.StatusNoContent)
}

// GET .../queries/registered/{queryId}/results: the latest result,
// {data, parameters, rows, size}.
func (s *Server) registeredResult(c echo.Context) error {
	id := c.Param("regId")
	r, rows, size, err := s.async.RegisteredResult(c.Request().Context(), integrator(c).ID, site(c).ID, id)
	if err != nil {
		return err
	}
	defer r.Close()
	note := noteOf(c)
	note.queryID, note.rows, note.interaction = id, rows, "results"
	note.countable, note.counted = true, true
	c.Response().Header().Set("Content-Type", "application/json")
	c.Response().Header().Set("Cache-Control", "private, no-store")
	c.Response().WriteHeader(http.StatusOK)
	w := c.Response()
	io.WriteString(w, `{"data":"`)
	enc := base64.NewEncoder(base64.StdEncoding, w)
	if err := passthrough.CopyArray(enc, r); err != nil {
		panic(http.ErrAbortHandler)
	}
	enc.Close()
	io.WriteString(w, `","parameters":[],"rows":`+strconv.FormatInt(rows, 10)+`,"size":`+strconv.FormatInt(size, 10)+`}`)
	return nil
}
