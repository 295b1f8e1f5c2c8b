package api_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fhirlink/fhir/fhirvalidate"
)

// Chained searches (patient.identifier) and Patient?_revinclude= through
// the whole path. The mapping tests check every clinical type against the
// raw tables on both engines; here: the façade's parsing, paging, scopes,
// the Bundle's entries and the CapabilityStatement.

const (
	systemIHI      = "http://ns.electronichealth.net.au/id/hi/ihi/1.0"
	systemMedicare = "http://ns.electronichealth.net.au/id/medicare-number"
	systemHPII     = "http://ns.electronichealth.net.au/id/hi/hpii/1.0"
)

// chainPatient is the live patient with an IHI, a Medicare number with
// its IRN, and the most live past history items.
type chainPatient struct {
	id, ihi, card, irn string
}

func busyPatient(t *testing.T, db *sql.DB) chainPatient {
	t.Helper()
	var p chainPatient
	err := db.QueryRow(`SELECT p."INTERNALID"::text, TRIM(p."IHI"), REPLACE(p."MEDICARENO", ' ', ''), TRIM(p."MEDICARELINENO")
		FROM "PATIENTS" p
		WHERE p."RECORDSTATUS" = 1 AND p."PATIENTSTATUS" = 1 AND TRIM(p."IHI") <> '' AND TRIM(p."MEDICARENO") <> '' AND TRIM(p."MEDICARELINENO") <> ''
		ORDER BY (SELECT COUNT(*) FROM "PASTHISTORY" h WHERE h."INTERNALID" = p."INTERNALID" AND h."RECORDSTATUS" = 1) DESC, p."INTERNALID"
		LIMIT 1`).Scan(&p.id, &p.ihi, &p.card, &p.irn)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// historyOf are the live past history ids of the live patients in ids.
func historyOf(t *testing.T, db *sql.DB, ids ...string) []string {
	t.Helper()
	var out []string
	for _, id := range ids {
		out = append(out, dbIDs(t, db, `SELECT h."RECORDID"::text FROM "PASTHISTORY" h
			JOIN "PATIENTS" p ON p."INTERNALID" = h."INTERNALID" AND p."RECORDSTATUS" = 1
			WHERE h."RECORDSTATUS" = 1 AND h."INTERNALID" = $1`, atoi(t, id))...)
	}
	return out
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFHIRChainedPatientIdentifier(t *testing.T) {
	env, db := fhirEnv(t)
	p := busyPatient(t, db)
	ihi := url.QueryEscape(systemIHI + "|" + p.ihi)

	// Condition by the patient's IHI: exactly the patient's live history,
	// in pages of 2, both spellings of the chain.
	want := historyOf(t, db, p.id)
	if len(want) < 3 {
		t.Fatalf("patient %s has %d conditions; the test needs several", p.id, len(want))
	}
	for _, key := range []string{"patient.identifier", "patient:Patient.identifier"} {
		got := walk(t, env, "Condition?"+key+"="+ihi+"&_count=2")
		if !sameSet(got, want) || len(got) != len(want) {
			t.Errorf("Condition?%s=IHI: %v, want %v", key, got, want)
		}
	}
	b := search(t, env, "Condition?patient.identifier="+ihi+"&_count=2")
	if self := b.link("self"); !strings.Contains(self, "patient.identifier="+systemIHI+"%7C"+p.ihi) {
		t.Errorf("self link %s does not show the chain", self)
	}

	// By Medicare card and IRN: the records of every patient holding it.
	holders := dbIDs(t, db, `SELECT "INTERNALID"::text FROM "PATIENTS" WHERE "RECORDSTATUS" = 1
		AND REPLACE("MEDICARENO", ' ', '') = $1 AND TRIM("MEDICARELINENO") = $2`, p.card, p.irn)
	if !slices.Contains(holders, p.id) {
		t.Fatalf("patient %s is not among the holders %v of its own Medicare number", p.id, holders)
	}
	medicare := url.QueryEscape(systemMedicare + "|" + p.card + p.irn)
	if got, want := walk(t, env, "Condition?patient.identifier="+medicare), historyOf(t, db, holders...); !sameSet(got, want) {
		t.Errorf("Condition by Medicare number: %v, want %v", got, want)
	}

	// Every clinical type: the chain finds what patient=<id> finds.
	for _, typ := range []string{"AllergyIntolerance", "Condition", "Encounter", "Immunization", "MedicationRequest", "MedicationStatement", "Observation", "Appointment"} {
		byRef := walk(t, env, typ+"?patient="+p.id+"&_count=50")
		byIHI := walk(t, env, typ+"?patient.identifier="+ihi+"&_count=50")
		if !sameSet(byIHI, byRef) {
			t.Errorf("%s by IHI: %v, by reference: %v", typ, byIHI, byRef)
		}
		t.Logf("%s of patient %s: %d", typ, p.id, len(byRef))
	}
	obs := walk(t, env, "Observation?patient="+p.id+"&category=vital-signs")
	if got := walk(t, env, "Observation?patient.identifier="+ihi+"&category=vital-signs"); !sameSet(got, obs) {
		t.Errorf("Observation by IHI and category: %v, want %v", got, obs)
	}
	// An unknown IHI finds nothing.
	if got := search(t, env, "Condition?patient.identifier="+url.QueryEscape(systemIHI+"|8003608000000000")).ids(t, "match"); len(got) != 0 {
		t.Errorf("unknown IHI: %v", got)
	}

	// PractitionerRole by the practitioner's HPI-I (AU Core SHOULD).
	var user, hpii string
	if err := db.QueryRow(`SELECT u."USERID"::text, TRIM(u."HPII") FROM "USERS" u JOIN "PROVIDER_LOCATION" pl ON pl."USERID" = u."USERID" AND pl."RECORDSTATUS" = 1
		WHERE u."RECORDSTATUS" = 1 AND u."USERSTATUS" = 1 AND TRIM(u."HPII") <> '' ORDER BY u."USERID" LIMIT 1`).Scan(&user, &hpii); err != nil {
		t.Fatal(err)
	}
	roles := walk(t, env, "PractitionerRole?practitioner="+user)
	if len(roles) == 0 {
		t.Fatalf("practitioner %s has no roles", user)
	}
	if got := walk(t, env, "PractitionerRole?practitioner.identifier="+url.QueryEscape(systemHPII+"|"+hpii)+"&_include=PractitionerRole:practitioner"); !sameSet(got, roles) {
		t.Errorf("PractitionerRole by HPI-I: %v, want %v", got, roles)
	}

	// Chains not declared are refused, lenient or strict: ignoring one
	// would return every patient's records.
	for _, q := range []string{
		"Condition?patient.name=smith",
		"Condition?patient.identifier:not=" + ihi,
		"Condition?patient:Practitioner.identifier=" + ihi,
		"Encounter?practitioner.identifier=x",
	} {
		for _, h := range [][]string{nil, {"Prefer", "handling=strict"}} {
			status, _, body := env.FHIR(http.MethodGet, q, "", h...)
			if status != http.StatusBadRequest || !strings.Contains(string(body), "OperationOutcome") {
				t.Errorf("%s %v: %d %.300s", q, h, status, body)
				continue
			}
			fhirvalidate.Resources(t, body)
		}
	}
}

// entriesOf returns the ids of a Bundle's entries of one type and mode.
func (b *bundle) entriesOf(typ, mode string) []string {
	var ids []string
	for _, e := range b.Entry {
		if e.Search.Mode != mode || !strings.Contains(e.FullURL, "/"+typ+"/") {
			continue
		}
		ids = append(ids, e.FullURL[strings.LastIndex(e.FullURL, "/")+1:])
	}
	return ids
}

func TestFHIRPatientRevInclude(t *testing.T) {
	env, db := fhirEnv(t)
	p := busyPatient(t, db)
	wantCond := historyOf(t, db, p.id)
	wantObs := walk(t, env, "Observation?patient="+p.id)
	if len(wantCond) == 0 || len(wantObs) == 0 {
		t.Fatalf("patient %s: %d conditions, %d observations", p.id, len(wantCond), len(wantObs))
	}

	b := search(t, env, "Patient?_id="+p.id+"&_revinclude=Condition:patient&_revinclude=Observation:patient")
	if got := b.ids(t, "match"); !slices.Equal(got, []string{p.id}) {
		t.Fatalf("matches %v, want [%s]", got, p.id)
	}
	if got := b.entriesOf("Condition", "include"); !sameSet(got, wantCond) || len(got) != len(wantCond) {
		t.Errorf("revincluded conditions %v, want %v", got, wantCond)
	}
	if got := b.entriesOf("Observation", "include"); !sameSet(got, wantObs) || len(got) != len(wantObs) {
		t.Errorf("revincluded observations %v, want %v", got, wantObs)
	}
	for _, e := range b.Entry {
		if e.Search.Mode == "outcome" {
			t.Errorf("unexpected outcome entry: %s", e.Resource)
		}
	}
	self := b.link("self")
	if !strings.Contains(self, "_revinclude=Condition:patient") || !strings.Contains(self, "_revinclude=Observation:patient") {
		t.Errorf("self link %s lacks the _revinclude", self)
	}

	// Several patients, every clinical type, across pages: each page
	// carries the records of its own matches, and next links keep the
	// _revinclude.
	types := []string{"AllergyIntolerance", "Condition", "Encounter", "Immunization", "MedicationRequest", "MedicationStatement", "Observation", "Appointment"}
	q := "Patient?_count=3&_sort=_id"
	for _, typ := range types {
		q += "&_revinclude=" + typ + ":patient"
	}
	path := q
	for page := 0; page < 2 && path != ""; page++ {
		b := search(t, env, path)
		matches := b.ids(t, "match")
		if len(matches) == 0 {
			t.Fatal("no patients")
		}
		for _, typ := range types {
			var want []string
			for _, id := range matches {
				want = append(want, walk(t, env, typ+"?patient="+id+"&_count=50")...)
			}
			if got := b.entriesOf(typ, "include"); !sameSet(got, want) || len(got) != len(want) {
				t.Errorf("page %d: %s of %v: %v, want %v", page, typ, matches, got, want)
			}
		}
		path = b.link("next")
	}

	// The Practitioner's roles.
	var user string
	if err := db.QueryRow(`SELECT "USERID"::text FROM "PROVIDER_LOCATION" WHERE "RECORDSTATUS" = 1 ORDER BY "USERID" LIMIT 1`).Scan(&user); err != nil {
		t.Fatal(err)
	}
	roles := walk(t, env, "PractitionerRole?practitioner="+user)
	pb := search(t, env, "Practitioner?_id="+user+"&_revinclude=PractitionerRole:practitioner")
	if got := pb.entriesOf("PractitionerRole", "include"); !sameSet(got, roles) {
		t.Errorf("revincluded roles %v, want %v", got, roles)
	}

	// Not declared: 400.
	for _, bad := range []string{"Patient?_revinclude=Slot:schedule", "Patient?_revinclude=*", "Condition?_revinclude=Patient:link"} {
		status, _, body := env.FHIR(http.MethodGet, bad, "")
		if status != http.StatusBadRequest || !strings.Contains(string(body), "OperationOutcome") {
			t.Errorf("%s: %d %s", bad, status, body)
		}
	}
}

// TestFHIRRevIncludeCap: a page whose matches have more than 1,000
// referring resources gets 1,000 of them and a warning.
func TestFHIRRevIncludeCap(t *testing.T) {
	env, db := fhirEnv(t)
	// The first 200 live patients by id, and their appointments and
	// observations as the façade finds them.
	b := search(t, env, "Patient?_count=200&_sort=_id&_revinclude=Observation:patient&_revinclude=Appointment:patient&_revinclude=Encounter:patient")
	matches := b.ids(t, "match")
	var n int
	for _, id := range matches {
		atoi(t, id) // digits only: safe to write into the query
	}
	in := "(" + strings.Join(matches, ",") + ")"
	if err := db.QueryRow(`SELECT
		(SELECT COUNT(*) FROM "APPOINTMENTS" a WHERE a."RECORDSTATUS" = 1 AND a."INTERNALID" IN ` + in + `) +
		(SELECT COUNT(*) FROM "VISITS" v WHERE v."RECORDSTATUS" = 1 AND v."INTERNALID" IN ` + in + `)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	included := len(b.entriesOf("Observation", "include")) + len(b.entriesOf("Appointment", "include")) + len(b.entriesOf("Encounter", "include"))
	var warnings []string
	for _, e := range b.Entry {
		if e.Search.Mode == "outcome" {
			warnings = append(warnings, string(e.Resource))
		}
	}
	t.Logf("%d patients; %d revincluded; at least %d appointments and visits", len(matches), included, n)
	if n <= 1000 {
		t.Skipf("the synthetic practice's first %d patients have only %d appointments and visits; the cap is not reached", len(matches), n)
	}
	if included != 1000 {
		t.Errorf("%d resources revincluded, want the cap of 1000", included)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "_revinclude adds at most 1000") || !strings.Contains(warnings[0], `"severity":"warning"`) {
		t.Errorf("warnings: %v", warnings)
	}
}

func TestFHIRRevIncludeScope(t *testing.T) {
	env, db := fhirEnv(t)
	p := busyPatient(t, db)
	s := &smart{Env: env, t: t}
	k := newKey(t, "ES384")
	all := s.client(env.IntegratorID, "system/*.rs", jwks(t, k), "")
	patientOnly := s.mustToken(k, all, "system/Patient.rs").AccessToken
	q := "Patient?_id=" + p.id + "&_revinclude=Condition:patient"
	status, body := s.fhirAs(patientOnly, q)
	if status != http.StatusForbidden || !strings.Contains(string(body), "system/Condition.s") {
		t.Fatalf("_revinclude without Condition scope: %d %s", status, body)
	}
	both := s.mustToken(k, all, "system/Patient.rs system/Condition.rs").AccessToken
	if status, body := s.fhirAs(both, q); status != http.StatusOK {
		t.Fatalf("_revinclude with both scopes: %d %s", status, body)
	}
	// A chained search needs the searched type's scope only.
	cond := s.mustToken(k, all, "system/Condition.rs").AccessToken
	if status, body := s.fhirAs(cond, "Condition?patient.identifier="+url.QueryEscape(systemIHI+"|"+p.ihi)); status != http.StatusOK {
		t.Fatalf("chained search with Condition scope: %d %s", status, body)
	}
}

func TestFHIRCapabilityChainsAndRevIncludes(t *testing.T) {
	env, _ := fhirEnv(t)
	status, _, body := env.FHIR(http.MethodGet, "metadata", "")
	if status != http.StatusOK {
		t.Fatalf("metadata: %d %s", status, body)
	}
	var cs struct {
		Rest []struct {
			Resource []struct {
				Type             string
				SearchRevInclude []string
				SearchParam      []struct{ Name, Documentation string }
			}
		}
	}
	if err := json.Unmarshal(body, &cs); err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	revs := map[string][]string{}
	for _, r := range cs.Rest[0].Resource {
		revs[r.Type] = r.SearchRevInclude
		for _, p := range r.SearchParam {
			docs[r.Type+"."+p.Name] = p.Documentation
		}
	}
	for _, typ := range []string{"AllergyIntolerance", "Appointment", "Condition", "Encounter", "Immunization", "MedicationRequest", "MedicationStatement", "Observation"} {
		if !slices.Contains(revs["Patient"], typ+":patient") {
			t.Errorf("Patient searchRevInclude %v lacks %s:patient", revs["Patient"], typ)
		}
		if d := docs[typ+".patient"]; !strings.Contains(d, "patient.identifier") || strings.Contains(d, "Chaining is not supported") {
			t.Errorf("%s patient documentation: %q", typ, d)
		}
	}
	if !slices.Equal(revs["Practitioner"], []string{"PractitionerRole:practitioner"}) {
		t.Errorf("Practitioner searchRevInclude %v", revs["Practitioner"])
	}
	if d := docs["PractitionerRole.practitioner"]; !strings.Contains(d, "practitioner.identifier") {
		t.Errorf("PractitionerRole practitioner documentation: %q", d)
	}
	// Only what works: no revinclude elsewhere, no chain on other references.
	for typ, r := range revs {
		if typ != "Patient" && typ != "Practitioner" && len(r) > 0 {
			t.Errorf("%s advertises _revinclude %v", typ, r)
		}
	}
	if d := docs["Encounter.practitioner"]; !strings.Contains(d, "Chaining is not supported") {
		t.Errorf("Encounter practitioner documentation: %q", d)
	}
}
