package zedmed

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"fhirlink/agent/executor"
	"fhirlink/agent/fbtest"
	"fhirlink/fhir"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/mappings"
	"fhirlink/mappings/mappingstest"
	"fhirlink/mappings/zedmed/zedsynth"
)

func TestMain(m *testing.M) {
	code := fbtest.Main(m)
	fhirvalidate.Stop()
	os.Exit(code)
}

// sydney is the test practice's zone.
var sydney = func() *time.Location {
	loc, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		panic(err)
	}
	return loc
}()

var testNow = time.Date(2026, 6, 15, 11, 0, 0, 0, sydney)

var testSite = mappings.Site{Location: sydney, Base: "https://fhirlink.test/integrator/sites/s1/fhir/R4"}

func parse(t testing.TB, r mappings.Resource, query string) *fhir.Search {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	s, err := fhir.ParseSearch(r.Decl(), q, fhir.ParseOptions{Strict: true, Location: sydney, Now: testNow})
	if err != nil {
		t.Fatalf("%s?%s: %v", r.Decl().Type, query, err)
	}
	return s
}

func dialect(t testing.TB, engine string) mappings.Dialect {
	t.Helper()
	d, err := mappings.DialectFor(engine)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// practice is one loaded Zedmed database.
type practice struct {
	mappingstest.Searcher
	engine string
	db     *sql.DB
	snap   *snapshot
}

// loadPractice loads the Small practice into db and opens an executor on it (catalogue ZEDMED).
func loadPractice(t testing.TB, engine string, db *sql.DB, dsn string) *practice {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := zedsynth.Apply(ctx, db, engine); err != nil {
		t.Fatal(err)
	}
	if err := zedsynth.Generate(ctx, db, engine, zedsynth.Small()); err != nil {
		t.Fatal(err)
	}
	p := &practice{Searcher: mappingstest.Searcher{Dialect: dialect(t, engine), Site: testSite}, engine: engine, db: db}
	p.snap = loadSnapshot(t, db)
	exec, err := executor.Open(ctx, executor.Config{Engine: engine, Catalogues: []executor.Catalogue{{Name: zedsynth.CatalogueMain, DSN: dsn}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Close() })
	p.Exec = exec
	return p
}

// search walks every page of the query with pages of size (the mapping's
// default when 0), checking the paging contract.
func (p *practice) search(t testing.TB, r mappings.Resource, query string, size int) []mappings.Row {
	t.Helper()
	if size > 0 {
		query += "&_count=" + strconv.Itoa(size)
	}
	return p.Search(t, r, parse(t, r, strings.TrimPrefix(query, "&")))
}

// ids are the resources' ids in order.
func ids(t testing.TB, rows []mappings.Row) []int {
	t.Helper()
	out := make([]int, len(rows))
	for i, r := range rows {
		n, err := strconv.Atoi(mappingstest.ResourceID(t, r.Resource))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = n
	}
	return out
}

func sortedIDs(t testing.TB, rows []mappings.Row) []int {
	out := ids(t, rows)
	slices.Sort(out)
	return out
}

func (p *practice) count(t testing.TB, r mappings.Resource, query string) int {
	t.Helper()
	q, err := r.Count(p.Dialect, parse(t, r, query))
	if err != nil {
		t.Fatal(err)
	}
	rows := p.Query(t, q)
	if len(rows) != 1 {
		t.Fatalf("count: %d rows", len(rows))
	}
	var c struct {
		Total mappings.Int `json:"total"`
	}
	if err := json.Unmarshal(rows[0], &c); err != nil {
		t.Fatal(err)
	}
	return int(c.Total)
}

// expect checks a search (pages of 25) and its count against the expected ids.
func (p *practice) expect(t testing.TB, r mappings.Resource, query string, want []int) []mappings.Row {
	t.Helper()
	rows := p.search(t, r, query, 25)
	got := sortedIDs(t, rows)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s?%s: got %d ids %v, want %d ids %v", r.Decl().Type, query, len(got), got, len(want), want)
	}
	if n := p.count(t, r, query); n != len(want) {
		t.Errorf("%s?%s: count %d, want %d", r.Decl().Type, query, n, len(want))
	}
	if len(want) == 0 {
		t.Errorf("%s?%s: a test that expects nothing proves little; pick data that matches", r.Decl().Type, query)
	}
	return rows
}

// expectNone checks that a search finds nothing.
func (p *practice) expectNone(t testing.TB, r mappings.Resource, query string) {
	t.Helper()
	if rows := p.search(t, r, query, 25); len(rows) != 0 {
		t.Errorf("%s?%s: got %d resources, want none", r.Decl().Type, query, len(rows))
	}
}

// badRequest checks that a search is refused as a bad request.
func (p *practice) badRequest(t testing.TB, r mappings.Resource, query string) {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fhir.ParseSearch(r.Decl(), q, fhir.ParseOptions{Strict: true, Location: sydney, Now: testNow})
	if err != nil {
		return // refused by the FHIR layer already
	}
	_, err = r.Search(p.Dialect, s)
	var bad *mappings.BadRequestError
	if !errorsAs(err, &bad) {
		t.Errorf("%s?%s: error %v, want a bad request", r.Decl().Type, query, err)
	}
}
