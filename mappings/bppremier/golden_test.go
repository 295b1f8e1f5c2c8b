package bppremier

import (
	"flag"
	"path/filepath"
	"testing"

	"fhirlink/mappings"
	"fhirlink/mappings/mappingstest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// shape is a representative search: its T-SQL is kept in a golden file,
// and the same search runs on PostgreSQL and SQLite in the database tests.
var shapes = []mappingstest.Shape{
	// Patient: reads, each parameter, AU Core combinations, sorts, paging, count.
	{Name: "patient-read", Res: Patient, Query: "_id=12"},
	{Name: "patient-id-several", Res: Patient, Query: "_id=1,2,abc"},
	{Name: "patient-identifier-ihi", Res: Patient, Query: "identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0|8003608166690503"},
	{Name: "patient-identifier-medicare-irn", Res: Patient, Query: "identifier=http://ns.electronichealth.net.au/id/medicare-number|29501012341"},
	{Name: "patient-identifier-medicare-card", Res: Patient, Query: "identifier=http://ns.electronichealth.net.au/id/medicare-number|2950101234"},
	{Name: "patient-identifier-dva", Res: Patient, Query: "identifier=http://ns.electronichealth.net.au/id/dva|NX123456"},
	{Name: "patient-identifier-record-number", Res: Patient, Query: "identifier=http://ns.electronichealth.net.au/id/hpio-scoped/medicalrecord/1.0/8003621566684455|1234"},
	{Name: "patient-identifier-internal", Res: Patient, Query: "identifier=urn:fhirlink:bppremier:patient-id/8003621566684455|12"},
	{Name: "patient-identifier-any-system", Res: Patient, Query: "identifier=8003608166690503"},
	{Name: "patient-identifier-system-only", Res: Patient, Query: "identifier=http://ns.electronichealth.net.au/id/dva|"},
	{Name: "patient-identifier-no-system", Res: Patient, Query: "identifier=|1234"},
	{Name: "patient-identifier-not", Res: Patient, Query: "identifier:not=http://ns.electronichealth.net.au/id/hi/ihi/1.0|"},
	{Name: "patient-family", Res: Patient, Query: "family=smi"},
	{Name: "patient-family-exact", Res: Patient, Query: "family:exact=O'Brien"},
	{Name: "patient-family-contains", Res: Patient, Query: "family:contains=son"},
	{Name: "patient-family-metacharacters", Res: Patient, Query: `family=50%25_off[1]\\x`},
	{Name: "patient-family-injection", Res: Patient, Query: "family=' OR 1=1 --"},
	{Name: "patient-family-or", Res: Patient, Query: "family=smith,jones"},
	{Name: "patient-given", Res: Patient, Query: "given=jo"},
	{Name: "patient-name", Res: Patient, Query: "name=ann"},
	{Name: "patient-birthdate-day", Res: Patient, Query: "birthdate=1980-06-15"},
	{Name: "patient-birthdate-year-ge-lt", Res: Patient, Query: "birthdate=ge1980&birthdate=lt1990"},
	{Name: "patient-birthdate-prefixes", Res: Patient, Query: "birthdate=ne1980-06&birthdate=gt1950&birthdate=le2020&birthdate=sa1940&birthdate=eb2025"},
	{Name: "patient-birthdate-ap", Res: Patient, Query: "birthdate=ap1980-06-15"},
	{Name: "patient-birthdate-datetime", Res: Patient, Query: "birthdate=ge1980-06-15T10:00&birthdate=le1980-06-15T10:00"},
	{Name: "patient-gender", Res: Patient, Query: "gender=female"},
	{Name: "patient-gender-unknown-system", Res: Patient, Query: "gender=http://hl7.org/fhir/administrative-gender|unknown"},
	{Name: "patient-gender-not", Res: Patient, Query: "gender:not=male"},
	{Name: "patient-phone", Res: Patient, Query: "phone=%2B61 412 345 678"},
	{Name: "patient-email", Res: Patient, Query: "email=Jane.Citizen@Example.com"},
	{Name: "patient-address-postalcode", Res: Patient, Query: "address-postalcode=20"},
	{Name: "patient-active-false", Res: Patient, Query: "active=false"},
	{Name: "patient-general-practitioner", Res: Patient, Query: "general-practitioner=Practitioner/3"},
	{Name: "patient-birthdate-family", Res: Patient, Query: "birthdate=1980-06-15&family=smith"},
	{Name: "patient-birthdate-name", Res: Patient, Query: "birthdate=1980-06-15&name=smith"},
	{Name: "patient-family-gender", Res: Patient, Query: "family=smith&gender=male"},
	{Name: "patient-gender-name", Res: Patient, Query: "gender=female&name=ann"},
	{Name: "patient-sort-family", Res: Patient, Query: "family=s&_sort=family,given&_count=10"},
	{Name: "patient-sort-family-next-page", Res: Patient, Query: "family=s&_sort=family,given&_count=10", After: []string{"smith", "john", "42"}},
	{Name: "patient-sort-birthdate-desc-next-page", Res: Patient, Query: "_sort=-birthdate&_count=5", After: []string{"1980-06-15T00:00:00", "17"}},
	{Name: "patient-next-page", Res: Patient, Query: "family=smi", After: []string{"42"}},
	{Name: "patient-count", Res: Patient, Query: "family=smi&_summary=count", Count: true},

	// Practitioner.
	{Name: "practitioner-read", Res: Practitioner, Query: "_id=3"},
	{Name: "practitioner-identifier-hpii", Res: Practitioner, Query: "identifier=http://ns.electronichealth.net.au/id/hi/hpii/1.0|8003614900040155"},
	{Name: "practitioner-identifier-any-system", Res: Practitioner, Query: "identifier=MED0001234567"},
	{Name: "practitioner-name", Res: Practitioner, Query: "name=smi"},
	{Name: "practitioner-family-given", Res: Practitioner, Query: "family=smith&given=jane"},
	{Name: "practitioner-active-false", Res: Practitioner, Query: "active=false"},
	{Name: "practitioner-count", Res: Practitioner, Query: "_summary=count", Count: true},

	// PractitionerRole.
	{Name: "practitionerrole-read", Res: PractitionerRole, Query: "_id=5"},
	{Name: "practitionerrole-identifier", Res: PractitionerRole, Query: "identifier=http://ns.electronichealth.net.au/id/medicare-provider-number|2426621B"},
	{Name: "practitionerrole-practitioner", Res: PractitionerRole, Query: "practitioner=Practitioner/3&_include=PractitionerRole:practitioner"},
	{Name: "practitionerrole-location", Res: PractitionerRole, Query: "location=2"},
	{Name: "practitionerrole-organization", Res: PractitionerRole, Query: "organization=Organization/1"},

	// Organization.
	{Name: "organization-read", Res: Organization, Query: "_id=1"},
	{Name: "organization-identifier-hpio", Res: Organization, Query: "identifier=http://ns.electronichealth.net.au/id/hi/hpio/1.0|8003621566684455"},
	{Name: "organization-identifier-abn", Res: Organization, Query: "identifier=http://hl7.org.au/id/abn|51824753556"},
	{Name: "organization-name", Res: Organization, Query: "name=family"},
	{Name: "organization-address", Res: Organization, Query: "address=nsw"},

	// Location.
	{Name: "location-read", Res: Location, Query: "_id=1"},
	{Name: "location-name", Res: Location, Query: "name:contains=medical"},
	{Name: "location-address", Res: Location, Query: "address=parra"},
	{Name: "location-address-city", Res: Location, Query: "address-city=Parramatta"},
	{Name: "location-address-state", Res: Location, Query: "address-state=NSW"},
	{Name: "location-address-state-name", Res: Location, Query: "address-state:contains=wales"},
	{Name: "location-address-postalcode", Res: Location, Query: "address-postalcode=2150"},
	{Name: "location-identifier", Res: Location, Query: "identifier=http://ns.electronichealth.net.au/id/hi/hpio/1.0|8003621566684455"},
}

// TestGolden compares the T-SQL of every shape with its golden file;
// go test ./mappings/bppremier/ -update rewrites them.
func TestGolden(t *testing.T) {
	mappingstest.CheckShapes(t, filepath.Join("testdata", "golden"), shapes, dialect(t, mappings.EngineSQLServer), parse, *update)
}
