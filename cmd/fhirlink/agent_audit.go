package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"fhirlink/server"
	"fhirlink/server/api"
)

var agentAudit = &command{
	name:  "audit",
	usage: "agent audit [--from T] [--to T] [--limit N] [--json] [--config PATH]",
	summary: `Prints this site's audit log, read from the server with the site credential
in the agent's config: every request integrators made to this practice, with
the FHIR interaction or SQL text, rows and bytes returned, and the status.
--from and --to are RFC 3339 times or days (YYYY-MM-DD, UTC).`,
	flags: func(fs *flag.FlagSet) func(*cmdContext) error {
		agentFlags(fs)
		from := fs.String("from", "", "records from this time")
		to := fs.String("to", "", "records before this time")
		limit := fs.Int("limit", 1000, "at most this many records")
		asJSON := fs.Bool("json", false, "print the records as JSON")
		get := func(name string) string { return fs.Lookup(name).Value.String() }
		return func(c *cmdContext) error {
			base, siteID, secret := get("server"), get("site-id"), get("secret")
			if base == "" || siteID == "" || secret == "" {
				return fmt.Errorf("server, site-id and secret are required: enroll first ('fhirlink agent enroll'), or give --config with the agent's config file")
			}
			if p := get("https-proxy"); p != "" {
				os.Setenv("HTTPS_PROXY", p)
			}
			q := url.Values{"limit": {strconv.Itoa(*limit)}}
			for name, v := range map[string]string{"from": *from, "to": *to} {
				if v != "" {
					q.Set(name, v)
				}
			}
			req, err := http.NewRequestWithContext(c.ctx, http.MethodGet, strings.TrimRight(base, "/")+api.PathAgentAudit+"?"+q.Encode(), nil)
			if err != nil {
				return err
			}
			req.SetBasicAuth(siteID, secret)
			resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				var e struct {
					Error struct{ Message string } `json:"error"`
				}
				if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
					return fmt.Errorf("server: %s (%s)", e.Error.Message, resp.Status)
				}
				return errors.New("server answered " + resp.Status)
			}
			if *asJSON {
				_, err := c.stdout.Write(body)
				return err
			}
			var out struct {
				Records []*server.AuditRecord `json:"records"`
			}
			if err := json.Unmarshal(body, &out); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%-20s  %-6s  %-36s  %8s  %10s  %s\n", "TIME (UTC)", "STATUS", "INTEGRATOR", "ROWS", "BYTES", "WHAT")
			for _, r := range out.Records {
				what := r.Interaction + " " + r.ResourceType
				if r.Query != "" {
					what += " " + r.Query
				}
				what = strings.Join(strings.Fields(what), " ")
				if what == "" {
					what = r.Method + " " + r.Path
				}
				fmt.Fprintf(c.stdout, "%-20s  %-6d  %-36s  %8d  %10d  %s\n", r.Time.UTC().Format("2006-01-02 15:04:05"), r.Status, r.IntegratorID, r.Rows, r.Bytes, what)
			}
			return nil
		}
	},
}
