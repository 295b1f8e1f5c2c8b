package bppremier

import (
	_ "embed"
	"strconv"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed medicationstatement.sql
var medicationStatementSQL string

// medicationStatementCols are MedicationStatement's columns in
// medicationstatement.sql (no practitioner: Bp does not say who added a
// medicine to the list).
var medicationStatementCols = subjectCols(`r."INTERNALID"`, mappings.Cols{
	"id":           `r."RECORDID"`,
	"status":       `r."RECORDSTATUS"`,
	"drug":         `r."DRUGNAME"`,
	"rx_status":    `r."RXSTATUS"`,
	"dose":         `r."DOSE"`,
	"frequency":    `bc."Frequency"`,
	"food":         `bc."Food"`,
	"other":        `bc."OtherDetail"`,
	"prn":          `r."PRN"`,
	"instructions": `r."INSTRUCTIONS"`,
	"quantity":     `r."QUANTITY"`,
	"unit":         `r."PRODUCTUNIT"`,
	"repeats":      `r."REPEATS"`,
	"indication":   `r."INDICATION"`,
	"start":        `r."FIRSTDATE"`,
	"last_date":    `r."LASTDATE"`,
	"stop":         `r."DELETIONDATE"`,
	"stop_reason":  `r."DELETIONREASON"`,
	"comment":      `r."COMMENT"`,
	"created":      `r."CREATED"`,
	"updated":      `r."UPDATED"`,
})

// MedicationStatement maps the current medicines list (CURRENTRX,
// aucore.MedicationStatement): a live row is active, one taken off the
// list (with its deletion date) stopped.
var MedicationStatement = aucore.MedicationStatement.Table(mappings.Impl[aucore.MedicationStatementCodes]{
	Cols:  medicationStatementCols,
	From:  medicationStatementSQL,
	Funcs: funcs,
	Codes: aucore.MedicationStatementCodes{
		Active: recordLive, Ended: "stopped",
		StatusSQL: map[string]string{
			"active":  `r."RECORDSTATUS" = ` + strconv.Itoa(recordLive),
			"stopped": `r."RECORDSTATUS" <> ` + strconv.Itoa(recordLive),
		},
		Terms: map[int]string{rxLongTerm: "Long-term medicine", rxShortTerm: "Short-term medicine"},
	},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})
