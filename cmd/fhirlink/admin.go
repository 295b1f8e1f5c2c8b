package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// adminCommand groups the operator's commands; each works on the state
// store directly, so it also works while the server runs.
var adminCommand = &command{
	name: "admin", usage: "admin <command> [flags]",
	summary: "Administers sites, integrators and pairings in the state store.",
	sub:     []*command{siteCreate, siteList, siteRotate, siteEnrollCode, integratorCreate, integratorList, integratorRotate, pairCmd, unpairCmd, pairingCodeCmd, pairingsCmd, blockCmd, unblockCmd, blocksCmd, quarantineCmd, unquarantineCmd, clientCreate, clientList, clientDelete, rotateSigningKey, auditCmd, quotaCmd, webhookCmd},
}

// adminFlags adds --database and returns a function opening the store.
func adminFlags(fs *flag.FlagSet) func(ctx context.Context) (server.Store, error) {
	database := fs.String("database", "fhirlink-state.db", databaseHelp)
	return func(ctx context.Context) (server.Store, error) { return openStore(ctx, *database) }
}

// admin builds an admin command whose body gets the open store.
func admin(name, usage, summary string, flags func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error)) *command {
	return &command{name: name, usage: "admin " + usage, summary: summary,
		flags: func(fs *flag.FlagSet) func(*cmdContext) error {
			open := adminFlags(fs)
			body := flags(fs)
			return func(c *cmdContext) error {
				store, err := open(c.ctx)
				if err != nil {
					return err
				}
				defer store.Close()
				out, err := body(c, store)
				if e, ok := errors.AsType[*server.Error](err); ok {
					return errors.New(e.Message) // the operator wants the message, not the code
				} else if err != nil {
					return err
				}
				enc := json.NewEncoder(c.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
		}}
}

var siteCreate = admin("site-create", "site-create --name NAME [--pms-type BestPractice] [--pms-site-id ID]",
	"Creates a site and prints its id and the agent secret (shown once; store it in the agent's config).",
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		name := fs.String("name", "", "the practice's name")
		pmsType := fs.String("pms-type", wire.PMSBestPractice, "BestPractice, Zedmed or D4w")
		pmsSiteID := fs.String("pms-site-id", "", "the PMS's own identifier of the practice")
		id := fs.String("id", "", "the site id to use (default: a new random UUID)")
		return func(c *cmdContext, st server.Store) (any, error) {
			if *name == "" {
				return nil, errors.New("--name is required")
			}
			switch *pmsType {
			case wire.PMSBestPractice, wire.PMSZedmed, wire.PMSD4w:
			default:
				return nil, fmt.Errorf("--pms-type %q: use BestPractice, Zedmed or D4w", *pmsType)
			}
			site := &server.Site{ID: *id, Name: *name, PMSType: *pmsType, PracticeManagementSiteID: *pmsSiteID}
			if site.ID == "" {
				site.ID = uuid.NewString()
			} else if _, err := uuid.Parse(site.ID); err != nil {
				return nil, fmt.Errorf("--id %q is not a UUID", site.ID)
			}
			secret, hash := server.NewSecret()
			if err := st.CreateSite(c.ctx, site, hash); err != nil {
				return nil, err
			}
			return map[string]string{"siteId": site.ID, "secret": secret}, nil
		}
	})

var siteList = admin("site-list", "site-list", "Lists the sites.",
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		return func(c *cmdContext, st server.Store) (any, error) { return st.Sites(c.ctx) }
	})

var siteRotate = admin("site-rotate-secret", "site-rotate-secret --site ID",
	`Replaces a site's agent secret at once and prints the new one; the old one stops working.
A running server closes the agent's session within a keepalive interval (5 s), and
the agent cannot reconnect with the old secret.`,
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		siteID := fs.String("site", "", "the site id")
		return func(c *cmdContext, st server.Store) (any, error) {
			secret, hash := server.NewSecret()
			if err := st.SetSiteSecretHash(c.ctx, *siteID, hash); err != nil {
				return nil, err
			}
			return map[string]string{"siteId": *siteID, "secret": secret}, nil
		}
	})

var siteEnrollCode = admin("site-enroll-code", "site-enroll-code --site ID [--ttl 24h]",
	`Issues a one-time enrollment code for a site and prints it (shown once; only
its hash is stored). On the practice server, 'fhirlink agent enroll --server
URL --code CODE' exchanges it for a new agent credential, which retires the
site's previous one. The code expires after --ttl.`,
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		siteID := fs.String("site", "", "the site id")
		ttl := fs.Duration("ttl", 24*time.Hour, "how long the code stays valid (at most 720h)")
		return func(c *cmdContext, st server.Store) (any, error) {
			if *siteID == "" {
				return nil, errors.New("--site is required")
			}
			if *ttl <= 0 || *ttl > 30*24*time.Hour {
				return nil, fmt.Errorf("--ttl %s: use a duration between 1m and 720h", *ttl)
			}
			code, hash := server.NewEnrollmentCode()
			expires := time.Now().Add(*ttl).UTC().Truncate(time.Second)
			if err := st.CreateEnrollmentCode(c.ctx, *siteID, hash, expires); err != nil {
				return nil, err
			}
			return map[string]string{"siteId": *siteID, "code": code, "expires": expires.Format(time.RFC3339)}, nil
		}
	})

var integratorCreate = admin("integrator-create", "integrator-create --name NAME",
	"Creates an integrator and prints its id and its primary and secondary keys (shown once).",
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		name := fs.String("name", "", "the vendor's name")
		return func(c *cmdContext, st server.Store) (any, error) {
			if *name == "" {
				return nil, errors.New("--name is required")
			}
			in := &server.Integrator{ID: uuid.NewString(), Name: *name}
			if err := st.CreateIntegrator(c.ctx, in); err != nil {
				return nil, err
			}
			out := map[string]string{"integratorId": in.ID}
			for slot, label := range map[int]string{server.KeyPrimary: "primaryKey", server.KeySecondary: "secondaryKey"} {
				key, hash := server.NewSecret()
				if err := st.SetIntegratorKey(c.ctx, in.ID, slot, hash); err != nil {
					return nil, err
				}
				out[label] = key
			}
			return out, nil
		}
	})

var integratorList = admin("integrator-list", "integrator-list", "Lists the integrators.",
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		return func(c *cmdContext, st server.Store) (any, error) { return st.Integrators(c.ctx) }
	})

var integratorRotate = admin("integrator-rotate-key", "integrator-rotate-key --integrator ID --slot primary|secondary",
	"Replaces one of an integrator's two keys at once and prints the new key; the other key keeps working.",
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		id := fs.String("integrator", "", "the integrator id")
		slotName := fs.String("slot", "primary", "which key: primary or secondary")
		return func(c *cmdContext, st server.Store) (any, error) {
			slot := map[string]int{"primary": server.KeyPrimary, "secondary": server.KeySecondary}[*slotName]
			if slot == 0 {
				return nil, fmt.Errorf("--slot %q: use primary or secondary", *slotName)
			}
			key, hash := server.NewSecret()
			if err := st.SetIntegratorKey(c.ctx, *id, slot, hash); err != nil {
				return nil, err
			}
			return map[string]string{"integratorId": *id, *slotName + "Key": key}, nil
		}
	})

var pairCmd = admin("pair", "pair --integrator ID --site ID", "Lets an integrator reach a site.",
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		in := fs.String("integrator", "", "the integrator id")
		site := fs.String("site", "", "the site id")
		return func(c *cmdContext, st server.Store) (any, error) {
			return map[string]string{"paired": *site}, st.Pair(c.ctx, *in, *site)
		}
	})

var unpairCmd = admin("unpair", "unpair --integrator ID --site ID", "Stops an integrator from reaching a site.",
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		in := fs.String("integrator", "", "the integrator id")
		site := fs.String("site", "", "the site id")
		return func(c *cmdContext, st server.Store) (any, error) {
			return map[string]string{"unpaired": *site}, st.Unpair(c.ctx, *in, *site)
		}
	})
