package mappings

import (
	"net/url"
	"testing"
	"time"

	"fhirlink/fhir"
)

func TestLastUpdatedParam(t *testing.T) {
	p := LastUpdatedParam(`x."UPDATED"`, `x."CREATED"`)
	decl := &fhir.ResourceDecl{Type: "Patient", Params: []fhir.SearchParam{{Name: p.Name, Type: p.Type}}}
	syd, _ := time.LoadLocation("Australia/Sydney")
	// An instant in UTC is compared as the practice's wall clock.
	s, err := fhir.ParseSearch(decl, url.Values{"_lastUpdated": {"ge2024-01-01T00:00:00Z"}}, fhir.ParseOptions{Strict: true, Location: syd})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := DialectFor("postgres")
	b := &Builder{Dialect: d}
	pred, err := p.Match.Match(b, "", s.Clauses[0].Values[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := `COALESCE(x."UPDATED", x."CREATED") >= @p1`; pred != want {
		t.Errorf("predicate %q, want %q", pred, want)
	}
	if got := *b.Params()[0].Value; got != "2024-01-01T11:00:00" {
		t.Errorf("bound %q, want the Sydney wall clock 2024-01-01T11:00:00", got)
	}
}
