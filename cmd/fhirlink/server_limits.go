package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"fhirlink/server"
)

// limitFlags defines the server's quota, rate-limit and audit flags and
// returns the function applying them to a stack: it sets the API's limits
// and starts the daily audit pruning. Its stop function ends the pruning
// and writes the audit records still queued; call it before closing the
// store.
func limitFlags(fs *flag.FlagSet) func(ctx context.Context, st *stack, store server.Store) (stop func(), err error) {
	queries := fs.Int64("quota-daily-queries", 100000, "default queries a day per integrator per site (UTC days; 0: unlimited;\n      'fhirlink admin quota' overrides it per integrator)")
	bytes := fs.Int64("quota-daily-bytes", 10<<30, "default bytes returned a day per integrator per site (0: unlimited)")
	rate := fs.Float64("rate-limit", 20, "requests per second per integrator (0: unlimited); with --nats on PostgreSQL, across every node, else on each")
	burst := fs.Int("rate-burst", 40, "requests an integrator may make at once above --rate-limit")
	trustProxy := fs.Bool("trust-proxy", false, "behind a reverse proxy: audit the client address it appends to X-Forwarded-For")
	retention := fs.Duration("audit-retention", server.DefaultAuditRetention,
		"how long audit records are kept (default 7 years, the usual retention of Australian health records; at least 8760h)")
	return func(ctx context.Context, st *stack, store server.Store) (func(), error) {
		if *queries < 0 || *bytes < 0 || *rate < 0 || *burst < 0 {
			return nil, fmt.Errorf("quotas and rate limits are 0 (unlimited) or positive")
		}
		if *retention < server.MinAuditRetention {
			return nil, fmt.Errorf("--audit-retention %s: audit records are kept at least 8760h (365 days)", *retention)
		}
		st.api.Limits.DailyQueries, st.api.Limits.DailyBytes = *queries, *bytes
		st.api.Limits.RatePerSecond, st.api.Limits.RateBurst = *rate, *burst
		st.api.TrustProxy = *trustProxy
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			server.PruneAuditDaily(ctx, store, *retention, st.log)
		}()
		return func() {
			cancel()
			<-done
			flushCtx, cancelFlush := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancelFlush()
			if err := st.api.FlushAudit(flushCtx); err != nil {
				st.log.Error("audit records still queued at shutdown were lost", "err", err)
			}
		}, nil
	}
}
