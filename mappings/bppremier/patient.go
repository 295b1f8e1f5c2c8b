package bppremier

import (
	_ "embed"
	"strconv"
	"strings"
	"time"

	"fhirlink/agent/wire"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
	"fhirlink/mappings/bppremier/bpsynth"
)

//go:embed patient.sql
var patientSQL string

// patientCols are Patient's columns in patient.sql. The other resources
// that name their patient take the name from here.
var patientCols = mappings.Cols{
	"id":                `p."INTERNALID"`,
	"status":            `p."PATIENTSTATUS"`,
	"title":             `t."TITLE"`,
	"first":             `p."FIRSTNAME"`,
	"middle":            `p."MIDDLENAME"`,
	"family":            `p."SURNAME"`,
	"preferred":         `p."PREFERREDNAME"`,
	"address1":          `p."ADDRESS1"`,
	"address2":          `p."ADDRESS2"`,
	"city":              `p."CITY"`,
	"postcode":          `p."POSTCODE"`,
	"postal_address":    `p."POSTALADDRESS"`,
	"postal_city":       `p."POSTALCITY"`,
	"postal_postcode":   `p."POSTALPOSTCODE"`,
	"dob":               `p."DOB"`,
	"dod":               `p."DATEOFDEATH"`,
	"sex":               `sx."SEX"`,
	"indigenous_status": `e."ETHNICTYPE"`,
	"home_phone":        `p."HOMEPHONE"`,
	"work_phone":        `p."WORKPHONE"`,
	"mobile_phone":      `p."MOBILEPHONE"`,
	"email":             `p."EMAIL"`,
	"ihi":               `p."IHI"`,
	"medicare":          `p."MEDICARENO"`,
	"medicare_irn":      `p."MEDICARELINENO"`,
	"medicare_expiry":   `p."MEDICAREEXPIRY"`,
	"dva":               `p."DVANO"`,
	"dva_card":          `dv."DVATYPE"`,
	"record_no":         `p."RECORDNO"`,
	"gp_id":             `u."USERID"`,
	"gp_title":          `ut."TITLE"`,
	"gp_first":          `u."FIRSTNAME"`,
	"gp_family":         `u."SURNAME"`,
	"org_id":            `pr."PRACTICEID"`,
	"org_name":          `pr."PRACTICENAME"`,
	"org_hpio":          `pr."HPIO"`,
	"org_abn":           `pr."ABN"`,
	"created":           `p."CREATED"`,
	"updated":           `p."UPDATED"`,
}

// Patient maps PATIENTS (aucore.Patient). Deleted records (RECORDSTATUS
// not live) never appear; inactive ones (PATIENTSTATUS not Active:
// inactive, deceased) are found with active false.
var Patient = aucore.Patient.Table(mappings.Impl[aucore.PatientCodes]{
	Cols:  patientCols,
	From:  patientSQL,
	Funcs: funcs,
	Codes: aucore.PatientCodes{
		Active: patientActive, Deceased: patientDeceased,
		Gender: gender, GenderSQL: genderSQL(), Indigenous: indigenousStatus,
		Identifiers:      patientIdentifiers,
		InternalIDSystem: patientIDSystem, RecordNumberSystem: recordNumberFallback,
	},
	IDs: patientIDsSQL,
})

// patientIDsSQL selects the live patients for chained searches
// (Condition?patient.identifier=...): whatever their status, as a reference
// by id finds them, with the practice row the identifier predicates name.
const patientIDsSQL = `SELECT p."INTERNALID"
    FROM "PATIENTS" p
    LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
    WHERE p."RECORDSTATUS" = 1{{.Where}}`

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
			card := "REPLACE(" + patientCols["medicare"] + ", ' ', '')"
			switch len(v) {
			case 10:
				return card + " = " + b.Param(mappings.ParamVarChar, v)
			case 11:
				return "(" + card + " = " + b.Param(mappings.ParamVarChar, v[:10]) +
					" AND " + b.Dialect.Trim(patientCols["medicare_irn"]) + " = " + b.Param(mappings.ParamVarChar, v[10:]) + ")"
			}
			return mappings.SQLFalse
		},
		Present: func(*mappings.Builder, string) string {
			return "REPLACE(" + patientCols["medicare"] + ", ' ', '') <> ''"
		},
	},
	mappings.IdentifierColumn(mappings.SystemDVA, patientCols["dva"], mappings.NoSpaces),
	recordNumber(mappings.SystemHPIOScopedRecord, patientCols["org_hpio"], false),
	recordNumber(mappings.SystemABNScopedRecord, "REPLACE("+patientCols["org_abn"]+", ' ', '')", true),
	recordNumber(recordNumberFallback, "", true),
	internalID(true),
	internalID(false),
}

// internalID is the patient internal identifier, in the system scoped by
// the practice's HPI-O or ABN or in the unscoped one; only searched with
// its system.
func internalID(scoped bool) mappings.IdentifierSystem {
	match := func(b *mappings.Builder, scope, pred string) string {
		if scope == "" {
			return pred
		}
		p := b.Param(mappings.ParamVarChar, scope)
		return "(" + pred + " AND (" + b.Dialect.Trim(patientCols["org_hpio"]) + " = " + p + " OR REPLACE(" + patientCols["org_abn"] + ", ' ', '') = " + p + "))"
	}
	return mappings.IdentifierSystem{
		System:     patientIDSystem,
		Scoped:     scoped,
		SystemOnly: true,
		Match: func(b *mappings.Builder, scope, value string) string {
			id, err := strconv.ParseInt(value, 10, 32)
			if err != nil || strconv.FormatInt(id, 10) != value {
				return mappings.SQLFalse
			}
			return match(b, scope, patientCols["id"]+" = "+b.Param(mappings.ParamInt, value))
		},
		Present: func(b *mappings.Builder, scope string) string { return match(b, scope, mappings.SQLTrue) },
	}
}

// recordNumber is the practice record number (RECORDNO) in a system scoped
// by the practice identifier in scopeExpr (none for the fallback system).
// Only the first of the three is searched by a bare value.
func recordNumber(system, scopeExpr string, systemOnly bool) mappings.IdentifierSystem {
	scoped := func(b *mappings.Builder, scope, pred string) string {
		if scopeExpr == "" || scope == "" {
			return pred
		}
		return "(" + pred + " AND " + b.Dialect.Trim(scopeExpr) + " = " + b.Param(mappings.ParamVarChar, scope) + ")"
	}
	return mappings.IdentifierSystem{
		System:     system,
		Scoped:     scopeExpr != "",
		SystemOnly: systemOnly,
		Match: func(b *mappings.Builder, scope, value string) string {
			return scoped(b, scope, b.Dialect.EqualFold(patientCols["record_no"], b.Param(mappings.ParamVarChar, strings.TrimSpace(value))))
		},
		Present: func(b *mappings.Builder, scope string) string {
			return scoped(b, scope, b.Dialect.Trim(patientCols["record_no"])+" <> ''")
		},
	}
}

// genderSexCode is the SEXCODE of each FHIR gender a new patient is
// registered with (0, not stated, for none). ASSUMED, like the synthetic
// database's numbers: Bp's SEX texts are seen, their numbers are not.
var genderSexCode = map[string]int{"male": 1, "female": 2, "other": 3}

// addPatient is BP_AddPatient with every parameter the procedure takes
// (blank or 0 for what FHIR did not give); on SQLite, the replica's
// statement. It answers the new INTERNALID.
func addPatient(engine string, p mappings.NewPatient) mappings.Write {
	text := mappings.TextParam
	params := []wire.Param{
		mappings.IntParam("titlecode", 0), text("firstname", p.Given), text("middlename", p.Middle), text("surname", p.Family),
		text("preferredname", ""), text("address1", p.Line1), text("address2", p.Line2), text("city", p.City),
		text("postcode", p.Postcode), text("postaladdress", ""), text("postalcity", ""), text("postalpostcode", ""),
		mappings.DateOrNull("dob", p.BirthDate), mappings.IntParam("sexcode", genderSexCode[p.Gender]),
		text("homephone", p.HomePhone), text("workphone", ""), text("mobilephone", p.MobilePhone),
		text("medicareno", p.Medicare), text("medicarelineno", p.MedicareIRN), text("medicareexpiry", ""),
		mappings.IntParam("pensioncode", 0), text("pensionno", ""), mappings.DateOrNull("pensionexpiry", time.Time{}),
		mappings.IntParam("dvacode", 0), text("dvano", ""), text("recordno", ""), text("externalid", ""), text("email", p.Email),
		mappings.IntParam("headoffamilyid", 0), mappings.IntParam("ethniccode", 0), mappings.IntParam("consentsmsreminder", 0),
		mappings.IntParam("nextofkinid", 0),
	}
	w := mappings.Write{Query: mappings.Query{SQL: "BP_AddPatient", Params: params}, Procedure: true, IDColumn: "INTERNALID"}
	if engine == mappings.EngineSQLite {
		w.SQL, w.Procedure = bpsynth.SQLiteAddPatient, false
	}
	return w
}
