package bppremier

import (
	_ "embed"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed immunization.sql
var immunizationSQL string

// immunizationCols are Immunization's columns in immunization.sql; the
// practitioner (u) and location (l) are those of a vaccine given here.
var immunizationCols = clinicalCols(`m."INTERNALID"`, mappings.Cols{
	"id":            `m."RECORDID"`,
	"given":         `m."GIVENDATE"`,
	"elsewhere":     `m."NOTGIVENHERE"`,
	"vaccine":       `m."VACCINENAME"`,
	"batch":         `m."BATCHNUMBER"`,
	"expiry":        `m."EXPIRYDATE"`,
	"dose":          `m."SEQUENCE"`,
	"comment":       `m."COMMENT"`,
	"visit_id":      `v."VISITID"`,
	"location_id":   `l."LOCATIONID"`,
	"location_name": `l."LOCATIONNAME"`,
	"created":       `m."CREATED"`,
	"updated":       `m."UPDATED"`,
})

// Immunization maps IMMUNISATIONS (aucore.Immunization): vaccines given at
// the practice (with the vaccinator, batch and place) and those recorded
// as given elsewhere (primarySource false). Bp records no vaccine code, so
// it is not searched by one.
var Immunization = aucore.Immunization.Table(mappings.Impl[aucore.ImmunizationCodes]{
	Cols:   immunizationCols,
	From:   immunizationSQL,
	Funcs:  funcs,
	Codes:  aucore.ImmunizationCodes{GivenElsewhere: givenElsewhere},
	Omit:   []string{"vaccine-code"},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})
