package bppremier

import (
	_ "embed"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed practitioner.sql
var practitionerSQL string

// practitionerCols are Practitioner's columns in practitioner.sql.
var practitionerCols = mappings.Cols{
	"id":            `u."USERID"`,
	"status":        `u."USERSTATUS"`,
	"title":         `t."TITLE"`,
	"first":         `u."FIRSTNAME"`,
	"family":        `u."SURNAME"`,
	"hpii":          `u."HPII"`,
	"ahpra":         `u."REGISTRATIONNO"`,
	"provider_no":   `u."PROVIDERNO"`, // at the main location
	"prescriber_no": `u."PRESCRIBERNO"`,
	"phone":         `u."PHONE"`,
	"fax":           `u."FAX"`,
	"pager":         `u."PAGER"`,
	"email":         `u."EMAIL"`,
	"created":       `u."CREATED"`,
	"updated":       `u."UPDATED"`,
}

// Practitioner maps the USERS who are health practitioners (clinicalUser;
// aucore.Practitioner). Deleted users never appear.
var Practitioner = aucore.Practitioner.Table(mappings.Impl[aucore.PractitionerCodes]{
	Cols:  practitionerCols,
	From:  practitionerSQL,
	Funcs: funcs,
	Codes: aucore.PractitionerCodes{Active: userActive},
	// Chained searches (PractitionerRole?practitioner.identifier=) look
	// among the clinical users, current or not, as a reference by id does.
	IDs: `SELECT u."USERID"
    FROM "USERS" u
    WHERE {{clinical "u"}}{{.Where}}`,
})
