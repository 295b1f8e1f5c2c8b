package zedmed

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

// shape is a representative search: its SQL is kept in a golden file, and the same search
// runs on the databases in the database tests (testShapes).
type shape struct {
	name  string
	res   mappings.Resource
	query string
	after []string
	count bool
}

var shapes = []shape{
	{name: "patient-read", res: Patient, query: "_id=12"},
	{name: "patient-identifier-ihi", res: Patient, query: "identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0|8003608166690503"},
	{name: "patient-identifier-medicare-irn", res: Patient, query: "identifier=http://ns.electronichealth.net.au/id/medicare-number|29501012341"},
	{name: "patient-identifier-medicare-card", res: Patient, query: "identifier=http://ns.electronichealth.net.au/id/medicare-number|2950101234"},
	{name: "patient-identifier-dva", res: Patient, query: "identifier=http://ns.electronichealth.net.au/id/dva|NX123456"},
	{name: "patient-identifier-record-number", res: Patient, query: "identifier=http://ns.electronichealth.net.au/id/hpio-scoped/medicalrecord/1.0/8003621566684455|Z100007"},
	{name: "patient-identifier-any-system", res: Patient, query: "identifier=8003608166690503"},
	{name: "patient-identifier-not", res: Patient, query: "identifier:not=http://ns.electronichealth.net.au/id/hi/ihi/1.0|"},
	{name: "patient-family", res: Patient, query: "family=smi"},
	{name: "patient-family-exact", res: Patient, query: "family:exact=O'Brien"},
	{name: "patient-family-contains", res: Patient, query: "family:contains=son"},
	{name: "patient-family-metacharacters", res: Patient, query: `family=50%25_off[1]\\x`},
	{name: "patient-family-injection", res: Patient, query: "family=' OR 1=1 --"},
	{name: "patient-name", res: Patient, query: "name=ann"},
	{name: "patient-birthdate-day", res: Patient, query: "birthdate=1980-06-15"},
	{name: "patient-birthdate-year-ge-lt", res: Patient, query: "birthdate=ge1980&birthdate=lt1990"},
	{name: "patient-gender", res: Patient, query: "gender=female"},
	{name: "patient-gender-not", res: Patient, query: "gender:not=male"},
	{name: "patient-phone", res: Patient, query: "phone=%2B61 412 345 678"},
	{name: "patient-email", res: Patient, query: "email=Jane.Citizen@Example.com"},
	{name: "patient-active-false", res: Patient, query: "active=false"},
	{name: "patient-general-practitioner", res: Patient, query: "general-practitioner=Practitioner/3"},
	{name: "patient-birthdate-family", res: Patient, query: "birthdate=1980-06-15&family=smith"},
	{name: "patient-sort-family-next-page", res: Patient, query: "family=s&_sort=family,given&_count=10", after: []string{"smith", "john", "42"}},
	{name: "patient-sort-birthdate-desc-next-page", res: Patient, query: "_sort=-birthdate&_count=5", after: []string{"1980-06-15T00:00:00", "17"}},
	{name: "patient-count", res: Patient, query: "family=smi&_summary=count", count: true},

	{name: "practitioner-read", res: Practitioner, query: "_id=3"},
	{name: "practitioner-identifier-hpii", res: Practitioner, query: "identifier=http://ns.electronichealth.net.au/id/hi/hpii/1.0|8003614900040155"},
	{name: "practitioner-identifier-provider", res: Practitioner, query: "identifier=http://ns.electronichealth.net.au/id/medicare-provider-number|2123451A"},
	{name: "practitioner-name", res: Practitioner, query: "name=smi"},
	{name: "practitioner-active-false", res: Practitioner, query: "active=false"},
	{name: "practitioner-count", res: Practitioner, query: "_summary=count", count: true},

	{name: "practitionerrole-practitioner", res: PractitionerRole, query: "practitioner=3"},
	{name: "practitionerrole-chain-identifier", res: PractitionerRole, query: "practitioner.identifier=http://ns.electronichealth.net.au/id/hi/hpii/1.0|8003614900040155"},
	{name: "practitionerrole-location-active", res: PractitionerRole, query: "location=2&active=false"},

	{name: "organization-identifier", res: Organization, query: "identifier=http://hl7.org.au/id/abn|51824753556"},
	{name: "organization-address", res: Organization, query: "address=nsw"},

	{name: "appointment-date-day", res: Appointment, query: "date=2026-06-15"},
	{name: "appointment-date-range-practitioner", res: Appointment, query: "date=ge2026-04-04&date=lt2026-04-07&practitioner=1"},
	{name: "appointment-status-patient", res: Appointment, query: "status=booked,arrived&patient=12"},
	{name: "appointment-patient-identifier", res: Appointment, query: "patient.identifier=http://ns.electronichealth.net.au/id/hi/hi/1.0|8003608166690503"},
	{name: "appointment-actor", res: Appointment, query: "actor=Location/2&_sort=date", after: []string{"2026-06-15T09:00:00", "77"}},
	{name: "schedule-actor", res: Schedule, query: "actor=Practitioner/2&active=true"},

	{name: "slot-week", res: Slot, query: "schedule=Schedule/1-1&start=ge2026-06-15&start=lt2026-06-22&status=free"},
	{name: "slot-read", res: Slot, query: "_id=1-1-20260615090000"},
	{name: "slot-next-page", res: Slot, query: "schedule=Schedule/1-1,Schedule/2-1&start=2026-06-16", after: []string{"1-1-20260616103000"}},

	{name: "condition-patient-status", res: Condition, query: "patient=12&clinical-status=active&category=problem-list-item"},
	{name: "condition-patient-identifier", res: Condition, query: "patient.identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0|8003608166690503"},
	{name: "condition-code-onset", res: Condition, query: "code=http://snomed.info/sct|59621000&onset-date=ge2020"},
	{name: "observation-patient-category", res: Observation, query: "patient=12&category=vital-signs"},
	{name: "observation-patient-code-date", res: Observation, query: "patient=12&code=http://loinc.org|85354-9&date=ge2026-01-01&_sort=-date"},

	{name: "allergyintolerance-patient-status", res: AllergyIntolerance, query: "patient=12&clinical-status=active"},
	{name: "immunization-patient-date", res: Immunization, query: "patient=12&date=ge2025&status=completed"},
	{name: "medicationstatement-patient-status", res: MedicationStatement, query: "patient=12&status=active"},
	{name: "medicationrequest-read", res: MedicationRequest, query: "_id=5"},
	{name: "medicationrequest-patient-status", res: MedicationRequest, query: "patient=12&status=active"},
	{name: "medicationrequest-patient-intent-authoredon", res: MedicationRequest, query: "patient=12&intent=order&authoredon=ge2025-07-01"},
	{name: "medicationrequest-patient-identifier", res: MedicationRequest, query: "patient.identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0|8003608166690503"},
	{name: "medicationrequest-encounter-requester", res: MedicationRequest, query: "encounter=Encounter/7&requester=Practitioner/2"},
	{name: "encounter-read", res: Encounter, query: "_id=5"},
	{name: "encounter-patient-date", res: Encounter, query: "patient=12&date=ge2026-01-01&_sort=-date"},
	{name: "encounter-patient-class-status", res: Encounter, query: "patient=12&class=VR&status=finished"},
	{name: "encounter-patient-class-amb", res: Encounter, query: "patient=12&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|AMB"},
	{name: "encounter-patient-location-practitioner", res: Encounter, query: "patient=12&location=Location/1&practitioner=2"},
	{name: "encounter-patient-identifier", res: Encounter, query: "patient.identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0|8003608166690503"},
	{name: "encounter-status-count", res: Encounter, query: "status=in-progress&_summary=count", count: true},

	{name: "location-name", res: Location, query: "name=parkside"},
	{name: "location-address-state", res: Location, query: "address-state=New South"},
}

// goldenEngine is the dialect the golden files are rendered in: Firebird, the production
// engine, once the dialect layer has it; SQLite until then.
func goldenEngine() string {
	if _, err := mappings.DialectFor("firebird"); err == nil {
		return "firebird"
	}
	return mappings.EngineSQLite
}

func (sh shape) render(t *testing.T, engine string) mappings.Query {
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
		t.Fatal(err)
	}
	return q
}

func golden(sh shape, engine string, q mappings.Query) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s?%s (%s)\n", sh.res.Decl().Type, sh.query, engine)
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

// TestGolden compares the SQL of every shape with its golden file (testdata/golden/ENGINE);
// go test ./mappings/zedmed/ -update rewrites them.
func TestGolden(t *testing.T) {
	engine := goldenEngine()
	dir := filepath.Join("testdata", "golden", engine)
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
			got := golden(sh, engine, sh.render(t, engine))
			path := filepath.Join(dir, sh.name+".sql")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./mappings/zedmed/ -update)", err)
			}
			if got != string(want) {
				t.Errorf("SQL differs from %s (run with -update if intended):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
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
