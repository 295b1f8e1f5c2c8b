package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"fhirlink/server"
)

// The operator's consent and incident commands. Like every admin command
// they write the state store directly; a running server picks each change
// up on its own: it checks pairing, blocks and quarantine on every request
// and re-checks the requests in flight every second, cancelling those no
// longer allowed, and each agent session re-validates its credential every
// keepalive interval (see server/inflight, server/hub/recheck.go).

var pairingCodeCmd = admin("pairing-code", "pairing-code --site ID [--ttl 72h]",
	`Issues a one-time pairing code for a site and prints it (shown once; only
its hash is stored). The practice gives it to an integrator, who redeems it
with POST /integrator/pair-site. Practices issue their own with 'fhirlink
agent pairing-code'. The code expires after --ttl.`,
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		siteID := fs.String("site", "", "the site id")
		ttl := fs.Duration("ttl", 72*time.Hour, "how long the code stays valid (1m to 720h)")
		return func(c *cmdContext, st server.Store) (any, error) {
			if *siteID == "" {
				return nil, errors.New("--site is required")
			}
			if *ttl < time.Minute || *ttl > 30*24*time.Hour {
				return nil, fmt.Errorf("--ttl %s: use a duration between 1m and 720h", *ttl)
			}
			code, hash := server.NewPairingCode()
			expires := time.Now().Add(*ttl).UTC().Truncate(time.Second)
			if err := st.CreatePairingCode(c.ctx, *siteID, hash, expires); err != nil {
				return nil, err
			}
			return map[string]string{"siteId": *siteID, "pairingCode": code, "expires": expires.Format(time.RFC3339)}, nil
		}
	})

var pairingsCmd = admin("pairings", "pairings --site ID", "Lists the integrators paired with a site, and since when.",
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		siteID := fs.String("site", "", "the site id")
		return func(c *cmdContext, st server.Store) (any, error) {
			if *siteID == "" {
				return nil, errors.New("--site is required")
			}
			if _, err := st.Site(c.ctx, *siteID); err != nil {
				return nil, err
			}
			list, err := st.Pairings(c.ctx, *siteID)
			if list == nil {
				list = []*server.Pairing{}
			}
			return list, err
		}
	})

var blockCmd = admin("block", "block --integrator ID [--site ID]",
	`Blocks an integrator from one site (--site) or from every site, whatever its
pairings say. Immediate: its next requests get 403, and its requests in
flight are cancelled within about a second. Lift with 'admin unblock'.`,
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		in := fs.String("integrator", "", "the integrator id")
		site := fs.String("site", "", "the site id (default: every site)")
		return func(c *cmdContext, st server.Store) (any, error) {
			if *in == "" {
				return nil, errors.New("--integrator is required")
			}
			return blockReport(*in, *site, true), st.Block(c.ctx, *in, *site)
		}
	})

var unblockCmd = admin("unblock", "unblock --integrator ID [--site ID]",
	`Lifts the block 'admin block' set with the same flags (a block from every
site and one from a single site are lifted separately).`,
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		in := fs.String("integrator", "", "the integrator id")
		site := fs.String("site", "", "the site id (default: the block from every site)")
		return func(c *cmdContext, st server.Store) (any, error) {
			if *in == "" {
				return nil, errors.New("--integrator is required")
			}
			return blockReport(*in, *site, false), st.Unblock(c.ctx, *in, *site)
		}
	})

func blockReport(integratorID, siteID string, blocked bool) map[string]any {
	where := siteID
	if where == "" {
		where = "every site"
	}
	return map[string]any{"integratorId": integratorID, "site": where, "blocked": blocked}
}

var blocksCmd = admin("blocks", "blocks", "Lists the blocks in force and the quarantined sites.",
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		return func(c *cmdContext, st server.Store) (any, error) {
			blocks, err := st.Blocks(c.ctx)
			if err != nil {
				return nil, err
			}
			quarantined, err := st.Quarantined(c.ctx)
			if blocks == nil {
				blocks = []*server.Block{}
			}
			if quarantined == nil {
				quarantined = []string{}
			}
			return map[string]any{"blocks": blocks, "quarantinedSites": quarantined}, err
		}
	})

var quarantineCmd = admin("quarantine", "quarantine --site ID",
	`Quarantines a site: every integrator is refused (403, saying the site is
quarantined) and requests in flight are cancelled within about a second.
The agent stays connected, so lifting the quarantine ('admin unquarantine')
is immediate too; if the agent itself is suspect, also rotate its credential
('admin site-rotate-secret'), which disconnects it.`,
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		site := fs.String("site", "", "the site id")
		return func(c *cmdContext, st server.Store) (any, error) {
			if *site == "" {
				return nil, errors.New("--site is required")
			}
			return map[string]any{"siteId": *site, "quarantined": true}, st.SetQuarantined(c.ctx, *site, true)
		}
	})

var unquarantineCmd = admin("unquarantine", "unquarantine --site ID", "Lifts a site's quarantine: its paired integrators reach it again.",
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		site := fs.String("site", "", "the site id")
		return func(c *cmdContext, st server.Store) (any, error) {
			if *site == "" {
				return nil, errors.New("--site is required")
			}
			return map[string]any{"siteId": *site, "quarantined": false}, st.SetQuarantined(c.ctx, *site, false)
		}
	})
