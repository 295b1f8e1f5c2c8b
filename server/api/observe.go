package api

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// RequestIDHeader carries a request's id both ways: a client may send its
// own (kept when [server.ValidRequestID] accepts it, else replaced), and
// every answer carries the one used.
const RequestIDHeader = "X-Request-Id"

// observe is the outermost middleware: it gives the request its id (in the
// answer's header and the request's context, so that log lines and the
// queries sent to agents carry it), answers errors itself so that the
// status is known, and then logs the request and records its metrics.
// The log line names the route pattern, not the path or query string,
// which may hold identifiers of patients; those are in the audit log.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		setRequestID(c)
		req := c.Request()
		route := c.Path()
		if route == wire.PathConnect {
			return next(c) // an agent's session, logged by the hub: not a request that ends
		}
		// Deferred, so that an answer aborted by a panic is recorded too.
		defer func() {
			resp := c.Response()
			d := time.Since(start)
			s.Metrics.ObserveRequest(route, req.Method, resp.Status, d)
			level := slog.LevelInfo
			if route == "/healthz" {
				level = slog.LevelDebug // load balancers ask every few seconds
			}
			attrs := []slog.Attr{slog.String("method", req.Method), slog.String("route", route),
				slog.Int("status", resp.Status), slog.Int64("bytes", resp.Size), slog.Float64("ms", float64(d.Microseconds())/1000)}
			if in, ok := c.Get(ctxIntegrator).(*server.Integrator); ok {
				attrs = append(attrs, slog.String("integrator", in.ID))
			}
			if site := c.Param("siteId"); site != "" {
				attrs = append(attrs, slog.String("site", truncate(site, 64)))
			}
			s.log().LogAttrs(req.Context(), level, "request", attrs...)
		}()
		if err := next(c); err != nil {
			c.Error(err)
		}
		return nil
	}
}

// setRequestID gives the request its id: the client's X-Request-Id when
// it is sane, else a new one; it answers it in the same header and puts
// it in the request's context.
func setRequestID(c echo.Context) {
	req := c.Request()
	id := req.Header.Get(RequestIDHeader)
	if !server.ValidRequestID(id) {
		id = server.NewRequestID()
	}
	c.Response().Header().Set(RequestIDHeader, id)
	c.SetRequest(req.WithContext(server.WithRequestID(req.Context(), id)))
}

// requestID is [setRequestID] as a middleware, for the admin listener
// (the main one's observe sets it).
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		setRequestID(c)
		return next(c)
	}
}
