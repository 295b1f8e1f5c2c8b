package zedmed

import (
	_ "embed"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed location.sql
var locationSQL string

// l is a column of BRANCH l.
func l(name string) string { return col("l", "BRANCH."+name) }

// locationCols are Location's columns in location.sql.
var locationCols = mappings.Cols{
	"id":       l("BRANCH_ID"),
	"name":     l("BRANCH_NAME"),
	"address1": l("ADDRESS_1"),
	"address2": l("ADDRESS_2"),
	"city":     l("SUBURB"),
	"postcode": l("POSTCODE"),
	"hpio":     l("HPIO"),
	"phone":    l("PHONE"),
	"fax":      l("FAX"),
	"email":    l("EMAIL"),
	"org_id":   col("pr", "PRACTICE.PRACTICE_ID"),
	"org_name": col("pr", "PRACTICE.PRACTICE_NAME"),
	"org_hpio": col("pr", "PRACTICE.HPIO"),
	"org_abn":  col("pr", "PRACTICE.ABN"),
	"created":  l("CREATED_AT"),
	"updated":  l("UPDATED_AT"),
}

// Location maps BRANCH, the practice's sites (aucore.Location).
var Location = aucore.Location.Table(mappings.Impl[struct{}]{Cols: locationCols, From: locationSQL, Funcs: funcs})
