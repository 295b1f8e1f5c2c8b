// Package auth is the server's OAuth 2.0 side for SMART Backend Services:
// the client_credentials grant with private_key_jwt client authentication
// (RS384, ES384), access tokens signed by the server's own rotatable keys,
// and SMART v2 system scopes. HTTP handlers stay thin: they hand this
// package the form, the token URL and the bearer token.
package auth

import (
	"fmt"
	"slices"
	"strings"

	"fhirlink/server"
)

// Passthrough is the pseudo resource type of the SQL passthrough API in
// scopes: system/passthrough.read (= .rs) runs reader and scalar commands,
// system/passthrough.write (= .cud) runs nonQuery and stored procedures
// where the site allows writes. The wildcard system/*.xxx never covers it:
// raw SQL is granted only by name.
const Passthrough = "passthrough"

// permOrder is SMART v2's permission letters in their required order.
const permOrder = "cruds"

// Scope is one granted system scope: a resource type ("*" for every FHIR
// type, or [Passthrough]) and a set of v2 permissions.
type Scope struct {
	Resource string
	// Perms is a non-empty subset of "cruds", in that order.
	Perms string
}

// String renders the scope in SMART v2 form, e.g. system/Patient.rs.
func (s Scope) String() string { return "system/" + s.Resource + "." + s.Perms }

// ParseScope parses one system scope: v2 (system/Patient.rs,
// system/*.cruds) or v1 (system/Patient.read = rs, .write = cud, .* =
// cruds). Other contexts (patient/, user/), launch and OpenID scopes and v2
// scopes with search parameters are not supported.
func ParseScope(text string) (Scope, error) {
	rest, ok := strings.CutPrefix(text, "system/")
	if !ok {
		return Scope{}, fmt.Errorf("scope %q: only system/ scopes are supported (SMART Backend Services)", text)
	}
	if strings.Contains(rest, "?") {
		return Scope{}, fmt.Errorf("scope %q: scopes with search parameters are not supported", text)
	}
	res, perms, ok := strings.Cut(rest, ".")
	if !ok || res == "" || perms == "" {
		return Scope{}, fmt.Errorf("scope %q: want system/<Type>.<permissions>, e.g. system/Patient.rs", text)
	}
	if res != "*" && res != Passthrough && !isTypeName(res) {
		return Scope{}, fmt.Errorf("scope %q: %q is not a FHIR resource type, * or %s", text, res, Passthrough)
	}
	switch perms {
	case "read":
		perms = "rs"
	case "write":
		perms = "cud"
	case "*":
		perms = permOrder
	default:
		if !validPerms(perms) {
			return Scope{}, fmt.Errorf("scope %q: permissions must be letters of cruds in that order, or read, write or *", text)
		}
	}
	return Scope{Resource: res, Perms: perms}, nil
}

func isTypeName(s string) bool {
	if s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return true
}

// validPerms reports whether p is a non-empty ordered subset of cruds.
func validPerms(p string) bool {
	i := 0
	for _, c := range []byte(p) {
		j := strings.IndexByte(permOrder[i:], c)
		if j < 0 {
			return false
		}
		i += j + 1
	}
	return p != ""
}

// Grant is a set of scopes, normalised: one scope per resource, "*" first,
// then by resource name.
type Grant []Scope

// ParseGrant parses a space-separated scope list. It returns the scopes it
// understood, normalised, and an error for each one it did not.
func ParseGrant(text string) (Grant, []error) {
	var g Grant
	var errs []error
	for f := range strings.FieldsSeq(text) {
		s, err := ParseScope(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		g = append(g, s)
	}
	return normalise(g), errs
}

// normalise merges the scopes of each resource and sorts them.
func normalise(in Grant) Grant {
	perms := map[string]string{}
	for _, s := range in {
		perms[s.Resource] += s.Perms
	}
	out := make(Grant, 0, len(perms))
	for res, p := range perms {
		var b strings.Builder
		for _, c := range []byte(permOrder) {
			if strings.IndexByte(p, c) >= 0 {
				b.WriteByte(c)
			}
		}
		out = append(out, Scope{Resource: res, Perms: b.String()})
	}
	slices.SortFunc(out, func(a, b Scope) int {
		switch {
		case a.Resource == b.Resource:
			return 0
		case a.Resource == "*":
			return -1
		case b.Resource == "*":
			return 1
		}
		return strings.Compare(a.Resource, b.Resource)
	})
	return out
}

// String is the space-separated v2 form of the grant.
func (g Grant) String() string {
	parts := make([]string, len(g))
	for i, s := range g {
		parts[i] = s.String()
	}
	return strings.Join(parts, " ")
}

// Allows reports whether the grant gives every permission in perms on the
// resource type res. The wildcard covers FHIR types, not [Passthrough].
func (g Grant) Allows(res, perms string) bool {
	for _, c := range []byte(perms) {
		ok := false
		for _, s := range g {
			if covers(s.Resource, res) && strings.IndexByte(s.Perms, c) >= 0 {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// Require is nil when the grant gives perms on res, and otherwise the
// [server.EFORBIDDEN] error naming the scope needed to do what (words for
// the request, "search Patient") and the scopes granted.
func (g Grant) Require(res, perms, what string) error {
	if g.Allows(res, perms) {
		return nil
	}
	granted := g.String()
	if granted == "" {
		granted = "none"
	}
	return server.Errorf(server.EFORBIDDEN, "the access token lacks scope %s, needed to %s (scopes granted: %s)",
		Scope{Resource: res, Perms: perms}, what, granted)
}

// covers reports whether a scope on granted applies to resource res.
func covers(granted, res string) bool {
	return granted == res || (granted == "*" && res != Passthrough)
}

// Intersect is what may be granted when requested is asked and allowed is
// what the client is registered for: for each pair of scopes, the narrower
// resource and the common permissions. system/*.rs asked of a client
// allowed system/Patient.r gives system/Patient.r.
func Intersect(requested, allowed Grant) Grant {
	var out Grant
	for _, r := range requested {
		for _, a := range allowed {
			var res string
			switch {
			case r.Resource == a.Resource:
				res = r.Resource
			case r.Resource == "*" && a.Resource != Passthrough:
				res = a.Resource
			case a.Resource == "*" && r.Resource != Passthrough:
				res = r.Resource
			default:
				continue
			}
			var p strings.Builder
			for _, c := range []byte(r.Perms) {
				if strings.IndexByte(a.Perms, c) >= 0 {
					p.WriteByte(c)
				}
			}
			if p.Len() > 0 {
				out = append(out, Scope{Resource: res, Perms: p.String()})
			}
		}
	}
	return normalise(out)
}
