package bppremier

import (
	_ "embed"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed organization.sql
var organizationSQL string

// organizationCols are Organization's columns in organization.sql: the
// practice, and its main location (l) for the address and contacts.
var organizationCols = mappings.Cols{
	"id":       `pr."PRACTICEID"`,
	"name":     `pr."PRACTICENAME"`,
	"hpio":     `pr."HPIO"`,
	"abn":      `pr."ABN"`,
	"address1": `l."ADDRESS1"`,
	"address2": `l."ADDRESS2"`,
	"city":     `l."CITY"`,
	"postcode": `l."POSTCODE"`,
	"phone":    `l."PHONE"`,
	"fax":      `l."FAX"`,
	"email":    `l."EMAIL"`,
	"created":  `pr."CREATED"`,
	"updated":  `pr."UPDATED"`,
}

// Organization maps PRACTICE (aucore.Organization).
var Organization = aucore.Organization.Table(mappings.Impl[struct{}]{Cols: organizationCols, From: organizationSQL})
