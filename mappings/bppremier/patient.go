package bppremier

import (
	_ "embed"
	"encoding/json"
	"strconv"
	"strings"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed patient.sql
var patientSQL string

// Patient maps PATIENTS. Deleted records (RECORDSTATUS not live) never
// appear; inactive ones (PATIENTSTATUS not Active: inactive, deceased) are
// found like any other, with active false (read and search agree;
// active=true leaves them out).
var Patient = mappings.NewTable(mappings.TableSpec{
	Type:     "Patient",
	Profiles: []string{mappings.ProfilePatient},
	SQL:      patientSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(`p."UPDATED"`, `p."CREATED"`),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The patient's INTERNALID",
			Match: mappings.ID(`p."INTERNALID"`)},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "IHI, Medicare number (10 digits, or 11 with the IRN), DVA number or the practice's record number",
			Match: mappings.Identifiers(patientIdentifiers...)},
		{Name: "family", Type: fhir.TypeString, Doc: "Surname",
			Match: mappings.String(mappings.Col(`p."SURNAME"`))},
		{Name: "given", Type: fhir.TypeString, Doc: "First, middle or preferred name",
			Match: mappings.String(mappings.Col(`p."FIRSTNAME"`), mappings.Col(`p."MIDDLENAME"`), mappings.Col(`p."PREFERREDNAME"`))},
		{Name: "name", Type: fhir.TypeString, Doc: "Any part of the name: surname, first, middle or preferred name",
			Match: mappings.String(mappings.Col(`p."SURNAME"`), mappings.Col(`p."FIRSTNAME"`), mappings.Col(`p."MIDDLENAME"`), mappings.Col(`p."PREFERREDNAME"`))},
		{Name: "birthdate", Type: fhir.TypeDate, Doc: "Date of birth",
			Match: mappings.Date(`p."DOB"`)},
		{Name: "gender", Type: fhir.TypeToken, Doc: "male | female | other | unknown, from the patient's sex",
			Match: mappings.Codes(mappings.AdministrativeGenderCodeSystem, genderSQL())},
		{Name: "phone", Type: fhir.TypeToken, Doc: "Home, work or mobile phone, ignoring spaces and punctuation",
			Match: mappings.Phone(`p."HOMEPHONE"`, `p."WORKPHONE"`, `p."MOBILEPHONE"`)},
		{Name: "email", Type: fhir.TypeToken, Doc: "E-mail address, ignoring case",
			Match: mappings.Email(`p."EMAIL"`)},
		{Name: "address-postalcode", Type: fhir.TypeString, Doc: "Postcode of the home or postal address",
			Match: mappings.String(mappings.Col(`p."POSTCODE"`), mappings.Col(`p."POSTALPOSTCODE"`))},
		{Name: "active", Type: fhir.TypeToken, Doc: "true: an active patient; false: inactive or deceased",
			Match: mappings.Bool(`p."PATIENTSTATUS" = 1`, `p."PATIENTSTATUS" <> 1`)},
		{Name: "general-practitioner", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The patient's usual doctor",
			Match: mappings.Reference(`u."USERID"`, "Practitioner")},
	},
	Sorts: map[string]mappings.Sort{
		"_id":       mappings.SortInt(`p."INTERNALID"`),
		"family":    mappings.SortText(`p."SURNAME"`),
		"given":     mappings.SortText(`p."FIRSTNAME"`),
		"birthdate": mappings.SortDateTime(`p."DOB"`),
	},
	Includes:     []fhir.Include{{Source: "Patient", Param: "general-practitioner", Target: "Practitioner"}},
	RevIncludes:  patientRevIncludes,
	IDs:          patientIDsSQL,
	DefaultCount: 20, MaxCount: 200,
	Row: patientRow,
})

// patientRevIncludes are the resources found by their patient reference
// with Patient?_revinclude=.
var patientRevIncludes = func() []fhir.Include {
	var out []fhir.Include
	for _, src := range []string{"AllergyIntolerance", "Appointment", "Condition", "Encounter", "Immunization",
		"MedicationRequest", "MedicationStatement", "Observation"} {
		out = append(out, fhir.Include{Source: src, Param: "patient", Target: "Patient"})
	}
	return out
}()

// patientIDsSQL selects the live patients for chained searches
// (Condition?patient.identifier=...): whatever their status, as a reference
// by id finds them, with the practice row the identifier predicates name.
const patientIDsSQL = `SELECT p."INTERNALID"
    FROM "PATIENTS" p
    LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
    WHERE p."RECORDSTATUS" = 1{{.Where}}`

// patientChain lets a patient reference held in column be chained by the
// patient's identifier (IHI, Medicare, DVA or record number).
func patientChain(column string) *mappings.Chain {
	return &mappings.Chain{Column: column, Target: Patient, Params: []string{"identifier"}}
}

// patientIdentifiers are the identifier systems a patient is searched by.
var patientIdentifiers = []mappings.IdentifierSystem{
	mappings.IdentifierColumn(mappings.SystemIHI, `p."IHI"`, noSpaces),
	{
		System: mappings.SystemMedicare,
		// 10 digits: the card; 11: the card and the IRN.
		Match: func(b *mappings.Builder, _, value string) string {
			v := noSpaces(value)
			if mappings.Digits(v) != v {
				return mappings.SQLFalse
			}
			card := `REPLACE(p."MEDICARENO", ' ', '')`
			switch len(v) {
			case 10:
				return card + " = " + b.Param(mappings.ParamVarChar, v)
			case 11:
				return "(" + card + " = " + b.Param(mappings.ParamVarChar, v[:10]) +
					" AND " + b.Dialect.Trim(`p."MEDICARELINENO"`) + " = " + b.Param(mappings.ParamVarChar, v[10:]) + ")"
			}
			return mappings.SQLFalse
		},
		Present: func(*mappings.Builder, string) string { return `REPLACE(p."MEDICARENO", ' ', '') <> ''` },
	},
	mappings.IdentifierColumn(mappings.SystemDVA, `p."DVANO"`, noSpaces),
	recordNumber(mappings.SystemHPIOScopedRecord, `pr."HPIO"`, false),
	recordNumber(mappings.SystemABNScopedRecord, `REPLACE(pr."ABN", ' ', '')`, true),
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
		return "(" + pred + " AND (" + b.Dialect.Trim(`pr."HPIO"`) + " = " + p + ` OR REPLACE(pr."ABN", ' ', '') = ` + p + "))"
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
			return match(b, scope, `p."INTERNALID" = `+b.Param(mappings.ParamInt, value))
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
			return scoped(b, scope, b.Dialect.EqualFold(`p."RECORDNO"`, b.Param(mappings.ParamVarChar, strings.TrimSpace(value))))
		},
		Present: func(b *mappings.Builder, scope string) string {
			return scoped(b, scope, b.Dialect.Trim(`p."RECORDNO"`)+" <> ''")
		},
	}
}

func noSpaces(s string) string { return strings.Join(strings.Fields(s), "") }

// patientColumns is one row of patient.sql.
type patientColumns struct {
	ID             mappings.Int  `json:"id"`
	Status         mappings.Int  `json:"status"`
	Title          mappings.Text `json:"title"`
	First          mappings.Text `json:"first"`
	Middle         mappings.Text `json:"middle"`
	Family         mappings.Text `json:"family"`
	Preferred      mappings.Text `json:"preferred"`
	Address1       mappings.Text `json:"address1"`
	Address2       mappings.Text `json:"address2"`
	City           mappings.Text `json:"city"`
	Postcode       mappings.Text `json:"postcode"`
	PostalAddress  mappings.Text `json:"postal_address"`
	PostalCity     mappings.Text `json:"postal_city"`
	PostalPostcode mappings.Text `json:"postal_postcode"`
	DOB            mappings.Wall `json:"dob"`
	DOD            mappings.Wall `json:"dod"`
	Sex            mappings.Text `json:"sex"`
	Ethnicity      mappings.Text `json:"ethnicity"`
	HomePhone      mappings.Text `json:"home_phone"`
	WorkPhone      mappings.Text `json:"work_phone"`
	MobilePhone    mappings.Text `json:"mobile_phone"`
	Email          mappings.Text `json:"email"`
	IHI            mappings.Text `json:"ihi"`
	Medicare       mappings.Text `json:"medicare"`
	MedicareIRN    mappings.Text `json:"medicare_irn"`
	MedicareExpiry mappings.Text `json:"medicare_expiry"`
	DVA            mappings.Text `json:"dva"`
	DVACard        mappings.Text `json:"dva_card"`
	RecordNo       mappings.Text `json:"record_no"`
	GPID           mappings.Int  `json:"gp_id"`
	GPTitle        mappings.Text `json:"gp_title"`
	GPFirst        mappings.Text `json:"gp_first"`
	GPFamily       mappings.Text `json:"gp_family"`
	practiceColumns
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

// practiceColumns are the practice's columns a row carries.
type practiceColumns struct {
	OrgID   mappings.Int  `json:"org_id"`
	OrgName mappings.Text `json:"org_name"`
	OrgHPIO mappings.Text `json:"org_hpio"`
	OrgABN  mappings.Text `json:"org_abn"`
}

// ref is the reference to the practice's Organization, nil without one.
func (c practiceColumns) ref() *fm.Reference {
	if c.OrgID == 0 {
		return nil
	}
	return mappings.Ref("Organization", c.OrgID.ID(), string(c.OrgName))
}

func patientRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c patientColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	p := fm.Patient{
		Id:     mappings.Ptr(c.ID.ID()),
		Meta:   meta(mappings.ProfilePatient, c.Updated, c.Created, site),
		Active: mappings.Ptr(c.Status == patientActive),
	}

	// Identifiers, the internal one last: every patient has it.
	if c.IHI != "" {
		p.Identifier = append(p.Identifier, mappings.IHI(string(c.IHI)))
	}
	if id, ok := mappings.Medicare(string(c.Medicare), string(c.MedicareIRN), string(c.MedicareExpiry)); ok {
		p.Identifier = append(p.Identifier, id)
	}
	if c.DVA != "" {
		p.Identifier = append(p.Identifier, mappings.DVA(string(c.DVA), string(c.DVACard)))
	}
	if c.RecordNo != "" {
		p.Identifier = append(p.Identifier, mappings.RecordNumber(string(c.RecordNo), string(c.OrgHPIO), string(c.OrgABN),
			recordNumberFallback, string(c.OrgName)))
	}
	idSystem := patientIDSystem
	if scope := mappings.PracticeScope(string(c.OrgHPIO), string(c.OrgABN)); scope != "" {
		idSystem += "/" + scope
	}
	p.Identifier = append(p.Identifier, mappings.InternalID(idSystem, c.ID.ID(), string(c.OrgName)))

	// Names: the official name and, when there is one, the preferred name.
	official := fm.HumanName{Use: mappings.Ptr(fm.NameUseOfficial)}
	if c.Family != "" {
		official.Family = mappings.Ptr(string(c.Family))
	}
	for _, g := range []mappings.Text{c.First, c.Middle} {
		if g != "" {
			official.Given = append(official.Given, string(g))
		}
	}
	if c.Title != "" {
		official.Prefix = []string{string(c.Title)}
	}
	if official.Family == nil && official.Given == nil {
		official.Text = mappings.Ptr("Unknown")
	}
	p.Name = []fm.HumanName{official}
	if c.Preferred != "" {
		usual := fm.HumanName{Use: mappings.Ptr(fm.NameUseUsual), Given: []string{string(c.Preferred)}}
		if c.Family != "" {
			usual.Family = mappings.Ptr(string(c.Family))
		}
		p.Name = append(p.Name, usual)
	}

	// Contact details.
	p.Telecom = mappings.Telecom(p.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseHome, string(c.HomePhone))
	p.Telecom = mappings.Telecom(p.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseWork, string(c.WorkPhone))
	p.Telecom = mappings.Telecom(p.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseMobile, string(c.MobilePhone))
	p.Telecom = mappings.Telecom(p.Telecom, fm.ContactPointSystemEmail, fm.ContactPointUseHome, string(c.Email))
	postal := mappings.Address(fm.AddressUseHome, fm.AddressTypePostal, []string{string(c.PostalAddress)}, string(c.PostalCity), string(c.PostalPostcode))
	homeType := fm.AddressTypeBoth
	if postal != nil {
		homeType = fm.AddressTypePhysical
	}
	if home := mappings.Address(fm.AddressUseHome, homeType, []string{string(c.Address1), string(c.Address2)}, string(c.City), string(c.Postcode)); home != nil {
		p.Address = append(p.Address, *home)
	}
	if postal != nil {
		p.Address = append(p.Address, *postal)
	}

	// Demographics.
	g := fm.AdministrativeGenderUnknown
	switch gender(string(c.Sex)) {
	case "male":
		g = fm.AdministrativeGenderMale
	case "female":
		g = fm.AdministrativeGenderFemale
	case "other":
		g = fm.AdministrativeGenderOther
	}
	p.Gender = &g
	if !c.DOB.IsZero() {
		p.BirthDate = mappings.Ptr(c.DOB.Date())
	}
	switch {
	case !c.DOD.IsZero():
		p.DeceasedDateTime = mappings.Ptr(c.DOD.DateTime(site.Location))
	case c.Status == patientDeceased:
		p.DeceasedBoolean = mappings.Ptr(true)
	}
	if s, ok := indigenousStatus[strings.ToLower(string(c.Ethnicity))]; ok {
		p.Extension = append(p.Extension, fm.Extension{
			Url:         mappings.ExtensionIndigenousStatus,
			ValueCoding: &fm.Coding{System: mappings.Ptr(mappings.CodeSystemIndigenousStatus), Code: mappings.Ptr(s[0]), Display: mappings.Ptr(s[1])},
		})
	}

	// The practice and the usual doctor.
	p.ManagingOrganization = c.practiceColumns.ref()
	var refs map[string][]string
	if c.GPID != 0 {
		p.GeneralPractitioner = []fm.Reference{*mappings.Ref("Practitioner", c.GPID.ID(),
			mappings.PersonName(string(c.GPTitle), string(c.GPFirst), string(c.GPFamily)))}
		refs = map[string][]string{"general-practitioner": {c.GPID.ID()}}
	}

	raw, err := mappings.Marshal("Patient", fm.OtherPatient(p))
	if err != nil {
		return mappings.Row{}, err
	}
	if p.BirthDate == nil {
		// AU Core requires a birth date: say why it is missing.
		raw = addProperty(raw, "_birthDate", dataAbsentUnknown)
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}
