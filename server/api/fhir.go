package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/server/fhirsearch"
	"fhirlink/server/fhirwrite"
	"fhirlink/server/hub"
)

// fhirBase is the FHIR base path under a site.
const fhirBase = "/fhir/R4"

func (s *Server) fhirRoutes(g *echo.Group) {
	f := g.Group("/sites/:siteId"+fhirBase, s.requirePairing, s.quota)
	f.GET("/metadata", s.fhirMetadata)
	s.fhirWriteRoutes(f)
	s.exportRoutes(f, g)
	f.GET("/:type", s.fhirSearch)
	f.POST("/:type/_search", s.fhirSearch)
	f.GET("/:type/:id", s.fhirRead)
}

// siteMapping checks the requested format and returns the site's mapping
// and FHIR base URL.
func (s *Server) siteMapping(c echo.Context) (*mappings.Mapping, string, error) {
	if _, err := fhir.Negotiate(c.Request().Header.Get("Accept"), c.QueryParam("_format")); err != nil {
		return nil, "", err
	}
	site := site(c)
	m, ok := s.Mappings[site.PMSType]
	if !ok {
		return nil, "", fhir.Errorf(http.StatusNotImplemented, "not-supported", "FHIR is not available yet for %s practices", site.PMSType)
	}
	return m, s.fhirBaseURL(c, site.ID), nil
}

// fhirBaseURL is the absolute FHIR base URL of a site, as the caller
// reached the server: fullUrls, links and export file URLs start with it.
func (s *Server) fhirBaseURL(c echo.Context, siteID string) string {
	return s.publicBase(c) + "/integrator/sites/" + siteID + fhirBase
}

// fhirSite checks the format and that the site's agent is online, and
// returns the site's search component.
func (s *Server) fhirSite(c echo.Context) (*fhirsearch.Site, error) {
	m, base, err := s.siteMapping(c)
	if err != nil {
		return nil, err
	}
	site := site(c)
	st := s.Hub.Status(site.ID)
	if st.Availability != hub.Online {
		c.Response().Header().Set("Retry-After", "30")
		return nil, fhir.Errorf(http.StatusServiceUnavailable, fhir.IssueTransient, "the practice's agent is %s; retry later", st.Availability)
	}
	key, err := s.pagingKey(c.Request().Context(), site.ID)
	if err != nil {
		return nil, err
	}
	return fhirsearch.New(fhirsearch.Config{Querier: s.Hub, SiteID: site.ID, Mapping: m,
		Engine: st.Info.Engine, TimeZone: st.Info.TimeZone, Base: base, Key: key})
}

// publicBase is the server's URL as the caller reached it.
func (s *Server) publicBase(c echo.Context) string {
	if s.PublicURL != "" {
		return strings.TrimRight(s.PublicURL, "/")
	}
	return c.Scheme() + "://" + c.Request().Host
}

// GET .../fhir/R4/metadata
func (s *Server) fhirMetadata(c echo.Context) error {
	m, base, err := s.siteMapping(c)
	if err != nil {
		return err
	}
	var decls []*fhir.ResourceDecl
	for _, r := range m.Resources {
		decls = append(decls, r.Decl())
	}
	var writes map[string]fhir.Writes
	if engine, ok := s.siteWrites(c); ok {
		writes = fhirwrite.Capabilities(m, engine)
	}
	return fhirJSON(c, http.StatusOK, fhir.Capability(fhir.CapabilityOptions{Base: base, Software: "fhirlink",
		APIKeyHeader: KeyHeader, TokenURL: s.tokenURL(c), BulkExport: s.exports().Ready(), Writes: writes}, decls))
}

// GET .../fhir/R4/{type} and POST .../fhir/R4/{type}/_search
func (s *Server) fhirSearch(c echo.Context) error {
	typ := c.Param("type")
	if err := requireScope(c, typ, "s", "search "+typ); err != nil {
		return err
	}
	site, err := s.fhirSite(c)
	if err != nil {
		return err
	}
	res, err := site.Resource(typ)
	if err != nil {
		return err
	}
	q, err := searchParams(c)
	if err != nil {
		return err
	}
	search, err := site.Parse(res, q, preferStrict(c.Request()))
	if err != nil {
		return err
	}
	// Included resources are searched too: their type needs s as well.
	for _, inc := range search.Include {
		if err := requireScope(c, inc.Target, "s", "_include "+inc.String()+" ("+inc.Target+")"); err != nil {
			return err
		}
	}
	// So are revincluded ones: their type (the source) needs s.
	for _, inc := range search.RevInclude {
		if err := requireScope(c, inc.Source, "s", "_revinclude "+inc.String()+" ("+inc.Source+")"); err != nil {
			return err
		}
	}
	c.Response().Header().Set("Content-Type", fhirJSONType)
	r, err := site.Run(c.Request().Context(), c.Response(), search)
	auditRows(c, r.Resources)
	if err != nil && r.Started {
		// Part of the Bundle is out: cut the response, so the client sees
		// a failure rather than a short Bundle.
		s.log().InfoContext(c.Request().Context(), "FHIR search failed midway", "site", site.ID(), "type", typ, "written", r.Resources, "err", err)
		panic(http.ErrAbortHandler)
	}
	return err
}

// GET .../fhir/R4/{type}/{id}
func (s *Server) fhirRead(c echo.Context) error {
	typ := c.Param("type")
	if err := requireScope(c, typ, "r", "read "+typ); err != nil {
		return err
	}
	site, err := s.fhirSite(c)
	if err != nil {
		return err
	}
	resource, err := site.Read(c.Request().Context(), typ, c.Param("id"))
	if err != nil {
		return err
	}
	auditRows(c, 1)
	return fhirJSON(c, http.StatusOK, []byte(resource))
}

// searchParams merges the query string and, for POST _search, the form body.
func searchParams(c echo.Context) (url.Values, error) {
	q := c.QueryParams()
	if c.Request().Method != http.MethodPost {
		return q, nil
	}
	ct := c.Request().Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, fhir.Errorf(http.StatusUnsupportedMediaType, "not-supported", "POST _search takes a form body (application/x-www-form-urlencoded)")
	}
	form, err := formBody(c)
	if err != nil {
		return nil, err
	}
	merged := url.Values{}
	for k, v := range q {
		merged[k] = append(merged[k], v...)
	}
	for k, v := range form {
		if _, inQuery := q[k]; !inQuery {
			merged[k] = append(merged[k], v...)
		}
	}
	return merged, nil
}

// preferStrict reports Prefer: handling=strict.
func preferStrict(r *http.Request) bool { return prefers(r, "handling=strict") }

// prefers reports whether one of the request's Prefer headers carries
// token (case-insensitive), among comma-separated preferences.
func prefers(r *http.Request, token string) bool {
	for _, v := range r.Header.Values("Prefer") {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// pagingKey is the key that signs a site's paging links: derived from a
// secret every server node shares, and distinct per site, so a link made
// for one site is refused by another.
func (s *Server) pagingKey(ctx context.Context, siteID string) ([]byte, error) {
	s.keyOnce.Do(func() { s.key, s.keyErr = s.Store.Secret(ctx, "fhir-paging") })
	if s.keyErr != nil {
		return nil, s.keyErr
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(siteID))
	return mac.Sum(nil), nil
}

// fhirJSONType is the media type of every FHIR response.
const fhirJSONType = "application/fhir+json; charset=utf-8"

// fhirJSON writes a FHIR JSON body: a []byte as is, anything else marshalled.
func fhirJSON(c echo.Context, status int, v any) error {
	c.Response().Header().Set("Content-Type", fhirJSONType)
	if b, ok := v.([]byte); ok {
		return c.Blob(status, fhirJSONType, b)
	}
	return c.JSON(status, v)
}
