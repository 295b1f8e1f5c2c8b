package bppremier

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/mappings/mappingstest"
)

const (
	ihiQ      = "patient.identifier=" + mappings.SystemIHI + "|8003608166690503"
	medicareQ = "patient.identifier=" + mappings.SystemMedicare + "|29501012341"
)

// Shapes of chained searches: golden T-SQL, and run on both engines.
var chainShapes = []mappingstest.Shape{
	{Name: "condition-patient-identifier-ihi", Res: Condition, Query: ihiQ},
	{Name: "condition-patient-identifier-medicare", Res: Condition, Query: medicareQ + "&clinical-status=active"},
	{Name: "condition-patient-type-identifier-count", Res: Condition, Query: "patient:Patient.identifier=" + mappings.SystemIHI + "|8003608166690503&_summary=count", Count: true},
	{Name: "observation-patient-identifier-category", Res: Observation, Query: ihiQ + "&category=vital-signs"},
	{Name: "allergyintolerance-patient-identifier", Res: AllergyIntolerance, Query: medicareQ},
	{Name: "medicationstatement-patient-identifier", Res: MedicationStatement, Query: ihiQ},
	{Name: "medicationrequest-patient-identifier", Res: MedicationRequest, Query: ihiQ},
	{Name: "immunization-patient-identifier-or", Res: Immunization, Query: ihiQ + "," + mappings.SystemMedicare + "|2950101234"},
	{Name: "encounter-patient-identifier", Res: Encounter, Query: ihiQ},
	{Name: "appointment-patient-identifier", Res: Appointment, Query: medicareQ},
	{Name: "practitionerrole-practitioner-identifier", Res: PractitionerRole, Query: "practitioner.identifier=" + mappings.SystemHPII + "|8003614900040155"},
}

func init() { shapes = append(shapes, chainShapes...) }

// TestChainDeclarations checks what the mapping advertises: the chains of
// the patient references, and revincludes whose sources declare the
// reference searched.
func TestChainDeclarations(t *testing.T) {
	for _, r := range Mapping.Resources {
		d := r.Decl()
		for _, inc := range d.RevIncludes {
			src, ok := Mapping.Resource(inc.Source)
			if !ok {
				t.Errorf("%s: _revinclude=%s: no %s resource", d.Type, inc, inc.Source)
				continue
			}
			sp, ok := src.Decl().Param(inc.Param)
			if !ok || sp.Type != fhir.TypeReference || !slices.Contains(sp.Targets, d.Type) {
				t.Errorf("%s: _revinclude=%s: %s has no reference parameter %s to %s", d.Type, inc, inc.Source, inc.Param, d.Type)
			}
		}
	}
	for _, typ := range []string{"AllergyIntolerance", "Appointment", "Condition", "Encounter", "Immunization", "MedicationRequest", "MedicationStatement", "Observation"} {
		r, _ := Mapping.Resource(typ)
		sp, _ := r.Decl().Param("patient")
		if c, ok := sp.Chain("identifier"); !ok || c.Type != fhir.TypeToken {
			t.Errorf("%s: patient is not chained by identifier: %+v", typ, sp)
		}
		if !slices.Contains(Patient.Decl().RevIncludes, fhir.Include{Source: typ, Param: "patient", Target: "Patient"}) {
			t.Errorf("Patient lacks _revinclude=%s:patient", typ)
		}
	}
	sp, _ := PractitionerRole.Decl().Param("practitioner")
	if _, ok := sp.Chain("identifier"); !ok {
		t.Error("PractitionerRole: practitioner is not chained by identifier")
	}
}

// testChains checks chained searches against the reference searches they
// stand for, and against the raw tables: a patient's records found by the
// patient's IHI, Medicare number (card and IRN, or card alone) and DVA
// number are exactly the records of the patients holding that identifier.
func testChains(t *testing.T, p *practice) {
	s := p.loadClinical(t)
	// The live patient with an IHI, a Medicare number and the most history.
	n := map[int]int{}
	for _, h := range s.history {
		if h.status == 1 {
			n[h.patient]++
		}
	}
	var who patientRec
	for _, r := range p.snap.patients {
		if r.record == 1 && r.ihi != "" && r.medicare != "" && r.irn != "" && (who.id == 0 || n[r.id] > n[who.id]) {
			who = r
		}
	}
	if who.id == 0 || n[who.id] == 0 {
		t.Fatal("no live patient with an IHI, a Medicare number and history")
	}
	card := strings.ReplaceAll(who.medicare, " ", "")
	holders := func(f func(r patientRec) bool) []int {
		var out []int
		for _, r := range p.snap.patients {
			if r.record == 1 && f(r) {
				out = append(out, r.id)
			}
		}
		return out
	}
	byIHI := holders(func(r patientRec) bool { return r.ihi == who.ihi })
	byIRN := holders(func(r patientRec) bool { return strings.ReplaceAll(r.medicare, " ", "") == card && r.irn == who.irn })
	byCard := holders(func(r patientRec) bool { return strings.ReplaceAll(r.medicare, " ", "") == card })
	if !slices.Equal(byIHI, []int{who.id}) || !slices.Contains(byIRN, who.id) {
		t.Fatalf("patient %d: IHI holders %v, Medicare holders %v", who.id, byIHI, byIRN)
	}
	t.Logf("patient %d: %d history items; card %s held by %v", who.id, n[who.id], card, byCard)

	idents := []struct {
		name, value string
		patients    []int
	}{
		{"ihi", mappings.SystemIHI + "|" + who.ihi, byIHI},
		{"medicare-irn", mappings.SystemMedicare + "|" + card + who.irn, byIRN},
		{"medicare-card", mappings.SystemMedicare + "|" + card, byCard},
		{"ihi-no-system", who.ihi, byIHI},
		{"unknown", mappings.SystemIHI + "|8003608000000000", nil},
	}
	if who.dva != "" {
		idents = append(idents, struct {
			name, value string
			patients    []int
		}{"dva", mappings.SystemDVA + "|" + who.dva, holders(func(r patientRec) bool { return r.dva == who.dva })})
	}

	// Expectations from the raw tables for two resources.
	rawIDs := map[string]func(patients []int) []string{
		"Condition": func(ps []int) []string {
			return pick(s.history, "", func(r clinicalRec) bool { return r.status == 1 && slices.Contains(ps, r.patient) })
		},
		"Immunization": func(ps []int) []string {
			return pick(s.imms, "", func(r clinicalRec) bool { return r.status == 1 && slices.Contains(ps, r.patient) })
		},
	}
	for _, id := range idents {
		t.Run(id.name, func(t *testing.T) {
			for _, r := range []mappings.Resource{Condition, AllergyIntolerance, MedicationStatement, MedicationRequest, Immunization, Observation, Encounter, Appointment} {
				typ := r.Decl().Type
				// The same records as patient=<each holder>.
				var want []string
				for _, pid := range id.patients {
					for _, row := range p.search(t, r, "patient="+strconv.Itoa(pid), 0) {
						want = append(want, mappingstest.ResourceID(t, row.Resource))
					}
				}
				if f, ok := rawIDs[typ]; ok {
					raw := f(id.patients)
					if !sameStrings(raw, want) {
						t.Fatalf("%s of %v: the reference search gives %v, the table %v", typ, id.patients, want, raw)
					}
				}
				if id.name == "ihi" && typ == "Condition" && len(want) == 0 {
					t.Fatal("the patient has no conditions")
				}
				for _, key := range []string{"patient.identifier", "patient:Patient.identifier"} {
					p.expectIDs(t, r, key+"="+id.value, want)
				}
			}
		})
	}

	// Chains combine with the other parameters.
	ihi := "patient.identifier=" + mappings.SystemIHI + "|" + who.ihi
	p.expectIDs(t, Condition, ihi+"&clinical-status=active",
		pick(s.history, "", func(r clinicalRec) bool { return r.status == 1 && r.patient == who.id && r.code == historyActive }))
	var vitals []string
	for _, row := range p.search(t, Observation, "patient="+strconv.Itoa(who.id)+"&category=vital-signs", 0) {
		vitals = append(vitals, mappingstest.ResourceID(t, row.Resource))
	}
	p.expectIDs(t, Observation, ihi+"&category=vital-signs", vitals)

	// An inactive patient's records are found by chain as by reference.
	inactive := p.snap.patient(p.fix.inactive)
	if inactive.ihi != "" {
		p.expectIDs(t, Condition, "patient.identifier="+mappings.SystemIHI+"|"+inactive.ihi,
			pick(s.history, "", func(r clinicalRec) bool { return r.status == 1 && r.patient == inactive.id }))
	}

	// PractitionerRole by the practitioner's HPI-I.
	for _, u := range p.snap.users {
		if !u.clinical() || u.hpii == "" {
			continue
		}
		var want []string
		for _, row := range p.search(t, PractitionerRole, "practitioner="+strconv.Itoa(u.id), 0) {
			want = append(want, mappingstest.ResourceID(t, row.Resource))
		}
		p.expectIDs(t, PractitionerRole, "practitioner.identifier="+mappings.SystemHPII+"|"+u.hpii, want)
	}
}

func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
