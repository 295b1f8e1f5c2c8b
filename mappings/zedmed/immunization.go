package zedmed

import (
	_ "embed"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed immunization.sql
var immunizationSQL string

// i is a column of IMMUNISATION i.
func i(name string) string { return col("i", "IMMUNISATION."+name) }

// immunizationCols are Immunization's columns in immunization.sql.
var immunizationCols = clinicalCols(i("PATIENT_ID"), mappings.Cols{
	"id":      i("IMMUNISATION_ID"),
	"vaccine": i("VACCINE_NAME"),
	"amt":     i("AMT_CODE"),
	"batch":   i("BATCH_NO"),
	"dose":    i("DOSE_NO"),
	"site":    i("SITE"),
	"given":   i("GIVEN_DATE"),
	"created": i("CREATED_AT"),
	"updated": i("UPDATED_AT"),
})

// Immunization maps IMMUNISATION (aucore.Immunization): vaccines given at
// the practice. It offers no _include of the performer.
var Immunization = aucore.Immunization.Table(mappings.Impl[aucore.ImmunizationCodes]{
	Cols:  immunizationCols,
	From:  immunizationSQL,
	Funcs: funcs,
	// Zedmed records no vaccine given elsewhere: no row has elsewhere.
	Codes:  aucore.ImmunizationCodes{GivenElsewhere: 1},
	Omit:   []string{"performer"},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})
