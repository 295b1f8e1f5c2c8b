package zedmed

import (
	_ "embed"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed medicationstatement.sql
var medicationStatementSQL string

// md is a column of MEDICATION md.
func md(name string) string { return col("md", "MEDICATION."+name) }

// medicationStatementCols are MedicationStatement's columns in
// medicationstatement.sql.
var medicationStatementCols = clinicalCols(md("PATIENT_ID"), mappings.Cols{
	"id":       md("MEDICATION_ID"),
	"drug":     md("DRUG_NAME"),
	"strength": md("STRENGTH"),
	"amt":      md("AMT_CODE"),
	"dose":     md("DOSE_TEXT"),
	"start":    md("START_DATE"),
	"stop":     md("STOP_DATE"),
	"status":   md("IS_CURRENT"),
	"recorded": md("RECORDED_AT"),
	"created":  md("CREATED_AT"),
	"updated":  md("UPDATED_AT"),
})

// MedicationStatement maps MEDICATION, the patient's medicines list
// (aucore.MedicationStatement): current medicines are active, stopped
// ones completed; a current medicine's stop date is its planned end.
var MedicationStatement = aucore.MedicationStatement.Table(mappings.Impl[aucore.MedicationStatementCodes]{
	Cols:  medicationStatementCols,
	From:  medicationStatementSQL,
	Funcs: funcs,
	Codes: aucore.MedicationStatementCodes{
		Active: 1, Ended: "completed", StopPlanned: true,
		StatusSQL: map[string]string{
			"active":    md("IS_CURRENT") + " = 1",
			"completed": md("IS_CURRENT") + " = 0",
		},
	},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})
