// Package aucore defines each FHIR resource fhirlink serves once, for every
// PMS: its AU Core search surface (parameters with their types, docs and
// targets, sorts, includes, profiles), its canonical row (the columns a
// row of the resource carries, as the struct the row function decodes) and
// its one row → resource function.
//
// A PMS package (bppremier, zedmed) makes each definition a table with
// Def.Table and supplies only what is its own: the SQL expression of each
// canonical column, the FROM and JOINs of its query, its code values (the
// *Codes struct of each resource) and the predicates that are genuinely
// its own (how it stores a Medicare card's IRN). A new PMS adds only that.
//
// The definitions live apart from package mappings, which is the machinery
// (tables, predicates, dialects), so that what fhirlink offers reads in
// one place, a file per resource.
package aucore

import (
	"strconv"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// Practice is the practice's columns a row carries (its first live
// practice record, as the managing Organization).
type Practice struct {
	OrgID   mappings.Int  `json:"org_id"`
	OrgName mappings.Text `json:"org_name"`
	OrgHPIO mappings.Text `json:"org_hpio"`
	OrgABN  mappings.Text `json:"org_abn"`
}

// Ref writes the reference to the practice's Organization as the member
// key; nothing without one.
func (c Practice) Ref(w *mappings.JSON, key string) {
	if c.OrgID != 0 {
		w.Ref(key, "Organization", c.OrgID.ID(), string(c.OrgName))
	}
}

// Predicates built from columns, for ParamDef.Match.

// str matches a string parameter against any of the columns.
func str(cols ...string) func(mappings.Cols) mappings.Matcher {
	return func(c mappings.Cols) mappings.Matcher {
		targets := make([]mappings.Target, len(cols))
		for i, name := range cols {
			targets[i] = mappings.Col(c.Col(name))
		}
		return mappings.String(targets...)
	}
}

// id matches _id against an integer key column.
func id(col string) func(mappings.Cols) mappings.Matcher {
	return func(c mappings.Cols) mappings.Matcher { return mappings.ID(c.Col(col)) }
}

// reference matches a reference parameter against the column of the
// target's id.
func reference(col, target string) func(mappings.Cols) mappings.Matcher {
	return func(c mappings.Cols) mappings.Matcher { return mappings.Reference(c.Col(col), target) }
}

// date matches a date parameter against a date column.
func date(col string) func(mappings.Cols) mappings.Matcher {
	return func(c mappings.Cols) mappings.Matcher { return mappings.Date(c.Col(col)) }
}

// lastUpdated is the _lastUpdated parameter of a row with created and
// updated columns, as meta.lastUpdated shows them.
func lastUpdated[C any]() mappings.ParamDef[C] {
	p := mappings.LastUpdatedParam("", "")
	return mappings.ParamDef[C]{Name: p.Name, Type: p.Type, Doc: p.Doc,
		Match: func(c mappings.Cols) mappings.Matcher {
			return mappings.LastUpdatedParam(c.Col("updated"), c.Col("created")).Match
		}}
}

// activeFlag is an active parameter on an integer status column: true is
// the status value active, false any other.
func activeFlag(col string, active int) func(c mappings.Cols) mappings.Matcher {
	return func(c mappings.Cols) mappings.Matcher {
		s := c.Col(col)
		a := strconv.Itoa(active)
		return mappings.Bool(s+" = "+a, s+" <> "+a)
	}
}

// revPatient are the resources found by their patient reference with
// Patient?_revinclude=.
var revPatient = func() []fhir.Include {
	var out []fhir.Include
	for _, src := range []string{"AllergyIntolerance", "Appointment", "Condition", "Encounter", "Immunization",
		"MedicationRequest", "MedicationStatement", "Observation"} {
		out = append(out, fhir.Include{Source: src, Param: "patient", Target: "Patient"})
	}
	return out
}()
