package fhirvalidate

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
)

const childEnv = "FHIRVALIDATE_TEST_CHILD"

// childMain starts the validator, prints node's pid and waits to be killed.
func childMain() {
	v, err := get()
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("pid", v.cmd.Process.Pid)
	select {}
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		childMain() // TestNodeDiesWithTestBinary's child: never returns
	}
	os.Exit(Main(m))
}

// Identifiers that pass their checks (worked out by hand from the published rules).
const (
	ihi        = "8003608166690503" // Luhn
	hpii       = "8003611234567893"
	hpio       = "8003629876543212"
	medicare   = "2950123481"  // 2950 1234 | check 8 | issue 1
	medicare11 = "41234567222" // with IRN 2
	abn        = "51824753556"
	provider   = "2345671A" // stem 234567, location 1, check A
	ahpra      = "MED0001234567"
	prescriber = "1234567"

	sysIHI        = "http://ns.electronichealth.net.au/id/hi/ihi/1.0"
	sysHPII       = "http://ns.electronichealth.net.au/id/hi/hpii/1.0"
	sysHPIO       = "http://ns.electronichealth.net.au/id/hi/hpio/1.0"
	sysMedicare   = "http://ns.electronichealth.net.au/id/medicare-number"
	sysAHPRA      = "http://hl7.org.au/id/ahpra-registration-number"
	sysProvider   = "http://ns.electronichealth.net.au/id/medicare-provider-number"
	sysPrescriber = "http://ns.electronichealth.net.au/id/medicare-prescriber-number"
	sysABN        = "http://hl7.org.au/id/abn"
)

func v2type(code string) string {
	return `{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"` + code + `"}]}`
}

var (
	patient = `{"resourceType":"Patient","id":"pat-1","meta":{"lastUpdated":"2024-05-01T10:00:00+10:00"},
	 "identifier":[
	  {"type":` + v2type("NI") + `,"system":"` + sysIHI + `","value":"` + ihi + `"},
	  {"type":` + v2type("MC") + `,"system":"` + sysMedicare + `","value":"` + medicare + `"},
	  {"system":"` + sysMedicare + `","value":"` + medicare11 + `"}],
	 "active":true,
	 "name":[{"use":"official","family":"Citizen","given":["Jane","Mary"]}],
	 "telecom":[{"system":"phone","value":"0491 570 006","use":"mobile"}],
	 "gender":"female","birthDate":"1980-02-29",
	 "address":[{"line":["1 Example St"],"city":"Sydney","state":"NSW","postalCode":"2000","country":"AU"}]}`
	practitioner = `{"resourceType":"Practitioner","id":"prac-1",
	 "identifier":[
	  {"type":` + v2type("NPI") + `,"system":"` + sysHPII + `","value":"` + hpii + `"},
	  {"system":"` + sysAHPRA + `","value":"` + ahpra + `"},
	  {"system":"` + sysProvider + `","value":"` + provider + `"},
	  {"system":"` + sysPrescriber + `","value":"` + prescriber + `"}],
	 "name":[{"family":"Smith","given":["Alex"],"prefix":["Dr"]}]}`
	organization = `{"resourceType":"Organization","id":"org-1",
	 "identifier":[{"system":"` + sysHPIO + `","value":"` + hpio + `"},
	  {"type":` + v2type("XX") + `,"system":"` + sysABN + `","value":"` + abn + `"}],
	 "name":"Example Medical Centre"}`
	searchset = `{"resourceType":"Bundle","type":"searchset","total":3,
	 "link":[{"relation":"self","url":"http://localhost/fhir/Patient?_count=10"}],
	 "entry":[
	  {"fullUrl":"http://localhost/fhir/Patient/pat-1","resource":` + patient + `,"search":{"mode":"match"}},
	  {"fullUrl":"http://localhost/fhir/Practitioner/prac-1","resource":` + practitioner + `,"search":{"mode":"include"}},
	  {"fullUrl":"http://localhost/fhir/Organization/org-1","resource":` + organization + `,"search":{"mode":"include"}}]}`
)

// More resources of the kinds fhirlink serves, to show the validators do not reject valid ones.
var moreValid = []string{
	`{"resourceType":"Patient","id":"min"}`,
	`{"resourceType":"PractitionerRole","id":"pr-1","active":true,"practitioner":{"reference":"Practitioner/prac-1"},
	  "organization":{"reference":"Organization/org-1"},
	  "identifier":[{"system":"` + sysProvider + `","value":"` + provider + `"}],
	  "code":[{"coding":[{"system":"http://snomed.info/sct","code":"62247001","display":"General practitioner"}]}]}`,
	`{"resourceType":"Encounter","id":"enc-1","status":"finished",
	  "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
	  "subject":{"reference":"Patient/pat-1"},"period":{"start":"2024-05-01T09:00:00+10:00","end":"2024-05-01T09:15:00+10:00"},
	  "participant":[{"individual":{"reference":"Practitioner/prac-1","identifier":{"system":"` + sysHPII + `","value":"` + hpii + `"}}}]}`,
	`{"resourceType":"Condition","id":"c-1","subject":{"reference":"Patient/pat-1"},
	  "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
	  "verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},
	  "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],
	  "code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003","display":"Hypertension"}],"text":"Hypertension"},
	  "onsetDateTime":"2019-03"}`,
	`{"resourceType":"Observation","id":"o-1","status":"final",
	  "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
	  "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/pat-1"},
	  "effectiveDateTime":"2024-05-01T09:05:00+10:00",
	  "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
	    "valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
	   {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},
	    "valueQuantity":{"value":80.5,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`,
	`{"resourceType":"AllergyIntolerance","id":"a-1","patient":{"reference":"Patient/pat-1"},
	  "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},
	  "code":{"text":"Penicillin"},"reaction":[{"manifestation":[{"text":"Rash"}],"severity":"mild"}]}`,
	`{"resourceType":"MedicationRequest","id":"m-1","status":"active","intent":"order","subject":{"reference":"Patient/pat-1"},
	  "medicationCodeableConcept":{"text":"Amoxicillin 500 mg capsule"},"authoredOn":"2024-05-01",
	  "requester":{"reference":"Practitioner/prac-1"},
	  "dosageInstruction":[{"text":"1 capsule three times a day","timing":{"repeat":{"frequency":3,"period":1,"periodUnit":"d"}}}]}`,
	`{"resourceType":"Immunization","id":"i-1","status":"completed","vaccineCode":{"text":"Influenza"},
	  "patient":{"reference":"Patient/pat-1"},"occurrenceDateTime":"2024-04-02","primarySource":true}`,
	`{"resourceType":"Appointment","id":"ap-1","status":"booked","start":"2024-05-02T09:00:00+10:00","end":"2024-05-02T09:15:00+10:00",
	  "participant":[{"actor":{"reference":"Patient/pat-1"},"status":"accepted"},{"actor":{"reference":"Practitioner/prac-1"},"status":"accepted"}]}`,
	`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"Patient/x not found"}]}`,
	`{"resourceType":"Patient","id":"with-contained","contained":[{"resourceType":"Organization","id":"o1","name":"X"}],
	  "managingOrganization":{"reference":"#o1"}}`,
	`{"resourceType":"Bundle","type":"searchset","total":0,"link":[{"relation":"self","url":"http://localhost/fhir/Patient?name=zz"}]}`,
	// Two elements whose names look like one choice element's types (reason[x] is not one),
	// and a primitive's extension beside its value.
	`{"resourceType":"Encounter","id":"enc-2","status":"finished",
	  "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
	  "reasonCode":[{"text":"Cough"}],"reasonReference":[{"reference":"Condition/c-1"}],
	  "_status":{"extension":[{"url":"http://example.org/x","valueBoolean":true}]}}`,
	`{"resourceType":"MedicationStatement","id":"ms-1","status":"active","subject":{"reference":"Patient/pat-1"},
	  "medicationCodeableConcept":{"text":"Metformin 500 mg tablet"},
	  "_effectiveDateTime":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}}`,
}

func raws(ss ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(ss))
	for i, s := range ss {
		out[i] = json.RawMessage(s)
	}
	return out
}

func TestValid(t *testing.T) {
	Resources(t, raws(patient, practitioner, organization)...)
	Bundle(t, json.RawMessage(searchset))
	Resources(t, raws(moreValid...)...)
}

// set replaces the value at a dotted path ("identifier.0.value") in a JSON document.
func set(t *testing.T, doc, path string, value any) string {
	t.Helper()
	var root any
	if err := json.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	keys := strings.Split(path, ".")
	node := root
	for i, k := range keys {
		last := i == len(keys)-1
		switch n := node.(type) {
		case map[string]any:
			if last {
				if value == deleteKey {
					delete(n, k)
				} else {
					n[k] = value
				}
			}
			node = n[k]
		case []any:
			var idx int
			fmt.Sscan(k, &idx)
			if last {
				n[idx] = value
			}
			node = n[idx]
		default:
			t.Fatalf("set %s: %s is not a container", path, k)
		}
	}
	b, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type deleteMarker struct{}

var deleteKey = deleteMarker{}

func TestInvalid(t *testing.T) {
	cases := []struct {
		name      string
		doc       string
		validator string // that must report it
		path      string // that must appear among the issues' paths
	}{
		{"gender man", set(t, patient, "gender", "man"), "json-schema", "Patient.gender"},
		{"bundle without type", set(t, searchset, "type", deleteKey), "medplum", "Bundle.type"},
		{"id with illegal characters", set(t, patient, "id", "pat_1!"), "json-schema", "Patient.id"},
		{"name null", set(t, patient, "name", nil), "medplum", "Patient.name"},
		{"name null (schema)", set(t, patient, "name", nil), "json-schema", "Patient.name"},
		{"IHI Luhn", set(t, patient, "identifier.0.value", "8003608166690504"), "au-identifier", "Patient.identifier[0].value"},
		{"IHI prefix", set(t, patient, "identifier.0.value", hpii), "au-identifier", "Patient.identifier[0].value"},
		{"IHI length", set(t, patient, "identifier.0.value", "800360816669050"), "au-identifier", "Patient.identifier[0].value"},
		{"Medicare check digit", set(t, patient, "identifier.1.value", "2950123471"), "au-identifier", "Patient.identifier[1].value"},
		{"Medicare first digit", set(t, patient, "identifier.1.value", "1950123481"), "au-identifier", "Patient.identifier[1].value"},
		{"Medicare with spaces", set(t, patient, "identifier.1.value", "2950 12348 1"), "au-identifier", "Patient.identifier[1].value"},
		{"Medicare IRN 0", set(t, patient, "identifier.2.value", "41234567220"), "au-identifier", "Patient.identifier[2].value"},
		{"identifier type", set(t, patient, "identifier.0.type.coding.0.code", "MR"), "au-identifier", "Patient.identifier[0].type"},
		{"system near miss", set(t, patient, "identifier.0.system", sysIHI+"/"), "au-identifier", "Patient.identifier[0].system"},
		{"AHPRA", set(t, practitioner, "identifier.1.value", "MED000123456"), "au-identifier", "Practitioner.identifier[1].value"},
		{"AHPRA lower case", set(t, practitioner, "identifier.1.value", "med0001234567"), "au-identifier", "Practitioner.identifier[1].value"},
		{"HPI-I Luhn", set(t, practitioner, "identifier.0.value", "8003611234567894"), "au-identifier", "Practitioner.identifier[0].value"},
		{"provider number check", set(t, practitioner, "identifier.2.value", "2345671B"), "au-identifier", "Practitioner.identifier[2].value"},
		{"provider number length", set(t, practitioner, "identifier.2.value", "234567A"), "au-identifier", "Practitioner.identifier[2].value"},
		{"prescriber", set(t, practitioner, "identifier.3.value", "123456"), "au-identifier", "Practitioner.identifier[3].value"},
		{"ABN checksum", set(t, organization, "identifier.1.value", "51824753557"), "au-identifier", "Organization.identifier[1].value"},
		{"ABN with spaces", set(t, organization, "identifier.1.value", "51 824 753 556"), "au-identifier", "Organization.identifier[1].value"},
		{"HPI-O Luhn", set(t, organization, "identifier.0.value", "8003629876543213"), "au-identifier", "Organization.identifier[0].value"},
		{"HPI-I in a reference", set(t, moreValid[2], "participant.0.individual.identifier.value", hpio), "au-identifier", "Encounter.participant[0].individual.identifier.value"},
		{"IHI in a bundle entry", set(t, searchset, "entry.0.resource.identifier.0.value", "8003608166690504"), "au-identifier", "Bundle.entry[0].resource.identifier[0].value"},
		{"enum in a bundle entry", set(t, searchset, "entry.0.resource.gender", "F"), "json-schema", "Bundle.entry[0].resource.gender"},
		{"unknown property in an entry", set(t, searchset, "entry.1.resource.colour", "blue"), "medplum", "Bundle.entry[1].resource.colour"},
		{"unknown property (schema)", set(t, patient, "colour", "blue"), "json-schema", "Patient.colour"},
		{"entry without resourceType", set(t, searchset, "entry.2.resource.resourceType", deleteKey), "json-schema", "Bundle.entry[2].resource"},
		{"non-R4 resource type", `{"resourceType":"Project","name":"x"}`, "json-schema", "Project"},
		{"bad date", set(t, patient, "birthDate", "1980-02-30T00:00"), "json-schema", "Patient.birthDate"},
		{"empty string", set(t, patient, "name.0.family", ""), "json-schema", "Patient.name[0].family"},
		{"empty object", set(t, patient, "name.0", map[string]any{}), "medplum", "Patient.name[0]"},
		{"number as string", set(t, moreValid[4], "component.0.valueQuantity.value", "120"), "json-schema", "Observation.component[0].valueQuantity.value"},
		{"invariant org-1", `{"resourceType":"Organization","id":"o"}`, "fhirpath", "Organization"},
		{"invariant pat-1", set(t, patient, "contact", []any{map[string]any{"gender": "male"}}), "fhirpath", "Patient.contact"},
		{"invariant bdl-1", set(t, searchset, "type", "collection"), "fhirpath", "Bundle"},
		{"invalid contained resource", set(t, moreValid[10], "contained.0.status", "x"), "json-schema", "Patient.contained[0].status"},
		{"empty reference beside the other medication[x]", set(t, moreValid[13], "medicationReference", map[string]any{}), "structure", "MedicationStatement.medicationReference"},
		{"two types of medication[x]", set(t, moreValid[13], "medicationReference", map[string]any{"reference": "Medication/1"}), "structure", "MedicationStatement.medication[x]"},
		{"a type and its primitive extension of another", set(t, moreValid[13], "effectivePeriod", map[string]any{"start": "2024"}), "structure", "MedicationStatement.effective[x]"},
		{"two types of a datatype's choice", set(t, moreValid[6], "dosageInstruction.0.timing.repeat", map[string]any{"frequency": 3, "period": 1, "periodUnit": "d",
			"boundsDuration": map[string]any{"value": 5, "unit": "d"}, "boundsPeriod": map[string]any{"start": "2024-05-01"}}), "structure", "MedicationRequest.dosageInstruction[0].timing.repeat.bounds[x]"},
		{"two types of value[x] in an extension", set(t, moreValid[12], "_status.extension.0.valueCode", "x"), "structure", "Encounter._status.extension[0].value[x]"},
		{"empty array", set(t, patient, "telecom", []any{}), "structure", "Patient.telecom"},
		{"empty object in a reference", set(t, moreValid[2], "subject", map[string]any{}), "structure", "Encounter.subject"},
		{"empty string in a bundle entry", set(t, searchset, "entry.1.resource.name.0.family", ""), "structure", "Bundle.entry[1].resource.name[0].family"},
		{"empty object in a contained resource", set(t, moreValid[10], "contained.0.meta", map[string]any{}), "structure", "Patient.contained[0].meta"},
		{"not JSON", `{"resourceType":"Patient",}`, "input", ""},
		{"not an object", `[1,2]`, "input", ""},
		{"no resourceType", `{"id":"x"}`, "input", ""},
	}
	docs := make([]json.RawMessage, len(cases))
	for i, c := range cases {
		docs[i] = json.RawMessage(c.doc)
	}
	results, err := CheckAll(docs...) // one round trip for all
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		r := results[i]
		if r.OK || len(r.Issues) == 0 {
			t.Errorf("%s: accepted\n  %s", c.name, c.doc)
			continue
		}
		found := false
		for _, is := range r.Issues {
			if is.Validator == c.validator && is.Path == c.path {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no %s issue at %q; got:\n  %v", c.name, c.validator, c.path, r.Issues)
		}
		if testing.Verbose() {
			t.Logf("%s: %v", c.name, r.Issues)
		}
	}
}

// recorder stands in for a *testing.T to see what Resources and Bundle report.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatal  bool
}

func (r *recorder) Helper()                   {}
func (r *recorder) Logf(string, ...any)       {}
func (r *recorder) Error(args ...any)         { r.add(fmt.Sprint(args...)) }
func (r *recorder) Errorf(f string, a ...any) { r.add(fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) {
	r.add(fmt.Sprintf(f, a...))
	r.mu.Lock()
	r.fatal = true
	r.mu.Unlock()
	runtime.Goexit()
}
func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, s)
}

func record(f func(tb testing.TB)) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestHelpersFail(t *testing.T) {
	bad := set(t, patient, "gender", "man")
	r := record(func(tb testing.TB) { Resources(tb, json.RawMessage(patient), json.RawMessage(bad)) })
	if r.fatal || len(r.errors) != 1 {
		t.Fatalf("Resources(valid, invalid): want one error, got fatal=%v %q", r.fatal, r.errors)
	}
	for _, want := range []string{"resource 2 of 2 (Patient/pat-1)", "[json-schema] Patient.gender", `"gender":"man"`} {
		if !strings.Contains(r.errors[0], want) {
			t.Errorf("report lacks %q:\n%s", want, r.errors[0])
		}
	}

	r = record(func(tb testing.TB) { Bundle(tb, json.RawMessage(patient)) })
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], `want "Bundle"`) {
		t.Errorf("Bundle(Patient): got %q", r.errors)
	}

	r = record(func(tb testing.TB) {
		Bundle(tb, json.RawMessage(set(t, searchset, "entry.0.resource.identifier.1.value", "2950123471")))
	})
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "[au-identifier] Bundle.entry[0].resource.identifier[1].value") {
		t.Errorf("Bundle with a bad Medicare number: got %q", r.errors)
	}

	r = record(func(tb testing.TB) { Resources(tb, json.RawMessage(patient)) })
	if len(r.errors) != 0 {
		t.Errorf("Resources(valid): %q", r.errors)
	}
}

func TestBigBatch(t *testing.T) {
	// More than the pipes hold in both directions at once.
	docs := make([]json.RawMessage, 500)
	for i := range docs {
		docs[i] = json.RawMessage(searchset)
	}
	rs, err := CheckAll(docs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if !r.OK {
			t.Fatalf("doc %d: %v", i, r.Issues)
		}
	}
}

func TestInstalledMismatch(t *testing.T) {
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if s := installedMismatch(dir); s != "" {
		t.Errorf("after start-up node_modules should match the lock: %s", s)
	}
	if s := installedMismatch(t.TempDir()); !strings.Contains(s, "package-lock.json") {
		t.Errorf("empty dir: %q", s)
	}
}

func benchmark(b *testing.B, docs []json.RawMessage) {
	if _, err := CheckAll(docs...); err != nil { // start-up is not measured
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		rs, err := CheckAll(docs...)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rs {
			if !r.OK {
				b.Fatal(r.Issues)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(docs))/b.Elapsed().Seconds(), "resources/s")
}

// One small resource per call: the round-trip cost.
func BenchmarkPatientEach(b *testing.B) { benchmark(b, raws(patient)) }

// 100 Patients per call.
func BenchmarkPatientBatch(b *testing.B) {
	docs := make([]json.RawMessage, 100)
	for i := range docs {
		docs[i] = json.RawMessage(patient)
	}
	benchmark(b, docs)
}

// The 3-entry searchset Bundle (counted as one resource).
func BenchmarkBundle(b *testing.B) { benchmark(b, raws(searchset)) }

// The mixed corpus of valid resources, one call each.
func BenchmarkMixed(b *testing.B) {
	docs := raws(append([]string{patient, practitioner, organization}, moreValid...)...)
	if _, err := CheckAll(docs...); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, d := range docs {
			if r, err := Check(d); err != nil || !r.OK {
				b.Fatal(err, r.Issues)
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "resources/s")
}
