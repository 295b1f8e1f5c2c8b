package fhirsearch

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// Search is a parsed search of one resource type, ready to [Site.Run].
// Its fhir.Search says what it asks for (the _include and _revinclude
// types a caller checks access to).
type Search struct {
	*fhir.Search
	res mappings.Resource
	// self is the page's self link when it was reached through a next
	// link: that link, which gives this page again (the canonical query
	// would give the first page).
	self string
}

// Parse parses a search of res: the parameters of q or, when q has a
// _page_token, the search that next link carries. strict refuses unknown
// parameters (Prefer: handling=strict) instead of ignoring them.
func (s *Site) Parse(res mappings.Resource, q url.Values, strict bool) (*Search, error) {
	opt := fhir.ParseOptions{Strict: strict, Location: s.Location()}
	if tok := q.Get("_page_token"); tok != "" {
		search, err := fhir.ParseToken(res.Decl(), tok, s.key, opt)
		if err != nil {
			return nil, err
		}
		return &Search{Search: search, res: res, self: fhir.NextLink(s.Base(), res.Decl().Type, tok)}, nil
	}
	search, err := fhir.ParseSearch(res.Decl(), q, opt)
	if err != nil {
		return nil, err
	}
	return &Search{Search: search, res: res}, nil
}

// Result is what [Site.Run] wrote.
type Result struct {
	// Resources is the number of resources written: matches and
	// includes.
	Resources int
	// Started reports that bytes were written. When Run fails after
	// that, the Bundle is cut short and the response carrying it must be
	// broken (the connection aborted), so no client takes it for whole.
	Started bool
}

// flusher is a writer that can push what it buffered to the client: an
// http.ResponseWriter.
type flusher interface{ Flush() }

// Run runs q and writes its page to w as a searchset Bundle, streaming:
// each match is written as its row arrives from the agent (the matches of
// rows that arrived together in one write, see outputSize), then the
// resources of each _include and of each _revinclude, then the links.
// Nothing is written before the first entry, so an error before it
// (the count, a refused or failing query) leaves w untouched.
//
// The agent's failures become *server.Error or *fhir.Error values: a
// practice server that is unreachable, busy or slow is a 503 or 504, a
// page over the byte cap a 400; a database error is internal.
func (s *Site) Run(ctx context.Context, w io.Writer, q *Search) (Result, error) {
	if len(s.key) < 16 {
		return Result{}, fmt.Errorf("fhirsearch: site %s has no paging key", s.id)
	}
	search, res := q.Search, q.res
	typ := res.Decl().Type
	var total *int
	if search.Total || search.Summary == fhir.SummaryCount {
		n, err := s.count(ctx, res, search)
		if err != nil {
			return Result{}, err
		}
		total = &n
	}
	out := newOutput(w)
	defer out.release()
	bw := fhir.NewBundleWriter(out, total, search.Ignored)
	next, err := s.page(ctx, out, bw, q)
	if err == nil {
		self := q.self
		if self == "" {
			self = fhir.SelfLink(s.Base(), typ, search.Applied)
		}
		err = bw.Close(self, next)
	}
	if err == nil {
		err = out.Flush()
	}
	return Result{Resources: bw.Resources(), Started: bw.Started()}, err
}

// outputSize is the most of a Bundle gathered before it is written to the
// client. Entries are gathered while the agent's next rows are already at
// hand (it sends them in batches), and written when the next is not or the
// buffer is full: an entry is one to a few kB, and written one by one each
// was a write to the client's connection of its own (a system call and a
// chunk), which cost a page of 400 resources more CPU than mapping them.
const outputSize = 32 << 10

var outputs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, outputSize) }}

// output is the buffered writer a Bundle goes through to the client.
type output struct {
	*bufio.Writer
	w io.Writer
}

func newOutput(w io.Writer) *output {
	bw := outputs.Get().(*bufio.Writer)
	bw.Reset(w)
	return &output{Writer: bw, w: w}
}

// pass writes what is buffered on to w, the client's response, which
// sends it as it fills (push sends it at once). A write error is left for
// the next write to report.
func (o *output) pass() { _ = o.Flush() }

// release hands the buffer on; what it still held is dropped (a failed
// search, whose response is broken anyway).
func (o *output) release() {
	o.Reset(nil)
	outputs.Put(o.Writer)
	o.Writer = nil
}

// page writes the page's entries and returns its next link.
func (s *Site) page(ctx context.Context, w *output, bw *fhir.BundleWriter, q *Search) (next string, err error) {
	search, res := q.Search, q.res
	if search.Summary == fhir.SummaryCount {
		return "", nil
	}
	typ := res.Decl().Type
	refs := make([][]string, len(search.Include)) // per _include, the ids referenced
	seen := make([]map[string]bool, len(search.Include))
	for i := range seen {
		seen[i] = map[string]bool{}
	}
	var ids []string // the matches', for _revinclude
	sc, err := s.scan(ctx, res, search, Interactive, func(r mappings.Row) error {
		for i, inc := range search.Include {
			for _, id := range r.Refs[inc.Param] {
				if !seen[i][id] {
					seen[i][id] = true
					refs[i] = append(refs[i], id)
				}
			}
		}
		if len(search.RevInclude) > 0 {
			ids = append(ids, r.ID)
		}
		resource := r.Resource
		var err error
		if len(search.Elements) > 0 {
			if resource, err = fhir.Subset(resource, search.Elements); err != nil {
				return err
			}
		}
		if resource, err = fhir.Summarize(resource, search.Summary); err != nil {
			return err
		}
		return bw.Entry(fhir.Entry{FullURL: s.fullURL(typ, r.ID), Resource: resource, Mode: fhir.ModeMatch})
	}, w.pass)
	if err != nil {
		return "", agentError(err)
	}
	if sc.More {
		after := *search
		if after.After, err = sc.After(); err != nil {
			return "", err
		}
		next = fhir.NextLink(s.Base(), typ, after.Token(s.key, time.Now().Add(pageTokenLifetime)))
	}
	for i, inc := range search.Include {
		if err := s.include(ctx, w, bw, inc, refs[i]); err != nil {
			return "", err
		}
	}
	return next, s.revInclude(ctx, w, bw, typ, search.RevInclude, ids)
}

// push sends what w buffered to the client before the agent is asked
// for more, so the entries written so far do not wait for that query.
// A write error is left for the next write to report.
func push(w *output, bw *fhir.BundleWriter) {
	if !bw.Started() {
		return
	}
	if w.Flush() == nil {
		if f, ok := w.w.(flusher); ok {
			f.Flush()
		}
	}
}

// include writes the resources of inc's target with the given ids.
func (s *Site) include(ctx context.Context, w *output, bw *fhir.BundleWriter, inc fhir.Include, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	target, err := s.Resource(inc.Target)
	if err != nil {
		return err
	}
	search, err := IDSearch(target, ids)
	if err != nil {
		return err
	}
	push(w, bw)
	_, err = s.scan(ctx, target, search, Interactive, func(r mappings.Row) error {
		return bw.Entry(fhir.Entry{FullURL: s.fullURL(inc.Target, r.ID), Resource: r.Resource, Mode: fhir.ModeInclude})
	}, w.pass)
	return agentError(err)
}

// IDSearch is the search of res for the resources with the given ids,
// all on one page, sorted by _id: how _include and an export's referenced
// patients fetch what they name. A type without an _id parameter is an
// error.
func IDSearch(res mappings.Resource, ids []string) (*fhir.Search, error) {
	decl := res.Decl()
	idParam, ok := decl.Param("_id")
	if !ok {
		return nil, fmt.Errorf("fhirsearch: %s has no _id parameter", decl.Type)
	}
	c := fhir.Clause{Param: idParam}
	for _, id := range ids {
		c.Values = append(c.Values, fhir.Value{Code: id})
	}
	return &fhir.Search{Type: decl.Type, Count: len(ids), Sort: []fhir.SortKey{{Name: "_id"}}, Clauses: []fhir.Clause{c}}, nil
}

// revIncludeChunk is the most ids one _revinclude query binds: SQL Server
// takes at most 2,100 parameters.
const revIncludeChunk = 100

// revInclude writes, for each of revs, the resources referring to the
// page's matches (of type typ, with the given ids): a search of the source
// by its reference parameter with the matches' ids, in chunks of
// revIncludeChunk ids. It adds at most fhir.MaxRevIncluded resources to a
// page; when there are more it stops, and the page ends with an
// OperationOutcome warning saying which _revinclude was cut, so a client
// never takes a partial list for the whole. Resources already on the page
// are written once (fhir.BundleWriter).
func (s *Site) revInclude(ctx context.Context, w *output, bw *fhir.BundleWriter, typ string, revs []fhir.Include, ids []string) error {
	if len(revs) == 0 || len(ids) == 0 {
		return nil
	}
	budget := fhir.MaxRevIncluded
	var cut []string
	for _, inc := range revs {
		src, err := s.Resource(inc.Source)
		if err != nil {
			return err
		}
		param, ok := src.Decl().Param(inc.Param)
		if !ok || param.Type != fhir.TypeReference {
			return fmt.Errorf("fhirsearch: _revinclude=%s: %s has no reference parameter %s", inc, inc.Source, inc.Param)
		}
		for chunk := range slices.Chunk(ids, revIncludeChunk) {
			c := fhir.Clause{Param: param}
			for _, id := range chunk {
				c.Values = append(c.Values, fhir.Value{RefType: typ, RefID: id})
			}
			// With the budget spent, one row says whether anything was
			// left out.
			search := &fhir.Search{Type: inc.Source, Count: max(budget, 1), Sort: []fhir.SortKey{{Name: "_id"}}, Clauses: []fhir.Clause{c}}
			spent := budget == 0
			push(w, bw)
			sc, err := s.scan(ctx, src, search, Interactive, func(r mappings.Row) error {
				if spent {
					return nil
				}
				return bw.Entry(fhir.Entry{FullURL: s.fullURL(inc.Source, r.ID), Resource: r.Resource, Mode: fhir.ModeInclude})
			}, w.pass)
			if err != nil {
				return agentError(err)
			}
			if spent {
				if sc.Rows > 0 {
					cut = append(cut, inc.String())
					break
				}
				continue
			}
			budget -= sc.Rows
			if sc.More {
				cut = append(cut, inc.String())
				break
			}
		}
	}
	if len(cut) == 0 {
		return nil
	}
	msg := fmt.Sprintf("_revinclude adds at most %d resources to a page, and this page reached that limit: not every resource of %s is included. "+
		"Ask for a smaller _count, or search those resources directly by the matches' ids.", fhir.MaxRevIncluded, strings.Join(cut, ", "))
	return bw.Entry(fhir.Entry{Resource: fhir.Outcome(fhir.SeverityWarning, fhir.IssueTooCostly, msg), Mode: fhir.ModeOutcome})
}

// Read returns the resource typ/id. One the practice has no live record
// of is a 404.
func (s *Site) Read(ctx context.Context, typ, id string) (json.RawMessage, error) {
	res, err := s.Resource(typ)
	if err != nil {
		return nil, err
	}
	// Strict: were _id ever undeclared, a lenient parse would drop it and
	// "read" the first row of everything.
	search, err := fhir.ParseSearch(res.Decl(), url.Values{"_id": {id}, "_count": {"1"}}, fhir.ParseOptions{Strict: true, Location: s.Location()})
	if err != nil {
		return nil, err
	}
	var found json.RawMessage
	if _, err := s.Scan(ctx, res, search, Interactive, func(r mappings.Row) error {
		found = r.Resource
		return nil
	}); err != nil {
		return nil, agentError(err)
	}
	if found == nil {
		return nil, fhir.Errorf(http.StatusNotFound, fhir.IssueNotFound, "%s/%s is not known", res.Decl().Type, id)
	}
	return found, nil
}
