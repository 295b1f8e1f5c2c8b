package bppremier

import (
	_ "embed"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed location.sql
var locationSQL string

// locationCols are Location's columns in location.sql.
var locationCols = mappings.Cols{
	"id":       `l."LOCATIONID"`,
	"name":     `l."LOCATIONNAME"`,
	"address1": `l."ADDRESS1"`,
	"address2": `l."ADDRESS2"`,
	"city":     `l."CITY"`,
	"postcode": `l."POSTCODE"`,
	"hpio":     `l."HPIO"`,
	"phone":    `l."PHONE"`,
	"fax":      `l."FAX"`,
	"email":    `l."EMAIL"`,
	"org_id":   `pr."PRACTICEID"`,
	"org_name": `pr."PRACTICENAME"`,
	"org_hpio": `pr."HPIO"`,
	"org_abn":  `pr."ABN"`,
	"created":  `l."CREATED"`,
	"updated":  `l."UPDATED"`,
}

// Location maps LOCATIONS, the practice's sites (aucore.Location).
var Location = aucore.Location.Table(mappings.Impl[struct{}]{Cols: locationCols, From: locationSQL})
