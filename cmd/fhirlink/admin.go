package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"time"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/admin"
)

// adminCommand groups the operator's commands. Each runs one operation of
// package admin: on the state store directly (--database), which also works
// while the server runs, or through a server's admin API (--server, with an
// operator token); the output is the same either way.
var adminCommand = &command{
	name: "admin", usage: "admin <command> [flags]",
	summary: "Administers sites, integrators and pairings, in the state store or through a server's admin API.",
	sub: []*command{siteCreate, siteList, siteRotate, siteEnrollCode, pushSettings, integratorCreate, integratorList, integratorRotate,
		pairCmd, unpairCmd, pairingCodeCmd, pairingsCmd, blockCmd, unblockCmd, blocksCmd, quarantineCmd, unquarantineCmd,
		clientCreate, clientList, clientDelete, rotateSigningKey, auditCmd, quotaCmd, webhookCmd, consoleLinkCmd, operatorToken},
}

// caller runs an admin operation: admin.Service.Call on the store, or
// admin.Client.Call on a server.
type caller func(ctx context.Context, op string, request []byte) (json.RawMessage, error)

// adminFlags adds --database, --server and --admin-token, and returns a
// function opening the caller they choose and closing it after.
func adminFlags(fs *flag.FlagSet) func(ctx context.Context) (caller, func(), error) {
	database := fs.String("database", "fhirlink-state.db", databaseHelp)
	url := fs.String("server", "", "a server's admin API URL (its --admin-addr, e.g. http://127.0.0.1:8081): run the command there\n      instead of on --database")
	token := fs.String("admin-token", "", "the operator token for --server (better from the environment, FHIRLINK_ADMIN_TOKEN)")
	return func(ctx context.Context) (caller, func(), error) {
		if *url != "" {
			if *token == "" {
				return nil, nil, errors.New("--server needs an operator token: set FHIRLINK_ADMIN_TOKEN (see 'fhirlink admin operator-token')")
			}
			c := &admin.Client{URL: *url, Token: *token}
			return c.Call, func() {}, nil
		}
		store, err := openStore(ctx, *database)
		if err != nil {
			return nil, nil, err
		}
		svc := &admin.Service{Store: store}
		return svc.Call, func() { store.Close() }, nil
	}
}

// adminOp builds the command running operation op (package admin): flags
// defines the command's flags and returns the function making the
// operation's request from them.
func adminOp(op, usage, summary string, flags func(fs *flag.FlagSet) func(*cmdContext) (any, error)) *command {
	if _, ok := admin.Lookup(op); !ok {
		panic("no admin operation " + op)
	}
	return &command{name: op, usage: "admin " + usage, summary: summary,
		flags: func(fs *flag.FlagSet) func(*cmdContext) error {
			open := adminFlags(fs)
			request := flags(fs)
			return func(c *cmdContext) error {
				req, err := request(c)
				if err != nil {
					return err
				}
				body, err := json.Marshal(req)
				if err != nil {
					return err
				}
				call, done, err := open(c.ctx)
				if err != nil {
					return err
				}
				defer done()
				out, err := call(c.ctx, op, body)
				if e, ok := errors.AsType[*server.Error](err); ok {
					return errors.New(e.Message) // the operator wants the message, not the code
				} else if err != nil {
					return err
				}
				return printJSON(c, out)
			}
		}}
}

// printJSON prints a JSON answer indented.
func printJSON(c *cmdContext, out json.RawMessage) error {
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		return err
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// fixed returns a request made from flags read when the command runs.
func fixed(req func() any) func(*cmdContext) (any, error) {
	return func(*cmdContext) (any, error) { return req(), nil }
}

// noFlags is the flags of an operation without parameters: none.
func noFlags(*flag.FlagSet) func(*cmdContext) (any, error) {
	return fixed(func() any { return admin.None{} })
}

var siteCreate = adminOp("site-create", "site-create --name NAME [--pms-type BestPractice] [--pms-site-id ID]",
	"Creates a site and prints its id and the agent secret (shown once; store it in the agent's config).",
	func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
		r := &admin.SiteCreate{}
		fs.StringVar(&r.Name, "name", "", "the practice's name")
		fs.StringVar(&r.PMSType, "pms-type", wire.PMSBestPractice, "BestPractice, Zedmed or D4w")
		fs.StringVar(&r.PMSSiteID, "pms-site-id", "", "the PMS's own identifier of the practice")
		fs.StringVar(&r.ID, "id", "", "the site id to use (default: a new random UUID)")
		return fixed(func() any { return r })
	})

var siteList = adminOp("site-list", "site-list", "Lists the sites.",
	noFlags)

var siteRotate = adminOp("site-rotate-secret", "site-rotate-secret --site ID",
	`Replaces a site's agent secret at once and prints the new one; the old one stops working.
A running server closes the agent's session within a keepalive interval (5 s), and
the agent cannot reconnect with the old secret.`,
	siteFlag)

// siteFlag is the flags of an operation on one site: --site.
func siteFlag(fs *flag.FlagSet) func(*cmdContext) (any, error) {
	r := &admin.SiteRef{}
	fs.StringVar(&r.SiteID, "site", "", "the site id")
	return fixed(func() any { return r })
}

var siteEnrollCode = adminOp("site-enroll-code", "site-enroll-code --site ID [--ttl 24h]",
	`Issues a one-time enrollment code for a site and prints it (shown once; only
its hash is stored). On the practice server, 'fhirlink agent enroll --server
URL --code CODE' exchanges it for a new agent credential, which retires the
site's previous one. The code expires after --ttl.`,
	codeFlags(24*time.Hour))

// codeFlags is the flags of a one-time code: --site and --ttl.
func codeFlags(ttl time.Duration) func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
	return func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
		site := fs.String("site", "", "the site id")
		d := fs.Duration("ttl", ttl, "how long the code stays valid (1m to 720h)")
		return fixed(func() any { return admin.CodeRequest{SiteID: *site, TTL: d.String()} })
	}
}

var pushSettings = adminOp("push-settings", "push-settings --server URL --site ID [--concurrency N] [--max-timeout D] [--max-time-in-queue D]",
	`Pushes settings to a site's connected agent, which applies them at once
without restarting, and prints the settings then in force. Needs --server:
only a running server reaches the agent (in a cluster, whichever node holds
it). The agent keeps them until it restarts, then runs with its own
configuration again.`,
	func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
		site := fs.String("site", "", "the site id")
		conc := fs.Int("concurrency", 0, "how many queries may run at once on the database (0: unchanged)")
		maxTimeout := fs.Duration("max-timeout", 0, "cap on every query's execution time (0: unchanged)")
		maxQueue := fs.Duration("max-time-in-queue", 0, "cap on every query's wait for a slot (0: unchanged)")
		return fixed(func() any {
			return admin.SettingsPush{SiteID: *site, Settings: wire.Settings{Concurrency: *conc,
				MaxTimeoutMS: maxTimeout.Milliseconds(), MaxTimeInQueueMS: maxQueue.Milliseconds()}}
		})
	})

var integratorCreate = adminOp("integrator-create", "integrator-create --name NAME",
	"Creates an integrator and prints its id and its primary and secondary keys (shown once).",
	func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
		r := &admin.IntegratorCreate{}
		fs.StringVar(&r.Name, "name", "", "the vendor's name")
		return fixed(func() any { return r })
	})

var integratorList = adminOp("integrator-list", "integrator-list", "Lists the integrators.",
	noFlags)

var integratorRotate = adminOp("integrator-rotate-key", "integrator-rotate-key --integrator ID --slot primary|secondary",
	"Replaces one of an integrator's two keys at once and prints the new key; the other key keeps working.",
	func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
		r := &admin.KeyRotation{}
		fs.StringVar(&r.IntegratorID, "integrator", "", "the integrator id")
		fs.StringVar(&r.Slot, "slot", "primary", "which key: primary or secondary")
		return fixed(func() any { return r })
	})

var pairCmd = adminOp("pair", "pair --integrator ID --site ID", "Lets an integrator reach a site.", pairFlags("the site id"))

var unpairCmd = adminOp("unpair", "unpair --integrator ID --site ID", "Stops an integrator from reaching a site.", pairFlags("the site id"))

// pairFlags is the flags naming an integrator and a site.
func pairFlags(siteHelp string) func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
	return func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
		r := &admin.PairRef{}
		fs.StringVar(&r.IntegratorID, "integrator", "", "the integrator id")
		fs.StringVar(&r.SiteID, "site", "", siteHelp)
		return fixed(func() any { return r })
	}
}

var operatorToken = &command{name: "operator-token", usage: "admin operator-token --name NAME --file FILE",
	summary: `Issues an admin API token for the operator NAME and prints it (shown once).
Its SHA-256 goes to the operators file FILE (created, mode 0600), which the
server reads on every admin call (fhirlink server --admin-tokens FILE);
issuing again for the same name replaces that operator's token, and deleting
the operator's line revokes it at once. The operator's name is in the audit
record of every call the token makes.`,
	flags: func(fs *flag.FlagSet) func(*cmdContext) error {
		name := fs.String("name", "", "the operator's name (letters, digits, '.', '_', '@', '-')")
		file := fs.String("file", "fhirlink-operators", "the operators file")
		return func(c *cmdContext) error {
			token, err := admin.AddOperator(*file, *name)
			if e, ok := errors.AsType[*server.Error](err); ok {
				return errors.New(e.Message)
			} else if err != nil {
				return err
			}
			out, _ := json.Marshal(map[string]string{"operator": *name, "token": token, "file": *file})
			return printJSON(c, out)
		}
	}}
