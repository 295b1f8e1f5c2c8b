package zedmed

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

// p is a column of PATIENT p.
func p(name string) string { return col("p", "PATIENT."+name) }

// Patient maps PATIENT. Deleted records never appear; inactive and deceased ones are found
// like any other, with active false (read and search agree; active=true leaves them out).
var Patient = mappings.NewTable(mappings.TableSpec{
	Type:     "Patient",
	Profiles: []string{mappings.ProfilePatient},
	SQL:      patientSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		{Name: "_id", Type: fhir.TypeToken, Doc: "The patient's PATIENT_ID",
			Match: mappings.ID(p("PATIENT_ID"))},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "IHI, Medicare number (10 digits, or 11 with the IRN), DVA number or the chart number",
			Match: mappings.Identifiers(patientIdentifiers...)},
		{Name: "family", Type: fhir.TypeString, Doc: "Surname",
			Match: mappings.String(mappings.Col(p("SURNAME")))},
		{Name: "given", Type: fhir.TypeString, Doc: "First, middle or preferred name",
			Match: mappings.String(mappings.Col(p("FIRST_NAME")), mappings.Col(p("MIDDLE_NAME")), mappings.Col(p("PREFERRED_NAME")))},
		{Name: "name", Type: fhir.TypeString, Doc: "Any part of the name: surname, first, middle or preferred name",
			Match: mappings.String(mappings.Col(p("SURNAME")), mappings.Col(p("FIRST_NAME")), mappings.Col(p("MIDDLE_NAME")), mappings.Col(p("PREFERRED_NAME")))},
		{Name: "birthdate", Type: fhir.TypeDate, Doc: "Date of birth",
			Match: mappings.Date(p("DOB"))},
		{Name: "gender", Type: fhir.TypeToken, Doc: "male | female | other | unknown, from the patient's sex",
			Match: mappings.Codes(mappings.AdministrativeGenderCodeSystem, genderSQL())},
		{Name: "phone", Type: fhir.TypeToken, Doc: "Home, work or mobile phone, ignoring spaces and punctuation",
			Match: mappings.Phone(p("HOME_PHONE"), p("WORK_PHONE"), p("MOBILE_PHONE"))},
		{Name: "email", Type: fhir.TypeToken, Doc: "E-mail address, ignoring case",
			Match: mappings.Email(p("EMAIL"))},
		{Name: "address-postalcode", Type: fhir.TypeString, Doc: "Postcode of the home or postal address",
			Match: mappings.String(mappings.Col(p("POSTCODE")), mappings.Col(p("POSTAL_POSTCODE")))},
		{Name: "active", Type: fhir.TypeToken, Doc: "true: an active patient; false: inactive or deceased",
			Match: mappings.Bool(p("STATUS")+" = "+strconv.Itoa(patientActive), p("STATUS")+" <> "+strconv.Itoa(patientActive))},
		{Name: "general-practitioner", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The patient's usual doctor",
			Match: mappings.Reference(col("d", "DOCTOR.DOCTOR_ID"), "Practitioner")},
	},
	Sorts: map[string]mappings.Sort{
		"_id":       mappings.SortInt(p("PATIENT_ID")),
		"family":    mappings.SortText(p("SURNAME")),
		"given":     mappings.SortText(p("FIRST_NAME")),
		"birthdate": mappings.SortDateTime(p("DOB")),
	},
	Includes:     []fhir.Include{{Source: "Patient", Param: "general-practitioner", Target: "Practitioner"}},
	RevIncludes:  patientRevIncludes(),
	IDs:          "SELECT " + p("PATIENT_ID") + "\n    FROM " + tbl("PATIENT") + " p\n    " + practiceJoin() + "\n    WHERE " + live("p", "PATIENT") + "{{.Where}}",
	DefaultCount: 20, MaxCount: 200,
	Row: patientRow,
})

// patientRevSources are the resources found by their patient reference with
// Patient?_revinclude= (those this mapping has).
var patientRevSources = []string{"AllergyIntolerance", "Appointment", "Condition", "Encounter", "Immunization", "MedicationRequest", "MedicationStatement", "Observation"}

func patientRevIncludes() []fhir.Include {
	var out []fhir.Include
	for _, src := range patientRevSources {
		out = append(out, fhir.Include{Source: src, Param: "patient", Target: "Patient"})
	}
	return out
}

// patientChain lets a patient reference held in column be chained by the patient's
// identifier.
func patientChain(column string) *mappings.Chain {
	return &mappings.Chain{Column: column, Target: Patient, Params: []string{"identifier"}}
}

func noSpaces(s string) string { return strings.Join(strings.Fields(s), "") }

// practiceScoped is pred restricted to the practice whose HPI-O or ABN is scope.
func practiceScoped(b *mappings.Builder, scope, pred string) string {
	if scope == "" {
		return pred
	}
	v := b.Param(mappings.ParamVarChar, scope)
	// Through the dialect: on Firebird a bare parameter takes the column's
	// width, and a 16-digit HPI-O compared with the 14-character ABN failed.
	return "(" + pred + " AND (" + b.Dialect.Equal(col("pr", "PRACTICE.HPIO"), v) +
		" OR " + b.Dialect.Equal("REPLACE("+col("pr", "PRACTICE.ABN")+", ' ', '')", v) + "))"
}

// patientIdentifiers are the identifier systems a patient is searched by.
var patientIdentifiers = []mappings.IdentifierSystem{
	mappings.IdentifierColumn(mappings.SystemIHI, p("IHI"), noSpaces),
	{
		System: mappings.SystemMedicare,
		// 10 digits: the card; 11: the card and the IRN.
		Match: func(b *mappings.Builder, _, value string) string {
			v := noSpaces(value)
			if mappings.Digits(v) != v {
				return mappings.SQLFalse
			}
			switch len(v) {
			case 10:
				return p("MEDICARE_NO") + " = " + b.Param(mappings.ParamVarChar, v)
			case 11:
				return "(" + p("MEDICARE_NO") + " = " + b.Param(mappings.ParamVarChar, v[:10]) +
					" AND " + p("MEDICARE_IRN") + " = " + b.Param(mappings.ParamVarChar, v[10:]) + ")"
			}
			return mappings.SQLFalse
		},
		Present: func(*mappings.Builder, string) string { return "COALESCE(" + p("MEDICARE_NO") + ", '') <> ''" },
	},
	mappings.IdentifierColumn(mappings.SystemDVA, p("DVA_NO"), noSpaces),
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
			return practiceScoped(b, scope, b.Dialect.EqualFold(p("CHART_NO"), b.Param(mappings.ParamVarChar, strings.TrimSpace(value))))
		},
		Present: func(b *mappings.Builder, scope string) string {
			return practiceScoped(b, scope, "COALESCE("+p("CHART_NO")+", '') <> ''")
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
			return practiceScoped(b, scope, p("PATIENT_ID")+" = "+b.Param(mappings.ParamInt, value))
		},
		Present: func(b *mappings.Builder, scope string) string { return practiceScoped(b, scope, mappings.SQLTrue) },
	}
}

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
	ATSI           mappings.Int  `json:"atsi"`
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

func patientRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c patientColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	pt := fm.Patient{
		Id:     mappings.Ptr(c.ID.ID()),
		Meta:   meta(mappings.ProfilePatient, c.Updated, c.Created, site),
		Active: mappings.Ptr(c.Status == patientActive),
	}
	if c.IHI != "" {
		pt.Identifier = append(pt.Identifier, mappings.IHI(string(c.IHI)))
	}
	if id, ok := mappings.Medicare(string(c.Medicare), string(c.MedicareIRN), string(c.MedicareExpiry)); ok {
		pt.Identifier = append(pt.Identifier, id)
	}
	if c.DVA != "" {
		pt.Identifier = append(pt.Identifier, mappings.DVA(string(c.DVA), dvaCards[strings.ToUpper(string(c.DVACard))]))
	}
	if c.RecordNo != "" {
		pt.Identifier = append(pt.Identifier, mappings.RecordNumber(string(c.RecordNo), string(c.OrgHPIO), string(c.OrgABN),
			recordNumberFallback, string(c.OrgName)))
	}
	idSystem := patientIDSystem
	if scope := mappings.PracticeScope(string(c.OrgHPIO), string(c.OrgABN)); scope != "" {
		idSystem += "/" + scope
	}
	pt.Identifier = append(pt.Identifier, mappings.InternalID(idSystem, c.ID.ID(), string(c.OrgName)))

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
	pt.Name = []fm.HumanName{official}
	if c.Preferred != "" {
		usual := fm.HumanName{Use: mappings.Ptr(fm.NameUseUsual), Given: []string{string(c.Preferred)}}
		if c.Family != "" {
			usual.Family = mappings.Ptr(string(c.Family))
		}
		pt.Name = append(pt.Name, usual)
	}

	pt.Telecom = mappings.Telecom(pt.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseHome, string(c.HomePhone))
	pt.Telecom = mappings.Telecom(pt.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseWork, string(c.WorkPhone))
	pt.Telecom = mappings.Telecom(pt.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseMobile, string(c.MobilePhone))
	pt.Telecom = mappings.Telecom(pt.Telecom, fm.ContactPointSystemEmail, fm.ContactPointUseHome, string(c.Email))
	postal := mappings.Address(fm.AddressUseHome, fm.AddressTypePostal, []string{string(c.PostalAddress)}, string(c.PostalCity), string(c.PostalPostcode))
	homeType := fm.AddressTypeBoth
	if postal != nil {
		homeType = fm.AddressTypePhysical
	}
	if home := mappings.Address(fm.AddressUseHome, homeType, []string{string(c.Address1), string(c.Address2)}, string(c.City), string(c.Postcode)); home != nil {
		pt.Address = append(pt.Address, *home)
	}
	if postal != nil {
		pt.Address = append(pt.Address, *postal)
	}

	var g fm.AdministrativeGender
	switch gender(string(c.Sex)) {
	case "male":
		g = fm.AdministrativeGenderMale
	case "female":
		g = fm.AdministrativeGenderFemale
	case "other":
		g = fm.AdministrativeGenderOther
	default:
		g = fm.AdministrativeGenderUnknown
	}
	pt.Gender = &g
	if !c.DOB.IsZero() {
		pt.BirthDate = mappings.Ptr(c.DOB.Date())
	}
	switch {
	case !c.DOD.IsZero():
		pt.DeceasedDateTime = mappings.Ptr(c.DOD.DateTime(site.Location))
	case c.Status == patientDeceased:
		pt.DeceasedBoolean = mappings.Ptr(true)
	}
	if display, ok := indigenousStatus[int(c.ATSI)]; ok {
		pt.Extension = append(pt.Extension, fm.Extension{
			Url: mappings.ExtensionIndigenousStatus,
			ValueCoding: &fm.Coding{System: mappings.Ptr(mappings.CodeSystemIndigenousStatus), Code: mappings.Ptr(strconv.Itoa(int(c.ATSI))),
				Display: mappings.Ptr(display)},
		})
	}

	pt.ManagingOrganization = c.practiceColumns.ref()
	var refs map[string][]string
	if c.GPID != 0 {
		pt.GeneralPractitioner = []fm.Reference{*mappings.Ref("Practitioner", c.GPID.ID(),
			mappings.PersonName(string(c.GPTitle), string(c.GPFirst), string(c.GPFamily)))}
		refs = map[string][]string{"general-practitioner": {c.GPID.ID()}}
	}
	raw, err := mappings.Marshal("Patient", fm.OtherPatient(pt))
	if err != nil {
		return mappings.Row{}, err
	}
	if pt.BirthDate == nil {
		raw = addProperty(raw, "_birthDate", dataAbsentUnknown)
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}
