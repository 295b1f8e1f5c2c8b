package zedmed

import (
	_ "embed"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed schedule.sql
var scheduleSQL string

// The derived table sc of schedule.sql has the columns DOCTOR_ID and BRANCH_ID (its own
// aliases, not schema names).
const (
	scDoctor = "sc.DOCTOR_ID"
	scBranch = "sc.BRANCH_ID"
)

// scheduleActive is when a schedule is in use: its doctor is active and has a session
// template there with no end date.
func scheduleActive() string {
	s := func(n string) string { return col("x", "SESSION_TEMPLATE."+n) }
	return "(" + doctorIsActive + " AND EXISTS (SELECT 1 FROM " + tbl("SESSION_TEMPLATE") + " x WHERE " + live("x", "SESSION_TEMPLATE") +
		" AND " + s("DOCTOR_ID") + " = " + scDoctor + " AND " + s("BRANCH_ID") + " = " + scBranch + " AND " + s("VALID_TO") + " IS NULL))"
}

// scheduleCols are Schedule's columns in schedule.sql.
var scheduleCols = mappings.Cols{
	"practitioner_id":     scDoctor,
	"location_id":         scBranch,
	"practitioner_title":  d("TITLE"),
	"practitioner_first":  d("FIRST_NAME"),
	"practitioner_family": d("SURNAME"),
	"location_name":       l("BRANCH_NAME"),
	"active":              "CASE WHEN " + scheduleActive() + " THEN 1 ELSE 0 END",
	"in_use":              scheduleActive(),
}

// Schedule is one doctor's appointment book at one branch (aucore.Schedule): every
// practitioner and branch with session templates. Its id is "{DOCTOR_ID}-{BRANCH_ID}".
var Schedule = aucore.Schedule.Table(mappings.Impl[struct{}]{Cols: scheduleCols, From: scheduleSQL, Funcs: funcs})
