package zedmed

import (
	_ "embed"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed allergyintolerance.sql
var allergySQL string

// ALLERGY.CATEGORY (codes.go's assumption) as FHIR categories.
var allergyCategories = map[int]fm.AllergyIntoleranceCategory{
	1: fm.AllergyIntoleranceCategoryMedication,
	2: fm.AllergyIntoleranceCategoryFood,
	3: fm.AllergyIntoleranceCategoryEnvironment,
}

// ALLERGY.SEVERITY: 1 mild, 2 moderate, 3 severe.
var allergySeverities = map[int]fm.AllergyIntoleranceSeverity{
	1: fm.AllergyIntoleranceSeverityMild,
	2: fm.AllergyIntoleranceSeverityModerate,
	3: fm.AllergyIntoleranceSeveritySevere,
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
		Category: func(c int) (fm.AllergyIntoleranceCategory, bool) { cat, ok := allergyCategories[c]; return cat, ok },
		Severity: allergySeverities,
	},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})
