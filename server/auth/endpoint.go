package auth

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"

	"fhirlink/server"
)

// maxTokenRequestBytes bounds a token request's form.
const maxTokenRequestBytes = 64 << 10

// ServeToken answers a token request made at tokenURL (the absolute URL
// client assertions must name as aud): the form is read and checked, and
// the response written, a token or an OAuth error (RFC 6749, 5.2), never
// cached. It returns nil for a token, the [*Error] of a refusal, or our
// own failure (answered as a generic server_error), for the caller to log.
func (a *Authority) ServeToken(w http.ResponseWriter, r *http.Request, tokenURL string) error {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	resp, err := a.tokenRequest(w, r, tokenURL)
	if err == nil {
		writeJSON(w, http.StatusOK, resp)
		return nil
	}
	e, ok := errors.AsType[*Error](err)
	if !ok {
		e = &Error{Status: http.StatusInternalServerError, Code: "server_error", Description: "an internal error occurred; it has been logged"}
	}
	writeJSON(w, e.Status, e)
	return err
}

func (a *Authority) tokenRequest(w http.ResponseWriter, r *http.Request, tokenURL string) (*TokenResponse, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, badRequest("invalid_request", "send the token request as a form (application/x-www-form-urlencoded)")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequestBytes)
	if err := r.ParseForm(); err != nil {
		return nil, badRequest("invalid_request", "unreadable or oversized form")
	}
	for _, k := range []string{"grant_type", "scope", "client_assertion", "client_assertion_type", "client_id"} {
		if len(r.PostForm[k]) > 1 {
			return nil, badRequest("invalid_request", "%s is repeated", k)
		}
	}
	return a.Token(r.Context(), r.PostForm, tokenURL)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Integrator resolves an access token to the integrator it was issued for
// and the grant it carries; [server.EUNAUTHORIZED] when the token is not
// valid or its integrator no longer exists.
func (a *Authority) Integrator(ctx context.Context, token string) (*server.Integrator, Grant, error) {
	access, err := a.Verify(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	in, err := a.Store.Integrator(ctx, access.Client.IntegratorID)
	if server.ErrorCode(err) == server.ENOTFOUND {
		return nil, nil, server.Errorf(server.EUNAUTHORIZED, "the access token's integrator no longer exists")
	} else if err != nil {
		return nil, nil, err
	}
	return in, access.Grant, nil
}

// SMARTConfig is the .well-known/smart-configuration document of SMART
// Backend Services.
type SMARTConfig struct {
	TokenEndpoint     string   `json:"token_endpoint"`
	JWKSURI           string   `json:"jwks_uri"`
	GrantTypes        []string `json:"grant_types_supported"`
	AuthMethods       []string `json:"token_endpoint_auth_methods_supported"`
	AuthSigningAlgs   []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	ScopesSupported   []string `json:"scopes_supported"`
	Capabilities      []string `json:"capabilities"`
	CodeChallengeMeth []string `json:"code_challenge_methods_supported"`
}

// SMARTConfiguration is the SMART configuration of a server whose token
// endpoint and key set are at tokenURL and jwksURL, serving the FHIR
// resource types types: the scopes it lists are the wildcard ones, one per
// type, and the passthrough ones.
func SMARTConfiguration(tokenURL, jwksURL string, types []string) SMARTConfig {
	scopes := []string{"system/*.rs", "system/*.read"}
	types = slices.Clone(types)
	slices.Sort(types)
	for _, t := range slices.Compact(types) {
		scopes = append(scopes, "system/"+t+".rs")
	}
	scopes = append(scopes, "system/"+Passthrough+".read", "system/"+Passthrough+".write")
	return SMARTConfig{
		TokenEndpoint:     tokenURL,
		JWKSURI:           jwksURL,
		GrantTypes:        []string{"client_credentials"},
		AuthMethods:       []string{"private_key_jwt"},
		AuthSigningAlgs:   []string{"RS384", "ES384"},
		ScopesSupported:   scopes,
		Capabilities:      []string{"client-confidential-asymmetric", "permission-v2"},
		CodeChallengeMeth: []string{"S256"},
	}
}
