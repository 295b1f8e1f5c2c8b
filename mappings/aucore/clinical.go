package aucore

import (
	"time"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// What the clinical resources share: each row belongs to a patient and
// may name the practitioner who recorded it. A row of a deleted patient,
// or a deleted row, never appears (each PMS's FROM template says how).

// Subject is the patient columns of a clinical row: the patient's key
// and name.
type Subject struct {
	Patient       mappings.Int  `json:"patient"`
	PatientFirst  mappings.Text `json:"patient_first"`
	PatientFamily mappings.Text `json:"patient_family"`
}

// PatientRef writes the reference to the patient, with the patient's
// name, as the member key.
func (c Subject) PatientRef(w *mappings.JSON, key string) {
	w.Ref(key, "Patient", c.Patient.ID(), string(c.PatientFirst), string(c.PatientFamily))
}

// Clinician is the practitioner columns of a clinical row (who recorded,
// prescribed or saw it); PractitionerID is 0 when there is none, or the
// user is not a practitioner.
type Clinician struct {
	PractitionerID     mappings.Int  `json:"practitioner_id"`
	PractitionerTitle  mappings.Text `json:"practitioner_title"`
	PractitionerFirst  mappings.Text `json:"practitioner_first"`
	PractitionerFamily mappings.Text `json:"practitioner_family"`
}

// PractitionerRef writes the reference to the practitioner as the member
// key; nothing without one.
func (c Clinician) PractitionerRef(w *mappings.JSON, key string) {
	if c.PractitionerID != 0 {
		w.Ref(key, "Practitioner", c.PractitionerID.ID(),
			string(c.PractitionerTitle), string(c.PractitionerFirst), string(c.PractitionerFamily))
	}
}

// primaryPerformer writes a participant's type: primary performer.
func primaryPerformer(w *mappings.JSON) {
	w.Array("type")
	w.Concept("", "", mappings.Coding{System: mappings.CodeSystemParticipationType, Code: "PPRF", Display: "primary performer"})
	w.End()
}

// recordedDate writes the member key: when the row says it was recorded,
// else when it was created; nothing when neither is known.
func recordedDate(w *mappings.JSON, key string, recorded, created mappings.Wall, loc *time.Location) {
	if recorded.IsZero() {
		recorded = created
	}
	w.DateTime(key, recorded, loc)
}

// refs are a clinical row's include references: the patient, and the
// practitioner under name (none when name is "").
func refs(s Subject, c Clinician, name string) map[string][]string {
	r := map[string][]string{"patient": {s.Patient.ID()}}
	if c.PractitionerID != 0 && name != "" {
		r[name] = []string{c.PractitionerID.ID()}
	}
	return r
}

// patientParams are the patient parameter (chainable by the patient's
// identifier) and, with subject, the subject parameter of a clinical
// resource, both on the row's patient_ref filter column.
func patientParams[C any](subject bool) []mappings.ParamDef[C] {
	out := []mappings.ParamDef[C]{{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
		Match: reference("patient_ref", "Patient"), ChainBy: []string{"identifier"}, ChainColumn: "patient_ref"}}
	if subject {
		out = append(out, mappings.ParamDef[C]{Name: "subject", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: reference("patient_ref", "Patient")})
	}
	return out
}

// includePatient is the _include of a clinical resource's patient.
func includePatient(source string) []fhir.Include {
	return []fhir.Include{{Source: source, Param: "patient", Target: "Patient"}}
}
