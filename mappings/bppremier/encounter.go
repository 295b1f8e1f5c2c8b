package bppremier

import (
	_ "embed"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed encounter.sql
var encounterSQL string

// encounterClass is the v3 ActCode class of each visit type; any other
// type is ambulatory (AMB).
var encounterClass = map[int]string{
	visitHome:        "HH",
	visitRACF:        "HH",
	visitHostel:      "HH",
	visitLocum:       "HH",
	visitHospital:    "IMP",
	visitTelephone:   "VR",
	visitSMS:         "VR",
	visitEmail:       "VR",
	visitTelehealth:  "VR",
	visitOutOfOffice: "FLD",
}

// classSQL is the class search: each code as a predicate on VISITCODE.
func classSQL() map[string]string {
	byClass := map[string][]int{}
	var other []int
	for code, class := range encounterClass {
		byClass[class] = append(byClass[class], code)
		other = append(other, code)
	}
	list := func(codes []int) string {
		slices.Sort(codes)
		s := make([]string, len(codes))
		for i, c := range codes {
			s[i] = strconv.Itoa(c)
		}
		return strings.Join(s, ", ")
	}
	m := map[string]string{"AMB": `v."VISITCODE" NOT IN (` + list(other) + ")"}
	for class, codes := range byClass {
		m[class] = `v."VISITCODE" IN (` + list(codes) + ")"
	}
	return m
}

// reasonsSQL aggregates a visit's live VISITREASON texts, in the order
// recorded. STRING_AGG needs SQL Server 2017 or later.
func reasonsSQL(d mappings.Dialect) string {
	from := ` FROM "VISITREASON" vr WHERE vr."VISITID" = v."VISITID" AND vr."RECORDSTATUS" = 1 AND RTRIM(vr."REASON") <> ''`
	switch d.Engine() {
	case mappings.EngineSQLServer:
		return `(SELECT STRING_AGG(RTRIM(vr."REASON"), CHAR(31)) WITHIN GROUP (ORDER BY vr."RECORDID")` + from + ")"
	case mappings.EnginePostgres:
		return `(SELECT string_agg(rtrim(vr."REASON"), chr(31) ORDER BY vr."RECORDID")` + from + ")"
	}
	return `(SELECT group_concat(x."r", char(31)) FROM (SELECT RTRIM(vr."REASON") AS "r"` + from + ` ORDER BY vr."RECORDID") x)`
}

// encounterCols are Encounter's columns in encounter.sql: start and end
// are the visit's day and its times.
var encounterCols = clinicalCols(`v."INTERNALID"`, mappings.Cols{
	"id":               `v."VISITID"`,
	"type":             `v."VISITCODE"`,
	"type_text":        `vt."VISITTYPE"`,
	"visit_date":       `v."VISITDATE"`,
	"start_time":       `v."STARTTIME"`,
	"end_time":         `v."ENDTIME"`,
	"start":            `{{addSeconds .Dialect "v.\"VISITDATE\"" "v.\"STARTTIME\""}}`,
	"end":              `{{addSeconds .Dialect "v.\"VISITDATE\"" "v.\"ENDTIME\""}}`,
	"reasons":          `{{reasons .Dialect}}`,
	"location_id":      `l."LOCATIONID"`,
	"location_name":    `l."LOCATIONNAME"`,
	"org_id":           `pr."PRACTICEID"`,
	"org_name":         `pr."PRACTICENAME"`,
	"created":          `v."CREATED"`,
	"updated":          `v."UPDATED"`,
	"when":             `v."VISITDATE"`,
	"practitioner_ref": `v."USERID"`,
	"location_ref":     `v."LOCATION"`,
})

// Encounter maps VISITS (aucore.Encounter): each consultation or contact
// recorded in the clinical notes, finished. Bp records the visit's day
// apart from its times: the date search compares the day.
var Encounter = aucore.Encounter.Table(mappings.Impl[aucore.EncounterCodes]{
	Cols:  encounterCols,
	From:  encounterSQL,
	Funcs: withFuncs(template.FuncMap{"addSeconds": mappings.AddSeconds, "reasons": reasonsSQL}),
	Codes: aucore.EncounterCodes{
		Class: encounterClass, ClassSQL: classSQL(),
		StatusSQL: map[string]string{"finished": mappings.SQLTrue},
	},
	Match:  map[string]mappings.Matcher{"date": mappings.Date(`v."VISITDATE"`)},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})
