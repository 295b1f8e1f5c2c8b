package zedmed

import (
	_ "embed"
	"strconv"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed practitioner.sql
var practitionerSQL string

// d is a column of DOCTOR d.
func d(name string) string { return col("d", "DOCTOR."+name) }

// doctorIsActive is the predicate of a current doctor.
var doctorIsActive = d("IS_ACTIVE") + " = " + strconv.Itoa(doctorActive)

// practitionerCols are Practitioner's columns in practitioner.sql.
var practitionerCols = mappings.Cols{
	"id":     d("DOCTOR_ID"),
	"status": d("IS_ACTIVE"),
	"title":  d("TITLE"),
	"first":  d("FIRST_NAME"),
	"family": d("SURNAME"),
	"hpii":   d("HPII"),
	"ahpra":  d("AHPRA_NO"),
	// One of the doctor's provider numbers (one per branch); a search
	// finds any of them (providerNumberAnyBranch).
	"provider_no": "(SELECT MIN(" + col("db", "DOCTOR_BRANCH.PROVIDER_NO") + ") FROM " + tbl("DOCTOR_BRANCH") + " db\n" +
		"        WHERE " + col("db", "DOCTOR_BRANCH.DOCTOR_ID") + " = " + d("DOCTOR_ID") + " AND " + live("db", "DOCTOR_BRANCH") + ")",
	"prescriber_no": d("PRESCRIBER_NO"),
	"phone":         d("PHONE"),
	"mobile":        d("MOBILE"),
	"email":         d("EMAIL"),
	"created":       d("CREATED_AT"),
	"updated":       d("UPDATED_AT"),
}

// Practitioner maps the DOCTOR rows of health practitioners
// (practitionerRule; aucore.Practitioner).
var Practitioner = aucore.Practitioner.Table(mappings.Impl[aucore.PractitionerCodes]{
	Cols:  practitionerCols,
	From:  practitionerSQL,
	Funcs: funcs,
	Codes: aucore.PractitionerCodes{Active: doctorActive, ProviderNumber: providerNumberAnyBranch()},
	IDs: `SELECT ` + d("DOCTOR_ID") + `
    FROM {{t "DOCTOR"}} d
    WHERE {{practitioner "d"}}{{.Where}}`,
})

// providerNumberAnyBranch matches a Medicare provider number the doctor has at any live
// branch.
func providerNumberAnyBranch() *mappings.IdentifierSystem {
	pn := col("db", "DOCTOR_BRANCH.PROVIDER_NO")
	exists := func(pred string) string {
		return "EXISTS (SELECT 1 FROM " + tbl("DOCTOR_BRANCH") + " db WHERE " + col("db", "DOCTOR_BRANCH.DOCTOR_ID") + " = " + d("DOCTOR_ID") +
			" AND " + live("db", "DOCTOR_BRANCH") + " AND " + pred + ")"
	}
	return &mappings.IdentifierSystem{
		System: mappings.SystemProviderNumber,
		Match: func(b *mappings.Builder, _, value string) string {
			v := mappings.NoSpaces(value)
			if v == "" {
				return mappings.SQLFalse
			}
			return exists(b.Dialect.EqualFold(pn, b.Param(mappings.ParamVarChar, v)))
		},
		Present: func(*mappings.Builder, string) string { return exists("COALESCE(" + pn + ", '') <> ''") },
	}
}
