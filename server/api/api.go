// Package api is the server's HTTP interface: the integrator API (SQL
// passthrough, site status) and the agents' tunnel endpoint, on echo.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/agent/wire"
	"fhirlink/mappings"
	"fhirlink/mappings/bppremier"
	"fhirlink/mappings/zedmed"
	"fhirlink/server"
	"fhirlink/server/auth"
	"fhirlink/server/bulk"
	"fhirlink/server/hub"
)

// Limits of immediate queries, as the passthrough API documents them.
const (
	DefaultImmediateTimeout  = 60 * time.Second
	DefaultImmediateMaxBytes = 8 << 20
	DefaultMaxTimeInQueue    = 30 * time.Second
	MaxImmediateTimeInQueue  = 60 * time.Second
	// maxRequestBytes bounds a request body: SQL text and parameters.
	maxRequestBytes = 1 << 20
)

// Agents is what the API needs of the agents' sessions: the endpoint they
// dial, queries, a site's status and write outcomes, and disconnecting a
// site. A [hub.Hub] serves the agents connected to this node; a cluster
// router (server/cluster) reaches those of every node.
type Agents interface {
	http.Handler // the agents' WebSocket endpoint, wire.PathConnect
	server.Querier
	Status(siteID string) hub.Status
	Execution(ctx context.Context, siteID, executionID string) (wire.Execution, error)
	Disconnect(siteID string)
}

// Server serves the HTTP API. Set Store and Hub, then use [Server.Handler].
type Server struct {
	Store  server.Store
	Hub    Agents
	Logger *slog.Logger

	// Mappings are the FHIR mappings by PMS type (BestPractice, Zedmed).
	Mappings map[string]*mappings.Mapping
	// PublicURL is the server's external base URL for FHIR links; empty means
	// the scheme and host of each request.
	PublicURL string

	// ImmediateTimeout and ImmediateMaxBytes override the documented limits
	// (tests use small ones).
	ImmediateTimeout  time.Duration
	ImmediateMaxBytes int64

	// OAuth issues and verifies SMART access tokens; one over Store is
	// made when nil.
	OAuth *auth.Authority

	// SweepInterval is how often requests in flight are re-checked against
	// the store (pairing, blocks, quarantine) and cancelled when refused
	// (default [DefaultSweepInterval]).
	SweepInterval time.Duration

	inflight    inflight
	flightsOnce sync.Once

	// Limits are the default quotas and the rate limit (see quota.go);
	// TrustProxy takes the client address recorded in the audit log from
	// X-Forwarded-For (see audit.go).
	Limits     Limits
	TrustProxy bool
	rateOnce   sync.Once
	rate       *rateLimiter
	auditOnce  sync.Once
	auditW     *auditWriter

	keyOnce sync.Once
	key     []byte
	keyErr  error

	// Async configures async queries and webhooks (see async.go); their
	// workers run between StartWorkers and its stop function.
	Async AsyncOptions
	async asyncState

	// Exports runs FHIR Bulk Data exports (export.go); one with a
	// temporary directory is made on first use when nil.
	Exports     *bulk.Manager
	exportsOnce sync.Once
}

func (s *Server) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Handler returns the HTTP handler of the whole API.
func (s *Server) Handler() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(recoverer(s.log()), strictQuery)

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET(wire.PathConnect, echo.WrapHandler(s.Hub))
	s.agentRoutes(e)
	s.oauthRoutes(e)

	e.GET(PathAgentAudit, s.agentAudit, s.authenticateSite)
	g := e.Group("/integrator", s.audited, s.authenticate, s.rateLimited)
	g.GET("/sites", s.listSites)
	g.GET("/usage", s.usage)
	s.consentRoutes(e, g)
	g.GET("/sites/:siteId", s.siteStatus, s.requirePairing)
	g.POST("/sites/:siteId/queries/immediate", s.immediate, s.requirePairing, s.quota)
	s.asyncRoutes(g)
	s.fhirRoutes(g)
	return e
}

// DefaultMappings are the FHIR mappings of every PMS fhirlink supports,
// by PMS type.
func DefaultMappings() map[string]*mappings.Mapping {
	return map[string]*mappings.Mapping{bppremier.PMSType: bppremier.Mapping, zedmed.PMSType: zedmed.Mapping}
}

// AuthenticateAgent checks a site credential against the store; it is the
// hub's Authenticate.
func (s *Server) AuthenticateAgent(ctx context.Context, siteID, secret string) error {
	hash, err := s.Store.SiteSecretHash(ctx, siteID)
	if err != nil {
		return err
	}
	if !server.SecretMatches(secret, hash) {
		return server.Errorf(server.EUNAUTHORIZED, "wrong site credential")
	}
	return nil
}

// recoverer turns a panic into a 500 and a log line, except the one that
// aborts a streamed response on purpose.
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					log.Error("panic", "path", c.Path(), "panic", r)
					err = errors.New("panic")
				}
			}()
			return next(c)
		}
	}
}
