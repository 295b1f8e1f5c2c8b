package api

import (
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"fhirlink/server"
)

// KeyHeader carries an integrator's key, as in the API integrators migrate
// from.
const KeyHeader = "Ocp-Apim-Subscription-Key"

const (
	ctxIntegrator = "integrator"
	ctxSite       = "site"
)

// authenticate resolves the caller's key, or SMART access token
// (Authorization: Bearer), to an integrator. A token also brings its
// scopes, which the routes check; a key has full access.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// One read of the store's access version; the key, the site, the
		// access and the quotas then come from memory while it holds.
		ctx, err := s.cache.Pin(c.Request().Context())
		if err != nil {
			return err
		}
		c.SetRequest(c.Request().WithContext(ctx))
		key := c.Request().Header.Get(KeyHeader)
		if authz := c.Request().Header.Get("Authorization"); authz != "" {
			if key != "" {
				return server.Errorf(server.EINVALID, "send either an access token (Authorization) or a key (%s), not both", KeyHeader)
			}
			if err := s.bearer(c, authz); err != nil {
				return err
			}
			return next(c)
		}
		if key == "" {
			return server.Errorf(server.EUNAUTHORIZED, "missing credential: send your integrator key in the %s header, or a SMART access token as Authorization: Bearer", KeyHeader)
		}
		in, err := s.cache.IntegratorByKeyHash(ctx, server.HashSecret(key))
		if err != nil {
			if server.ErrorCode(err) == server.EUNAUTHORIZED {
				return server.Errorf(server.EUNAUTHORIZED, "invalid %s: the key is unknown or was rotated", KeyHeader)
			}
			return err
		}
		c.Set(ctxIntegrator, in)
		return next(c)
	}
}

// requirePairing loads :siteId and lets the request through only when the
// integrator is paired with the site, not blocked from it and the site is
// not quarantined. The request then runs registered as in flight, so that
// withdrawing its access cancels it (see package inflight).
func (s *Server) requirePairing(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("siteId")
		if _, err := uuid.Parse(id); err != nil {
			return server.Errorf(server.EINVALID, "site id %q is not a UUID", id)
		}
		ctx := c.Request().Context()
		site, err := s.cache.Site(ctx, id)
		if err != nil {
			return err
		}
		in := integrator(c)
		acc, err := s.cache.Access(ctx, in.ID, site.ID)
		if err != nil {
			return err
		}
		if err := acc.Denial(site.ID); err != nil {
			return err
		}
		c.Set(ctxSite, site)
		return s.inFlight(c, next, in.ID, site.ID)
	}
}

func integrator(c echo.Context) *server.Integrator { return c.Get(ctxIntegrator).(*server.Integrator) }
func site(c echo.Context) *server.Site             { return c.Get(ctxSite).(*server.Site) }
