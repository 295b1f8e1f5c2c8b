package zedmed

import (
	_ "embed"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed allergyintolerance.sql
var allergySQL string

// ALLERGY.CATEGORY (codes.go's assumption) as FHIR categories.
var allergyCategories = map[int]string{
	1: "medication",
	2: "food",
	3: "environment",
}

// ALLERGY.SEVERITY: 1 mild, 2 moderate, 3 severe.
var allergySeverities = map[int]string{
	1: "mild",
	2: "moderate",
	3: "severe",
}

// x is a column of ALLERGY x.
func x(name string) string { return col("x", "ALLERGY."+name) }

// allergyCols are AllergyIntolerance's columns in allergyintolerance.sql.
var allergyCols = clinicalCols(x("PATIENT_ID"), mappings.Cols{
	"id":        x("ALLERGY_ID"),
	"substance": x("SUBSTANCE"),
	"snomed":    x("SNOMED_CODE"),
	"reaction":  x("REACTION"),
	"severity":  x("SEVERITY"),
	"category":  x("CATEGORY"),
	"onset":     x("ONSET_DATE"),
	"recorded":  x("RECORDED_AT"),
	"created":   x("CREATED_AT"),
	"updated":   x("UPDATED_AT"),
})

// AllergyIntolerance maps ALLERGY (aucore.AllergyIntolerance): every live
// record is an active, confirmed allergy or intolerance.
var AllergyIntolerance = aucore.AllergyIntolerance.Table(mappings.Impl[aucore.AllergyIntoleranceCodes]{
	Cols:  allergyCols,
	From:  allergySQL,
	Funcs: funcs,
	Codes: aucore.AllergyIntoleranceCodes{
		Category: func(c int) (string, bool) { cat, ok := allergyCategories[c]; return cat, ok },
		Severity: allergySeverities,
	},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})
