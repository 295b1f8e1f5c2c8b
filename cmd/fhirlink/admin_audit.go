package main

import (
	"flag"
	"fmt"

	"fhirlink/server"
	"fhirlink/server/admin"
)

// Audit and quota administration.

var auditCmd = adminOp("audit", "audit [--site ID] [--integrator ID] [--from T] [--to T] [--limit N]",
	`Prints audit records as JSON, oldest first: every
request to the integrator API, with its integrator, site, FHIR interaction or
SQL text, rows and bytes returned, status, duration and client address, and
every call to the admin API (kind "admin"), with its operator.
--from and --to are RFC 3339 times or days (YYYY-MM-DD, UTC); from is
inclusive, to exclusive.`,
	func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
		r := &admin.AuditQuery{}
		fs.StringVar(&r.SiteID, "site", "", "only this site's records")
		fs.StringVar(&r.IntegratorID, "integrator", "", "only this integrator's records")
		fs.StringVar(&r.From, "from", "", "records from this time")
		fs.StringVar(&r.To, "to", "", "records before this time")
		fs.IntVar(&r.Limit, "limit", 1000, fmt.Sprintf("at most this many records (up to %d)", server.MaxAuditLimit))
		return fixed(func() any { return r })
	})

var quotaCmd = adminOp("quota", "quota --integrator ID [--site ID] [--daily-queries N] [--daily-bytes N]",
	`Sets an integrator's daily quotas at one site, or at every site without
--site (a site's own setting wins), overriding the server's defaults
(fhirlink server --quota-daily-queries, --quota-daily-bytes). A limit left
out, or -1, follows the server's default; 0 is unlimited. Days are UTC: the
counts reset at 00:00 UTC. Without either limit, prints the integrator's
settings.`,
	func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
		integrator := fs.String("integrator", "", "the integrator id")
		site := fs.String("site", "", "the site id (default: every site)")
		queries := fs.Int64("daily-queries", -1, "queries a day (FHIR reads and searches, passthrough queries)")
		bytes := fs.Int64("daily-bytes", -1, "bytes returned a day")
		return fixed(func() any {
			r := admin.QuotaRequest{IntegratorID: *integrator, SiteID: *site}
			fs.Visit(func(f *flag.Flag) {
				switch f.Name {
				case "daily-queries":
					r.DailyQueries = queries
				case "daily-bytes":
					r.DailyBytes = bytes
				}
			})
			return r
		})
	})
