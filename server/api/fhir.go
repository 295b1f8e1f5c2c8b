package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/agent/wire"
	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/server"
	"fhirlink/server/hub"
)

// FHIR limits.
const (
	fhirTimeout        = 30 * time.Second
	fhirMaxTimeInQueue = 10 * time.Second
	fhirMaxBytes       = 32 << 20
	pageTokenLifetime  = 30 * time.Minute
)

// fhirBase is the FHIR base path under a site.
const fhirBase = "/fhir/R4"

func (s *Server) fhirRoutes(g *echo.Group) {
	f := g.Group("/sites/:siteId"+fhirBase, s.requirePairing, s.quota)
	f.GET("/metadata", s.fhirMetadata)
	s.exportRoutes(f, g)
	f.GET("/:type", s.fhirSearch)
	f.POST("/:type/_search", s.fhirSearch)
	f.GET("/:type/:id", s.fhirRead)
}

// fhirSite is what a FHIR request needs of its site: the connected agent's
// info, the site's mapping and the dialect of its engine.
type fhirSite struct {
	site    *server.Site
	info    wire.Info
	mapping *mappings.Mapping
	dialect mappings.Dialect
	ctx     mappings.Site
	base    string
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
	return m, s.publicBase(c) + "/integrator/sites/" + site.ID + fhirBase, nil
}

// prepare checks the format, the site's availability and the mapping.
func (s *Server) prepare(c echo.Context) (*fhirSite, error) {
	m, base, err := s.siteMapping(c)
	if err != nil {
		return nil, err
	}
	site := site(c)
	st := s.Hub.Status(site.ID)
	if st.Availability != hub.Online {
		c.Response().Header().Set("Retry-After", "30")
		return nil, fhir.Errorf(http.StatusServiceUnavailable, "transient", "the practice's agent is %s; retry later", st.Availability)
	}
	d, err := mappings.DialectFor(st.Info.Engine)
	if err != nil {
		return nil, fhir.Errorf(http.StatusNotImplemented, "not-supported", "FHIR is not available for the %s engine", st.Info.Engine)
	}
	loc, err := time.LoadLocation(st.Info.TimeZone)
	if err != nil || st.Info.TimeZone == "" {
		loc, _ = time.LoadLocation("Australia/Sydney")
	}
	return &fhirSite{site: site, info: st.Info, mapping: m, dialect: d, base: base,
		ctx: mappings.Site{Location: loc, Base: base}}, nil
}

// publicBase is the server's URL as the caller reached it.
func (s *Server) publicBase(c echo.Context) string {
	if s.PublicURL != "" {
		return strings.TrimRight(s.PublicURL, "/")
	}
	return c.Scheme() + "://" + c.Request().Host
}

func (fs *fhirSite) resource(typ string) (mappings.Resource, error) {
	r, ok := fs.mapping.Resource(typ)
	if !ok {
		return nil, fhir.Errorf(http.StatusNotFound, "not-supported", "resource type %q is not supported; see the CapabilityStatement at %s/metadata", typ, fs.base)
	}
	return r, nil
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
	return fhirJSON(c, http.StatusOK, fhir.Capability(fhir.CapabilityOptions{Base: base, Software: "fhirlink",
		APIKeyHeader: KeyHeader, TokenURL: s.tokenURL(c), BulkExport: s.exports().Ready()}, decls))
}

// GET .../fhir/R4/{type} and POST .../fhir/R4/{type}/_search
func (s *Server) fhirSearch(c echo.Context) error {
	if err := requireScope(c, c.Param("type"), "s", "search "+c.Param("type")); err != nil {
		return err
	}
	fs, err := s.prepare(c)
	if err != nil {
		return err
	}
	res, err := fs.resource(c.Param("type"))
	if err != nil {
		return err
	}
	q, err := searchParams(c)
	if err != nil {
		return err
	}
	opt := fhir.ParseOptions{Strict: preferStrict(c.Request()), Location: fs.ctx.Location}
	key, err := s.pagingKey(c.Request().Context(), fs.site.ID)
	if err != nil {
		return err
	}
	var search *fhir.Search
	tok := q.Get("_page_token")
	if tok != "" {
		search, err = fhir.ParseToken(res.Decl(), tok, key, opt)
	} else {
		search, err = fhir.ParseSearch(res.Decl(), q, opt)
	}
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
	page, err := s.runSearch(c.Request().Context(), fs, res, search, key)
	if err != nil {
		return err
	}
	if tok != "" {
		// A page reached through a next link is that link: its self is the
		// token's URL, which gives this page again (the canonical query
		// would give the first page).
		page.Self = fhir.NextLink(fs.base, res.Decl().Type, tok)
	}
	var buf bytes.Buffer
	if _, err := page.WriteTo(&buf); err != nil {
		return err
	}
	auditRows(c, len(page.Entries))
	return fhirJSON(c, http.StatusOK, buf.Bytes())
}

// GET .../fhir/R4/{type}/{id}
func (s *Server) fhirRead(c echo.Context) error {
	if err := requireScope(c, c.Param("type"), "r", "read "+c.Param("type")); err != nil {
		return err
	}
	fs, err := s.prepare(c)
	if err != nil {
		return err
	}
	res, err := fs.resource(c.Param("type"))
	if err != nil {
		return err
	}
	id := c.Param("id")
	// Strict: were _id ever undeclared, a lenient parse would drop it and
	// "read" the first row of everything.
	search, err := fhir.ParseSearch(res.Decl(), url.Values{"_id": {id}, "_count": {"1"}}, fhir.ParseOptions{Strict: true, Location: fs.ctx.Location})
	if err != nil {
		return err
	}
	rows, _, err := s.fetch(c.Request().Context(), fs, res, search)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return fhir.Errorf(http.StatusNotFound, "not-found", "%s/%s is not known", res.Decl().Type, id)
	}
	auditRows(c, 1)
	return fhirJSON(c, http.StatusOK, rows[0].Resource)
}

// runSearch runs a search and builds its page: matches, includes, links.
func (s *Server) runSearch(ctx context.Context, fs *fhirSite, res mappings.Resource, search *fhir.Search, key []byte) (*fhir.Page, error) {
	typ := res.Decl().Type
	page := &fhir.Page{Self: fhir.SelfLink(fs.base, typ, search.Applied)}
	page.Ignored = search.Ignored
	if search.Total || search.Summary == "count" {
		n, err := s.count(ctx, fs, res, search)
		if err != nil {
			return nil, err
		}
		page.Total = &n
		if search.Summary == "count" {
			return page, nil
		}
	}
	rows, last, err := s.fetch(ctx, fs, res, search)
	if err != nil {
		return nil, err
	}
	if last != nil {
		next := *search
		if next.After, err = res.Cursor(last); err != nil {
			return nil, err
		}
		page.Next = fhir.NextLink(fs.base, typ, next.Token(key, time.Now().Add(pageTokenLifetime)))
	}
	for _, r := range rows {
		resource := r.Resource
		if len(search.Elements) > 0 {
			if resource, err = fhir.Subset(resource, search.Elements); err != nil {
				return nil, err
			}
		}
		if resource, err = fhir.Summarize(resource, search.Summary); err != nil {
			return nil, err
		}
		page.Entries = append(page.Entries, fhir.Entry{FullURL: fullURL(fs.base, typ, r.Resource), Resource: resource, Mode: "match"})
	}
	for _, inc := range search.Include {
		included, err := s.include(ctx, fs, inc, rows)
		if err != nil {
			return nil, err
		}
		page.Entries = append(page.Entries, included...)
	}
	revincluded, err := s.revInclude(ctx, fs, typ, search.RevInclude, rows)
	if err != nil {
		return nil, err
	}
	page.Entries = append(page.Entries, revincluded...)
	return page, nil
}

// include fetches the resources the page's matches reference through inc.
func (s *Server) include(ctx context.Context, fs *fhirSite, inc fhir.Include, rows []mappings.Row) ([]fhir.Entry, error) {
	target, err := fs.resource(inc.Target)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var ids []string
	for _, r := range rows {
		for _, id := range r.Refs[inc.Param] {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	idParam, _ := target.Decl().Param("_id")
	search := &fhir.Search{Type: inc.Target, Count: len(ids), Sort: []fhir.SortKey{{Name: "_id"}},
		Clauses: []fhir.Clause{{Param: idParam}}}
	for _, id := range ids {
		search.Clauses[0].Values = append(search.Clauses[0].Values, fhir.Value{Code: id})
	}
	found, _, err := s.fetch(ctx, fs, target, search)
	if err != nil {
		return nil, err
	}
	entries := make([]fhir.Entry, 0, len(found))
	for _, r := range found {
		entries = append(entries, fhir.Entry{FullURL: fullURL(fs.base, inc.Target, r.Resource), Resource: r.Resource, Mode: "include"})
	}
	return entries, nil
}

// revIncludeChunk is the most ids one _revinclude query binds: SQL Server
// takes at most 2,100 parameters.
const revIncludeChunk = 100

// revInclude fetches, for each of revs, the resources referring to the
// page's matches (of type typ): a search of the source by its reference
// parameter with the matches' ids, in chunks of revIncludeChunk ids. It
// adds at most fhir.MaxRevIncluded resources to a page; when there are more
// it stops, and the page ends with an OperationOutcome warning saying which
// _revinclude was cut, so a client never takes a partial list for the
// whole. Resources already on the page are written once (fhir.Page).
func (s *Server) revInclude(ctx context.Context, fs *fhirSite, typ string, revs []fhir.Include, rows []mappings.Row) ([]fhir.Entry, error) {
	if len(revs) == 0 || len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		if id := resourceID(r.Resource); id != "" {
			ids = append(ids, id)
		}
	}
	budget := fhir.MaxRevIncluded
	var entries []fhir.Entry
	var cut []string
	for _, inc := range revs {
		src, err := fs.resource(inc.Source)
		if err != nil {
			return nil, err
		}
		param, ok := src.Decl().Param(inc.Param)
		if !ok || param.Type != fhir.TypeReference {
			return nil, fmt.Errorf("api: _revinclude=%s: %s has no reference parameter %s", inc, inc.Source, inc.Param)
		}
		for chunk := range slices.Chunk(ids, revIncludeChunk) {
			c := fhir.Clause{Param: param}
			for _, id := range chunk {
				c.Values = append(c.Values, fhir.Value{RefType: typ, RefID: id})
			}
			// With the budget spent, one row says whether anything was
			// left out.
			search := &fhir.Search{Type: inc.Source, Count: max(budget, 1), Sort: []fhir.SortKey{{Name: "_id"}}, Clauses: []fhir.Clause{c}}
			found, last, err := s.fetch(ctx, fs, src, search)
			if err != nil {
				return nil, err
			}
			if budget == 0 {
				if len(found) > 0 {
					cut = append(cut, inc.String())
					break
				}
				continue
			}
			for _, r := range found {
				entries = append(entries, fhir.Entry{FullURL: fullURL(fs.base, inc.Source, r.Resource), Resource: r.Resource, Mode: fhir.ModeInclude})
			}
			budget -= len(found)
			if last != nil {
				cut = append(cut, inc.String())
				break
			}
		}
	}
	if len(cut) > 0 {
		msg := fmt.Sprintf("_revinclude adds at most %d resources to a page, and this page reached that limit: not every resource of %s is included. "+
			"Ask for a smaller _count, or search those resources directly by the matches' ids.", fhir.MaxRevIncluded, strings.Join(cut, ", "))
		entries = append(entries, fhir.Entry{Resource: fhir.Outcome(fhir.SeverityWarning, fhir.IssueTooCostly, msg), Mode: fhir.ModeOutcome})
	}
	return entries, nil
}

// fetch runs one page of a search through the agent and maps its rows. It
// asks for Count+1 rows: the extra one only says whether a next page exists,
// so the last page is never empty. When there is one, last is the page's
// last row as the agent sent it, for the next page's cursor.
func (s *Server) fetch(ctx context.Context, fs *fhirSite, res mappings.Resource, search *fhir.Search) (out []mappings.Row, last []byte, err error) {
	q, err := res.Search(fs.dialect, search)
	if err != nil {
		return nil, nil, mappingError(err)
	}
	rows, err := s.Hub.Query(ctx, fs.site.ID, s.fhirQuery(q))
	if err != nil {
		return nil, nil, agentError(err)
	}
	defer rows.Close()
	var prev []byte
	for rows.Next() {
		if len(out) == search.Count {
			return out, prev, nil // the extra row: there is a next page
		}
		r, err := res.Row(rows.Row(), fs.ctx)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
		prev = append(prev[:0], rows.Row()...)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, agentError(err)
	}
	return out, nil, nil
}

// count runs a search's count query.
func (s *Server) count(ctx context.Context, fs *fhirSite, res mappings.Resource, search *fhir.Search) (int, error) {
	q, err := res.Count(fs.dialect, search)
	if err != nil {
		return 0, mappingError(err)
	}
	wq := s.fhirQuery(q)
	wq.Mode = wire.ModeScalar
	rows, err := s.Hub.Query(ctx, fs.site.ID, wq)
	if err != nil {
		return 0, agentError(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if n, err = firstInt(rows.Row()); err != nil {
			return 0, err
		}
	}
	if err := rows.Err(); err != nil {
		return 0, agentError(err)
	}
	return n, nil
}

func (s *Server) fhirQuery(q mappings.Query) wire.QueryRequest {
	return wire.QueryRequest{
		Text: q.SQL, Params: q.Params, Mode: wire.ModeReader, Type: wire.CommandText,
		Priority: wire.PriorityInteractive, MaxTimeInQueueMS: fhirMaxTimeInQueue.Milliseconds(),
		TimeoutMS: fhirTimeout.Milliseconds(), MaxBytes: fhirMaxBytes,
	}
}

// mappingError turns a search the mapping cannot render for the request's
// sake (a bad boolean, a cursor that does not fit) into a 400; anything else
// is ours.
func mappingError(err error) error {
	if bad, ok := errors.AsType[*mappings.BadRequestError](err); ok {
		return fhir.Errorf(http.StatusBadRequest, "invalid", "%s", bad.Error())
	}
	return err
}

// agentError turns a query failure into what a FHIR client should see. The
// SQL is ours, so a database error is our failure: logged, not shown.
func agentError(err error) error {
	werr, ok := errors.AsType[*wire.Error](err)
	if !ok {
		if server.ErrorCode(err) == server.EUNAVAILABLE {
			return fhir.Errorf(http.StatusServiceUnavailable, "transient", "%s", server.ErrorMessage(err))
		}
		return err
	}
	switch werr.Kind {
	case wire.KindTimeout:
		return fhir.Errorf(http.StatusGatewayTimeout, "timeout", "the practice database did not answer in time; narrow the search or retry later")
	case wire.KindExpiredInQueue, wire.KindUnavailable:
		return fhir.Errorf(http.StatusServiceUnavailable, "transient", "the practice database is busy or unavailable; retry later")
	case wire.KindTooLarge:
		return fhir.Errorf(http.StatusBadRequest, "too-costly", "the page is too large; use a smaller _count or _elements")
	}
	return err // database errors and the rest are internal: logged by the error handler
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
func preferStrict(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), "handling=strict") {
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

// fullURL is an entry's absolute URL: base/Type/id.
func fullURL(base, typ string, resource []byte) string {
	return base + "/" + typ + "/" + resourceID(resource)
}

// resourceID extracts "id" from a resource's JSON without decoding it all.
func resourceID(resource []byte) string {
	i := bytes.Index(resource, []byte(`"id":"`))
	if i < 0 {
		return ""
	}
	rest := resource[i+6:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// firstInt reads the first value of a row object as an integer.
func firstInt(row []byte) (int, error) {
	var obj map[string]json.Number
	dec := json.NewDecoder(bytes.NewReader(row))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return 0, err
	}
	for _, v := range obj {
		n, err := v.Int64()
		return int(n), err
	}
	return 0, errors.New("count query returned no column")
}

// fhirJSON writes a FHIR JSON body: a []byte as is, anything else marshalled.
func fhirJSON(c echo.Context, status int, v any) error {
	c.Response().Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	if b, ok := v.([]byte); ok {
		return c.Blob(status, "application/fhir+json; charset=utf-8", b)
	}
	return c.JSON(status, v)
}
