package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"

	"fhirlink/server"
)

// PathPrefix is where the admin HTTP API serves each operation:
// POST PathPrefix + Op.Name with the request as a JSON body.
const PathPrefix = "/admin/v1/"

// Op is one operation: its name (the `fhirlink admin` command and the last
// segment of its path), what it does, and its request and answer types
// (for the OpenAPI document).
type Op struct {
	Name, Summary     string
	Request, Response reflect.Type
	call              func(s *Service, ctx context.Context, body []byte) (any, error)
}

// op declares an operation from its method.
func op[Req, Resp any](name, summary string, fn func(*Service, context.Context, Req) (Resp, error)) Op {
	return Op{Name: name, Summary: summary,
		Request: reflect.TypeFor[Req](), Response: reflect.TypeFor[Resp](),
		call: func(s *Service, ctx context.Context, body []byte) (any, error) {
			var req Req
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if len(bytes.TrimSpace(body)) > 0 {
				if err := dec.Decode(&req); err != nil {
					return nil, invalid("the %s request: %v", name, err)
				}
			}
			return fn(s, ctx, req)
		}}
}

// Ops are every operation, in the order `fhirlink admin --help` lists them.
var Ops = []Op{
	op("site-create", "Creates a site and returns its id and agent secret (shown once).", (*Service).CreateSite),
	op("site-list", "Lists the sites.", (*Service).Sites),
	op("site-rotate-secret", "Replaces a site's agent secret at once; the old one stops working.", (*Service).RotateSiteSecret),
	op("site-enroll-code", "Issues a one-time enrollment code for a site (shown once).", (*Service).EnrollmentCode),
	op("push-settings", "Pushes settings to a site's connected agent and returns those in force.", (*Service).PushSettings),
	op("integrator-create", "Creates an integrator and returns its id and two keys (shown once).", (*Service).CreateIntegrator),
	op("integrator-list", "Lists the integrators.", (*Service).Integrators),
	op("integrator-rotate-key", "Replaces one of an integrator's two keys; the other keeps working.", (*Service).RotateIntegratorKey),
	op("pair", "Lets an integrator reach a site.", (*Service).Pair),
	op("unpair", "Stops an integrator from reaching a site.", (*Service).Unpair),
	op("pairing-code", "Issues a one-time pairing code for a site (shown once).", (*Service).PairingCode),
	op("pairings", "Lists the integrators paired with a site, and since when.", (*Service).Pairings),
	op("block", "Blocks an integrator from one site or every site.", (*Service).Block),
	op("unblock", "Lifts a block.", (*Service).Unblock),
	op("blocks", "Lists the blocks in force and the quarantined sites.", (*Service).Blocks),
	op("quarantine", "Quarantines a site: every integrator is refused.", (*Service).Quarantine),
	op("unquarantine", "Lifts a site's quarantine.", (*Service).Unquarantine),
	op("client-create", "Registers a SMART Backend Services client of an integrator.", (*Service).CreateClient),
	op("client-list", "Lists an integrator's SMART clients.", (*Service).Clients),
	op("client-delete", "Deletes a SMART client; its tokens stop working.", (*Service).DeleteClient),
	op("rotate-signing-key", "Adds a new access token signing key, keeping the previous one.", (*Service).RotateSigningKey),
	op("audit", "Returns audit records, oldest first.", (*Service).Audit),
	op("quota", "Sets and returns an integrator's daily quotas.", (*Service).Quota),
	op("webhook", "Sets an integrator's webhook URL with a new signing secret, or deletes it.", (*Service).Webhook),
	op("console-link", "Issues a one-time sign-in link to the web console for a practice or an integrator (shown once).", (*Service).ConsoleLink),
}

// Lookup returns the operation called name.
func Lookup(name string) (Op, bool) {
	for _, o := range Ops {
		if o.Name == name {
			return o, true
		}
	}
	return Op{}, false
}

// Call runs the operation called name with its JSON request and returns its
// JSON answer. Both edges go through it, so an answer is the same bytes
// whether it comes from the store or over HTTP.
func (s *Service) Call(ctx context.Context, name string, request []byte) (json.RawMessage, error) {
	o, ok := Lookup(name)
	if !ok {
		return nil, server.Errorf(server.ENOTFOUND, "no admin operation %q", name)
	}
	out, err := o.call(s, ctx, request)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}
