package main

import (
	"errors"
	"flag"
	"os"

	"github.com/google/uuid"

	"fhirlink/server"
	"fhirlink/server/auth"
)

// SMART Backend Services administration: clients and the server's token
// signing keys.

var clientCreate = admin("client-create",
	`client-create --integrator ID (--jwks-url URL | --jwks-file FILE) --scope "system/*.rs ..." [--name NAME]`,
	`Registers a SMART Backend Services client of an integrator and prints its
client_id. The client authenticates at /oauth/token with a JWT (RS384 or
ES384) signed by one of its keys: published at --jwks-url (https; fetched and
cached as its Cache-Control allows) or registered inline from --jwks-file (a
JWKS of public keys). --scope lists what it may be granted, e.g.
"system/*.rs system/passthrough.read"; system/passthrough.write adds
nonQuery where a site allows writes.`,
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		integrator := fs.String("integrator", "", "the integrator id")
		jwksURL := fs.String("jwks-url", "", "the URL where the client publishes its JWKS")
		jwksFile := fs.String("jwks-file", "", "a file holding the client's JWKS (public keys)")
		scope := fs.String("scope", "", "space-separated system scopes the client may be granted")
		name := fs.String("name", "", "a name for people")
		return func(c *cmdContext, st server.Store) (any, error) {
			if *integrator == "" {
				return nil, errors.New("--integrator is required")
			}
			cl := &server.Client{ID: uuid.NewString(), IntegratorID: *integrator, Name: *name, JWKSURL: *jwksURL, Scope: *scope}
			if *jwksFile != "" {
				b, err := os.ReadFile(*jwksFile)
				if err != nil {
					return nil, err
				}
				cl.JWKS = b
			}
			if err := auth.ValidateClient(cl); err != nil {
				return nil, err
			}
			if err := st.CreateClient(c.ctx, cl); err != nil {
				return nil, err
			}
			out := map[string]string{"clientId": cl.ID, "integratorId": cl.IntegratorID, "scope": cl.Scope}
			if cl.JWKSURL != "" {
				out["jwksUrl"] = cl.JWKSURL
			}
			return out, nil
		}
	})

var clientList = admin("client-list", "client-list --integrator ID", "Lists an integrator's SMART clients.",
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		integrator := fs.String("integrator", "", "the integrator id")
		return func(c *cmdContext, st server.Store) (any, error) {
			list, err := st.Clients(c.ctx, *integrator)
			if err != nil {
				return nil, err
			}
			type row struct {
				ClientID string `json:"clientId"`
				Name     string `json:"name,omitempty"`
				JWKSURL  string `json:"jwksUrl,omitempty"`
				Inline   bool   `json:"inlineJwks"`
				Scope    string `json:"scope"`
			}
			out := []row{}
			for _, cl := range list {
				out = append(out, row{ClientID: cl.ID, Name: cl.Name, JWKSURL: cl.JWKSURL, Inline: len(cl.JWKS) > 0, Scope: cl.Scope})
			}
			return out, nil
		}
	})

var clientDelete = admin("client-delete", "client-delete --client ID",
	"Deletes a SMART client at once: it gets no more tokens and the ones it holds stop working.",
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		id := fs.String("client", "", "the client id")
		return func(c *cmdContext, st server.Store) (any, error) {
			return map[string]string{"deleted": *id}, st.DeleteClient(c.ctx, *id)
		}
	})

var rotateSigningKey = admin("rotate-signing-key", "rotate-signing-key",
	`Adds a new key for signing access tokens and keeps the previous one, which
still verifies the tokens it signed; older keys are deleted and their tokens
refused. Servers switch within 30 seconds. Rotate at most every 5 minutes
(the access token lifetime) so that no token is cut short.`,
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		return func(c *cmdContext, st server.Store) (any, error) {
			added, removed, err := auth.RotateSigningKey(c.ctx, st)
			if err != nil {
				return nil, err
			}
			if removed == nil {
				removed = []string{}
			}
			return map[string]any{"current": added, "removed": removed}, nil
		}
	})
