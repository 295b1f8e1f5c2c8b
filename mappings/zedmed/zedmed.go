// Package zedmed maps FHIR R4 (AU Core 2.0) onto a Zedmed practice's main Firebird database
// (the site's default catalogue). Zedmed's schema is not public: the mapping is written
// against the ASSUMED schema of mappings/zedmed/zedsynth, and reads every table and column name
// from names.go and every code value from codes.go, so that a real schema means editing
// those two files.
//
// Each resource is a table of a definition in package aucore, given Zedmed's column map, an
// embedded .sql FROM template and its code values, on the shared machinery of package
// mappings and the engine's dialect (Firebird in production, SQLite for the demo and fast
// tests).
//
// Identifier systems are AU Base's (IHI, Medicare, DVA, HPI-I, HPI-O, Ahpra, Medicare
// provider and PBS prescriber numbers, ABN). The chart number (PATIENT.CHART_NO) is a medical
// record number scoped by the practice's HPI-O, else its ABN, else
// urn:fhirlink:zedmed:chart-number.
//
// Times are the practice's wall clock without a zone; resources carry the offset of the
// site's zone on each date.
package zedmed

import (
	"text/template"

	"fhirlink/agent/wire"
	"fhirlink/mappings"
)

// PMSType is how the server's site records name Zedmed.
const PMSType = wire.PMSZedmed

// Mapping is Zedmed's resources.
var Mapping = &mappings.Mapping{
	PMSType:   PMSType,
	Resources: []mappings.Resource{Patient, Practitioner, PractitionerRole, Organization, Location, Appointment, Schedule, Slot, Condition, Observation, AllergyIntolerance, MedicationStatement, MedicationRequest, Immunization, Encounter},
	Writes:    writes,
}

// funcs are the SQL templates' functions: t names a table, c a column (with its alias),
// live is the not-deleted predicate, practitioner the practitioner rule, practice and
// clinicalJoins the joins of the practice and of a clinical row's patient and doctor.
var funcs = template.FuncMap{
	"t":             tableName,
	"c":             column,
	"live":          live,
	"practitioner":  practitionerRule,
	"practice":      practiceJoin,
	"clinicalJoins": clinicalJoins,
}

// practiceJoin joins the practice (its first live PRACTICE row) as pr.
func practiceJoin() string {
	return "LEFT JOIN " + tbl("PRACTICE") + " pr ON " + col("pr", "PRACTICE.PRACTICE_ID") +
		" = (SELECT MIN(" + col("x", "PRACTICE.PRACTICE_ID") + ") FROM " + tbl("PRACTICE") + " x WHERE " + live("x", "PRACTICE") + ")"
}
