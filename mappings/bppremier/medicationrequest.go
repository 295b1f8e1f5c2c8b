package bppremier

import (
	_ "embed"
	"text/template"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed medicationrequest.sql
var medicationRequestSQL string

// activeScript is the rule for a live script item that is active: the
// latest script of a medicine still on the patient's current medicines
// list (a live CURRENTRX row of the same product last prescribed no later
// than this script). Other live items are completed; items of deleted
// scripts cancelled.
const activeScript = `(s."RECORDSTATUS" = 1 AND EXISTS (SELECT 1 FROM "CURRENTRX" c WHERE c."INTERNALID" = s."INTERNALID"` +
	` AND c."PRODUCTID" = i."PRODUCTID" AND c."RECORDSTATUS" = 1 AND (c."LASTDATE" IS NULL OR c."LASTDATE" <= s."SCRIPTDATE")))`

// medicationRequestCols are MedicationRequest's columns in
// medicationrequest.sql: a script item (i) of its script (s).
var medicationRequestCols = clinicalCols(`s."INTERNALID"`, mappings.Cols{
	"id":            `i."RECORDID"`,
	"script_id":     `s."SCRIPTID"`,
	"status":        `s."RECORDSTATUS"`,
	"active":        `CASE WHEN {{active}} THEN 1 ELSE 0 END`,
	"authored":      `s."SCRIPTDATE"`,
	"cancel_reason": `s."DELETIONREASON"`,
	"drug":          `i."PRODUCTNAME"`,
	"strength":      `i."STRENGTH"`,
	"description":   `i."PRODUCTDESCRIPTION"`,
	"dose":          `i."DOSE"`,
	"prn":           `i."PRN"`,
	"instructions":  `i."INSTRUCTIONS"`,
	"quantity":      `i."QUANTITY"`,
	"unit":          `i."PRODUCTUNIT"`,
	"repeats":       `i."REPEATS"`,
	"encounter_id":  `v."VISITID"`,
	"requester_ref": `s."USERID"`,
	"created":       `i."CREATED"`,
	"updated":       `i."UPDATED"`,
})

// MedicationRequest maps the items of prescriptions written at the
// practice (SCRIPTITEMS of PRESCRIPTIONS, aucore.MedicationRequest), as
// orders: active, completed or cancelled by activeScript's rule.
var MedicationRequest = aucore.MedicationRequest.Table(mappings.Impl[aucore.MedicationRequestCodes]{
	Cols:  medicationRequestCols,
	From:  medicationRequestSQL,
	Funcs: withFuncs(template.FuncMap{"active": func() string { return activeScript }}),
	Codes: aucore.MedicationRequestCodes{
		Status: scriptStatus,
		StatusSQL: map[string]string{
			"active":    activeScript,
			"completed": `(s."RECORDSTATUS" = 1 AND NOT ` + activeScript + ")",
			"cancelled": `s."RECORDSTATUS" <> 1`,
		},
		ScriptIDSystem: "urn:fhirlink:bppremier:script-id",
	},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})

// scriptStatus is the status of an item of a script of record status
// record, active by activeScript's rule or not.
func scriptStatus(record, active int) string {
	switch {
	case record != recordLive:
		return "cancelled"
	case active != 0:
		return "active"
	}
	return "completed"
}
