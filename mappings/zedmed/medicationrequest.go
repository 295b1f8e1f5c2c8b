package zedmed

import (
	_ "embed"
	"strconv"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed medicationrequest.sql
var medicationRequestSQL string

// rx is a column of SCRIPT rx.
func rx(name string) string { return col("rx", "SCRIPT."+name) }

// scriptStatuses are the MedicationRequest statuses of SCRIPT.STATUS codes; any other code is
// unknown.
var scriptStatuses = map[int]string{
	scriptActive:    "active",
	scriptCompleted: "completed",
	scriptCeased:    "stopped",
	scriptCancelled: "cancelled",
}

// scriptStatusSQL is the status search: each status as a predicate on STATUS.
func scriptStatusSQL() map[string]string {
	m := map[string]string{}
	var known string
	for _, code := range []int{scriptActive, scriptCompleted, scriptCeased, scriptCancelled} {
		m[scriptStatuses[code]] = rx("STATUS") + " = " + strconv.Itoa(code)
		if known != "" {
			known += ", "
		}
		known += strconv.Itoa(code)
	}
	m["unknown"] = rx("STATUS") + " NOT IN (" + known + ")"
	return m
}

// medicationRequestCols are MedicationRequest's columns in
// medicationrequest.sql: a script (rx) and the consultation (e) it was
// written at.
var medicationRequestCols = clinicalCols(rx("PATIENT_ID"), mappings.Cols{
	"id":            rx("SCRIPT_ID"),
	"status":        rx("STATUS"),
	"cancel_reason": rx("CANCEL_REASON"),
	"authored":      rx("SCRIPT_DATE"),
	"drug":          rx("DRUG_NAME"),
	"strength":      rx("STRENGTH"),
	"amt":           rx("AMT_CODE"),
	"dose":          rx("DOSE_TEXT"),
	"prn":           rx("PRN"),
	"quantity":      rx("QUANTITY"),
	"repeats":       rx("REPEATS"),
	"encounter_id":  col("e", "CONSULT.CONSULT_ID"),
	"requester_ref": rx("DOCTOR_ID"),
	"created":       rx("CREATED_AT"),
	"updated":       rx("UPDATED_AT"),
})

// MedicationRequest maps SCRIPT, the prescriptions written at the practice
// (aucore.MedicationRequest), as orders: the latest script of a current
// medicine active, earlier ones completed, the last of a stopped medicine
// stopped, a voided one cancelled.
var MedicationRequest = aucore.MedicationRequest.Table(mappings.Impl[aucore.MedicationRequestCodes]{
	Cols:  medicationRequestCols,
	From:  medicationRequestSQL,
	Funcs: funcs,
	Codes: aucore.MedicationRequestCodes{
		Status: func(status, _ int) string {
			if s, ok := scriptStatuses[status]; ok {
				return s
			}
			return "unknown"
		},
		StatusSQL: scriptStatusSQL(),
	},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})
