// Package api is the server's HTTP interface, on echo: the integrator API
// (SQL passthrough, FHIR, site status, consent), the agents' endpoints and
// the OAuth token endpoint. It mounts the routes, authenticates the caller,
// reads requests, writes answers and maps errors to each route group's
// shape (the passthrough error object, or a FHIR OperationOutcome); the
// work behind them is done by the server's other packages: passthrough
// (the query model), async (async and registered queries), webhook, quota,
// audit, inflight (cancelling work whose access was withdrawn) and auth.
package api

import (
	"context"
	"errors"
	"io"
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
	"fhirlink/server/accesscache"
	"fhirlink/server/async"
	"fhirlink/server/audit"
	"fhirlink/server/auth"
	"fhirlink/server/bulk"
	"fhirlink/server/hub"
	"fhirlink/server/inflight"
	"fhirlink/server/metrics"
	"fhirlink/server/quota"
	"fhirlink/server/webhook"
)

// maxRequestBytes bounds a request body: SQL text and parameters.
const maxRequestBytes = 1 << 20

// readBody reads the request's body, at most maxRequestBytes of it. A
// longer body is ETOOLARGE; one that cannot be read (the client went
// away, a broken chunked encoding) is EINVALID, not a size error.
func readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxRequestBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, server.Errorf(server.ETOOLARGE, "the request body is over %d bytes", maxRequestBytes)
		}
		return nil, server.Errorf(server.EINVALID, "the request body could not be read")
	}
	return body, nil
}

// Agents is what the API needs of the agents' sessions: the endpoint they
// dial, queries, a site's status and write outcomes, disconnecting a
// site, pushing settings to its agent (the admin API) and relaying a
// write grant change from the console. A [hub.Hub] serves the agents
// connected to this node; a cluster
// router (server/cluster) reaches those of every node.
type Agents interface {
	http.Handler // the agents' WebSocket endpoint, wire.PathConnect
	server.Querier
	Status(siteID string) hub.Status
	Execution(ctx context.Context, siteID, executionID string) (wire.Execution, error)
	Disconnect(siteID string)
	PushSettings(ctx context.Context, siteID string, set wire.Settings) (wire.Settings, error)
	SetWriteGrant(ctx context.Context, siteID string, ch wire.WriteGrantChange) (wire.WriteGrantState, error)
}

// Server serves the HTTP API. Set Store, Hub and the options, then use
// [Server.Handler] and [Server.StartWorkers].
type Server struct {
	Store  server.Store
	Hub    Agents
	Logger *slog.Logger
	// Metrics receives the API's measurements (requests, quota refusals,
	// audit drops, jobs); nil records none.
	Metrics *metrics.Metrics

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
	// (default [inflight.DefaultSweepInterval]).
	SweepInterval time.Duration
	// AccessChanged, when set, tells the other nodes that an integrator's
	// access at a site changed here (server/cluster), so they re-check
	// their work in flight at once ([Server.RecheckInFlight]).
	AccessChanged func(integratorID, siteID string)

	// Limits are the default quotas and the rate limit (package quota);
	// TrustProxy takes the client address recorded in the audit log from
	// X-Forwarded-For (see audit.go).
	Limits     quota.Limits
	TrustProxy bool
	// SharedRate, when set, keeps the rate limit's buckets, and those of
	// the $export poll interval (bulk.Manager.PollTokens), for every node
	// sharing it (quota.SharedRateLimiter); else each node limits alone.
	SharedRate quota.TokenStore

	keyOnce sync.Once
	key     []byte
	keyErr  error

	// Async configures async and registered queries (package async) and
	// Webhooks their webhooks (package webhook); their workers run between
	// StartWorkers and its stop function.
	Async    async.Options
	Webhooks webhook.Options

	// Exports runs FHIR Bulk Data exports (export.go); what is unset is
	// filled on first use: the state store, the result store (Async.Results,
	// else a temporary directory) and the run function.
	Exports     *bulk.Manager
	exportsOnce sync.Once

	// The parts doing the work behind the routes, each in its own
	// package, made once from the fields above by setup.
	setupOnce sync.Once
	cache     *accesscache.Cache // the store, with what requests check kept in memory
	auditLog  *audit.Writer
	quotas    *quota.Quotas
	rate      rateLimiter // nil: no rate limit
	flights   *inflight.Registry
	webhooks  *webhook.Notifier
	async     *async.Runner
}

// rateLimiter is a rate limit: one node's (quota.RateLimiter) or every
// node's (quota.SharedRateLimiter).
type rateLimiter interface {
	Allow(key string, now time.Time) (time.Duration, error)
}

// setup makes the server's parts. Handler, StartWorkers, FlushAudit and
// CancelInFlight call it, so the fields must be set before any of them.
func (s *Server) setup() {
	s.setupOnce.Do(func() {
		s.cache = accesscache.New(s.Store)
		s.auditLog = &audit.Writer{Store: s.Store, Logger: s.log(), Metrics: s.Metrics}
		s.quotas = &quota.Quotas{Store: s.cache, Limits: s.Limits}
		if s.SharedRate != nil {
			if l := quota.NewSharedRateLimiter(s.Limits, s.SharedRate, s.log()); l != nil {
				s.rate = l
			}
		} else if l := quota.NewRateLimiter(s.Limits); l != nil {
			s.rate = l
		}
		s.flights = &inflight.Registry{Store: s.cache, Every: s.SweepInterval, Logger: s.log()}
		s.webhooks = &webhook.Notifier{Store: s.Store, Options: s.Webhooks, Logger: s.log()}
		s.async = &async.Runner{Store: s.Store, Agents: s.Hub, Options: s.Async, Flights: s.flights, Webhooks: s.webhooks,
			Audit: s.auditLog, Quotas: s.quotas, RunTimeout: s.ImmediateTimeout, RunMaxBytes: s.ImmediateMaxBytes, Logger: s.log(),
			Metrics: s.Metrics}
	})
}

// StartWorkers starts the workers running async queries, registered
// queries and webhook deliveries, and the janitor deleting expired
// results. The returned function stops them, cancelling the queries running
// on this node (they are queued again for any node), and waits for them.
func (s *Server) StartWorkers() (stop func()) {
	s.setup()
	s.exports().Ready() // takes up the exports of nodes that died
	stopQueries := s.async.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.webhooks.Run(ctx)
	}()
	purged := make(chan struct{})
	go func() {
		defer close(purged)
		s.purgeIdempotencyKeys(ctx)
	}()
	return func() {
		stopQueries()
		cancel()
		<-done
		<-purged
	}
}

func (s *Server) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Handler returns the HTTP handler of the whole API.
func (s *Server) Handler() http.Handler {
	s.setup()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.observe, recoverer(s.log()), strictQuery)

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET(PathOpenAPI, s.serveOpenAPI)
	e.GET(wire.PathConnect, echo.WrapHandler(s.Hub))
	s.agentRoutes(e)
	s.oauthRoutes(e)
	s.consoleRoutes(e)

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
	return server.AuthenticateSite(ctx, s.Store, siteID, secret)
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
					log.ErrorContext(c.Request().Context(), "panic", "path", c.Path(), "panic", r)
					err = errors.New("panic")
				}
			}()
			return next(c)
		}
	}
}
