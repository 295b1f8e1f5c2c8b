package zedmed

import (
	_ "embed"
	"strconv"
	"strings"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed patient.sql
var patientSQL string

// p is a column of PATIENT p.
func p(name string) string { return col("p", "PATIENT."+name) }

// patientCols are Patient's columns in patient.sql. The other resources
// that name their patient take the name from here.
var patientCols = mappings.Cols{
	"id":                p("PATIENT_ID"),
	"status":            p("STATUS"),
	"title":             p("TITLE"),
	"first":             p("FIRST_NAME"),
	"middle":            p("MIDDLE_NAME"),
	"family":            p("SURNAME"),
	"preferred":         p("PREFERRED_NAME"),
	"address1":          p("ADDRESS_1"),
	"address2":          p("ADDRESS_2"),
	"city":              p("SUBURB"),
	"postcode":          p("POSTCODE"),
	"postal_address":    p("POSTAL_ADDRESS"),
	"postal_city":       p("POSTAL_SUBURB"),
	"postal_postcode":   p("POSTAL_POSTCODE"),
	"dob":               p("DOB"),
	"dod":               p("DOD"),
	"sex":               p("SEX"),
	"indigenous_status": p("ATSI"),
	"home_phone":        p("HOME_PHONE"),
	"work_phone":        p("WORK_PHONE"),
	"mobile_phone":      p("MOBILE_PHONE"),
	"email":             p("EMAIL"),
	"ihi":               p("IHI"),
	"medicare":          p("MEDICARE_NO"),
	"medicare_irn":      p("MEDICARE_IRN"),
	"medicare_expiry":   p("MEDICARE_EXPIRY"),
	"dva":               p("DVA_NO"),
	"dva_card":          p("DVA_CARD"),
	"record_no":         p("CHART_NO"),
	"gp_id":             d("DOCTOR_ID"),
	"gp_title":          d("TITLE"),
	"gp_first":          d("FIRST_NAME"),
	"gp_family":         d("SURNAME"),
	"org_id":            col("pr", "PRACTICE.PRACTICE_ID"),
	"org_name":          col("pr", "PRACTICE.PRACTICE_NAME"),
	"org_hpio":          col("pr", "PRACTICE.HPIO"),
	"org_abn":           col("pr", "PRACTICE.ABN"),
	"created":           p("CREATED_AT"),
	"updated":           p("UPDATED_AT"),
}

// Patient maps PATIENT (aucore.Patient). Deleted records never appear;
// inactive and deceased ones are found with active false.
var Patient = aucore.Patient.Table(mappings.Impl[aucore.PatientCodes]{
	Cols:  patientCols,
	From:  patientSQL,
	Funcs: funcs,
	Codes: aucore.PatientCodes{
		Active: patientActive, Deceased: patientDeceased,
		Gender: gender, GenderSQL: genderSQL(), Indigenous: indigenousStatus,
		Identifiers:      patientIdentifiers,
		DVACard:          func(card string) string { return dvaCards[strings.ToUpper(card)] },
		InternalIDSystem: patientIDSystem, RecordNumberSystem: recordNumberFallback,
	},
	IDs: "SELECT " + p("PATIENT_ID") + "\n    FROM " + tbl("PATIENT") + " p\n    " + practiceJoin() + "\n    WHERE " + live("p", "PATIENT") + "{{.Where}}",
})

// practiceScoped is pred restricted to the practice whose HPI-O or ABN is scope.
func practiceScoped(b *mappings.Builder, scope, pred string) string {
	if scope == "" {
		return pred
	}
	v := b.Param(mappings.ParamVarChar, scope)
	// Through the dialect: on Firebird a bare parameter takes the column's
	// width, and a 16-digit HPI-O compared with the 14-character ABN failed.
	return "(" + pred + " AND (" + b.Dialect.Equal(patientCols["org_hpio"], v) +
		" OR " + b.Dialect.Equal("REPLACE("+patientCols["org_abn"]+", ' ', '')", v) + "))"
}

// patientIdentifiers are the identifier systems a patient is searched by.
var patientIdentifiers = []mappings.IdentifierSystem{
	mappings.IdentifierColumn(mappings.SystemIHI, patientCols["ihi"], mappings.NoSpaces),
	{
		System: mappings.SystemMedicare,
		// 10 digits: the card; 11: the card and the IRN.
		Match: func(b *mappings.Builder, _, value string) string {
			v := mappings.NoSpaces(value)
			if mappings.Digits(v) != v {
				return mappings.SQLFalse
			}
			switch len(v) {
			case 10:
				return patientCols["medicare"] + " = " + b.Param(mappings.ParamVarChar, v)
			case 11:
				return "(" + patientCols["medicare"] + " = " + b.Param(mappings.ParamVarChar, v[:10]) +
					" AND " + patientCols["medicare_irn"] + " = " + b.Param(mappings.ParamVarChar, v[10:]) + ")"
			}
			return mappings.SQLFalse
		},
		Present: func(*mappings.Builder, string) string { return "COALESCE(" + patientCols["medicare"] + ", '') <> ''" },
	},
	mappings.IdentifierColumn(mappings.SystemDVA, patientCols["dva"], mappings.NoSpaces),
	chartNumber(mappings.SystemHPIOScopedRecord, true, false),
	chartNumber(mappings.SystemABNScopedRecord, true, true),
	chartNumber(recordNumberFallback, false, true),
	internalID(true),
	internalID(false),
}

// chartNumber is CHART_NO in a record-number system, scoped by the practice's HPI-O or ABN or
// not. Only the first is searched by a bare value.
func chartNumber(system string, scoped, systemOnly bool) mappings.IdentifierSystem {
	return mappings.IdentifierSystem{
		System:     system,
		Scoped:     scoped,
		SystemOnly: systemOnly,
		Match: func(b *mappings.Builder, scope, value string) string {
			return practiceScoped(b, scope, b.Dialect.EqualFold(patientCols["record_no"], b.Param(mappings.ParamVarChar, strings.TrimSpace(value))))
		},
		Present: func(b *mappings.Builder, scope string) string {
			return practiceScoped(b, scope, "COALESCE("+patientCols["record_no"]+", '') <> ''")
		},
	}
}

// internalID is the patient internal identifier (PATIENT_ID), scoped or not; only searched
// with its system.
func internalID(scoped bool) mappings.IdentifierSystem {
	return mappings.IdentifierSystem{
		System:     patientIDSystem,
		Scoped:     scoped,
		SystemOnly: true,
		Match: func(b *mappings.Builder, scope, value string) string {
			id, err := strconv.ParseInt(value, 10, 32)
			if err != nil || strconv.FormatInt(id, 10) != value {
				return mappings.SQLFalse
			}
			return practiceScoped(b, scope, patientCols["id"]+" = "+b.Param(mappings.ParamInt, value))
		},
		Present: func(b *mappings.Builder, scope string) string { return practiceScoped(b, scope, mappings.SQLTrue) },
	}
}
