package zedmed

import (
	"flag"
	"path/filepath"
	"testing"

	"fhirlink/mappings"
	"fhirlink/mappings/mappingstest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// shape is a representative search: its SQL is kept in a golden file, and the same search
// runs on the databases in the database tests (testShapes).
var shapes = []mappingstest.Shape{
	{Name: "patient-read", Res: Patient, Query: "_id=12"},
	{Name: "patient-identifier-ihi", Res: Patient, Query: "identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0|8003608166690503"},
	{Name: "patient-identifier-medicare-irn", Res: Patient, Query: "identifier=http://ns.electronichealth.net.au/id/medicare-number|29501012341"},
	{Name: "patient-identifier-medicare-card", Res: Patient, Query: "identifier=http://ns.electronichealth.net.au/id/medicare-number|2950101234"},
	{Name: "patient-identifier-dva", Res: Patient, Query: "identifier=http://ns.electronichealth.net.au/id/dva|NX123456"},
	{Name: "patient-identifier-record-number", Res: Patient, Query: "identifier=http://ns.electronichealth.net.au/id/hpio-scoped/medicalrecord/1.0/8003621566684455|Z100007"},
	{Name: "patient-identifier-any-system", Res: Patient, Query: "identifier=8003608166690503"},
	{Name: "patient-identifier-not", Res: Patient, Query: "identifier:not=http://ns.electronichealth.net.au/id/hi/ihi/1.0|"},
	{Name: "patient-family", Res: Patient, Query: "family=smi"},
	{Name: "patient-family-exact", Res: Patient, Query: "family:exact=O'Brien"},
	{Name: "patient-family-contains", Res: Patient, Query: "family:contains=son"},
	{Name: "patient-family-metacharacters", Res: Patient, Query: `family=50%25_off[1]\\x`},
	{Name: "patient-family-injection", Res: Patient, Query: "family=' OR 1=1 --"},
	{Name: "patient-name", Res: Patient, Query: "name=ann"},
	{Name: "patient-birthdate-day", Res: Patient, Query: "birthdate=1980-06-15"},
	{Name: "patient-birthdate-year-ge-lt", Res: Patient, Query: "birthdate=ge1980&birthdate=lt1990"},
	{Name: "patient-gender", Res: Patient, Query: "gender=female"},
	{Name: "patient-gender-not", Res: Patient, Query: "gender:not=male"},
	{Name: "patient-phone", Res: Patient, Query: "phone=%2B61 412 345 678"},
	{Name: "patient-email", Res: Patient, Query: "email=Jane.Citizen@Example.com"},
	{Name: "patient-active-false", Res: Patient, Query: "active=false"},
	{Name: "patient-general-practitioner", Res: Patient, Query: "general-practitioner=Practitioner/3"},
	{Name: "patient-birthdate-family", Res: Patient, Query: "birthdate=1980-06-15&family=smith"},
	{Name: "patient-sort-family-next-page", Res: Patient, Query: "family=s&_sort=family,given&_count=10", After: []string{"smith", "john", "42"}},
	{Name: "patient-sort-birthdate-desc-next-page", Res: Patient, Query: "_sort=-birthdate&_count=5", After: []string{"1980-06-15T00:00:00", "17"}},
	{Name: "patient-count", Res: Patient, Query: "family=smi&_summary=count", Count: true},

	{Name: "practitioner-read", Res: Practitioner, Query: "_id=3"},
	{Name: "practitioner-identifier-hpii", Res: Practitioner, Query: "identifier=http://ns.electronichealth.net.au/id/hi/hpii/1.0|8003614900040155"},
	{Name: "practitioner-identifier-provider", Res: Practitioner, Query: "identifier=http://ns.electronichealth.net.au/id/medicare-provider-number|2123451A"},
	{Name: "practitioner-name", Res: Practitioner, Query: "name=smi"},
	{Name: "practitioner-active-false", Res: Practitioner, Query: "active=false"},
	{Name: "practitioner-count", Res: Practitioner, Query: "_summary=count", Count: true},

	{Name: "practitionerrole-practitioner", Res: PractitionerRole, Query: "practitioner=3"},
	{Name: "practitionerrole-chain-identifier", Res: PractitionerRole, Query: "practitioner.identifier=http://ns.electronichealth.net.au/id/hi/hpii/1.0|8003614900040155"},
	{Name: "practitionerrole-location-active", Res: PractitionerRole, Query: "location=2&active=false"},

	{Name: "organization-identifier", Res: Organization, Query: "identifier=http://hl7.org.au/id/abn|51824753556"},
	{Name: "organization-address", Res: Organization, Query: "address=nsw"},

	{Name: "appointment-date-day", Res: Appointment, Query: "date=2026-06-15"},
	{Name: "appointment-date-range-practitioner", Res: Appointment, Query: "date=ge2026-04-04&date=lt2026-04-07&practitioner=1"},
	{Name: "appointment-status-patient", Res: Appointment, Query: "status=booked,arrived&patient=12"},
	{Name: "appointment-patient-identifier", Res: Appointment, Query: "patient.identifier=http://ns.electronichealth.net.au/id/hi/hi/1.0|8003608166690503"},
	{Name: "appointment-actor", Res: Appointment, Query: "actor=Location/2&_sort=date", After: []string{"2026-06-15T09:00:00", "77"}},
	{Name: "schedule-actor", Res: Schedule, Query: "actor=Practitioner/2&active=true"},

	{Name: "slot-week", Res: Slot, Query: "schedule=Schedule/1-1&start=ge2026-06-15&start=lt2026-06-22&status=free"},
	{Name: "slot-read", Res: Slot, Query: "_id=1-1-20260615090000"},
	{Name: "slot-next-page", Res: Slot, Query: "schedule=Schedule/1-1,Schedule/2-1&start=2026-06-16", After: []string{"1-1-20260616103000"}},

	{Name: "condition-patient-status", Res: Condition, Query: "patient=12&clinical-status=active&category=problem-list-item"},
	{Name: "condition-patient-identifier", Res: Condition, Query: "patient.identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0|8003608166690503"},
	{Name: "condition-code-onset", Res: Condition, Query: "code=http://snomed.info/sct|59621000&onset-date=ge2020"},
	{Name: "observation-patient-category", Res: Observation, Query: "patient=12&category=vital-signs"},
	{Name: "observation-patient-code-date", Res: Observation, Query: "patient=12&code=http://loinc.org|85354-9&date=ge2026-01-01&_sort=-date"},

	{Name: "allergyintolerance-patient-status", Res: AllergyIntolerance, Query: "patient=12&clinical-status=active"},
	{Name: "immunization-patient-date", Res: Immunization, Query: "patient=12&date=ge2025&status=completed"},
	{Name: "medicationstatement-patient-status", Res: MedicationStatement, Query: "patient=12&status=active"},
	{Name: "medicationrequest-read", Res: MedicationRequest, Query: "_id=5"},
	{Name: "medicationrequest-patient-status", Res: MedicationRequest, Query: "patient=12&status=active"},
	{Name: "medicationrequest-patient-intent-authoredon", Res: MedicationRequest, Query: "patient=12&intent=order&authoredon=ge2025-07-01"},
	{Name: "medicationrequest-patient-identifier", Res: MedicationRequest, Query: "patient.identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0|8003608166690503"},
	{Name: "medicationrequest-encounter-requester", Res: MedicationRequest, Query: "encounter=Encounter/7&requester=Practitioner/2"},
	{Name: "encounter-read", Res: Encounter, Query: "_id=5"},
	{Name: "encounter-patient-date", Res: Encounter, Query: "patient=12&date=ge2026-01-01&_sort=-date"},
	{Name: "encounter-patient-class-status", Res: Encounter, Query: "patient=12&class=VR&status=finished"},
	{Name: "encounter-patient-class-amb", Res: Encounter, Query: "patient=12&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|AMB"},
	{Name: "encounter-patient-location-practitioner", Res: Encounter, Query: "patient=12&location=Location/1&practitioner=2"},
	{Name: "encounter-patient-identifier", Res: Encounter, Query: "patient.identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0|8003608166690503"},
	{Name: "encounter-status-count", Res: Encounter, Query: "status=in-progress&_summary=count", Count: true},

	{Name: "location-name", Res: Location, Query: "name=parkside"},
	{Name: "location-address-state", Res: Location, Query: "address-state=New South"},
}

// goldenEngine is the dialect the golden files are rendered in: Firebird, the production
// engine, once the dialect layer has it; SQLite until then.
func goldenEngine() string {
	if _, err := mappings.DialectFor("firebird"); err == nil {
		return "firebird"
	}
	return mappings.EngineSQLite
}

// TestGolden compares the SQL of every shape with its golden file (testdata/golden/ENGINE);
// go test ./mappings/zedmed/ -update rewrites them.
func TestGolden(t *testing.T) {
	engine := goldenEngine()
	mappingstest.CheckShapes(t, filepath.Join("testdata", "golden", engine), shapes, dialect(t, engine), parse, *update)
}

// TestNamesMatchSchema checks that every table and column of names.go exists in the assumed
// schema of mappings/zedmed/zedsynth (the two describe the same database).
func TestNamesMatchSchema(t *testing.T) {
	tables := zedsynthTables()
	for name, tn := range schema {
		cols, ok := tables[tn.Name]
		if !ok {
			t.Errorf("names.go table %s (%s) is not in zedsynth", name, tn.Name)
			continue
		}
		for assumed, real := range tn.Cols {
			if !contains(cols, real) {
				t.Errorf("names.go column %s.%s (%s) is not in zedsynth", name, assumed, real)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
