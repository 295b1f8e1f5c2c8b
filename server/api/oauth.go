package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"fhirlink/server"
	"fhirlink/server/auth"
)

// SMART Backend Services endpoints; package auth issues and verifies the
// tokens.
const (
	// TokenPath is the OAuth 2.0 token endpoint.
	TokenPath = "/oauth/token"
	// JWKSPath publishes the keys that sign access tokens.
	JWKSPath = "/.well-known/jwks.json"
	// smartConfigPath is under each FHIR base.
	smartConfigPath = "/.well-known/smart-configuration"
	ctxGrant        = "grant"
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

// POST /oauth/token: answered in OAuth's own shape, refusals logged.
func (s *Server) token(c echo.Context) error {
	err := s.OAuth.ServeToken(c.Response(), c.Request(), s.tokenURL(c))
	if e, ok := errors.AsType[*auth.Error](err); ok {
		s.log().InfoContext(c.Request().Context(), "token request refused", "error", e.Code, "reason", e.Description, "remote", c.RealIP())
	} else if err != nil {
		s.log().ErrorContext(c.Request().Context(), "token request failed", "err", err)
	}
	return nil
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

// GET /integrator/sites/{siteId}/fhir/R4/.well-known/smart-configuration
// needs no credential and says nothing about the site: the same document
// answers for every well-formed site id, so it cannot be used to probe
// which sites exist.
func (s *Server) smartConfiguration(c echo.Context) error {
	if _, err := uuid.Parse(c.Param("siteId")); err != nil {
		return server.Errorf(server.EINVALID, "site id %q is not a UUID", c.Param("siteId"))
	}
	var types []string
	for _, m := range s.Mappings {
		for _, r := range m.Resources {
			types = append(types, r.Decl().Type)
		}
	}
	base := s.publicBase(c)
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSON(http.StatusOK, auth.SMARTConfiguration(base+TokenPath, base+JWKSPath, types))
}

// bearer resolves an Authorization: Bearer access token to its integrator
// and grant.
func (s *Server) bearer(c echo.Context, authz string) error {
	scheme, tok, _ := strings.Cut(authz, " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return server.Errorf(server.EUNAUTHORIZED, "the Authorization header must be Bearer <access token>; get one at %s", TokenPath)
	}
	in, grant, err := s.OAuth.Integrator(c.Request().Context(), tok)
	if err != nil {
		return err
	}
	c.Set(ctxIntegrator, in)
	c.Set(ctxGrant, grant)
	return nil
}

// requireScope lets a request through when it was authenticated with a key
// (keys predate scopes and keep full access) or with a token whose scopes
// give perms on resource res; what says what the request does, for the
// 403's message.
func requireScope(c echo.Context, res, perms, what string) error {
	if g, ok := c.Get(ctxGrant).(auth.Grant); ok {
		return g.Require(res, perms, what)
	}
	return nil
}
