package zedmed

import (
	"fmt"
	"strings"
)

// The names of the Zedmed schema, in ONE place. Zedmed's schema is not public: the tables
// and columns below are those of the assumed schema of mappings/zedmed/zedsynth. Every table and
// column the mapping's SQL and predicates use is looked up here, by its name in the assumed
// schema ("PATIENT", "PATIENT.SURNAME"); to run against a real database, change the right-hand
// side: a table's name, or a column's as "ASSUMED=REAL" in its list. Nothing else needs to
// change for a rename (code values are in codes.go).
//
// Names are written unquoted, so they must be valid unquoted identifiers of the engine
// (upper case on Firebird).
var schema = map[string]tableNames{
	"PRACTICE": {"PRACTICE", cols("PRACTICE_ID PRACTICE_NAME ABN HPIO CREATED_AT UPDATED_AT DELETED")},
	"BRANCH": {"BRANCH", cols("BRANCH_ID PRACTICE_ID BRANCH_NAME ADDRESS_1 ADDRESS_2 SUBURB STATE POSTCODE PHONE FAX EMAIL HPIO " +
		"CREATED_AT UPDATED_AT DELETED")},
	"DOCTOR": {"DOCTOR", cols("DOCTOR_ID TITLE FIRST_NAME SURNAME DOCTOR_TYPE HPII AHPRA_NO PRESCRIBER_NO PHONE MOBILE EMAIL " +
		"IS_ACTIVE CREATED_AT UPDATED_AT DELETED")},
	"DOCTOR_BRANCH": {"DOCTOR_BRANCH", cols("DOCTOR_BRANCH_ID DOCTOR_ID BRANCH_ID PROVIDER_NO CREATED_AT UPDATED_AT DELETED")},
	"PATIENT": {"PATIENT", cols("PATIENT_ID CHART_NO TITLE FIRST_NAME MIDDLE_NAME SURNAME PREFERRED_NAME SEX DOB DOD " +
		"ADDRESS_1 ADDRESS_2 SUBURB STATE POSTCODE POSTAL_ADDRESS POSTAL_SUBURB POSTAL_STATE POSTAL_POSTCODE " +
		"HOME_PHONE WORK_PHONE MOBILE_PHONE EMAIL MEDICARE_NO MEDICARE_IRN MEDICARE_EXPIRY DVA_NO DVA_CARD IHI ATSI " +
		"USUAL_DOCTOR_ID STATUS CREATED_AT UPDATED_AT DELETED")},
	"APPT_TYPE": {"APPT_TYPE", cols("APPT_TYPE_ID DESCRIPTION DURATION_SECS DELETED")},
	"SESSION_TEMPLATE": {"SESSION_TEMPLATE", cols("TEMPLATE_ID DOCTOR_ID BRANCH_ID DAY_OF_WEEK START_SECS END_SECS SLOT_SECS " +
		"VALID_FROM VALID_TO DELETED")},
	"DOCTOR_LEAVE": {"DOCTOR_LEAVE", cols("LEAVE_ID DOCTOR_ID START_DATE END_DATE DELETED")},
	"APPOINTMENT": {"APPOINTMENT", cols("APPT_ID PATIENT_ID DOCTOR_ID BRANCH_ID APPT_DATE START_SECS DURATION_SECS APPT_TYPE_ID " +
		"STATUS REASON NOTES CANCEL_REASON URGENT CREATED_AT UPDATED_AT DELETED")},
	"ALLERGY": {"ALLERGY", cols("ALLERGY_ID PATIENT_ID DOCTOR_ID SUBSTANCE SNOMED_CODE REACTION SEVERITY CATEGORY ONSET_DATE " +
		"RECORDED_AT CREATED_AT UPDATED_AT DELETED")},
	"PROBLEM": {"PROBLEM", cols("PROBLEM_ID PATIENT_ID DOCTOR_ID DESCRIPTION SNOMED_CODE ONSET_DATE RESOLVED_DATE IS_ACTIVE " +
		"RECORDED_AT CREATED_AT UPDATED_AT DELETED")},
	"MEDICATION": {"MEDICATION", cols("MEDICATION_ID PATIENT_ID DOCTOR_ID DRUG_NAME STRENGTH AMT_CODE DOSE_TEXT START_DATE " +
		"STOP_DATE IS_CURRENT RECORDED_AT CREATED_AT UPDATED_AT DELETED")},
	"IMMUNISATION": {"IMMUNISATION", cols("IMMUNISATION_ID PATIENT_ID DOCTOR_ID VACCINE_NAME AMT_CODE BATCH_NO DOSE_NO SITE " +
		"GIVEN_DATE CREATED_AT UPDATED_AT DELETED")},
	"MEASUREMENT": {"MEASUREMENT", cols("MEASUREMENT_ID PATIENT_ID DOCTOR_ID MEASURED_AT MEAS_TYPE VALUE_1 VALUE_2 UNIT " +
		"CREATED_AT UPDATED_AT DELETED")},
	"CONSULT": {"CONSULT", cols("CONSULT_ID PATIENT_ID DOCTOR_ID BRANCH_ID APPT_ID CONSULT_TYPE START_AT END_AT REASON " +
		"CREATED_AT UPDATED_AT DELETED")},
	"SCRIPT": {"SCRIPT", cols("SCRIPT_ID PATIENT_ID DOCTOR_ID CONSULT_ID MEDICATION_ID DRUG_NAME STRENGTH AMT_CODE DOSE_TEXT PRN " +
		"QUANTITY REPEATS SCRIPT_DATE STATUS CANCEL_REASON CREATED_AT UPDATED_AT DELETED")},
}

// tableNames is a table's real name and its columns' (assumed name to real name).
type tableNames struct {
	Name string
	Cols map[string]string
}

// cols reads a list of columns separated by spaces, each NAME or ASSUMED=REAL.
func cols(list string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(list) {
		assumed, real, ok := strings.Cut(f, "=")
		if !ok {
			real = assumed
		}
		m[assumed] = real
	}
	return m
}

// tableName is the real name of a table of the assumed schema.
func tableName(table string) (string, error) {
	t, ok := schema[table]
	if !ok {
		return "", fmt.Errorf("zedmed: no table %s in names.go", table)
	}
	return t.Name, nil
}

// column is alias.COLUMN for "TABLE.COLUMN" of the assumed schema.
func column(alias, name string) (string, error) {
	table, col, _ := strings.Cut(name, ".")
	t, ok := schema[table]
	if !ok {
		return "", fmt.Errorf("zedmed: no table %s in names.go", table)
	}
	real, ok := t.Cols[col]
	if !ok {
		return "", fmt.Errorf("zedmed: no column %s in names.go", name)
	}
	if alias == "" {
		return real, nil
	}
	return alias + "." + real, nil
}

// col is column for Go code: a name missing from names.go is a programming error, found as
// soon as the package loads.
func col(alias, name string) string {
	c, err := column(alias, name)
	if err != nil {
		panic(err)
	}
	return c
}

// tbl is tableName for Go code.
func tbl(table string) string {
	t, err := tableName(table)
	if err != nil {
		panic(err)
	}
	return t
}
