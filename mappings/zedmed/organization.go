package zedmed

import (
	_ "embed"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed organization.sql
var organizationSQL string

// organizationCols are Organization's columns in organization.sql: the
// practice, and its main branch (l) for the address and contacts.
var organizationCols = mappings.Cols{
	"id":       col("pr", "PRACTICE.PRACTICE_ID"),
	"name":     col("pr", "PRACTICE.PRACTICE_NAME"),
	"hpio":     col("pr", "PRACTICE.HPIO"),
	"abn":      col("pr", "PRACTICE.ABN"),
	"address1": l("ADDRESS_1"),
	"address2": l("ADDRESS_2"),
	"city":     l("SUBURB"),
	"postcode": l("POSTCODE"),
	"phone":    l("PHONE"),
	"fax":      l("FAX"),
	"email":    l("EMAIL"),
	"created":  col("pr", "PRACTICE.CREATED_AT"),
	"updated":  col("pr", "PRACTICE.UPDATED_AT"),
}

// Organization maps PRACTICE (aucore.Organization).
var Organization = aucore.Organization.Table(mappings.Impl[struct{}]{Cols: organizationCols, From: organizationSQL, Funcs: funcs})
