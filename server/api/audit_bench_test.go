package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/labstack/echo/v4"

	"fhirlink/server"
	"fhirlink/server/sqlite"
)

// BenchmarkAuditOverhead measures what the audit middleware adds to a
// request: compare the "audited" and "bare" runs. The store write happens
// off the request's path, in batches.
func BenchmarkAuditOverhead(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := &Server{Store: st}
	s.setup()
	handler := func(c echo.Context) error {
		c.Set(ctxIntegrator, &server.Integrator{ID: "i"})
		auditSQL(c, "SELECT 1", "reader")
		auditResult(c, "q", 1, 10)
		return c.String(http.StatusOK, "ok")
	}
	for _, tc := range []struct {
		name string
		mw   []echo.MiddlewareFunc
	}{{"bare", nil}, {"audited", []echo.MiddlewareFunc{s.audited}}} {
		b.Run(tc.name, func(b *testing.B) {
			e := echo.New()
			e.POST("/integrator/sites/:siteId/queries/immediate", handler, tc.mw...)
			req := httptest.NewRequest(http.MethodPost, "/integrator/sites/s/queries/immediate", nil)
			for b.Loop() {
				e.ServeHTTP(httptest.NewRecorder(), req)
			}
			s.FlushAudit(context.Background())
		})
	}
}
