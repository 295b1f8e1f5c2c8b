// Package zedmed maps FHIR R4 (AU Core 2.0) onto a Zedmed practice's main Firebird database
// (the site's default catalogue). Zedmed's schema is not public: the mapping is written
// against the ASSUMED schema of mappings/zedmed/zedsynth, and reads every table and column name
// from names.go and every code value from codes.go, so that a real schema means editing
// those two files.
//
// Each resource is a table: an embedded .sql template, its search parameters and one
// function from row to resource, on the shared machinery of package mappings and the
// engine's dialect (Firebird in production, SQLite for the demo and fast tests).
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
	"bytes"
	"text/template"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/agent/wire"
	"fhirlink/mappings"
)

// PMSType is how the server's site records name Zedmed.
const PMSType = wire.PMSZedmed

// Mapping is Zedmed's resources.
var Mapping = &mappings.Mapping{
	PMSType:   PMSType,
	Resources: []mappings.Resource{Patient, Practitioner, PractitionerRole, Organization, Location, Appointment, Schedule, Slot, Condition, Observation, AllergyIntolerance, MedicationStatement, MedicationRequest, Immunization, Encounter},
}

// funcs are the SQL templates' functions: t names a table, c a column (with its alias),
// live is the not-deleted predicate and practitioner the practitioner rule.
var funcs = template.FuncMap{
	"t":               tableName,
	"c":               column,
	"live":            live,
	"practitioner":    practitionerRule,
	"practice":        practiceJoin,
	"clinicalJoins":   clinicalJoins,
	"clinicalColumns": clinicalColumns,
}

// meta is a resource's meta: its profile and when the row last changed.
func meta(profile string, updated, created mappings.Wall, site mappings.Site) *fm.Meta {
	m := &fm.Meta{}
	if profile != "" {
		m.Profile = []string{profile}
	}
	if lu := mappings.LastUpdated(updated, created, site.Location); lu != "" {
		m.LastUpdated = mappings.Ptr(lu)
	}
	if m.Profile == nil && m.LastUpdated == nil {
		return nil
	}
	return m
}

// dataAbsentUnknown is the primitive extension saying a required value is unknown.
var dataAbsentUnknown = []byte(`{"extension":[{"url":"` + mappings.ExtensionDataAbsentReason + `","valueCode":"unknown"}]}`)

// addProperty adds "name": value to the JSON object obj.
func addProperty(obj []byte, name string, value []byte) []byte {
	obj = bytes.TrimRight(obj, " \n")
	if len(obj) < 2 || obj[len(obj)-1] != '}' {
		return obj
	}
	out := make([]byte, 0, len(obj)+len(name)+len(value)+4)
	out = append(out, obj[:len(obj)-1]...)
	if len(obj) > 2 {
		out = append(out, ',')
	}
	out = append(out, '"')
	out = append(out, name...)
	out = append(out, '"', ':')
	out = append(out, value...)
	return append(out, '}')
}

// practiceJoin joins the practice (its first live PRACTICE row) as pr.
func practiceJoin() string {
	return "LEFT JOIN " + tbl("PRACTICE") + " pr ON " + col("pr", "PRACTICE.PRACTICE_ID") +
		" = (SELECT MIN(" + col("x", "PRACTICE.PRACTICE_ID") + ") FROM " + tbl("PRACTICE") + " x WHERE " + live("x", "PRACTICE") + ")"
}

// practiceColumns are the practice's columns a row carries.
type practiceColumns struct {
	OrgID   mappings.Int  `json:"org_id"`
	OrgName mappings.Text `json:"org_name"`
	OrgHPIO mappings.Text `json:"org_hpio"`
	OrgABN  mappings.Text `json:"org_abn"`
}

// ref is the reference to the practice's Organization, nil without one.
func (c practiceColumns) ref() *fm.Reference {
	if c.OrgID == 0 {
		return nil
	}
	return mappings.Ref("Organization", c.OrgID.ID(), string(c.OrgName))
}
