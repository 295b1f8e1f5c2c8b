// Package fhirsearch runs the FHIR reads and searches of one site. It
// parses a search, has the site's mapping render it as SQL, runs the SQL on
// the site's agent through a [server.Querier], turns each row into a
// resource as it arrives and streams the searchset Bundle to an io.Writer:
// matches, then _include and _revinclude, with the paging links and
// tokens, _summary, _elements and _total. Bulk export reads through the
// same [Site.Scan].
//
// It knows neither HTTP routing nor who may ask: callers check access and
// answer its errors in their own shape. Errors about the request are
// *fhir.Error or *server.Error values; any other error is internal.
package fhirsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"fhirlink/agent/wire"
	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/server"
)

// Limits are what the agent allows one query: its scheduler class, how
// long it may wait in the queue and run, and the most bytes of rows it may
// send (0: no cap).
type Limits struct {
	Priority       wire.Priority
	MaxTimeInQueue time.Duration
	Timeout        time.Duration
	MaxBytes       int64
}

// Interactive are the limits of the queries of reads and searches: an
// integrator is waiting.
var Interactive = Limits{Priority: wire.PriorityInteractive, MaxTimeInQueue: 10 * time.Second, Timeout: 30 * time.Second, MaxBytes: 32 << 20}

// pageTokenLifetime is how long a next link works.
const pageTokenLifetime = 30 * time.Minute

// defaultZone is the practice's zone when its agent reports none: every
// practice served is Australian, and most are on Sydney time.
const defaultZone = "Australia/Sydney"

// Config is what a [Site] is made of.
type Config struct {
	Querier server.Querier
	SiteID  string
	// Mapping is the site's PMS mapping.
	Mapping *mappings.Mapping
	// Engine and TimeZone are the agent's (wire.Info): the SQL dialect
	// and the zone of the practice's times.
	Engine, TimeZone string
	// Base is the site's FHIR base URL, for fullUrls and links.
	Base string
	// Key signs the site's paging tokens (at least 16 bytes); searches
	// need it, reads and scans do not.
	Key []byte
}

// Site runs FHIR reads and searches on one site.
type Site struct {
	querier server.Querier
	id      string
	mapping *mappings.Mapping
	dialect mappings.Dialect
	context mappings.Site
	key     []byte
}

// New returns the site of c. An engine no mapping has a dialect for is a
// 501 *fhir.Error.
func New(c Config) (*Site, error) {
	d, err := mappings.DialectFor(c.Engine)
	if err != nil {
		return nil, fhir.Errorf(http.StatusNotImplemented, fhir.IssueNotSupported, "FHIR is not available for the %s engine", c.Engine)
	}
	loc, err := zone(c.TimeZone)
	if err != nil || c.TimeZone == "" {
		if loc, err = zone(defaultZone); err != nil {
			return nil, err
		}
	}
	return &Site{querier: c.Querier, id: c.SiteID, mapping: c.Mapping, dialect: d, key: c.Key,
		context: mappings.Site{Location: loc, Base: c.Base}}, nil
}

// zones are the time zones loaded, by name: time.LoadLocation reads and
// parses the zone's file each time, which was a sixth of the search
// handler's CPU for a week of free slots (a Site is made per request). A Location never
// changes once loaded.
var zones sync.Map // string → *time.Location

// zone is time.LoadLocation(name), loaded once per name.
func zone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// ID is the site's id.
func (s *Site) ID() string { return s.id }

// Mapping is the site's PMS mapping.
func (s *Site) Mapping() *mappings.Mapping { return s.mapping }

// Dialect is the SQL dialect of the site's engine.
func (s *Site) Dialect() mappings.Dialect { return s.dialect }

// Base is the site's FHIR base URL.
func (s *Site) Base() string { return s.context.Base }

// Location is the practice's time zone.
func (s *Site) Location() *time.Location { return s.context.Location }

// Resource returns the mapping of a resource type; a type the site's
// mapping does not have is a 404.
func (s *Site) Resource(typ string) (mappings.Resource, error) {
	r, ok := s.mapping.Resource(typ)
	if !ok {
		return nil, fhir.Errorf(http.StatusNotFound, fhir.IssueNotSupported, "resource type %q is not supported; see the CapabilityStatement at %s/metadata", typ, s.Base())
	}
	return r, nil
}

// fullURL is an entry's absolute URL.
func (s *Site) fullURL(typ, id string) string { return s.Base() + "/" + typ + "/" + id }

// Scanned is where a [Site.Scan] ended.
type Scanned struct {
	// Rows is how many rows were handed to the scan's function.
	Rows int
	// More reports that rows follow the page (there is a next one).
	More bool
	res  mappings.Resource
	last []byte // the last row handed over, as the agent sent it
}

// After returns the cursor of the last row handed over, for the next
// page's fhir.Search.After; nil when there was none. It is right also
// when the scan failed midway, so a reader can resume after it.
func (sc *Scanned) After() ([]string, error) {
	if sc.last == nil {
		return nil, nil
	}
	return sc.res.Cursor(sc.last)
}

// Scan runs one page of search on the agent, with the limits lim, and
// calls fn with each row's resource as the row arrives; the page is at
// most search.Count rows. It asks for one row more, which only says
// whether a next page exists (so a last page is never empty), and Scanned
// says where it ended.
//
// A search the mapping cannot render for the request's sake is a 400
// *fhir.Error; the Querier's errors are returned as they are (a
// *wire.Error, [server.EUNAVAILABLE], the context's), so bulk work can
// tell a query worth retrying from one that is not; an error of fn ends
// the scan and is returned.
func (s *Site) Scan(ctx context.Context, res mappings.Resource, search *fhir.Search, lim Limits, fn func(mappings.Row) error) (Scanned, error) {
	return s.scan(ctx, res, search, lim, fn, nil)
}

// ready is implemented by rows that can tell whether their next row is
// already at hand (hub.Rows).
type ready interface{ Ready() bool }

// scan is Scan, calling wait (when not nil) after a row whose next one is
// not at hand yet: before Next waits for the agent, what fn buffered can
// go on its way. Rows that cannot tell are waited for after each row.
func (s *Site) scan(ctx context.Context, res mappings.Resource, search *fhir.Search, lim Limits, fn func(mappings.Row) error, wait func()) (Scanned, error) {
	sc := Scanned{res: res}
	q, err := res.Search(s.dialect, search)
	if err != nil {
		return sc, mappingError(err)
	}
	rows, err := s.querier.Query(ctx, s.id, lim.request(q, wire.ModeReader))
	if err != nil {
		return sc, err
	}
	defer rows.Close()
	rd, _ := rows.(ready)
	for rows.Next() {
		if sc.Rows == search.Count {
			sc.More = true // the extra row
			return sc, nil
		}
		r, err := res.Row(rows.Row(), s.context)
		if err != nil {
			return sc, err
		}
		if r.ID == "" { // a mapping that does not set it yet
			if r.ID = mappings.ResourceID(r.Resource); r.ID == "" {
				return sc, fmt.Errorf("fhirsearch: a %s row gave a resource without id", res.Decl().Type)
			}
		}
		if err := fn(r); err != nil {
			return sc, err
		}
		sc.Rows++
		sc.last = append(sc.last[:0], rows.Row()...)
		if wait != nil && (rd == nil || !rd.Ready()) {
			wait()
		}
	}
	return sc, rows.Err()
}

// count runs a search's count query.
func (s *Site) count(ctx context.Context, res mappings.Resource, search *fhir.Search) (int, error) {
	q, err := res.Count(s.dialect, search)
	if err != nil {
		return 0, mappingError(err)
	}
	rows, err := s.querier.Query(ctx, s.id, Interactive.request(q, wire.ModeScalar))
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

func (l Limits) request(q mappings.Query, mode wire.Mode) wire.QueryRequest {
	return wire.QueryRequest{
		Text: q.SQL, Params: q.Params, Mode: mode, Type: wire.CommandText,
		Priority: l.Priority, MaxTimeInQueueMS: l.MaxTimeInQueue.Milliseconds(),
		TimeoutMS: l.Timeout.Milliseconds(), MaxBytes: l.MaxBytes,
		Prepare: true, // the mapping's SQL, the same text page after page
	}
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

// mappingError turns a search the mapping cannot render for the request's
// sake (a bad boolean, a cursor that does not fit) into a 400; anything else
// is ours.
func mappingError(err error) error {
	if bad, ok := errors.AsType[*mappings.BadRequestError](err); ok {
		return fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "%s", bad.Error())
	}
	return err
}

// agentError turns a query failure into what a FHIR client should see. The
// SQL is ours, so a database error is our failure: internal, logged by the
// caller, not shown.
func agentError(err error) error {
	werr, ok := errors.AsType[*wire.Error](err)
	if !ok {
		return err // server.EUNAVAILABLE, the context's error, or internal
	}
	switch werr.Kind {
	case wire.KindTimeout:
		return server.Errorf(server.ETIMEOUT, "the practice database did not answer in time; narrow the search or retry later")
	case wire.KindExpiredInQueue, wire.KindUnavailable:
		return server.Errorf(server.EUNAVAILABLE, "the practice database is busy or unavailable; retry later")
	case wire.KindTooLarge:
		return fhir.Errorf(http.StatusBadRequest, fhir.IssueTooCostly, "the page is too large; use a smaller _count or _elements")
	}
	return err
}
