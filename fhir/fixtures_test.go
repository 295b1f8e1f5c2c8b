package fhir

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Declarations shaped like the Bp Premier mapping's, for the tests.
var (
	idParam     = SearchParam{Name: "_id", Type: TypeToken, Doc: "The patient's id."}
	patientDecl = &ResourceDecl{
		Type:     "Patient",
		Profiles: []string{"http://hl7.org.au/fhir/core/StructureDefinition/au-core-patient"},
		Params: []SearchParam{
			idParam,
			{Name: "identifier", Type: TypeToken, Doc: "IHI, Medicare or DVA number."},
			{Name: "family", Type: TypeString, Doc: "Family name."},
			{Name: "given", Type: TypeString},
			{Name: "name", Type: TypeString},
			{Name: "birthdate", Type: TypeDate},
			{Name: "gender", Type: TypeToken},
			{Name: "active", Type: TypeToken},
			{Name: "general-practitioner", Type: TypeReference, Targets: []string{"Practitioner", "PractitionerRole"}},
		},
		Sorts:        []string{"family", "birthdate"},
		Includes:     []Include{{Source: "Patient", Param: "general-practitioner", Target: "Practitioner"}},
		DefaultCount: 20,
		MaxCount:     100,
	}
	roleDecl = &ResourceDecl{
		Type: "PractitionerRole",
		Params: []SearchParam{
			{Name: "_id", Type: TypeToken},
			{Name: "practitioner", Type: TypeReference, Targets: []string{"Practitioner"}},
			{Name: "identifier", Type: TypeToken},
		},
		Includes:     []Include{{Source: "PractitionerRole", Param: "practitioner", Target: "Practitioner"}},
		DefaultCount: 10,
		MaxCount:     50,
	}
	// locationDecl declares no _id and no sorts: no read, _sort=_id only.
	locationDecl = &ResourceDecl{
		Type:   "Location",
		Params: []SearchParam{{Name: "name", Type: TypeString}, {Name: "address-postalcode", Type: TypeString}},
	}
)

var sydney = mustLoad("Australia/Sydney")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// fixedNow anchors ap ranges in tests.
var fixedNow = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

func opts() ParseOptions { return ParseOptions{Location: sydney, Now: fixedNow} }

func strictOpts() ParseOptions {
	o := opts()
	o.Strict = true
	return o
}

// query parses a raw query string as the HTTP layer would.
func query(t *testing.T, raw string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("bad test query %q: %v", raw, err)
	}
	return q
}

func ptr[T any](v T) *T { return &v }

// wantError checks err is an *Error with the status, issue code and a
// diagnostics containing every fragment.
func wantError(t *testing.T, err error, status int, code string, fragments ...string) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v (%T), want *Error", err, err)
	}
	if fe.Status != status || fe.Code != code {
		t.Errorf("error = %d %s %q, want %d %s", fe.Status, fe.Code, fe.Diagnostics, status, code)
	}
	for _, f := range fragments {
		if !strings.Contains(fe.Diagnostics, f) {
			t.Errorf("diagnostics %q do not mention %q", fe.Diagnostics, f)
		}
	}
}
