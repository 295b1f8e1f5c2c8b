package bppremier

import (
	_ "embed"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed schedule.sql
var scheduleSQL string

// scheduleActive is when a schedule is in use: its practitioner is active
// and has a weekly session there without an end date.
const scheduleActive = `(u."USERSTATUS" = 1 AND EXISTS (SELECT 1 FROM "SESSIONS" x WHERE x."RECORDSTATUS" = 1` +
	` AND x."USERID" = sc."USERID" AND x."LOCATIONID" = sc."LOCATIONID" AND x."ENDDATE" IS NULL))`

// scheduleCols are Schedule's columns in schedule.sql: sc is the
// practitioners and locations with sessions.
var scheduleCols = mappings.Cols{
	"practitioner_id":     `sc."USERID"`,
	"location_id":         `sc."LOCATIONID"`,
	"practitioner_title":  `ut."TITLE"`,
	"practitioner_first":  `u."FIRSTNAME"`,
	"practitioner_family": `u."SURNAME"`,
	"location_name":       `l."LOCATIONNAME"`,
	"active":              "CASE WHEN " + scheduleActive + " THEN 1 ELSE 0 END",
	"in_use":              scheduleActive,
}

// Schedule is one practitioner's appointment book at one location
// (aucore.Schedule): every practitioner and location with sessions. Its id
// is "{USERID}-{LOCATIONID}".
var Schedule = aucore.Schedule.Table(mappings.Impl[struct{}]{Cols: scheduleCols, From: scheduleSQL, Funcs: funcs})
