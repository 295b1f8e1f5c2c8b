package zedmed

import (
	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/mappings"
)

// What the clinical tables share: each row belongs to a patient (PATIENT_ID) and names the
// doctor who recorded it (DOCTOR_ID). A row of a deleted patient, or a deleted row, never
// appears.

// clinicalJoins joins the live patient as p and the recording practitioner as d to the
// clinical row aliased alias of table.
func clinicalJoins(alias, table string) string {
	return "JOIN " + tbl("PATIENT") + " p ON " + col("p", "PATIENT.PATIENT_ID") + " = " + col(alias, table+".PATIENT_ID") + " AND " + live("p", "PATIENT") +
		"\nLEFT JOIN " + tbl("DOCTOR") + " d ON " + col("d", "DOCTOR.DOCTOR_ID") + " = " + col(alias, table+".DOCTOR_ID") + " AND " + practitionerRule("d")
}

// clinicalColumns are the select-list columns of the patient and the doctor.
func clinicalColumns() string {
	return col("p", "PATIENT.PATIENT_ID") + ` AS "patient",
    ` + col("p", "PATIENT.FIRST_NAME") + ` AS "patient_first",
    ` + col("p", "PATIENT.SURNAME") + ` AS "patient_family",
    ` + col("d", "DOCTOR.DOCTOR_ID") + ` AS "doctor_id",
    ` + col("d", "DOCTOR.TITLE") + ` AS "doctor_title",
    ` + col("d", "DOCTOR.FIRST_NAME") + ` AS "doctor_first",
    ` + col("d", "DOCTOR.SURNAME") + ` AS "doctor_family"`
}

// ownerColumns are the patient and doctor of a clinical row.
type ownerColumns struct {
	Patient       mappings.Int  `json:"patient"`
	PatientFirst  mappings.Text `json:"patient_first"`
	PatientFamily mappings.Text `json:"patient_family"`
	DoctorID      mappings.Int  `json:"doctor_id"`
	DoctorTitle   mappings.Text `json:"doctor_title"`
	DoctorFirst   mappings.Text `json:"doctor_first"`
	DoctorFamily  mappings.Text `json:"doctor_family"`
}

func (c ownerColumns) patientRef() *fm.Reference {
	return mappings.Ref("Patient", c.Patient.ID(), mappings.PersonName(string(c.PatientFirst), string(c.PatientFamily)))
}

// doctorRef is the reference to the recording practitioner, nil when there is none.
func (c ownerColumns) doctorRef() *fm.Reference {
	if c.DoctorID == 0 {
		return nil
	}
	return mappings.Ref("Practitioner", c.DoctorID.ID(), mappings.PersonName(string(c.DoctorTitle), string(c.DoctorFirst), string(c.DoctorFamily)))
}

// refs are the row's include references: the patient, and the doctor under name.
func (c ownerColumns) refs(name string) map[string][]string {
	r := map[string][]string{"patient": {c.Patient.ID()}}
	if c.DoctorID != 0 && name != "" {
		r[name] = []string{c.DoctorID.ID()}
	}
	return r
}

// clinicalCols are a clinical resource's columns: cols, and its patient
// (patientRef, the clinical row's PATIENT_ID, which the patient parameters
// search; the patient joined as p) and practitioner (the DOCTOR joined as
// d), as clinicalJoins joins them.
func clinicalCols(patientRef string, cols mappings.Cols) mappings.Cols {
	for k, v := range map[string]string{
		"patient":             col("p", "PATIENT.PATIENT_ID"),
		"patient_ref":         patientRef,
		"patient_first":       col("p", "PATIENT.FIRST_NAME"),
		"patient_family":      col("p", "PATIENT.SURNAME"),
		"practitioner_id":     d("DOCTOR_ID"),
		"practitioner_title":  d("TITLE"),
		"practitioner_first":  d("FIRST_NAME"),
		"practitioner_family": d("SURNAME"),
	} {
		if _, ok := cols[k]; !ok {
			cols[k] = v
		}
	}
	return cols
}
