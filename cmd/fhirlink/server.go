package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"fhirlink/server"
	"fhirlink/server/api"
	"fhirlink/server/hub"
	"fhirlink/server/metrics"
)

var serverCommand = &command{
	name:  "server",
	usage: "server [flags]",
	summary: `Runs the cloud server: the integrator API (FHIR R4 and SQL passthrough), the
OAuth token endpoint, and the endpoint agents dial. Serve it behind TLS: either give --tls-cert and --tls-key, or put
it behind a TLS-terminating proxy that passes WebSocket upgrades.`,
	flags: func(fs *flag.FlagSet) func(*cmdContext) error {
		listen := fs.String("listen", "127.0.0.1:8080", "address to listen on (host:port)")
		database := fs.String("database", "fhirlink-state.db", databaseHelp)
		tlsCert := fs.String("tls-cert", "", "PEM certificate chain file; with --tls-key, serves HTTPS")
		tlsKey := fs.String("tls-key", "", "PEM private key file")
		logLevel := fs.String("log-level", "info", "debug, info, warn or error")
		logFormat := fs.String("log-format", "json", "json (one object a line, for log collectors) or text")
		metricsAddr := fs.String("metrics-addr", "", "address of a separate listener serving Prometheus metrics at /metrics,\n      e.g. 127.0.0.1:9464 (default: none)")
		limits := limitFlags(fs)
		async := asyncFlags(fs)
		clustered := clusterFlags(fs)
		adminAPI := adminAPIFlags(fs)
		return func(c *cmdContext) error {
			log, err := logger(c.stderr, *logLevel, *logFormat)
			if err != nil {
				return err
			}
			if (*tlsCert == "") != (*tlsKey == "") {
				return errors.New("--tls-cert and --tls-key go together")
			}
			store, err := openStore(c.ctx, *database)
			if err != nil {
				return err
			}
			defer store.Close()
			st := newStack(store, log)
			stopLimits, err := limits(c.ctx, st, store)
			if err != nil {
				return err
			}
			defer stopLimits()
			stopCluster, err := clustered(st)
			if err != nil {
				return err
			}
			defer stopCluster() // after the workers and the HTTP servers, which route through it
			stopAdmin, err := adminAPI(st)
			if err != nil {
				return err
			}
			defer stopAdmin()
			stopAsync, err := async(st)
			if err != nil {
				return err
			}
			defer stopAsync() // before stopLimits: the workers write audit records
			if *metricsAddr != "" {
				mln, err := net.Listen("tcp", *metricsAddr)
				if err != nil {
					return fmt.Errorf("--metrics-addr: %w", err)
				}
				defer serveMetrics(st, mln)()
				log.Info("metrics listening", "addr", mln.Addr().String(), "path", metricsPath)
			}
			ln, err := net.Listen("tcp", *listen)
			if err != nil {
				return err
			}
			log.Info("fhirlink server listening", "addr", ln.Addr().String(), "tls", *tlsCert != "", "state", storeForLog(*database))
			return serve(c.ctx, st, ln, *tlsCert, *tlsKey)
		}
	},
}

// stack is a server's parts, wired.
type stack struct {
	hub     *hub.Hub
	api     *api.Server
	log     *slog.Logger
	metrics *metrics.Metrics
}

func newStack(store server.Store, log *slog.Logger) *stack {
	m := metrics.New()
	a := &api.Server{Store: store, Logger: log, Mappings: api.DefaultMappings(), Metrics: m}
	h := &hub.Hub{Authenticate: a.AuthenticateAgent, CredentialChanges: store.CredentialChanges, Connected: a.SyncWriteGrants, Logger: log, Metrics: m}
	m.WatchAgents(h.Agents)
	a.Hub = h
	return &stack{hub: h, api: a, log: log, metrics: m}
}

// metricsPath is where the metrics listener serves.
const metricsPath = "/metrics"

// serveMetrics serves the stack's metrics at metricsPath on ln, a listener
// of their own so that they are reachable by the operators' scraper and
// not by integrators; the function returned stops it.
func serveMetrics(s *stack, ln net.Listener) (stop func()) {
	mux := http.NewServeMux()
	mux.Handle("GET "+metricsPath, s.metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
}

// serve serves until ctx is done, then shuts down within a bound.
func serve(ctx context.Context, s *stack, ln net.Listener, certFile, keyFile string) error {
	srv := &http.Server{
		Handler:           s.api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- srv.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.api.CloseExports() // first: they hand over as of their last checkpoint, not failing on closed sessions
	s.hub.Close()        // agent sessions are hijacked connections Shutdown does not track
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
