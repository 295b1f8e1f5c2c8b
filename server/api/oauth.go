package api

import (
	"errors"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"fhirlink/server"
	"fhirlink/server/auth"
)

// SMART Backend Services endpoints.
const (
	// TokenPath is the OAuth 2.0 token endpoint.
	TokenPath = "/oauth/token"
	// JWKSPath publishes the keys that sign access tokens.
	JWKSPath = "/.well-known/jwks.json"
	// smartConfigPath is under each FHIR base.
	smartConfigPath = "/.well-known/smart-configuration"
	// maxTokenRequestBytes bounds a token request's form.
	maxTokenRequestBytes = 64 << 10
	ctxGrant             = "grant"
)

func (s *Server) oauthRoutes(e *echo.Echo) {
	if s.OAuth == nil {
		s.OAuth = &auth.Authority{Store: s.Store}
	}
	e.POST(TokenPath, s.token)
	e.GET(JWKSPath, s.serverJWKS)
	// Outside the authenticated group: a client reads it before it has a
	// token.
	e.GET("/integrator/sites/:siteId"+fhirBase+smartConfigPath, s.smartConfiguration)
}

// tokenURL is the token endpoint's absolute URL: what client assertions
// must name as aud. Set PublicURL in production, so that it does not come
// from the request's Host.
func (s *Server) tokenURL(c echo.Context) string { return s.publicBase(c) + TokenPath }

// POST /oauth/token
func (s *Server) token(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	r := c.Request()
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return oauthError(c, &auth.Error{Status: http.StatusBadRequest, Code: "invalid_request",
			Description: "send the token request as a form (application/x-www-form-urlencoded)"})
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxTokenRequestBytes)
	if err := r.ParseForm(); err != nil {
		return oauthError(c, &auth.Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: "unreadable or oversized form"})
	}
	for _, k := range []string{"grant_type", "scope", "client_assertion", "client_assertion_type", "client_id"} {
		if len(r.PostForm[k]) > 1 {
			return oauthError(c, &auth.Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: k + " is repeated"})
		}
	}
	resp, err := s.OAuth.Token(r.Context(), r.PostForm, s.tokenURL(c))
	if e, ok := errors.AsType[*auth.Error](err); ok {
		s.log().Info("token request refused", "error", e.Code, "reason", e.Description, "remote", c.RealIP())
		return oauthError(c, e)
	}
	if err != nil {
		s.log().Error("token request failed", "err", err)
		return oauthError(c, &auth.Error{Status: http.StatusInternalServerError, Code: "server_error", Description: "an internal error occurred; it has been logged"})
	}
	return c.JSON(http.StatusOK, resp)
}

func oauthError(c echo.Context, e *auth.Error) error {
	return c.JSON(e.Status, e)
}

// GET /.well-known/jwks.json
func (s *Server) serverJWKS(c echo.Context) error {
	b, err := s.OAuth.JWKS(c.Request().Context())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=60")
	return c.Blob(http.StatusOK, "application/jwk-set+json", b)
}

// smartConfig is /.well-known/smart-configuration for Backend Services.
type smartConfig struct {
	TokenEndpoint     string   `json:"token_endpoint"`
	JWKSURI           string   `json:"jwks_uri"`
	GrantTypes        []string `json:"grant_types_supported"`
	AuthMethods       []string `json:"token_endpoint_auth_methods_supported"`
	AuthSigningAlgs   []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	ScopesSupported   []string `json:"scopes_supported"`
	Capabilities      []string `json:"capabilities"`
	CodeChallengeMeth []string `json:"code_challenge_methods_supported"`
}

// GET /integrator/sites/{siteId}/fhir/R4/.well-known/smart-configuration
// needs no credential and says nothing about the site: the same document
// answers for every well-formed site id, so it cannot be used to probe
// which sites exist.
func (s *Server) smartConfiguration(c echo.Context) error {
	if _, err := uuid.Parse(c.Param("siteId")); err != nil {
		return server.Errorf(server.EINVALID, "site id %q is not a UUID", c.Param("siteId"))
	}
	base := s.publicBase(c)
	scopes := []string{"system/*.rs", "system/*.read"}
	var types []string
	for _, m := range s.Mappings {
		for _, r := range m.Resources {
			types = append(types, r.Decl().Type)
		}
	}
	slices.Sort(types)
	for _, t := range slices.Compact(types) {
		scopes = append(scopes, "system/"+t+".rs")
	}
	scopes = append(scopes, "system/"+auth.Passthrough+".read", "system/"+auth.Passthrough+".write")
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSON(http.StatusOK, smartConfig{
		TokenEndpoint:     base + TokenPath,
		JWKSURI:           base + JWKSPath,
		GrantTypes:        []string{"client_credentials"},
		AuthMethods:       []string{"private_key_jwt"},
		AuthSigningAlgs:   []string{"RS384", "ES384"},
		ScopesSupported:   scopes,
		Capabilities:      []string{"client-confidential-asymmetric", "permission-v2"},
		CodeChallengeMeth: []string{"S256"},
	})
}

// bearer resolves an Authorization: Bearer access token to its integrator
// and grant.
func (s *Server) bearer(c echo.Context, authz string) error {
	scheme, tok, _ := strings.Cut(authz, " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return server.Errorf(server.EUNAUTHORIZED, "the Authorization header must be Bearer <access token>; get one at %s", TokenPath)
	}
	ctx := c.Request().Context()
	access, err := s.OAuth.Verify(ctx, tok)
	if err != nil {
		return err
	}
	in, err := s.Store.Integrator(ctx, access.Client.IntegratorID)
	if server.ErrorCode(err) == server.ENOTFOUND {
		return server.Errorf(server.EUNAUTHORIZED, "the access token's integrator no longer exists")
	} else if err != nil {
		return err
	}
	c.Set(ctxIntegrator, in)
	c.Set(ctxGrant, access.Grant)
	return nil
}

// requireScope lets a request through when it was authenticated with a key
// (keys predate scopes and keep full access) or with a token whose scopes
// give perms on resource res; what says what the request does, for the
// 403's message.
func requireScope(c echo.Context, res, perms, what string) error {
	g, ok := c.Get(ctxGrant).(auth.Grant)
	if !ok || g.Allows(res, perms) {
		return nil
	}
	granted := g.String()
	if granted == "" {
		granted = "none"
	}
	return server.Errorf(server.EFORBIDDEN, "the access token lacks scope %s, needed to %s (scopes granted: %s)",
		auth.Scope{Resource: res, Perms: perms}, what, granted)
}
