package bppremier

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fhirlink/mappings"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// shape is a representative search: its T-SQL is kept in a golden file,
// and the same search runs on PostgreSQL and SQLite in the database tests.
type shape struct {
	name  string
	res   mappings.Resource
	query string
	after []string // a next page's cursor
	count bool     // the count query
}

var shapes = []shape{
	// Patient: reads, each parameter, AU Core combinations, sorts, paging, count.
	{name: "patient-read", res: Patient, query: "_id=12"},
	{name: "patient-id-several", res: Patient, query: "_id=1,2,abc"},
	{name: "patient-identifier-ihi", res: Patient, query: "identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0|8003608166690503"},
	{name: "patient-identifier-medicare-irn", res: Patient, query: "identifier=http://ns.electronichealth.net.au/id/medicare-number|29501012341"},
	{name: "patient-identifier-medicare-card", res: Patient, query: "identifier=http://ns.electronichealth.net.au/id/medicare-number|2950101234"},
	{name: "patient-identifier-dva", res: Patient, query: "identifier=http://ns.electronichealth.net.au/id/dva|NX123456"},
	{name: "patient-identifier-record-number", res: Patient, query: "identifier=http://ns.electronichealth.net.au/id/hpio-scoped/medicalrecord/1.0/8003621566684455|1234"},
	{name: "patient-identifier-internal", res: Patient, query: "identifier=urn:fhirlink:bppremier:patient-id/8003621566684455|12"},
	{name: "patient-identifier-any-system", res: Patient, query: "identifier=8003608166690503"},
	{name: "patient-identifier-system-only", res: Patient, query: "identifier=http://ns.electronichealth.net.au/id/dva|"},
	{name: "patient-identifier-no-system", res: Patient, query: "identifier=|1234"},
	{name: "patient-identifier-not", res: Patient, query: "identifier:not=http://ns.electronichealth.net.au/id/hi/ihi/1.0|"},
	{name: "patient-family", res: Patient, query: "family=smi"},
	{name: "patient-family-exact", res: Patient, query: "family:exact=O'Brien"},
	{name: "patient-family-contains", res: Patient, query: "family:contains=son"},
	{name: "patient-family-metacharacters", res: Patient, query: `family=50%25_off[1]\\x`},
	{name: "patient-family-injection", res: Patient, query: "family=' OR 1=1 --"},
	{name: "patient-family-or", res: Patient, query: "family=smith,jones"},
	{name: "patient-given", res: Patient, query: "given=jo"},
	{name: "patient-name", res: Patient, query: "name=ann"},
	{name: "patient-birthdate-day", res: Patient, query: "birthdate=1980-06-15"},
	{name: "patient-birthdate-year-ge-lt", res: Patient, query: "birthdate=ge1980&birthdate=lt1990"},
	{name: "patient-birthdate-prefixes", res: Patient, query: "birthdate=ne1980-06&birthdate=gt1950&birthdate=le2020&birthdate=sa1940&birthdate=eb2025"},
	{name: "patient-birthdate-ap", res: Patient, query: "birthdate=ap1980-06-15"},
	{name: "patient-birthdate-datetime", res: Patient, query: "birthdate=ge1980-06-15T10:00&birthdate=le1980-06-15T10:00"},
	{name: "patient-gender", res: Patient, query: "gender=female"},
	{name: "patient-gender-unknown-system", res: Patient, query: "gender=http://hl7.org/fhir/administrative-gender|unknown"},
	{name: "patient-gender-not", res: Patient, query: "gender:not=male"},
	{name: "patient-phone", res: Patient, query: "phone=%2B61 412 345 678"},
	{name: "patient-email", res: Patient, query: "email=Jane.Citizen@Example.com"},
	{name: "patient-address-postalcode", res: Patient, query: "address-postalcode=20"},
	{name: "patient-active-false", res: Patient, query: "active=false"},
	{name: "patient-general-practitioner", res: Patient, query: "general-practitioner=Practitioner/3"},
	{name: "patient-birthdate-family", res: Patient, query: "birthdate=1980-06-15&family=smith"},
	{name: "patient-birthdate-name", res: Patient, query: "birthdate=1980-06-15&name=smith"},
	{name: "patient-family-gender", res: Patient, query: "family=smith&gender=male"},
	{name: "patient-gender-name", res: Patient, query: "gender=female&name=ann"},
	{name: "patient-sort-family", res: Patient, query: "family=s&_sort=family,given&_count=10"},
	{name: "patient-sort-family-next-page", res: Patient, query: "family=s&_sort=family,given&_count=10", after: []string{"smith", "john", "42"}},
	{name: "patient-sort-birthdate-desc-next-page", res: Patient, query: "_sort=-birthdate&_count=5", after: []string{"1980-06-15T00:00:00", "17"}},
	{name: "patient-next-page", res: Patient, query: "family=smi", after: []string{"42"}},
	{name: "patient-count", res: Patient, query: "family=smi&_summary=count", count: true},

	// Practitioner.
	{name: "practitioner-read", res: Practitioner, query: "_id=3"},
	{name: "practitioner-identifier-hpii", res: Practitioner, query: "identifier=http://ns.electronichealth.net.au/id/hi/hpii/1.0|8003614900040155"},
	{name: "practitioner-identifier-any-system", res: Practitioner, query: "identifier=MED0001234567"},
	{name: "practitioner-name", res: Practitioner, query: "name=smi"},
	{name: "practitioner-family-given", res: Practitioner, query: "family=smith&given=jane"},
	{name: "practitioner-active-false", res: Practitioner, query: "active=false"},
	{name: "practitioner-count", res: Practitioner, query: "_summary=count", count: true},

	// PractitionerRole.
	{name: "practitionerrole-read", res: PractitionerRole, query: "_id=5"},
	{name: "practitionerrole-identifier", res: PractitionerRole, query: "identifier=http://ns.electronichealth.net.au/id/medicare-provider-number|2426621B"},
	{name: "practitionerrole-practitioner", res: PractitionerRole, query: "practitioner=Practitioner/3&_include=PractitionerRole:practitioner"},
	{name: "practitionerrole-location", res: PractitionerRole, query: "location=2"},
	{name: "practitionerrole-organization", res: PractitionerRole, query: "organization=Organization/1"},

	// Organization.
	{name: "organization-read", res: Organization, query: "_id=1"},
	{name: "organization-identifier-hpio", res: Organization, query: "identifier=http://ns.electronichealth.net.au/id/hi/hpio/1.0|8003621566684455"},
	{name: "organization-identifier-abn", res: Organization, query: "identifier=http://hl7.org.au/id/abn|51824753556"},
	{name: "organization-name", res: Organization, query: "name=family"},
	{name: "organization-address", res: Organization, query: "address=nsw"},

	// Location.
	{name: "location-read", res: Location, query: "_id=1"},
	{name: "location-name", res: Location, query: "name:contains=medical"},
	{name: "location-address", res: Location, query: "address=parra"},
	{name: "location-address-city", res: Location, query: "address-city=Parramatta"},
	{name: "location-address-state", res: Location, query: "address-state=NSW"},
	{name: "location-address-state-name", res: Location, query: "address-state:contains=wales"},
	{name: "location-address-postalcode", res: Location, query: "address-postalcode=2150"},
	{name: "location-identifier", res: Location, query: "identifier=http://ns.electronichealth.net.au/id/hi/hpio/1.0|8003621566684455"},
}

// render renders a shape for an engine.
func (sh shape) render(t testing.TB, engine string) mappings.Query {
	t.Helper()
	s := parse(t, sh.res, sh.query)
	s.After = sh.after
	d := dialect(t, engine)
	var q mappings.Query
	var err error
	if sh.count {
		q, err = sh.res.Count(d, s)
	} else {
		q, err = sh.res.Search(d, s)
	}
	if err != nil {
		t.Fatalf("%s: %v", sh.name, err)
	}
	return q
}

// golden is the golden file's text: the search, its parameters, the SQL.
func golden(sh shape, q mappings.Query) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s?%s\n", sh.res.Decl().Type, sh.query)
	if sh.after != nil {
		fmt.Fprintf(&b, "-- after %q\n", sh.after)
	}
	if sh.count {
		b.WriteString("-- count\n")
	}
	for _, p := range q.Params {
		v := "NULL"
		if p.Value != nil {
			v = "'" + strings.ReplaceAll(*p.Value, "'", "''") + "'"
		}
		fmt.Fprintf(&b, "-- @%s %s = %s\n", p.Name, p.Type, v)
	}
	b.WriteString(q.SQL)
	if !strings.HasSuffix(q.SQL, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

// TestGolden compares the T-SQL of every shape with its golden file;
// go test ./mappings/bppremier/ -update rewrites them.
func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	names := map[string]bool{}
	for _, sh := range shapes {
		if names[sh.name] {
			t.Fatalf("shape %s twice", sh.name)
		}
		names[sh.name] = true
		t.Run(sh.name, func(t *testing.T) {
			checkGolden(t, filepath.Join(dir, sh.name+".sql"), golden(sh, sh.render(t, mappings.EngineSQLServer)))
		})
	}
	// No golden file outlives its shape.
	files, _ := filepath.Glob(filepath.Join(dir, "*.sql"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sql")
		if !names[name] {
			if *update {
				os.Remove(f)
				continue
			}
			t.Errorf("%s has no shape in golden_test.go; delete it or run with -update", f)
		}
	}
}

// checkGolden compares got with the golden file at path, or with -update
// writes it there.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mappings/bppremier/ -update)", err)
	}
	if got != string(want) {
		t.Errorf("T-SQL differs from %s (run with -update if the change is intended):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
