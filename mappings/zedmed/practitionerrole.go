package zedmed

import (
	_ "embed"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed practitionerrole.sql
var practitionerRoleSQL string

// practitionerRoleCols are PractitionerRole's columns in
// practitionerrole.sql.
var practitionerRoleCols = mappings.Cols{
	"id":                  col("db", "DOCTOR_BRANCH.DOCTOR_BRANCH_ID"),
	"provider_no":         col("db", "DOCTOR_BRANCH.PROVIDER_NO"),
	"practitioner_id":     d("DOCTOR_ID"),
	"practitioner_status": d("IS_ACTIVE"),
	"role":                d("DOCTOR_TYPE"),
	"title":               d("TITLE"),
	"first":               d("FIRST_NAME"),
	"family":              d("SURNAME"),
	"phone":               d("PHONE"),
	"email":               d("EMAIL"),
	"location_id":         l("BRANCH_ID"),
	"location_name":       l("BRANCH_NAME"),
	"org_id":              col("pr", "PRACTICE.PRACTICE_ID"),
	"org_name":            col("pr", "PRACTICE.PRACTICE_NAME"),
	"org_hpio":            col("pr", "PRACTICE.HPIO"),
	"org_abn":             col("pr", "PRACTICE.ABN"),
	"created":             col("db", "DOCTOR_BRANCH.CREATED_AT"),
	"updated":             col("db", "DOCTOR_BRANCH.UPDATED_AT"),
	"practitioner_ref":    col("db", "DOCTOR_BRANCH.DOCTOR_ID"),
	"location_ref":        col("db", "DOCTOR_BRANCH.BRANCH_ID"),
}

// PractitionerRole maps DOCTOR_BRANCH: a practitioner at one of the
// practice's branches, with the provider number there
// (aucore.PractitionerRole).
var PractitionerRole = aucore.PractitionerRole.Table(mappings.Impl[aucore.PractitionerRoleCodes]{
	Cols:   practitionerRoleCols,
	From:   practitionerRoleSQL,
	Funcs:  funcs,
	Codes:  aucore.PractitionerRoleCodes{Active: doctorActive, Role: role},
	Chains: map[string]mappings.ChainTarget{"Practitioner": Practitioner},
})
