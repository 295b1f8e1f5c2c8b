package bppremier

import (
	"net/url"
	"os"
	"testing"
	"time"
	_ "time/tzdata"

	"fhirlink/agent/pgtest"
	"fhirlink/fhir"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/mappings"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	fhirvalidate.Stop()
	os.Exit(code)
}

// sydney is the test practice's zone: Bp stores its wall-clock times.
var sydney = func() *time.Location {
	loc, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		panic(err)
	}
	return loc
}()

// testNow anchors ap date ranges in tests.
var testNow = time.Date(2026, 6, 15, 11, 0, 0, 0, sydney)

var testSite = mappings.Site{Location: sydney, Base: "https://fhirlink.test/integrator/sites/s1/fhir/R4"}

// parse parses a query string for r as the server would (strict mode).
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
