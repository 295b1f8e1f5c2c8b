package api

import (
	"github.com/labstack/echo/v4"

	"fhirlink/server"
	"fhirlink/server/admin"
	"fhirlink/server/console"
)

// consoleRoutes mount the web console (package console) at console.Path on
// the main listener: practices and integrators reach this listener already
// (their agents and API calls), while the admin listener is for operators
// only. Its HTML routes are not part of the API, nor of its OpenAPI
// document.
func (s *Server) consoleRoutes(e *echo.Echo) {
	c := &console.Console{
		Store: s.Store, Admin: &admin.Service{Store: s.Store, Agents: s.Hub}, Agents: s.Hub, Quotas: s.quotas,
		Audit:      func(rec *server.AuditRecord) { s.auditLog.Add(rec, nil) },
		ClientAddr: s.clientAddr, Cancel: s.CancelInFlight, TrustProxy: s.TrustProxy, Logger: s.log(),
		WriteGrants: consoleGrants{s},
	}
	h := echo.WrapHandler(c.Handler())
	e.Any(console.Path, h)
	e.Any(console.Path+"/*", h)
}
