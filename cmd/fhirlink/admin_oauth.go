package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"fhirlink/server/admin"
)

// SMART Backend Services administration: clients and the server's token
// signing keys.

var clientCreate = adminOp("client-create",
	`client-create --integrator ID (--jwks-url URL | --jwks-file FILE) --scope "system/*.rs ..." [--name NAME]`,
	`Registers a SMART Backend Services client of an integrator and prints its
client_id. The client authenticates at /oauth/token with a JWT (RS384 or
ES384) signed by one of its keys: published at --jwks-url (https; fetched and
cached as its Cache-Control allows) or registered inline from --jwks-file (a
JWKS of public keys). --scope lists what it may be granted, e.g.
"system/*.rs system/passthrough.read"; system/passthrough.write adds
nonQuery where a site allows writes.`,
	func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
		r := &admin.ClientCreate{}
		fs.StringVar(&r.IntegratorID, "integrator", "", "the integrator id")
		fs.StringVar(&r.JWKSURL, "jwks-url", "", "the URL where the client publishes its JWKS")
		jwksFile := fs.String("jwks-file", "", "a file holding the client's JWKS (public keys)")
		fs.StringVar(&r.Scope, "scope", "", "space-separated system scopes the client may be granted")
		fs.StringVar(&r.Name, "name", "", "a name for people")
		return func(*cmdContext) (any, error) {
			if *jwksFile != "" {
				b, err := os.ReadFile(*jwksFile)
				if err != nil {
					return nil, err
				}
				if !json.Valid(b) {
					return nil, fmt.Errorf("--jwks-file %s is not JSON", *jwksFile)
				}
				r.JWKS = b
			}
			return r, nil
		}
	})

var clientList = adminOp("client-list", "client-list --integrator ID", "Lists an integrator's SMART clients.",
	func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
		r := &admin.IntegratorRef{}
		fs.StringVar(&r.IntegratorID, "integrator", "", "the integrator id")
		return fixed(func() any { return r })
	})

var clientDelete = adminOp("client-delete", "client-delete --client ID",
	"Deletes a SMART client at once: it gets no more tokens and the ones it holds stop working.",
	func(fs *flag.FlagSet) func(*cmdContext) (any, error) {
		r := &admin.ClientRef{}
		fs.StringVar(&r.ClientID, "client", "", "the client id")
		return fixed(func() any { return r })
	})

var rotateSigningKey = adminOp("rotate-signing-key", "rotate-signing-key",
	`Adds a new key for signing access tokens and keeps the previous one, which
still verifies the tokens it signed; older keys are deleted and their tokens
refused. Servers switch within 30 seconds. Rotate at most every 5 minutes
(the access token lifetime) so that no token is cut short.`,
	noFlags)
