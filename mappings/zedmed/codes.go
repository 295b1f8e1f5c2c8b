package zedmed

import (
	"strconv"
	"strings"

	"fhirlink/mappings/aucore"
)

// The code values of the assumed Zedmed schema (mappings/zedmed/zedsynth's codes.go), in one place.
// They are ASSUMED: correct them here, and only here, when real values are known.

const (
	recordLive = 0 // DELETED of a live row, every table

	patientActive   = 1 // PATIENT.STATUS
	patientDeceased = 3

	doctorActive = 1 // DOCTOR.IS_ACTIVE
)

// DOCTOR.DOCTOR_TYPE.
const (
	doctorGP        = 1
	doctorRegistrar = 2
	doctorNurse     = 3
	doctorAllied    = 4
)

// CONSULT.CONSULT_TYPE.
const (
	consultSurgery  = 1
	consultVideo    = 2
	consultPhone    = 3
	consultHome     = 4
	consultAgedCare = 5
)

// SCRIPT.STATUS.
const (
	scriptActive    = 1
	scriptCompleted = 2
	scriptCeased    = 3
	scriptCancelled = 4
)

// practitionerTypes are the doctor types who are health practitioners.
var practitionerTypes = []int{doctorGP, doctorRegistrar, doctorNurse, doctorAllied}

// practitionerRule is THE rule for which DOCTOR rows are practitioners, as a predicate on the
// DOCTOR row aliased alias: a live row of a practitioner type, or any live row with an Ahpra
// registration number. Reception and management staff are not practitioners.
func practitionerRule(alias string) string {
	types := make([]string, len(practitionerTypes))
	for i, t := range practitionerTypes {
		types[i] = strconv.Itoa(t)
	}
	return "(" + live(alias, "DOCTOR") + " AND (" + col(alias, "DOCTOR.DOCTOR_TYPE") + " IN (" + strings.Join(types, ", ") + ")" +
		" OR COALESCE(" + col(alias, "DOCTOR.AHPRA_NO") + ", '') <> ''))"
}

// live is the predicate "the row of table aliased alias is not deleted".
func live(alias, table string) string {
	return col(alias, table+".DELETED") + " = " + strconv.Itoa(recordLive)
}

// role is what a doctor type makes a practitioner: GPs and registrars
// general practitioners, nurses registered nurses.
func role(typ int) aucore.Role {
	switch typ {
	case doctorGP, doctorRegistrar:
		return aucore.RoleGP
	case doctorNurse:
		return aucore.RoleNurse
	}
	return aucore.RoleOther
}

// PATIENT.SEX and the FHIR gender of each; anything else is unknown.
var sexGender = map[string]string{"M": "male", "F": "female", "X": "other"}

// genderSex is the PATIENT.SEX a new patient of each FHIR gender is
// registered with (none for unknown).
var genderSex = map[string]string{"male": "M", "female": "F", "other": "X"}

func gender(sex string) string {
	if g, ok := sexGender[strings.ToUpper(strings.TrimSpace(sex))]; ok {
		return g
	}
	return "unknown"
}

// genderSQL is the gender search, each code a predicate on PATIENT p.
func genderSQL() map[string]string {
	sex := patientCols["sex"]
	m := map[string]string{}
	var all []string
	for _, s := range []string{"F", "M", "X"} {
		m[sexGender[s]] = sex + " = '" + s + "'"
		all = append(all, "'"+s+"'")
	}
	m["unknown"] = "COALESCE(" + sex + ", '') NOT IN (" + strings.Join(all, ", ") + ")"
	return m
}

// PATIENT.ATSI: the METeOR Indigenous status codes, which AU Base's extension uses as they
// are.
var indigenousStatus = map[string][2]string{
	"1": {"1", "Aboriginal but not Torres Strait Islander origin"},
	"2": {"2", "Torres Strait Islander but not Aboriginal origin"},
	"3": {"3", "Both Aboriginal and Torres Strait Islander origin"},
	"4": {"4", "Neither Aboriginal nor Torres Strait Islander origin"},
	"9": {"9", "Not stated/inadequately described"},
}

// PATIENT.DVA_CARD letters and the card colours mappings.DVA knows.
var dvaCards = map[string]string{"G": "Gold", "W": "White", "O": "Orange", "L": "Lilac"}

// Systems of fhirlink's own for Zedmed's local identifiers and codes.
const (
	patientIDSystem       = "urn:fhirlink:zedmed:patient-id"
	recordNumberFallback  = "urn:fhirlink:zedmed:chart-number"
	appointmentTypeSystem = "urn:fhirlink:zedmed:appointment-type"
)

// APPOINTMENT.STATUS.
const (
	apptBooked    = 0
	apptArrived   = 1
	apptInConsult = 2
	apptCompleted = 3
	apptDNA       = 4
	apptCancelled = 5
	apptBlocked   = 6
)
