package zedmed

import (
	_ "embed"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed condition.sql
var conditionSQL string

// h is a column of PROBLEM h.
func h(name string) string { return col("h", "PROBLEM."+name) }

// conditionCols are Condition's columns in condition.sql.
var conditionCols = clinicalCols(h("PATIENT_ID"), mappings.Cols{
	"id":       h("PROBLEM_ID"),
	"text":     h("DESCRIPTION"),
	"snomed":   h("SNOMED_CODE"),
	"onset":    h("ONSET_DATE"),
	"resolved": h("RESOLVED_DATE"),
	"status":   h("IS_ACTIVE"),
	"recorded": h("RECORDED_AT"),
	"created":  h("CREATED_AT"),
	"updated":  h("UPDATED_AT"),
})

// Condition maps PROBLEM, the problem list (aucore.Condition): active, or
// inactive (resolved when it has a resolution date).
var Condition = aucore.Condition.Table(mappings.Impl[aucore.ConditionCodes]{
	Cols:  conditionCols,
	From:  conditionSQL,
	Funcs: funcs,
	Codes: aucore.ConditionCodes{
		Active: 1, Inactive: 0,
		ClinicalStatusSQL: map[string]string{
			"active":   h("IS_ACTIVE") + " = 1",
			"resolved": "(" + h("IS_ACTIVE") + " = 0 AND " + h("RESOLVED_DATE") + " IS NOT NULL)",
			"inactive": "(" + h("IS_ACTIVE") + " = 0 AND " + h("RESOLVED_DATE") + " IS NULL)",
		},
	},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})
