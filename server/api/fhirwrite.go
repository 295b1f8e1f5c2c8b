package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"fhirlink/server"
	"fhirlink/server/fhirwrite"
	"fhirlink/server/hub"
)

// fhirWriteRoutes are every FHIR write route, each through
// [Server.writeGuard] (scope, the practice's consent, Idempotency-Key,
// audit) and [Server.fhirWrite] (the answer).
func (s *Server) fhirWriteRoutes(f *echo.Group) {
	f.POST("/Appointment", s.fhirWrite(func(c echo.Context, w *fhirwrite.Site, body []byte, execID string) (fhirwrite.Result, error) {
		return w.CreateAppointment(c.Request().Context(), body, execID)
	}), s.writeGuard("Appointment", "create"))
	f.POST("/Appointment/$book", s.fhirWrite(func(c echo.Context, w *fhirwrite.Site, body []byte, execID string) (fhirwrite.Result, error) {
		return w.BookSlot(c.Request().Context(), body, execID)
	}), s.writeGuard("Appointment", "create"))
	f.PUT("/Appointment/:id", s.fhirWrite(func(c echo.Context, w *fhirwrite.Site, body []byte, execID string) (fhirwrite.Result, error) {
		return w.UpdateAppointment(c.Request().Context(), c.Param("id"), body, c.Request().Header.Get("If-Match"), execID)
	}), s.writeGuard("Appointment", "update"))
	f.PATCH("/Appointment/:id", s.fhirWrite(func(c echo.Context, w *fhirwrite.Site, body []byte, execID string) (fhirwrite.Result, error) {
		return w.PatchAppointment(c.Request().Context(), c.Param("id"), c.Request().Header.Get("Content-Type"), body, c.Request().Header.Get("If-Match"), execID)
	}), s.writeGuard("Appointment", "patch"))
	f.POST("/Patient", s.fhirWrite(func(c echo.Context, w *fhirwrite.Site, body []byte, execID string) (fhirwrite.Result, error) {
		return w.CreatePatient(c.Request().Context(), body, c.Request().Header.Get("If-None-Exist"), execID)
	}), s.writeGuard("Patient", "create"))
}

// writeFunc is one FHIR write interaction: the request's body, and the
// execution id that makes the agent run its write at most once.
type writeFunc func(c echo.Context, w *fhirwrite.Site, body []byte, executionID string) (fhirwrite.Result, error)

// fhirWrite answers a write interaction that [Server.writeGuard] let
// through: it runs fn on the body the guard read under the request's execution id
// (the same for a retry under one Idempotency-Key, so the agent runs the
// write once) and answers its resource (201 with Location, or 200) with
// its ETag.
func (s *Server) fhirWrite(fn writeFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		w, err := s.fhirWriteSite(c)
		if err != nil {
			return err
		}
		body, _ := c.Get(ctxWriteBody).([]byte)
		res, err := fn(c, w, body, server.ExecutionID(c.Request().Context()))
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

// fhirWriteSite is the site's writes for the calling integrator (the
// guard checked that it may write there).
func (s *Server) fhirWriteSite(c echo.Context) (*fhirwrite.Site, error) {
	read, err := s.fhirSite(c)
	if err != nil {
		return nil, err
	}
	return fhirwrite.New(read, s.Hub, integrator(c).ID), nil
}

// siteWrites reports whether the calling integrator may write at the
// site now (its agent allows writes, the practice granted them) and the
// site's engine: what the CapabilityStatement needs to advertise writes.
func (s *Server) siteWrites(c echo.Context) (string, bool) {
	st := s.Hub.Status(site(c).ID)
	if st.Availability != hub.Online {
		return "", false
	}
	return st.Info.Engine, s.writeDenial(c.Request().Context(), integrator(c).ID, site(c).ID, st) == nil
}
