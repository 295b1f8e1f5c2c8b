// Package mappingstest is what the PMS mappings' tests share: a [Searcher]
// that runs a mapping's searches through the agent's executor page by page,
// checking the paging contract and validating every resource, and the
// golden-file check of a synthetic practice ([Practice], [CheckGolden]):
// every row of every resource type, built by the mapping, compared as JSON
// with what the mapping built when the file was written. It is how a change
// to how resources are built (the JSON writer) shows it changed nothing.
package mappingstest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"fhirlink/agent/executor"
	"fhirlink/agent/wire"
	"fhirlink/fhir"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/mappings"
)

// Searcher runs a mapping's SQL through the agent's executor, as the
// server does, so parameters are bound as in production.
type Searcher struct {
	Exec    *executor.Executor
	Dialect mappings.Dialect
	Site    mappings.Site
}

// Query runs q as a reader and returns its rows.
func (s Searcher) Query(t testing.TB, q mappings.Query) [][]byte {
	t.Helper()
	var rows rowSink
	_, err := s.Exec.Run(context.Background(), wire.QueryRequest{ID: "test", Text: q.SQL, Params: q.Params,
		Mode: wire.ModeReader, Type: wire.CommandText, Priority: wire.PriorityInteractive, TimeoutMS: 60000}, &rows)
	if err != nil {
		t.Fatalf("%v\nSQL:\n%s\nparams: %s", err, q.SQL, paramText(q.Params))
	}
	return rows
}

func paramText(ps []wire.Param) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "@%s %s %q; ", p.Name, p.Type, *p.Value)
	}
	return b.String()
}

// PagedRow is a resource with its cursor, as the server computes it for a
// page's last row.
type PagedRow struct {
	mappings.Row
	Cursor []string
}

// Page runs one page of search and returns its resources, each checked by
// the FHIR validators.
func (s Searcher) Page(t testing.TB, r mappings.Resource, search *fhir.Search) []PagedRow {
	t.Helper()
	q, err := r.Search(s.Dialect, search)
	if err != nil {
		t.Fatal(err)
	}
	raw := s.Query(t, q)
	rows := make([]PagedRow, len(raw))
	res := make([]json.RawMessage, len(raw))
	for i, row := range raw {
		if rows[i].Row, err = r.Row(row, s.Site); err != nil {
			t.Fatalf("row %s: %v", row, err)
		}
		if rows[i].Cursor, err = r.Cursor(row); err != nil {
			t.Fatalf("cursor of %s: %v", row, err)
		}
		res[i] = rows[i].Resource
	}
	if len(res) > 0 {
		fhirvalidate.Resources(t, res...)
	}
	return rows
}

// Search walks every page of search (its Count the page size), checking
// the paging contract (at most Count+1 rows a page, no empty page after the
// first, no resource on two pages, a cursor value per sort key), and
// returns the resources in order.
func (s Searcher) Search(t testing.TB, r mappings.Resource, search *fhir.Search) []mappings.Row {
	t.Helper()
	name := r.Decl().Type
	var all []mappings.Row
	seen := map[string]bool{}
	for pages := 1; ; pages++ {
		rows := s.Page(t, r, search)
		if len(rows) > search.Count+1 {
			t.Fatalf("%s: page %d has %d rows, more than _count+1 = %d", name, pages, len(rows), search.Count+1)
		}
		more := len(rows) > search.Count
		if more {
			rows = rows[:search.Count]
		}
		if len(rows) == 0 && pages > 1 {
			t.Fatalf("%s: page %d is empty", name, pages)
		}
		for _, row := range rows {
			id := ResourceID(t, row.Resource)
			if seen[id] {
				t.Fatalf("%s: %s on two pages", name, id)
			}
			seen[id] = true
			if len(row.Cursor) != len(search.Sort) {
				t.Fatalf("%s: cursor %q for %d sort keys", name, row.Cursor, len(search.Sort))
			}
			all = append(all, row.Row)
		}
		if !more {
			return all
		}
		if pages > 1000 {
			t.Fatalf("%s: more than 1000 pages", name)
		}
		search.After = rows[len(rows)-1].Cursor
	}
}

// ResourceID is the id of a resource's JSON; a resource without one fails
// the test.
func ResourceID(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.ID == "" {
		t.Fatalf("resource without id: %s", raw)
	}
	return head.ID
}

// Practice is a synthetic practice read through a mapping.
type Practice struct {
	Searcher
	Mapping *mappings.Mapping
	// Today is the practice's reference day: slots are read for the week
	// that starts on it, for every schedule.
	Today time.Time
}

// Row is one row of a practice and the resource it is a row of.
type Row struct {
	Res mappings.Resource
	Row []byte
}

// Rows is every row of the practice, type by type in the mapping's order,
// each type in its search's default order.
func (p *Practice) Rows(t testing.TB) []Row {
	t.Helper()
	var out []Row
	var schedules []string
	for _, res := range p.Mapping.Resources {
		typ := res.Decl().Type
		if typ == "Slot" {
			continue
		}
		for _, row := range p.all(t, res, url.Values{}) {
			out = append(out, Row{res, row})
			if typ == "Schedule" {
				r, err := res.Row(row, p.Site)
				if err != nil {
					t.Fatal(err)
				}
				schedules = append(schedules, r.ID)
			}
		}
	}
	if slot, ok := p.Mapping.Resource("Slot"); ok {
		from := p.Today.Format("2006-01-02")
		to := p.Today.AddDate(0, 0, 7).Format("2006-01-02")
		for _, id := range schedules {
			for _, row := range p.all(t, slot, url.Values{"schedule": {"Schedule/" + id}, "start": {"ge" + from, "lt" + to}}) {
				out = append(out, Row{slot, row})
			}
		}
	}
	return out
}

// Resources is the resource of each row.
func (p *Practice) Resources(t testing.TB, rows []Row) []json.RawMessage {
	t.Helper()
	out := make([]json.RawMessage, len(rows))
	for i, r := range rows {
		built, err := r.Res.Row(r.Row, p.Site)
		if err != nil {
			t.Fatalf("%s row %s: %v", r.Res.Decl().Type, r.Row, err)
		}
		out[i] = built.Resource
	}
	return out
}

// Bench builds the resource of each row in turn, b.N resources in all,
// reporting bytes and allocations per resource.
func (p *Practice) Bench(b *testing.B, rows []Row) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := rows[i%len(rows)]
		if _, err := r.Res.Row(r.Row, p.Site); err != nil {
			b.Fatal(err)
		}
	}
}

// all is every row of res matching q, page after page.
func (p *Practice) all(t testing.TB, res mappings.Resource, q url.Values) [][]byte {
	t.Helper()
	decl := res.Decl()
	q.Set("_count", fmt.Sprint(decl.MaxCount))
	var out [][]byte
	var after []string
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatalf("%s: too many pages", decl.Type)
		}
		s, err := fhir.ParseSearch(decl, q, fhir.ParseOptions{Strict: true, Location: p.Site.Location, Now: p.Today})
		if err != nil {
			t.Fatalf("%s?%s: %v", decl.Type, q.Encode(), err)
		}
		s.After = after
		sq, err := res.Search(p.Dialect, s)
		if err != nil {
			t.Fatalf("%s?%s: %v", decl.Type, q.Encode(), err)
		}
		rows := p.Query(t, sq)
		more := len(rows) > s.Count
		if more {
			rows = rows[:s.Count]
		}
		out = append(out, rows...)
		if !more {
			return out
		}
		if after, err = res.Cursor(rows[len(rows)-1]); err != nil {
			t.Fatal(err)
		}
	}
}

type rowSink [][]byte

func (*rowSink) Header(wire.Header) error { return nil }
func (r *rowSink) Row(b []byte) error     { *r = append(*r, bytes.Clone(b)); return nil }

// CheckGolden compares resources with the gzipped NDJSON golden file at
// path, one resource a line, each as JSON (the order of an object's
// members aside); update rewrites the file instead.
func CheckGolden(t testing.TB, path string, resources []json.RawMessage, update bool) {
	t.Helper()
	if update {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		for _, r := range resources {
			zw.Write(r)
			zw.Write([]byte{'\n'})
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<24)
	i, bad := 0, 0
	for ; sc.Scan(); i++ {
		if i >= len(resources) {
			t.Fatalf("%d resources built, %s has more", len(resources), path)
		}
		if !jsonEqual(sc.Bytes(), resources[i]) {
			if bad++; bad <= 5 {
				t.Errorf("resource %d differs from %s:\n got  %s\n want %s", i, path, resources[i], sc.Bytes())
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(resources) {
		t.Errorf("%d resources built, %s has %d", len(resources), path, i)
	}
	if bad > 0 {
		t.Errorf("%d of %d resources differ", bad, i)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
