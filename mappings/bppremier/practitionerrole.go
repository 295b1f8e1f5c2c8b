package bppremier

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
	"id":                  `pl."RECORDID"`,
	"provider_no":         `pl."PROVIDERNUMBER"`,
	"practitioner_id":     `u."USERID"`,
	"practitioner_status": `u."USERSTATUS"`,
	"role":                `u."GROUPCODE"`,
	"title":               `t."TITLE"`,
	"first":               `u."FIRSTNAME"`,
	"family":              `u."SURNAME"`,
	"phone":               `u."PHONE"`,
	"email":               `u."EMAIL"`,
	"location_id":         `l."LOCATIONID"`,
	"location_name":       `l."LOCATIONNAME"`,
	"org_id":              `pr."PRACTICEID"`,
	"org_name":            `pr."PRACTICENAME"`,
	"org_hpio":            `pr."HPIO"`,
	"org_abn":             `pr."ABN"`,
	"created":             `pl."CREATED"`,
	"updated":             `pl."UPDATED"`,
	"practitioner_ref":    `pl."USERID"`,
	"location_ref":        `pl."LOCATIONID"`,
}

// PractitionerRole maps PROVIDER_LOCATION: a practitioner at one of the
// practice's locations, with the provider number there
// (aucore.PractitionerRole).
var PractitionerRole = aucore.PractitionerRole.Table(mappings.Impl[aucore.PractitionerRoleCodes]{
	Cols:   practitionerRoleCols,
	From:   practitionerRoleSQL,
	Funcs:  funcs,
	Codes:  aucore.PractitionerRoleCodes{Active: userActive, Role: role},
	Chains: map[string]mappings.ChainTarget{"Practitioner": Practitioner},
})
