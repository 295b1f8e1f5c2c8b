package bppremier

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/mappings/mappingstest"
)

// Shapes of the clinical resources; the golden test and the database
// tests run them with the others.
var clinicalShapes = []mappingstest.Shape{
	{Name: "observation-read-vital", Res: Observation, Query: "_id=vs-12"},
	{Name: "observation-read-lab", Res: Observation, Query: "_id=lab-7"},
	{Name: "observation-read-bad", Res: Observation, Query: "_id=xx-7,vs-abc,12"},
	{Name: "observation-read-smoking", Res: Observation, Query: "_id=smoking-12"},
	{Name: "observation-patient-smoking", Res: Observation, Query: "patient=12&category=social-history&code=72166-2"},
	{Name: "observation-patient-category", Res: Observation, Query: "patient=Patient/12&category=vital-signs"},
	{Name: "observation-patient-category-date", Res: Observation, Query: "patient=12&category=laboratory&date=ge2025-01-01&date=lt2026-01-01"},
	{Name: "observation-patient-code", Res: Observation, Query: "patient=12&code=http://loinc.org|85354-9"},
	{Name: "observation-patient-code-lab", Res: Observation, Query: "patient=12&code=4548-4"},
	{Name: "observation-patient-category-status", Res: Observation, Query: "patient=12&category=laboratory&status=final"},
	{Name: "observation-sort-date-next-page", Res: Observation, Query: "patient=12&_sort=-date&_count=5", After: []string{"2026-01-15T10:00:00", "-42"}},
	{Name: "observation-count", Res: Observation, Query: "patient=12&_summary=count", Count: true},

	{Name: "condition-read", Res: Condition, Query: "_id=3"},
	{Name: "condition-patient", Res: Condition, Query: "patient=Patient/12"},
	{Name: "condition-patient-category", Res: Condition, Query: "patient=12&category=problem-list-item"},
	{Name: "condition-patient-clinical-status", Res: Condition, Query: "patient=12&clinical-status=active"},
	{Name: "condition-patient-code", Res: Condition, Query: "patient=12&code=http://snomed.info/sct|44054006"},
	{Name: "condition-patient-onset-date", Res: Condition, Query: "patient=12&onset-date=ge2010-06&onset-date=lt2020"},

	{Name: "allergyintolerance-read", Res: AllergyIntolerance, Query: "_id=5"},
	{Name: "allergyintolerance-read-nka", Res: AllergyIntolerance, Query: "_id=nka-12"},
	{Name: "allergyintolerance-patient", Res: AllergyIntolerance, Query: "patient=Patient/12"},
	{Name: "allergyintolerance-patient-clinical-status", Res: AllergyIntolerance, Query: "patient=12&clinical-status=active"},

	{Name: "medicationstatement-read", Res: MedicationStatement, Query: "_id=5"},
	{Name: "medicationstatement-patient-status", Res: MedicationStatement, Query: "patient=12&status=active"},
	{Name: "medicationstatement-patient-effective", Res: MedicationStatement, Query: "patient=12&effective=ge2024-01-01"},

	{Name: "medicationrequest-read", Res: MedicationRequest, Query: "_id=5"},
	{Name: "medicationrequest-patient-status", Res: MedicationRequest, Query: "patient=12&status=active"},
	{Name: "medicationrequest-patient-intent-authoredon", Res: MedicationRequest, Query: "patient=12&intent=order&authoredon=ge2025-07-01"},

	{Name: "immunization-read", Res: Immunization, Query: "_id=5"},
	{Name: "immunization-patient-status", Res: Immunization, Query: "patient=12&status=completed"},
	{Name: "immunization-patient-date", Res: Immunization, Query: "patient=12&date=ge2024"},

	{Name: "encounter-read", Res: Encounter, Query: "_id=5"},
	{Name: "encounter-patient-date", Res: Encounter, Query: "patient=12&date=ge2026-01-01"},
	{Name: "encounter-patient-class-status", Res: Encounter, Query: "patient=12&class=VR&status=finished"},
	{Name: "encounter-patient-class-amb", Res: Encounter, Query: "patient=12&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|AMB"},
	{Name: "encounter-patient-location", Res: Encounter, Query: "patient=12&location=Location/1"},
}

func init() { shapes = append(shapes, clinicalShapes...) }

// ---- the clinical tables, for expectations written independently of the SQL ----

// clinicalRec is one raw row of a clinical table: its key, patient, live
// flag and what the expectations need.
type clinicalRec struct {
	id, patient, status int
	code, other         int
	text                string
	date                time.Time // zero when NULL
	secs, secs2         int
	value               string
}

type clinicalSnap struct {
	livePatient map[int]bool
	obs, labs   []clinicalRec
	history     []clinicalRec
	reactions   []clinicalRec
	nilKnown    map[int]bool
	smoking     map[int]int   // CLINICAL.SMOKINGSTATUS by patient
	currentRx   []clinicalRec // code PRODUCTID, date FIRSTDATE, other: 1 when DELETIONDATE is set
	lastDate    map[int]time.Time
	items       []clinicalRec // id item, other SCRIPTID, code PRODUCTID, status script RECORDSTATUS, date SCRIPTDATE
	imms        []clinicalRec
	visits      []clinicalRec
	reasons     map[int]int // live VISITREASON rows by VISITID
}

func (p *practice) loadClinical(t *testing.T) *clinicalSnap {
	s := &clinicalSnap{livePatient: map[int]bool{}, nilKnown: map[int]bool{}, smoking: map[int]int{}, lastDate: map[int]time.Time{}, reasons: map[int]int{}}
	for _, r := range p.snap.patients {
		s.livePatient[r.id] = r.record == 1
	}
	p.rows(t, `SELECT "RECORDID", "INTERNALID", "RECORDSTATUS", "DATACODE", "OBSDATE", "OBSTIME", "DATAVALUE" FROM "OBSERVATIONS"`, func(v []any) {
		s.obs = append(s.obs, clinicalRec{id: num(v[0]), patient: num(v[1]), status: num(v[2]), code: num(v[3]), date: when(v[4]), secs: num(v[5]), value: str(v[6])})
	})
	completion := map[int]int{}
	collected := map[int]time.Time{}
	p.rows(t, `SELECT "REPORTID", "COMPLETIONFLAG", "COLLECTIONDATE" FROM "INVESTIGATIONS" WHERE "RECORDSTATUS" = 1`, func(v []any) {
		completion[num(v[0])], collected[num(v[0])] = num(v[1]), when(v[2])
	})
	p.rows(t, `SELECT "RECORDID", "INTERNALID", "RECORDSTATUS", "REPORTID", "LOINCCODE", "REPORTDATE", "ABNORMALFLAG" FROM "REPORTVALUES"`, func(v []any) {
		d := collected[num(v[3])]
		if d.IsZero() {
			d = when(v[5])
		}
		s.labs = append(s.labs, clinicalRec{id: num(v[0]), patient: num(v[1]), status: num(v[2]), other: completion[num(v[3])],
			text: str(v[4]), date: d, value: str(v[6])})
	})
	p.rows(t, `SELECT "RECORDID", "INTERNALID", "RECORDSTATUS", "STATUSCODE", "YEAR", "MONTH", "DAY", "ITEMTEXT" FROM "PASTHISTORY"`, func(v []any) {
		s.history = append(s.history, clinicalRec{id: num(v[0]), patient: num(v[1]), status: num(v[2]), code: num(v[3]),
			other: num(v[4])*10000 + num(v[5])*100 + num(v[6]), text: str(v[7])})
	})
	p.rows(t, `SELECT "RECORDID", "INTERNALID", "RECORDSTATUS", "SEVERITY" FROM "REACTIONS"`, func(v []any) {
		s.reactions = append(s.reactions, clinicalRec{id: num(v[0]), patient: num(v[1]), status: num(v[2]), code: num(v[3])})
	})
	p.rows(t, `SELECT "INTERNALID" FROM "CLINICAL" WHERE "KNOWNALLERGIES" = 1`, func(v []any) { s.nilKnown[num(v[0])] = true })
	p.rows(t, `SELECT "INTERNALID", "SMOKINGSTATUS" FROM "CLINICAL"`, func(v []any) { s.smoking[num(v[0])] = num(v[1]) })
	p.rows(t, `SELECT "RECORDID", "INTERNALID", "RECORDSTATUS", "PRODUCTID", "FIRSTDATE", "DELETIONDATE", "LASTDATE" FROM "CURRENTRX"`, func(v []any) {
		r := clinicalRec{id: num(v[0]), patient: num(v[1]), status: num(v[2]), code: num(v[3]), date: when(v[4])}
		if v[5] != nil {
			r.other = 1
		}
		s.currentRx = append(s.currentRx, r)
		s.lastDate[r.id] = when(v[6])
	})
	p.rows(t, `SELECT i."RECORDID", s."INTERNALID", s."RECORDSTATUS", i."PRODUCTID", s."SCRIPTDATE", s."SCRIPTID", i."RECORDSTATUS"
		FROM "SCRIPTITEMS" i JOIN "PRESCRIPTIONS" s ON s."SCRIPTID" = i."SCRIPTID"`, func(v []any) {
		if num(v[6]) == 1 {
			s.items = append(s.items, clinicalRec{id: num(v[0]), patient: num(v[1]), status: num(v[2]), code: num(v[3]), date: when(v[4]), other: num(v[5])})
		}
	})
	p.rows(t, `SELECT "RECORDID", "INTERNALID", "RECORDSTATUS", "NOTGIVENHERE", "GIVENDATE", "BATCHNUMBER" FROM "IMMUNISATIONS"`, func(v []any) {
		s.imms = append(s.imms, clinicalRec{id: num(v[0]), patient: num(v[1]), status: num(v[2]), code: num(v[3]), date: when(v[4]), value: str(v[5])})
	})
	p.rows(t, `SELECT "VISITID", "INTERNALID", "RECORDSTATUS", "VISITCODE", "VISITDATE", "STARTTIME", "ENDTIME", "LOCATION" FROM "VISITS"`, func(v []any) {
		s.visits = append(s.visits, clinicalRec{id: num(v[0]), patient: num(v[1]), status: num(v[2]), code: num(v[3]), date: when(v[4]),
			secs: num(v[5]), secs2: num(v[6]), other: num(v[7])})
	})
	p.rows(t, `SELECT "VISITID" FROM "VISITREASON" WHERE "RECORDSTATUS" = 1 AND RTRIM("REASON") <> ''`, func(v []any) { s.reasons[num(v[0])]++ })
	return s
}

// expectIDs checks a search's ids (strings: some resources' ids have a
// prefix) and its count, walking pages of 7 to exercise paging.
func (p *practice) expectIDs(t *testing.T, r mappings.Resource, query string, want []string) []mappings.Row {
	t.Helper()
	rows := p.search(t, r, query, 7)
	got := make([]string, len(rows))
	for i, row := range rows {
		got[i] = mappingstest.ResourceID(t, row.Resource)
	}
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	t.Logf("%s?%s: %d", r.Decl().Type, query, len(got))
	if !slices.Equal(got, want) {
		t.Errorf("%s?%s: got %d ids %v, want %d ids %v", r.Decl().Type, query, len(got), got, len(want), want)
	}
	if n := p.count(t, r, query); n != len(want) {
		t.Errorf("%s?%s: count %d, want %d", r.Decl().Type, query, n, len(want))
	}
	return rows
}

// pick returns the ids of recs that f keeps, formatted with prefix.
func pick(recs []clinicalRec, prefix string, f func(r clinicalRec) bool) []string {
	var out []string
	for _, r := range recs {
		if f(r) {
			out = append(out, prefix+strconv.Itoa(r.id))
		}
	}
	return out
}

// busiest is the live patient with the most records that f keeps.
func (s *clinicalSnap) busiest(recs []clinicalRec, f func(r clinicalRec) bool) int {
	n := map[int]int{}
	best := 0
	for _, r := range recs {
		if s.livePatient[r.patient] && f(r) {
			n[r.patient]++
			if n[r.patient] > n[best] || (n[r.patient] == n[best] && r.patient < best) {
				best = r.patient
			}
		}
	}
	return best
}

// rangeMatches is FHIR's rule for a value [a, b) against a search range
// [lo, hi).
func rangeMatches(prefix fhir.Prefix, a, b, lo, hi time.Time) bool {
	eq := !a.Before(lo) && !b.After(hi)
	switch prefix {
	case fhir.PrefixEq, "":
		return eq
	case fhir.PrefixNe:
		return !eq
	case fhir.PrefixGt:
		return b.After(hi)
	case fhir.PrefixLt:
		return a.Before(lo)
	case fhir.PrefixGe:
		return eq || b.After(hi)
	case fhir.PrefixLe:
		return eq || a.Before(lo)
	case fhir.PrefixSa:
		return !a.Before(hi)
	case fhir.PrefixEb:
		return !b.After(lo)
	case fhir.PrefixAp:
		return a.Before(hi) && b.After(lo)
	}
	panic(prefix)
}

// searchRange is the wall-clock range of a date search value.
func searchRange(t *testing.T, r mappings.Resource, query string) (fhir.Prefix, time.Time, time.Time) {
	v := parse(t, r, query).Clauses[0].Values[0]
	w := func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	return v.Prefix, w(v.Lo), w(v.Hi)
}

var datePrefixes = []string{"", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}

func decode(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func testClinical(t *testing.T, p *practice) {
	s := p.loadClinical(t)
	t.Run("Observation", func(t *testing.T) { testObservation(t, p, s) })
	t.Run("Condition", func(t *testing.T) { testCondition(t, p, s) })
	t.Run("AllergyIntolerance", func(t *testing.T) { testAllergy(t, p, s) })
	t.Run("MedicationStatement", func(t *testing.T) { testMedicationStatement(t, p, s) })
	t.Run("MedicationRequest", func(t *testing.T) { testMedicationRequest(t, p, s) })
	t.Run("Immunization", func(t *testing.T) { testImmunization(t, p, s) })
	t.Run("Encounter", func(t *testing.T) { testEncounter(t, p, s) })
}

// ---- Observation ----

func testObservation(t *testing.T, p *practice, s *clinicalSnap) {
	served := map[int]bool{1: true, 2: true, 3: true, 7: true, 8: true, 9: true, 10: true, 17: true}
	type moment struct {
		patient int
		at      time.Time
	}
	systolicAt := map[moment]bool{}
	for _, r := range s.obs {
		if r.status == 1 && r.code == 3 {
			systolicAt[moment{r.patient, r.date.Add(time.Duration(r.secs) * time.Second)}] = true
		}
	}
	at := func(r clinicalRec) time.Time { return r.date.Add(time.Duration(r.secs) * time.Second) }
	vital := func(r clinicalRec) bool {
		return r.status == 1 && s.livePatient[r.patient] && !r.date.IsZero() &&
			(served[r.code] || r.code == 4 && !systolicAt[moment{r.patient, at(r)}])
	}
	lab := func(r clinicalRec) bool { return r.status == 1 && s.livePatient[r.patient] && !r.date.IsZero() }
	pt := s.busiest(s.obs, func(r clinicalRec) bool { return vital(r) && r.code == 3 })
	var labsOf []clinicalRec
	for _, r := range s.labs {
		if r.patient == pt {
			labsOf = append(labsOf, r)
		}
	}
	if pt == 0 || len(labsOf) == 0 {
		pt = s.busiest(s.labs, lab)
	}
	of := func(f func(r clinicalRec) bool) func(r clinicalRec) bool {
		return func(r clinicalRec) bool { return r.patient == pt && f(r) }
	}
	vitals := pick(s.obs, "vs-", of(vital))
	labs := pick(s.labs, "lab-", of(lab))
	if len(vitals) == 0 || len(labs) == 0 {
		t.Fatalf("patient %d has %d vital signs and %d results", pt, len(vitals), len(labs))
	}
	var smoking []string
	if st := s.smoking[pt]; st >= 1 && st <= 3 {
		smoking = []string{"smoking-" + strconv.Itoa(pt)}
	}
	P := "patient=" + strconv.Itoa(pt)
	p.expectIDs(t, Observation, P, append(append(slices.Clone(vitals), labs...), smoking...))
	p.expectIDs(t, Observation, P+"&category=social-history", smoking)
	p.expectIDs(t, Observation, P+"&code=72166-2", smoking)
	var smokers, all []string
	for id, st := range s.smoking {
		if s.livePatient[id] && st >= 1 && st <= 3 {
			all = append(all, "smoking-"+strconv.Itoa(id))
			if st == 3 {
				smokers = append(smokers, "smoking-"+strconv.Itoa(id))
			}
		}
	}
	p.expectIDs(t, Observation, "code=http://snomed.info/sct|1747861000168109", all)
	rows := p.expectIDs(t, Observation, "_id="+smokers[0], smokers[:1])
	if !strings.Contains(string(rows[0].Resource), `"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"77176002"`) ||
		!strings.Contains(string(rows[0].Resource), mappings.ProfileSmokingStatus) {
		t.Errorf("smoker: %s", rows[0].Resource)
	}
	p.expectIDs(t, Observation, "patient=Patient/"+strconv.Itoa(pt)+"&category=vital-signs", vitals)
	p.expectIDs(t, Observation, P+"&category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory", labs)
	p.expectIDs(t, Observation, P+"&code=85354-9", pick(s.obs, "vs-", of(func(r clinicalRec) bool { return vital(r) && (r.code == 3 || r.code == 4) })))
	p.expectIDs(t, Observation, P+"&code=http://loinc.org|8867-4", pick(s.obs, "vs-", of(func(r clinicalRec) bool { return vital(r) && r.code == 2 })))
	p.expectIDs(t, Observation, P+"&code=http://snomed.info/sct|8867-4", nil)
	p.expectIDs(t, Observation, P+"&code=8480-6", nil) // a component's code is not the observation's
	loinc := labsOf[0].text
	p.expectIDs(t, Observation, P+"&code="+loinc, pick(s.labs, "lab-", of(func(r clinicalRec) bool { return lab(r) && r.text == loinc })))
	p.expectIDs(t, Observation, P+"&category=laboratory&status=final", pick(s.labs, "lab-", of(func(r clinicalRec) bool { return lab(r) && r.other != 0 })))
	// Dates: a vital sign is the instant measured, a result the day collected.
	var mid time.Time
	for _, r := range s.obs {
		if r.patient == pt && vital(r) {
			mid = at(r)
			break
		}
	}
	for _, v := range []string{mid.Format("2006-01-02"), mid.Format("2006-01-02T15:04:05"), mid.Format("2006-01"), strconv.Itoa(mid.Year())} {
		for _, prefix := range datePrefixes {
			q := "date=" + prefix + v
			pre, lo, hi := searchRange(t, Observation, q)
			p.expectIDs(t, Observation, P+"&category=vital-signs&"+q, pick(s.obs, "vs-", of(func(r clinicalRec) bool {
				return vital(r) && rangeMatches(pre, at(r), at(r).Add(time.Nanosecond), lo, hi)
			})))
		}
	}
	year := strconv.Itoa(labsOf[0].date.Year())
	p.expectIDs(t, Observation, P+"&category=laboratory&date="+year, pick(s.labs, "lab-", of(func(r clinicalRec) bool {
		return lab(r) && strconv.Itoa(r.date.Year()) == year
	})))
	// Reads, and ids that are not ids.
	p.expectIDs(t, Observation, "_id="+vitals[0], vitals[:1])
	p.expectIDs(t, Observation, "_id="+labs[0]+","+vitals[0], []string{labs[0], vitals[0]})
	p.expectIDs(t, Observation, "_id="+strings.TrimPrefix(vitals[0], "vs-"), nil)
	p.expectIDs(t, Observation, "_id=lab-"+strings.TrimPrefix(vitals[0], "vs-")+"0000", nil)
	p.expectIDs(t, Observation, "_id=vs-abc,xx-1,vs-007", nil)
	// Paging in date order.
	rows = p.search(t, Observation, P+"&_sort=-date", 4)
	if len(rows) != len(vitals)+len(labs)+len(smoking) {
		t.Errorf("sorted by date: %d rows, want %d", len(rows), len(vitals)+len(labs))
	}
	// The resources.
	type quantity struct {
		Value      json.Number
		Unit       string
		System     string
		Code       string
		Comparator string
	}
	type obs struct {
		ID   string
		Meta struct{ Profile []string }
		Code struct {
			Coding []struct{ System, Code string }
		}
		Category          []struct{ Coding []struct{ Code string } }
		EffectiveDateTime string
		ValueQuantity     *quantity
		Component         []struct {
			Code          struct{ Coding []struct{ Code string } }
			ValueQuantity *quantity
		}
		Interpretation []struct{ Coding []struct{ Code string } }
		Subject        struct{ Reference string }
	}
	for _, row := range p.search(t, Observation, P, 0) {
		var o obs
		decode(t, row.Resource, &o)
		if o.Subject.Reference != "Patient/"+strconv.Itoa(pt) || !slices.Equal(row.Refs["patient"], []string{strconv.Itoa(pt)}) {
			t.Errorf("%s subject %+v refs %v", o.ID, o.Subject, row.Refs)
		}
		if strings.HasPrefix(o.ID, "smoking-") {
			continue
		}
		if strings.HasPrefix(o.ID, "lab-") {
			if o.Meta.Profile[0] != mappings.ProfilePathologyResult || o.Category[0].Coding[0].Code != "laboratory" {
				t.Errorf("%s: %s", o.ID, row.Resource)
			}
			continue
		}
		id := atoi(strings.TrimPrefix(o.ID, "vs-"))
		var rec clinicalRec
		for _, r := range s.obs {
			if r.id == id {
				rec = r
			}
		}
		w := at(rec)
		effective := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, sydney).Format("2006-01-02T15:04:05-07:00")
		if o.Category[0].Coding[0].Code != "vital-signs" || o.EffectiveDateTime != effective {
			t.Errorf("%s: effective %s, want the wall clock %s: %s", o.ID, o.EffectiveDateTime, at(rec), row.Resource)
		}
		want := map[int][3]string{1: {"8310-5", "Cel", mappings.ProfileBodyTemperature}, 2: {"8867-4", "/min", mappings.ProfileHeartRate},
			3: {"85354-9", "", mappings.ProfileBloodPressure}, 7: {"8302-2", "cm", mappings.ProfileBodyHeight},
			8: {"29463-7", "kg", mappings.ProfileBodyWeight}, 9: {"39156-5", "kg/m2", mappings.ProfileBMI},
			17: {"8280-0", "cm", mappings.ProfileWaistCircumference}}[rec.code]
		if o.Code.Coding[0].Code != want[0] || o.Code.Coding[0].System != mappings.CodeSystemLOINC || o.Meta.Profile[0] != want[2] {
			t.Errorf("%s (DATACODE %d): code %+v profile %v", o.ID, rec.code, o.Code, o.Meta.Profile)
		}
		if rec.code == 3 {
			var dia string
			for _, r := range s.obs {
				if r.status == 1 && r.code == 4 && r.patient == rec.patient && at(r).Equal(at(rec)) {
					dia = r.value
					break
				}
			}
			if len(o.Component) != 2 || o.Component[0].Code.Coding[0].Code != "8480-6" || o.Component[1].Code.Coding[0].Code != "8462-4" ||
				o.Component[0].ValueQuantity.Value.String() != rec.value || o.Component[1].ValueQuantity.Value.String() != dia ||
				o.Component[0].ValueQuantity.Code != "mm[Hg]" || o.ValueQuantity != nil {
				t.Errorf("%s: blood pressure %s/%s: %s", o.ID, rec.value, dia, row.Resource)
			}
		} else if o.ValueQuantity == nil || o.ValueQuantity.Value.String() != rec.value || o.ValueQuantity.Code != want[1] ||
			o.ValueQuantity.System != mappings.CodeSystemUCUM {
			t.Errorf("%s: value %s: %s", o.ID, rec.value, row.Resource)
		}
	}
	// A high result is flagged, a ">90" keeps its comparator.
	for _, r := range s.labs {
		if !lab(r) || (r.value != "H" && r.value != "L") {
			continue
		}
		rows := p.search(t, Observation, "_id=lab-"+strconv.Itoa(r.id), 0)
		var o obs
		decode(t, rows[0].Resource, &o)
		if len(o.Interpretation) != 1 || o.Interpretation[0].Coding[0].Code != r.value {
			t.Errorf("lab-%d flagged %s: %s", r.id, r.value, rows[0].Resource)
		}
		break
	}
	var gt90 []string
	p.rows(t, `SELECT "RECORDID" FROM "REPORTVALUES" WHERE RTRIM("RESULTVALUE") = '>90' AND "RECORDSTATUS" = 1`, func(v []any) {
		gt90 = append(gt90, strconv.Itoa(num(v[0])))
	})
	if len(gt90) > 0 {
		rows := p.search(t, Observation, "_id=lab-"+gt90[0], 0)
		var o obs
		decode(t, rows[0].Resource, &o)
		if o.ValueQuantity == nil || o.ValueQuantity.Comparator != ">" || o.ValueQuantity.Value.String() != "90" {
			t.Errorf("eGFR >90: %s", rows[0].Resource)
		}
	}
}

// ---- Condition ----

// onsetRange is a past-history item's onset [a, b) from its year, month
// and day; ok is false without a year.
func onsetRange(ymd int) (a, b time.Time, ok bool) {
	y, m, d := ymd/10000, ymd/100%100, ymd%100
	switch {
	case y == 0:
		return a, b, false
	case m == 0:
		a = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		return a, a.AddDate(1, 0, 0), true
	case d == 0:
		a = time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
		return a, a.AddDate(0, 1, 0), true
	}
	a = time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return a, a.AddDate(0, 0, 1), true
}

func testCondition(t *testing.T, p *practice, s *clinicalSnap) {
	live := func(r clinicalRec) bool { return r.status == 1 && s.livePatient[r.patient] }
	pt := s.busiest(s.history, live)
	of := func(f func(r clinicalRec) bool) []string {
		return pick(s.history, "", func(r clinicalRec) bool { return live(r) && r.patient == pt && f(r) })
	}
	all := of(func(clinicalRec) bool { return true })
	P := "patient=" + strconv.Itoa(pt)
	p.expectIDs(t, Condition, P, all)
	p.expectIDs(t, Condition, "patient=Patient/"+strconv.Itoa(pt)+"&category=problem-list-item", all)
	p.expectIDs(t, Condition, P+"&category=encounter-diagnosis", nil)
	p.expectIDs(t, Condition, P+"&clinical-status=active", of(func(r clinicalRec) bool { return r.code == 1 }))
	p.expectIDs(t, Condition, P+"&clinical-status=http://terminology.hl7.org/CodeSystem/condition-clinical|inactive", of(func(r clinicalRec) bool { return r.code == 2 }))
	p.expectIDs(t, Condition, P+"&clinical-status=resolved", nil)
	// SNOMED CT codes, as bpsynth's catalogue gives them (checked facts).
	snomed := map[string]string{"Diabetes mellitus - type 2": "44054006", "Hypertension": "38341003", "Asthma": "195967001",
		"Hyperlipidaemia": "55822004", "Osteoarthritis": "396275006"}
	for name, code := range snomed {
		p.expectIDs(t, Condition, "code=http://snomed.info/sct|"+code, pick(s.history, "", func(r clinicalRec) bool { return live(r) && r.text == name }))
	}
	p.expectIDs(t, Condition, "code=http://loinc.org|44054006", nil)
	// Onsets of every precision, searched with every prefix.
	var years, months, days int
	for _, r := range s.history {
		switch {
		case !live(r):
		case r.other%10000 == 0:
			years++
		case r.other%100 == 0:
			months++
		default:
			days++
		}
	}
	if years == 0 || months == 0 || days == 0 {
		t.Fatalf("onsets: %d years, %d months, %d days", years, months, days)
	}
	// A day on which some condition began, and values around it.
	var day time.Time
	for _, r := range s.history {
		if live(r) && r.other%100 != 0 {
			day = time.Date(r.other/10000, time.Month(r.other/100%100), r.other%100, 0, 0, 0, 0, time.UTC)
			break
		}
	}
	for _, v := range []string{"2015", day.Format("2006"), day.Format("2006-01"), day.Format("2006-01-02"), day.Format("2006-01-02") + "T10:00",
		day.Format("2006-01-02T00:00:00"), day.AddDate(0, 0, -1).Format("2006-01-02") + "T23:30"} {
		for _, prefix := range datePrefixes {
			q := "onset-date=" + prefix + v
			pre, lo, hi := searchRange(t, Condition, q)
			p.expectIDs(t, Condition, q, pick(s.history, "", func(r clinicalRec) bool {
				a, b, ok := onsetRange(r.other)
				return live(r) && ok && rangeMatches(pre, a, b, lo, hi)
			}))
		}
	}
	p.expectIDs(t, Condition, P+"&onset-date=ge2000&onset-date=lt2020", of(func(r clinicalRec) bool {
		a, b, ok := onsetRange(r.other)
		return ok && !a.Before(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) && !b.After(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	}))
	// The onset keeps the precision recorded.
	for _, r := range s.history {
		if !live(r) {
			continue
		}
		rows := p.search(t, Condition, "_id="+strconv.Itoa(r.id), 0)
		var c struct {
			OnsetDateTime  string
			ClinicalStatus struct{ Coding []struct{ Code string } }
			Category       []struct{ Coding []struct{ Code string } }
			Code           struct {
				Text   string
				Coding []struct{ System, Code string }
			}
		}
		decode(t, rows[0].Resource, &c)
		y, m, d := r.other/10000, r.other/100%100, r.other%100
		want := fmt.Sprintf("%04d", y)
		if m > 0 {
			want += fmt.Sprintf("-%02d", m)
			if d > 0 {
				want += fmt.Sprintf("-%02d", d)
			}
		}
		status := map[int]string{1: "active", 2: "inactive"}[r.code]
		if c.OnsetDateTime != want || c.ClinicalStatus.Coding[0].Code != status || c.Category[0].Coding[0].Code != "problem-list-item" ||
			c.Code.Text != r.text || snomed[r.text] != "" && c.Code.Coding[0].Code != snomed[r.text] {
			t.Errorf("condition %d (%d, status %d, %s): %s", r.id, r.other, r.code, r.text, rows[0].Resource)
		}
		if r.id > 60 {
			break
		}
	}
	p.expectIDs(t, Condition, "_id="+all[0], all[:1])
}

// ---- AllergyIntolerance ----

func testAllergy(t *testing.T, p *practice, s *clinicalSnap) {
	activeReaction := map[int]bool{}
	for _, r := range s.reactions {
		if r.status == 1 {
			activeReaction[r.patient] = true
		}
	}
	reactions := func(f func(r clinicalRec) bool) []string {
		return pick(s.reactions, "", func(r clinicalRec) bool { return r.status == 1 && s.livePatient[r.patient] && f(r) })
	}
	nka := func(f func(id int) bool) []string {
		var out []string
		for id := range s.nilKnown {
			if s.livePatient[id] && !activeReaction[id] && f(id) {
				out = append(out, "nka-"+strconv.Itoa(id))
			}
		}
		return out
	}
	any := func(clinicalRec) bool { return true }
	p.expectIDs(t, AllergyIntolerance, "", append(reactions(any), nka(func(int) bool { return true })...))
	p.expectIDs(t, AllergyIntolerance, "clinical-status=active", append(reactions(func(r clinicalRec) bool { return r.status == 1 }), nka(func(int) bool { return true })...))
	// A reaction not live (RECORDSTATUS 0) is a deleted record: not read, not found, not
	// inactive.
	p.expectIDs(t, AllergyIntolerance, "clinical-status=inactive", nil)
	var deleted []string
	for _, r := range s.reactions {
		if r.status != 1 {
			deleted = append(deleted, strconv.Itoa(r.id))
			p.expectIDs(t, AllergyIntolerance, "_id="+strconv.Itoa(r.id), nil)
			p.expectIDs(t, AllergyIntolerance, "patient="+strconv.Itoa(r.patient), reactions(func(x clinicalRec) bool { return x.patient == r.patient }))
		}
	}
	if len(deleted) == 0 {
		t.Fatal("the practice has no deleted reaction")
	}
	pt := s.busiest(s.reactions, func(r clinicalRec) bool { return r.status == 1 })
	p.expectIDs(t, AllergyIntolerance, "patient="+strconv.Itoa(pt), reactions(func(r clinicalRec) bool { return r.patient == pt }))
	var none int
	for id := range s.nilKnown {
		if s.livePatient[id] && (none == 0 || id < none) {
			none = id
		}
	}
	rows := p.expectIDs(t, AllergyIntolerance, "patient=Patient/"+strconv.Itoa(none), []string{"nka-" + strconv.Itoa(none)})
	if !strings.Contains(string(rows[0].Resource), `"code":"716186003"`) {
		t.Errorf("no known allergy: %s", rows[0].Resource)
	}
	p.expectIDs(t, AllergyIntolerance, "_id=nka-"+strconv.Itoa(none)+",nka-x,nka-0"+strconv.Itoa(none), []string{"nka-" + strconv.Itoa(none)})
	sev := map[int]string{1: `"severity":"mild"`, 2: `"severity":"moderate"`, 3: `"severity":"severe"`}
	for _, r := range s.reactions {
		if r.status != 1 || !s.livePatient[r.patient] {
			continue
		}
		rows := p.expectIDs(t, AllergyIntolerance, "_id="+strconv.Itoa(r.id), []string{strconv.Itoa(r.id)})
		if w := sev[r.code]; (w != "") != strings.Contains(string(rows[0].Resource), `"severity"`) || !strings.Contains(string(rows[0].Resource), w) {
			t.Errorf("reaction %d severity %d: %s", r.id, r.code, rows[0].Resource)
		}
		if r.id > 30 {
			break
		}
	}
}

// ---- medicines ----

func testMedicationStatement(t *testing.T, p *practice, s *clinicalSnap) {
	pt := s.busiest(s.currentRx, func(r clinicalRec) bool { return r.status == 1 })
	var mine []clinicalRec
	for _, r := range s.currentRx {
		if r.patient == pt {
			mine = append(mine, r)
		}
	}
	// One medicine taken off the list, one deleted without a date (not shown).
	stopped, gone := mine[0].id, mine[1].id
	p.sqlExec(t, `UPDATE "CURRENTRX" SET "RECORDSTATUS" = 0, "DELETIONDATE" = ?, "DELETIONREASON" = ? WHERE "RECORDID" = ?`, "2026-05-01 00:00:00", "Side effects", stopped)
	p.sqlExec(t, `UPDATE "CURRENTRX" SET "RECORDSTATUS" = 0 WHERE "RECORDID" = ?`, gone)
	for i := range s.currentRx {
		switch s.currentRx[i].id {
		case stopped:
			s.currentRx[i].status, s.currentRx[i].other = 0, 1
		case gone:
			s.currentRx[i].status = 0
		}
	}
	shown := func(r clinicalRec) bool { return s.livePatient[r.patient] && (r.status == 1 || r.other == 1) }
	of := func(f func(r clinicalRec) bool) []string {
		return pick(s.currentRx, "", func(r clinicalRec) bool { return shown(r) && r.patient == pt && f(r) })
	}
	P := "patient=" + strconv.Itoa(pt)
	p.expectIDs(t, MedicationStatement, P, of(func(clinicalRec) bool { return true }))
	p.expectIDs(t, MedicationStatement, P+"&status=active", of(func(r clinicalRec) bool { return r.status == 1 }))
	rows := p.expectIDs(t, MedicationStatement, P+"&status=stopped", []string{strconv.Itoa(stopped)})
	for _, want := range []string{`"status":"stopped"`, `"end":"2026-05-01"`, `Side effects`} {
		if !strings.Contains(string(rows[0].Resource), want) {
			t.Errorf("stopped medicine lacks %s: %s", want, rows[0].Resource)
		}
	}
	p.expectIDs(t, MedicationStatement, "status=stopped", []string{strconv.Itoa(stopped)})
	first := mine[2].date
	for _, prefix := range []string{"", "ge", "lt", "sa"} {
		q := "effective=" + prefix + first.Format("2006-01-02")
		pre, lo, hi := searchRange(t, MedicationStatement, q)
		p.expectIDs(t, MedicationStatement, P+"&"+q, of(func(r clinicalRec) bool {
			return !r.date.IsZero() && rangeMatches(pre, r.date, r.date.AddDate(0, 0, 1), lo, hi)
		}))
	}
	rows = p.expectIDs(t, MedicationStatement, "_id="+strconv.Itoa(mine[2].id), []string{strconv.Itoa(mine[2].id)})
	for _, want := range []string{`"status":"active"`, `"medicationCodeableConcept":{"text":"`, `"dosage":[{"text":"`, `"start":"` + first.Format("2006-01-02") + `"`} {
		if !strings.Contains(string(rows[0].Resource), want) {
			t.Errorf("medicine lacks %s: %s", want, rows[0].Resource)
		}
	}
	if strings.Contains(string(rows[0].Resource), "medicationReference") {
		t.Errorf("medicationReference: %s", rows[0].Resource)
	}
	p.expectIDs(t, MedicationStatement, "_id="+strconv.Itoa(gone), nil)
	// Without instructions, the dosage is the dose and the texts Bp shows
	// for its frequency, food and other-detail codes.
	blank := mine[3].id
	p.sqlExec(t, `UPDATE "CURRENTRX" SET "INSTRUCTIONS" = '' WHERE "RECORDID" = ?`, blank)
	var parts []string
	p.rows(t, `SELECT "Dose", "Frequency", "Food", "OtherDetail" FROM "BPS_CurrentRx" WHERE "RECORDID" = `+strconv.Itoa(blank), func(v []any) {
		for _, x := range v {
			if str(x) != "" {
				parts = append(parts, str(x))
			}
		}
	})
	rows = p.expectIDs(t, MedicationStatement, "_id="+strconv.Itoa(blank), []string{strconv.Itoa(blank)})
	if want := `"dosage":[{"text":"` + strings.Join(parts, " ") + `"`; len(parts) < 2 || !strings.Contains(string(rows[0].Resource), want) {
		t.Errorf("dosage without instructions: want %s: %s", want, rows[0].Resource)
	}
}

func testMedicationRequest(t *testing.T, p *practice, s *clinicalSnap) {
	// Current medicines as they are now (testMedicationStatement changed two).
	var current []clinicalRec
	p.rows(t, `SELECT "RECORDID", "INTERNALID", "RECORDSTATUS", "PRODUCTID", "LASTDATE" FROM "CURRENTRX" WHERE "RECORDSTATUS" = 1`, func(v []any) {
		current = append(current, clinicalRec{patient: num(v[1]), code: num(v[3]), date: when(v[4])})
	})
	active := func(r clinicalRec) bool {
		if r.status != 1 {
			return false
		}
		for _, c := range current {
			if c.patient == r.patient && c.code == r.code && (c.date.IsZero() || !c.date.After(r.date)) {
				return true
			}
		}
		return false
	}
	live := func(r clinicalRec) bool { return r.status == 1 && s.livePatient[r.patient] }
	pt := s.busiest(s.items, live)
	of := func(f func(r clinicalRec) bool) []string {
		return pick(s.items, "", func(r clinicalRec) bool { return live(r) && r.patient == pt && f(r) })
	}
	P := "patient=" + strconv.Itoa(pt)
	all := of(func(clinicalRec) bool { return true })
	p.expectIDs(t, MedicationRequest, P, all)
	p.expectIDs(t, MedicationRequest, P+"&intent=order", all)
	p.expectIDs(t, MedicationRequest, P+"&intent=plan", nil)
	act := of(active)
	if len(act) == 0 || len(act) == len(all) {
		t.Errorf("patient %d: %d active of %d scripts", pt, len(act), len(all))
	}
	p.expectIDs(t, MedicationRequest, P+"&status=active", act)
	p.expectIDs(t, MedicationRequest, P+"&status=completed", of(func(r clinicalRec) bool { return !active(r) }))
	p.expectIDs(t, MedicationRequest, P+"&status=cancelled", nil)
	var mid time.Time
	for _, r := range s.items {
		if live(r) && r.patient == pt {
			mid = r.date
		}
	}
	for _, v := range []string{mid.Format("2006-01-02"), mid.Format("2006-01")} {
		for _, prefix := range []string{"", "ge", "lt", "gt", "le"} {
			q := "authoredon=" + prefix + v
			pre, lo, hi := searchRange(t, MedicationRequest, q)
			p.expectIDs(t, MedicationRequest, P+"&intent=order&"+q, of(func(r clinicalRec) bool {
				return rangeMatches(pre, r.date, r.date.Add(time.Nanosecond), lo, hi)
			}))
		}
	}
	rows := p.expectIDs(t, MedicationRequest, "_id="+act[0], act[:1])
	for _, want := range []string{`"status":"active"`, `"intent":"order"`, `"numberOfRepeatsAllowed":`, `"requester":{"reference":"Practitioner/`, `"encounter":{"reference":"Encounter/`} {
		if !strings.Contains(string(rows[0].Resource), want) {
			t.Errorf("script lacks %s: %s", want, rows[0].Resource)
		}
	}
}

// ---- Immunization ----

func testImmunization(t *testing.T, p *practice, s *clinicalSnap) {
	live := func(r clinicalRec) bool { return r.status == 1 && s.livePatient[r.patient] }
	pt := s.busiest(s.imms, live)
	of := func(f func(r clinicalRec) bool) []string {
		return pick(s.imms, "", func(r clinicalRec) bool { return live(r) && r.patient == pt && f(r) })
	}
	P := "patient=" + strconv.Itoa(pt)
	all := of(func(clinicalRec) bool { return true })
	p.expectIDs(t, Immunization, P, all)
	p.expectIDs(t, Immunization, P+"&status=completed", all)
	p.expectIDs(t, Immunization, P+"&status=not-done", nil)
	for _, v := range []string{"2022", "2024-04", "2025-05-01"} {
		for _, prefix := range datePrefixes {
			q := "date=" + prefix + v
			pre, lo, hi := searchRange(t, Immunization, q)
			p.expectIDs(t, Immunization, P+"&"+q, of(func(r clinicalRec) bool {
				return !r.date.IsZero() && rangeMatches(pre, r.date, r.date.AddDate(0, 0, 1), lo, hi)
			}))
		}
	}
	for _, r := range s.imms {
		if !live(r) || r.patient != pt {
			continue
		}
		rows := p.search(t, Immunization, "_id="+strconv.Itoa(r.id), 0)
		res := string(rows[0].Resource)
		here := r.code == 0
		if !strings.Contains(res, `"primarySource":`+strconv.FormatBool(here)) || !strings.Contains(res, `"occurrenceDateTime":"`+r.date.Format("2006-01-02")+`"`) ||
			here && !strings.Contains(res, `"lotNumber":"`+r.value+`"`) || strings.Contains(res, "occurrenceString") {
			t.Errorf("immunisation %d (elsewhere %d, batch %s): %s", r.id, r.code, r.value, res)
		}
	}
}

// ---- Encounter ----

func testEncounter(t *testing.T, p *practice, s *clinicalSnap) {
	live := func(r clinicalRec) bool { return r.status == 1 && s.livePatient[r.patient] && !r.date.IsZero() }
	pt := s.busiest(s.visits, live)
	of := func(f func(r clinicalRec) bool) []string {
		return pick(s.visits, "", func(r clinicalRec) bool { return live(r) && r.patient == pt && f(r) })
	}
	P := "patient=" + strconv.Itoa(pt)
	all := of(func(clinicalRec) bool { return true })
	p.expectIDs(t, Encounter, P, all)
	p.expectIDs(t, Encounter, P+"&status=finished", all)
	virtual := map[int]bool{5: true, 6: true, 7: true, 13: true}
	home := map[int]bool{2: true, 4: true, 8: true, 11: true}
	p.expectIDs(t, Encounter, P+"&class=VR", of(func(r clinicalRec) bool { return virtual[r.code] }))
	p.expectIDs(t, Encounter, "class=HH", pick(s.visits, "", func(r clinicalRec) bool { return live(r) && home[r.code] }))
	p.expectIDs(t, Encounter, P+"&class=AMB", of(func(r clinicalRec) bool { return !virtual[r.code] && !home[r.code] && r.code != 3 && r.code != 9 }))
	loc := s.visits[0].other
	p.expectIDs(t, Encounter, P+"&location=Location/"+strconv.Itoa(loc), of(func(r clinicalRec) bool { return r.other == loc }))
	var mid time.Time
	for _, r := range s.visits {
		if live(r) && r.patient == pt {
			mid = r.date
		}
	}
	for _, v := range []string{mid.Format("2006-01-02"), mid.Format("2006-01"), strconv.Itoa(mid.Year())} {
		for _, prefix := range datePrefixes {
			q := "date=" + prefix + v
			pre, lo, hi := searchRange(t, Encounter, q)
			p.expectIDs(t, Encounter, P+"&"+q, of(func(r clinicalRec) bool { return rangeMatches(pre, r.date, r.date.AddDate(0, 0, 1), lo, hi) }))
		}
	}
	for _, r := range s.visits {
		if !live(r) || r.patient != pt {
			continue
		}
		rows := p.search(t, Encounter, "_id="+strconv.Itoa(r.id), 0)
		var e struct {
			Class      struct{ Code string }
			Period     struct{ Start, End string }
			ReasonCode []struct{ Text string }
			Subject    struct{ Reference string }
		}
		decode(t, rows[0].Resource, &e)
		start := time.Date(r.date.Year(), r.date.Month(), r.date.Day(), 0, 0, r.secs, 0, sydney).Format("2006-01-02T15:04:05-07:00")
		if e.Period.Start != start || len(e.ReasonCode) != s.reasons[r.id] || e.Subject.Reference != "Patient/"+strconv.Itoa(pt) ||
			(r.secs2 > r.secs) != (e.Period.End != "") {
			t.Errorf("visit %d (%s + %d s, %d reasons): %s", r.id, r.date, r.secs, s.reasons[r.id], rows[0].Resource)
		}
	}
}

// TestClinicalBadInput: codes outside FHIR's value sets and modifiers a
// parameter does not take are bad requests; dates with a bad prefix do not
// parse.
func TestClinicalBadInput(t *testing.T) {
	d := dialect(t, mappings.EngineSQLServer)
	for _, c := range []struct {
		r     mappings.Resource
		query string
	}{
		{Observation, "patient=1&status=done"},
		{Observation, "patient=1&category=vitals"},
		{Condition, "patient=1&clinical-status=current"},
		{AllergyIntolerance, "patient=1&clinical-status=on"},
		{MedicationStatement, "patient=1&status=current"},
		{MedicationRequest, "patient=1&status=done"},
		{MedicationRequest, "patient=1&intent=orders"},
		{Immunization, "patient=1&status=given"},
		{Encounter, "patient=1&status=done"},
	} {
		_, err := c.r.Search(d, parse(t, c.r, c.query))
		var bad *mappings.BadRequestError
		if !errors.As(err, &bad) {
			t.Errorf("%s?%s: %v, want a bad request", c.r.Decl().Type, c.query, err)
		}
	}
	for _, c := range []struct {
		r     mappings.Resource
		query string
	}{
		{Observation, "patient=1&date=xx2024"},
		{Condition, "patient=1&onset-date=on2024"},
		{Immunization, "patient=1&date=2024-13"},
		{Encounter, "patient=1&date=gt2024-02-30"},
	} {
		q, _ := url.ParseQuery(c.query)
		if _, err := fhir.ParseSearch(c.r.Decl(), q, fhir.ParseOptions{Strict: true, Location: sydney, Now: testNow}); err == nil {
			t.Errorf("%s?%s parsed", c.r.Decl().Type, c.query)
		}
	}
	// The clinical resources are in the mapping, with their AU Core profile.
	for _, typ := range []string{"Observation", "Condition", "AllergyIntolerance", "MedicationStatement", "MedicationRequest", "Immunization", "Encounter"} {
		r, ok := Mapping.Resource(typ)
		if !ok || len(r.Decl().Profiles) == 0 || !strings.HasPrefix(r.Decl().Profiles[0], "http://hl7.org.au/fhir/core/StructureDefinition/au-core-") {
			t.Errorf("%s: %v", typ, ok)
		}
	}
}
