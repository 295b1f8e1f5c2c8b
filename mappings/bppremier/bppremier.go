// Package bppremier maps FHIR R4 (AU Core 2.0) onto the Bp Premier
// database (BPSPatients). Each resource is a table of a definition in
// package aucore, given Bp's column map (canonical column → Bp's SQL), an
// embedded .sql FROM template, Bp's code values and the predicates that
// are Bp's own. Bp's code values live in codes.go.
//
// Identifier systems: AU Base's for IHI, Medicare, DVA, HPI-I, HPI-O,
// Ahpra, Medicare provider and PBS prescriber numbers and ABN. The
// practice's record number (PATIENTS.RECORDNO) is an MRN in the namespace
// scoped by the practice's HPI-O
// (http://ns.electronichealth.net.au/id/hpio-scoped/medicalrecord/1.0/{HPI-O}),
// else by its ABN (.../abn-scoped/medicalrecord/1.0/{ABN}), else
// urn:fhirlink:bppremier:record-number, with the practice as assigner.
//
// Times: Bp stores the practice's wall-clock time without a zone;
// meta.lastUpdated and dateTimes carry the offset of the site's zone on
// that date. Date search values are compared as wall-clock times.
package bppremier

import (
	"text/template"

	"fhirlink/agent/wire"
	"fhirlink/mappings"
)

// PMSType is how the server's site records name Bp Premier.
const PMSType = wire.PMSBestPractice

// Mapping is Bp Premier's resources.
var Mapping = &mappings.Mapping{
	PMSType:   PMSType,
	Resources: []mappings.Resource{Patient, Practitioner, PractitionerRole, Organization, Location, Appointment, Schedule, Slot, Observation, Condition, AllergyIntolerance, MedicationStatement, MedicationRequest, Immunization, Encounter},
	Writes:    writes,
}

// funcs are the SQL templates' functions: clinical is the practitioner
// rule.
var funcs = template.FuncMap{
	"clinical": clinicalUser,
}

// clinicalCols are a clinical resource's columns: cols, and its patient
// (subjectCols) and practitioner (the USERS row joined as u, its title as
// ut).
func clinicalCols(patient string, cols mappings.Cols) mappings.Cols {
	for k, v := range map[string]string{
		"practitioner_id":     `u."USERID"`,
		"practitioner_title":  `ut."TITLE"`,
		"practitioner_first":  `u."FIRSTNAME"`,
		"practitioner_family": `u."SURNAME"`,
	} {
		if _, ok := cols[k]; !ok {
			cols[k] = v
		}
	}
	return subjectCols(patient, cols)
}

// subjectCols are cols and the patient's columns of a clinical row:
// patient is the key of the patient it belongs to, the name is from
// patientCols.
func subjectCols(patient string, cols mappings.Cols) mappings.Cols {
	cols["patient"] = patient
	cols["patient_ref"] = patient
	cols["patient_first"] = patientCols["first"]
	cols["patient_family"] = patientCols["family"]
	return cols
}
