package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"fhirlink/agent"
	"fhirlink/agent/grants"
)

// The practice's consent commands. Each talks to the server over HTTPS with
// the site credential from the agent's config file, so they work on the
// practice server whether or not the agent service runs.

var agentPairingCode = &command{
	name:  "pairing-code",
	usage: "agent pairing-code [--ttl 72h] [--config PATH]",
	summary: `Issues a one-time pairing code for an integrator and prints it.
Give the code to the integrator the practice chooses to work with; redeeming
it (POST /integrator/pair-site) pairs that integrator with this site. The
code works once and expires after --ttl. 'fhirlink agent pairings' lists the
integrators paired with this site; 'fhirlink agent revoke' removes one.`,
	flags: func(fs *flag.FlagSet) func(*cmdContext) error {
		consent := consentFlags(fs)
		ttl := fs.Duration("ttl", 72*time.Hour, "how long the code stays valid (1m to 720h)")
		return func(c *cmdContext) error {
			cl, err := consent()
			if err != nil {
				return err
			}
			if *ttl < time.Minute || *ttl > 30*24*time.Hour {
				return fmt.Errorf("--ttl %s: use a duration between 1m and 720h", *ttl)
			}
			res, err := cl.IssuePairingCode(c.ctx, *ttl)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "pairing code: %s\nsite:         %s\nexpires:      %s\n", res.Code, res.SiteID, res.Expires.Local().Format(time.RFC1123))
			fmt.Fprintln(c.stdout, "Give it to the integrator; it works once.")
			return nil
		}
	},
}

var agentPairings = &command{
	name:    "pairings",
	usage:   "agent pairings [--config PATH]",
	summary: "Lists the integrators paired with this site, and since when.",
	flags: func(fs *flag.FlagSet) func(*cmdContext) error {
		consent := consentFlags(fs)
		return func(c *cmdContext) error {
			cl, err := consent()
			if err != nil {
				return err
			}
			res, err := cl.Pairings(c.ctx)
			if err != nil {
				return err
			}
			if len(res.Pairings) == 0 {
				fmt.Fprintf(c.stdout, "no integrator is paired with site %s\n", res.SiteID)
				return nil
			}
			fmt.Fprintf(c.stdout, "%-36s  %-20s  %s\n", "INTEGRATOR", "PAIRED", "NAME")
			for _, p := range res.Pairings {
				fmt.Fprintf(c.stdout, "%-36s  %-20s  %s\n", p.IntegratorID, p.PairedAt.Local().Format("2006-01-02 15:04:05"), p.IntegratorName)
			}
			return nil
		}
	},
}

var agentRevoke = &command{
	name:  "revoke",
	usage: "agent revoke [--config PATH] INTEGRATOR_ID",
	summary: `Revokes an integrator's pairing with this site, at once: its queries
running now are cancelled and its next requests are refused. It needs a new
pairing code to come back.`,
	flags: func(fs *flag.FlagSet) func(*cmdContext) error {
		consent := consentFlags(fs)
		return func(c *cmdContext) error {
			if len(c.args) != 1 {
				return errors.New("give the integrator's id after any flags: fhirlink agent revoke [--config PATH] INTEGRATOR_ID ('fhirlink agent pairings' lists them)")
			}
			cl, err := consent()
			if err != nil {
				return err
			}
			if err := cl.Revoke(c.ctx, c.args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "revoked integrator %s: it can no longer reach this site\n", c.args[0])
			return nil
		}
	},
}

var agentGrantWrites = &command{
	name:  "grant-writes",
	usage: "agent grant-writes --integrator ID [--revoke] [--config PATH]",
	summary: `Gives a paired integrator writes at this site (bookings, new patients,
nonQuery and stored procedure commands), or with --revoke takes them back.
Writes need both the agent's --allow-writes and this grant. The agent keeps
the grant in its own file (--write-grants, beside the config) and checks it
for every write, so a change takes effect with the next request, whether the
agent runs or not; the server is told too, so that it refuses early and
advertises writes only where they work. Without an argument it lists the
integrators granted writes.`,
	flags: func(fs *flag.FlagSet) func(*cmdContext) error {
		consent := consentFlags(fs)
		integ := fs.String("integrator", "", "the integrator's id ('fhirlink agent pairings' lists them)")
		revoke := fs.Bool("revoke", false, "take the integrator's writes back")
		return func(c *cmdContext) error {
			file := grants.Open(cmp.Or(fs.Lookup("write-grants").Value.String(), grantsBeside(fs.Lookup("config").Value.String())))
			if *integ == "" {
				if *revoke {
					return errors.New("give the integrator whose writes to revoke: fhirlink agent grant-writes --integrator ID --revoke")
				}
				list, err := file.List()
				if err != nil {
					return err
				}
				if len(list) == 0 {
					fmt.Fprintf(c.stdout, "no integrator is granted writes (%s)\n", file.Path())
					return nil
				}
				fmt.Fprintf(c.stdout, "%-36s  %s\n", "INTEGRATOR", "GRANTED")
				for _, g := range list {
					fmt.Fprintf(c.stdout, "%-36s  %s\n", g.IntegratorID, g.GrantedAt.Local().Format("2006-01-02 15:04:05"))
				}
				return nil
			}
			cl, err := consent()
			if err != nil {
				return err
			}
			if *revoke {
				// The agent's record first: from here on it refuses, even
				// if the server cannot be told now.
				if err := file.Revoke(*integ); err != nil {
					return err
				}
				if err := cl.SetWriteGrant(c.ctx, *integ, false); err != nil {
					return fmt.Errorf("the agent refuses integrator %s's writes from now on, but the server was not told (%w); run the command again", *integ, err)
				}
				fmt.Fprintf(c.stdout, "revoked the writes of integrator %s: its next write is refused\n", *integ)
				return nil
			}
			// The server first: it knows the integrator, and refuses an
			// unknown id before the agent's record names it.
			if err := cl.SetWriteGrant(c.ctx, *integ, true); err != nil {
				return err
			}
			if err := file.Grant(*integ); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "granted integrator %s writes at site %s (with the agent's --allow-writes)\n", *integ, cl.SiteID)
			return nil
		}
	},
}

// consentFlags defines the agent's flags (its config file carries them all)
// and returns the function giving the consent client once they are parsed.
// Only the server and the site credential are used.
func consentFlags(fs *flag.FlagSet) func() (*agent.Consent, error) {
	agentFlags(fs)
	get := func(name string) string { return fs.Lookup(name).Value.String() }
	return func() (*agent.Consent, error) {
		cl := &agent.Consent{ServerURL: get("server"), SiteID: get("site-id"), Secret: get("secret")}
		if cl.ServerURL == "" || cl.SiteID == "" || cl.Secret == "" {
			return nil, fmt.Errorf("server, site-id and secret are required: enroll first ('fhirlink agent enroll'), or give --config with the agent's config file (default %s)", get("config"))
		}
		if p := get("https-proxy"); p != "" {
			os.Setenv("HTTPS_PROXY", p)
		}
		return cl, nil
	}
}
