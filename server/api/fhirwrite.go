package api

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"fhirlink/fhir"
	"fhirlink/server"
	"fhirlink/server/fhirwrite"
	"fhirlink/server/hub"
)

// fhirWriteRoutes are every FHIR write route, each through [Server.fhirWrite]:
// the one place that decides who may write.
func (s *Server) fhirWriteRoutes(f *echo.Group) {
	f.POST("/Appointment", s.fhirWrite("Appointment", "c", "book appointments", func(c echo.Context, w *fhirwrite.Site, body []byte, execID string) (fhirwrite.Result, error) {
		return w.CreateAppointment(c.Request().Context(), body, execID)
	}))
	f.POST("/Appointment/$book", s.fhirWrite("Appointment", "c", "book appointments", func(c echo.Context, w *fhirwrite.Site, body []byte, execID string) (fhirwrite.Result, error) {
		return w.BookSlot(c.Request().Context(), body, execID)
	}))
	f.PUT("/Appointment/:id", s.fhirWrite("Appointment", "u", "change appointments", func(c echo.Context, w *fhirwrite.Site, body []byte, execID string) (fhirwrite.Result, error) {
		return w.UpdateAppointment(c.Request().Context(), c.Param("id"), body, c.Request().Header.Get("If-Match"), execID)
	}))
	f.POST("/Patient", s.fhirWrite("Patient", "c", "register patients", func(c echo.Context, w *fhirwrite.Site, body []byte, execID string) (fhirwrite.Result, error) {
		return w.CreatePatient(c.Request().Context(), body, c.Request().Header.Get("If-None-Exist"), execID)
	}))
	f.PATCH("/Appointment/:id", s.fhirWrite("Appointment", "u", "change appointments", func(c echo.Context, w *fhirwrite.Site, body []byte, execID string) (fhirwrite.Result, error) {
		return w.PatchAppointment(c.Request().Context(), c.Param("id"), c.Request().Header.Get("Content-Type"), body, c.Request().Header.Get("If-Match"), execID)
	}))
}

// writeFunc is one FHIR write interaction: the request's body, and the
// execution id that makes the agent run its write at most once.
type writeFunc func(c echo.Context, w *fhirwrite.Site, body []byte, executionID string) (fhirwrite.Result, error)

// fhirWrite wraps a write interaction on typ with the checks every write
// needs: the scope (perms on typ, SMART v2 .c or .u; v1 .write covers
// both) and a site whose agent allows writes; then it reads the body,
// runs fn and answers its resource (201 with Location, or 200) with its
// ETag.
func (s *Server) fhirWrite(typ, perms, what string, fn writeFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := requireScope(c, typ, perms, what); err != nil {
			return err
		}
		w, err := s.fhirWriteSite(c)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxRequestBytes))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return server.Errorf(server.ETOOLARGE, "request body over %d bytes", maxRequestBytes)
			}
			return server.Errorf(server.EINVALID, "could not read the request body")
		}
		res, err := fn(c, w, body, newExecutionID(c.Request().Context()))
		if err != nil {
			return err
		}
		auditRows(c, 1)
		h := c.Response().Header()
		if res.Version != "" {
			h.Set("ETag", res.Version)
		}
		if res.Status == http.StatusCreated {
			h.Set("Location", s.fhirBaseURL(c, site(c).ID)+"/"+res.Type+"/"+res.ID)
		}
		return fhirJSON(c, res.Status, []byte(res.Resource))
	}
}

// newExecutionID is the id a write runs under at the agent, at most once:
// a fresh one for now (an idempotency key would give the same id to a
// retry).
func newExecutionID(context.Context) string { return uuid.NewString() }

// fhirWriteSite is the site's writes, when its agent is online and allows
// writes.
func (s *Server) fhirWriteSite(c echo.Context) (*fhirwrite.Site, error) {
	read, err := s.fhirSite(c)
	if err != nil {
		return nil, err
	}
	if !s.Hub.Status(read.ID()).Info.AllowWrites {
		return nil, fhir.Errorf(http.StatusForbidden, fhir.IssueForbidden,
			"this site is read-only: the practice has not enabled writes (the agent's --allow-writes), so FHIR writes are refused")
	}
	return fhirwrite.New(read, s.Hub), nil
}

// siteWrites reports whether the site's agent is online and allows writes,
// and its engine: what the CapabilityStatement needs to advertise writes.
func (s *Server) siteWrites(siteID string) (string, bool) {
	st := s.Hub.Status(siteID)
	return st.Info.Engine, st.Availability == hub.Online && st.Info.AllowWrites
}
