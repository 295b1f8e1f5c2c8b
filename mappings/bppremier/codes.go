package bppremier

import (
	"slices"
	"strconv"
	"strings"

	"fhirlink/mappings/aucore"
)

// Bp Premier's code values, in one place. Best Practice does not publish
// them: "seen" values appear in public integration code, the others are
// assumptions shared with the synthetic database (mappings/bppremier/bpsynth) and
// must be corrected here, and only here, when real values are confirmed.

const (
	recordLive = 1 // RECORDSTATUS of a live row, every table (seen)

	patientActive   = 1 // PATIENTSTATUS 'Active' (seen)
	patientDeceased = 3 // PATIENTSTATUS 'Deceased' (assumed)

	userActive  = 1   // USERSTATUS (seen: 1 active, 2 inactive, 999 deleted; partly unverified)
	userDeleted = 999 // USERSTATUS of a deleted user
)

// User groups (USERGROUPS.GROUPCODE; numbering assumed).
const (
	groupPrincipal = 1
	groupDoctor    = 2
	groupRegistrar = 3
	groupNurse     = 4
)

// clinicalGroups are the groups whose users are health practitioners.
var clinicalGroups = []int{groupPrincipal, groupDoctor, groupRegistrar, groupNurse}

// clinicalUser is THE rule for which USERS rows are practitioners, as a
// predicate on the USERS row aliased alias: a user of a clinical group, or
// any user with an Ahpra registration number (only registered health
// practitioners have one, whatever group the practice put them in).
// Reception and management staff are not practitioners. Deleted users
// (RECORDSTATUS not live, or USERSTATUS 999) never are.
func clinicalUser(alias string) string {
	groups := make([]string, len(clinicalGroups))
	for i, g := range clinicalGroups {
		groups[i] = strconv.Itoa(g)
	}
	a := alias + "."
	return "(" + a + `"RECORDSTATUS" = ` + strconv.Itoa(recordLive) +
		" AND " + a + `"USERSTATUS" <> ` + strconv.Itoa(userDeleted) +
		" AND (" + a + `"GROUPCODE" IN (` + strings.Join(groups, ", ") + ")" +
		" OR RTRIM(" + a + `"REGISTRATIONNO") <> ''))`
}

// role is what a user group makes a practitioner: the doctors' groups
// general practitioners, nurses registered nurses.
func role(group int) aucore.Role {
	switch group {
	case groupPrincipal, groupDoctor, groupRegistrar:
		return aucore.RoleGP
	case groupNurse:
		return aucore.RoleNurse
	}
	return aucore.RoleOther
}

// Sex texts (SEX.SEX; the texts are seen, the numbers behind them are
// not), and the FHIR administrative gender of each. Any other text, or no
// row, is unknown.
var sexGender = map[string]string{
	"male":          "male",
	"female":        "female",
	"other":         "other",
	"intersex":      "other",
	"indeterminate": "other",
}

// genderSQL is the gender search: each code as a predicate on the
// patient's sex text, built from sexGender.
func genderSQL() map[string]string {
	byGender := map[string][]string{}
	var all []string
	for text, g := range sexGender {
		byGender[g] = append(byGender[g], "'"+strings.ToUpper(text[:1])+text[1:]+"'")
	}
	for _, g := range []string{"male", "female", "other"} {
		all = append(all, byGender[g]...)
	}
	m := map[string]string{}
	for _, g := range []string{"male", "female", "other"} {
		m[g] = "RTRIM(" + patientCols["sex"] + ") IN (" + strings.Join(sortedCopy(byGender[g]), ", ") + ")"
	}
	m["unknown"] = "COALESCE(RTRIM(" + patientCols["sex"] + "), '') NOT IN (" + strings.Join(sortedCopy(all), ", ") + ")"
	return m
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// gender is the FHIR gender of a SEX text.
func gender(text string) string {
	if g, ok := sexGender[strings.ToLower(strings.TrimSpace(text))]; ok {
		return g
	}
	return "unknown"
}

// Indigenous status: ETHNICITY.ETHNICTYPE texts (the ABS standard's
// wording; assumed) and the Australian Indigenous Status codes AU Base's
// extension uses.
var indigenousStatus = map[string][2]string{
	"aboriginal":                                    {"1", "Aboriginal but not Torres Strait Islander origin"},
	"torres strait islander":                        {"2", "Torres Strait Islander but not Aboriginal origin"},
	"aboriginal and torres strait islander":         {"3", "Both Aboriginal and Torres Strait Islander origin"},
	"neither aboriginal nor torres strait islander": {"4", "Neither Aboriginal nor Torres Strait Islander origin"},
	"not stated":                                    {"9", "Not stated/inadequately described"},
}

// patientIDSystem is the system of the patient internal identifier
// (INTERNALID, the resource id): "/" and the practice's HPI-O or ABN
// follow it when the practice has one.
const patientIDSystem = "urn:fhirlink:bppremier:patient-id"

// recordNumberFallback is the record-number system of a practice with
// neither an HPI-O nor an ABN to scope it (a URN of fhirlink's own).
const recordNumberFallback = "urn:fhirlink:bppremier:record-number"

// ---- the clinical record ----

// OBSERVATIONS.DATACODE (seen; BPS_Observations.ObservationCode).
const (
	obsTemperature = 1
	obsPulse       = 2
	obsSystolic    = 3
	obsDiastolic   = 4
	obsHeight      = 7
	obsWeight      = 8
	obsBMI         = 9
	obsHeadCirc    = 10
	obsWaist       = 17
)

// SEVERITYCODES.SEVERITYCODE (assumed: 0 blank, 1 Mild, 2 Moderate,
// 3 Severe), shared by REACTIONS.SEVERITY and PASTHISTORY.SEVERITYCODE.
const (
	severityMild     = 1
	severityModerate = 2
	severitySevere   = 3
)

// CLINICAL.KNOWNALLERGIES (seen): 1 = nil known.
const allergiesNilKnown = 1

// REACTIONS.RECORDSTATUS is the row's live flag like every table's: 1 live,
// 0 deleted. (Some integration code reads 0 as "inactive"; a record the
// practice removed must never reach a client, so it is read as deleted.)

// PASTHISTORY.STATUSCODE (assumed: 1 Active, 2 Inactive; BPS_History.Status).
const (
	historyActive   = 1
	historyInactive = 2
)

// CURRENTRX.RXSTATUS (seen): 1 long-term, 2 short-term.
const (
	rxLongTerm  = 1
	rxShortTerm = 2
)

// IMMUNISATIONS.NOTGIVENHERE (seen): 0 given at the practice, 1 elsewhere.
const givenElsewhere = 1

// CLINICAL.SMOKINGSTATUS (seen): 0 none recorded, 1 non-smoker, 2 ex-smoker,
// 3 smoker.
const (
	smokingNonSmoker = 1
	smokingExSmoker  = 2
	smokingSmoker    = 3
)

// VISITTYPE.VISITCODE: 1 Surgery and 12 Non Visit are seen, the rest
// assumed (the names are seen).
const (
	visitSurgery     = 1
	visitHome        = 2
	visitHospital    = 3
	visitRACF        = 4
	visitTelephone   = 5
	visitSMS         = 6
	visitEmail       = 7
	visitLocum       = 8
	visitOutOfOffice = 9
	visitOther       = 10
	visitHostel      = 11
	visitNonVisit    = 12
	visitTelehealth  = 13
)
