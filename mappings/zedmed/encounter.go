package zedmed

import (
	_ "embed"
	"strconv"
	"strings"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed encounter.sql
var encounterSQL string

// e is a column of CONSULT e.
func e(name string) string { return col("e", "CONSULT."+name) }

// consultClasses are the v3 ActCode class of each CONSULT_TYPE; any other type is
// ambulatory (AMB), as a consultation at the branch is.
var consultClasses = map[int]string{
	consultVideo:    "VR",
	consultPhone:    "VR",
	consultHome:     "HH",
	consultAgedCare: "HH",
}

// consultTypes name the CONSULT_TYPE codes (Encounter.type).
var consultTypes = map[int]string{
	consultSurgery:  "Consultation at the surgery",
	consultVideo:    "Telehealth video consultation",
	consultPhone:    "Telephone consultation",
	consultHome:     "Home visit",
	consultAgedCare: "Residential aged care visit",
}

// consultClassSQL is the class search: each class as a predicate on CONSULT_TYPE.
func consultClassSQL() map[string]string {
	byClass := map[string][]string{}
	var other []string
	for _, typ := range []int{consultVideo, consultPhone, consultHome, consultAgedCare} {
		class := consultClasses[typ]
		byClass[class] = append(byClass[class], strconv.Itoa(typ))
		other = append(other, strconv.Itoa(typ))
	}
	m := map[string]string{"AMB": e("CONSULT_TYPE") + " NOT IN (" + strings.Join(other, ", ") + ")"}
	for class, codes := range byClass {
		m[class] = e("CONSULT_TYPE") + " IN (" + strings.Join(codes, ", ") + ")"
	}
	return m
}

// encounterCols are Encounter's columns in encounter.sql.
var encounterCols = clinicalCols(e("PATIENT_ID"), mappings.Cols{
	"id":               e("CONSULT_ID"),
	"type":             e("CONSULT_TYPE"),
	"start":            e("START_AT"),
	"end":              e("END_AT"),
	"reasons":          e("REASON"),
	"appt_id":          col("ap", "APPOINTMENT.APPT_ID"),
	"location_id":      l("BRANCH_ID"),
	"location_name":    l("BRANCH_NAME"),
	"org_id":           col("pr", "PRACTICE.PRACTICE_ID"),
	"org_name":         col("pr", "PRACTICE.PRACTICE_NAME"),
	"created":          e("CREATED_AT"),
	"updated":          e("UPDATED_AT"),
	"when":             e("START_AT"),
	"practitioner_ref": e("DOCTOR_ID"),
	"location_ref":     e("BRANCH_ID"),
})

// Encounter maps CONSULT (aucore.Encounter): each consultation or contact,
// finished once it has an end, in progress until then.
var Encounter = aucore.Encounter.Table(mappings.Impl[aucore.EncounterCodes]{
	Cols:  encounterCols,
	From:  encounterSQL,
	Funcs: funcs,
	Codes: aucore.EncounterCodes{
		Class: consultClasses, ClassSQL: consultClassSQL(), TypeText: consultTypes,
		StatusSQL: map[string]string{
			"finished":    e("END_AT") + " IS NOT NULL",
			"in-progress": e("END_AT") + " IS NULL",
		},
		InProgress: true,
	},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})
