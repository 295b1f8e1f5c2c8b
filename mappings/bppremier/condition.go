package bppremier

import (
	_ "embed"
	"strconv"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed condition.sql
var conditionSQL string

// conditionCols are Condition's columns in condition.sql.
var conditionCols = clinicalCols(`h."INTERNALID"`, mappings.Cols{
	"id":          `h."RECORDID"`,
	"year":        `h."YEAR"`,
	"month":       `h."MONTH"`,
	"day":         `h."DAY"`,
	"text":        `h."ITEMTEXT"`,
	"snomed":      `bh."SNOMED"`,
	"status":      `h."STATUSCODE"`,
	"severity":    `h."SEVERITYCODE"`,
	"provisional": `h."PROVISIONAL"`,
	"details":     `h."DETAILS"`,
	"created":     `h."CREATED"`,
	"updated":     `h."UPDATED"`,
})

// Condition maps the past history (PASTHISTORY, aucore.Condition): every
// item is on the patient's problem list, active or inactive as the
// practice marked it. Its onset is the year, month and day recorded, so
// it is not sorted by onset.
var Condition = aucore.Condition.Table(mappings.Impl[aucore.ConditionCodes]{
	Cols:  conditionCols,
	From:  conditionSQL,
	Funcs: funcs,
	Codes: aucore.ConditionCodes{
		Active: historyActive, Inactive: historyInactive,
		ClinicalStatusSQL: map[string]string{
			"active":   `h."STATUSCODE" = ` + strconv.Itoa(historyActive),
			"inactive": `h."STATUSCODE" = ` + strconv.Itoa(historyInactive),
		},
		Severity: conditionSeverity,
	},
	Omit:   []string{"_sort:onset-date"},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})

// conditionSeverity is SNOMED CT's severity for SEVERITYCODES.
var conditionSeverity = map[int][2]string{
	severityMild:     {"255604002", "Mild"},
	severityModerate: {"6736007", "Moderate"},
	severitySevere:   {"24484000", "Severe"},
}
