package zedmed

import (
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
