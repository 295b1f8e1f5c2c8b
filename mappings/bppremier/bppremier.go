// Package bppremier maps FHIR R4 (AU Core 2.0) onto the Bp Premier
// database (BPSPatients). Each resource is a table: its SQL (an embedded
// .sql template), its search parameters and the predicate each becomes, and
// one function from row to resource. Bp's code values live in codes.go.
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
	"bytes"
	"text/template"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/agent/wire"
	"fhirlink/mappings"
)

// PMSType is how the server's site records name Bp Premier.
const PMSType = wire.PMSBestPractice

// Mapping is Bp Premier's resources.
var Mapping = &mappings.Mapping{
	PMSType:   PMSType,
	Resources: []mappings.Resource{Patient, Practitioner, PractitionerRole, Organization, Location, Appointment, Schedule, Slot, Observation, Condition, AllergyIntolerance, MedicationStatement, MedicationRequest, Immunization, Encounter},
}

// funcs are the SQL templates' functions.
var funcs = template.FuncMap{
	"clinical": clinicalUser,
}

// meta is a resource's meta: its profile and when the row last changed.
func meta(profile string, updated, created mappings.Wall, site mappings.Site) *fm.Meta {
	m := &fm.Meta{Profile: []string{profile}}
	if lu := mappings.LastUpdated(updated, created, site.Location); lu != "" {
		m.LastUpdated = mappings.Ptr(lu)
	}
	return m
}

// dataAbsentUnknown is the primitive extension saying a required value is
// unknown.
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
