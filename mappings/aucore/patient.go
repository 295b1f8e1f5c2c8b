package aucore

import (
	"strings"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// PatientCodes are a PMS's code values for Patient.
type PatientCodes struct {
	// Active and Deceased are the values of the status column for an
	// active patient and a deceased one.
	Active, Deceased int
	// Gender is the FHIR administrative gender of a sex value, GenderSQL
	// the gender search: each gender as a predicate on the PMS's row.
	Gender    func(sex string) string
	GenderSQL map[string]string
	// Identifiers are the identifier systems a patient is searched by, as
	// the PMS stores each.
	Identifiers []mappings.IdentifierSystem
	// Indigenous maps a lower-cased indigenous_status value to its
	// Australian Indigenous Status code and display.
	Indigenous map[string][2]string
	// DVACard is the card colour (Gold, White, ...) of a dva_card value;
	// nil when the column holds the colour.
	DVACard func(string) string
	// InternalIDSystem is the system of the patient internal identifier
	// (the id; "/" and the practice's HPI-O or ABN follow it when it has
	// one), RecordNumberSystem the record number's for a practice with
	// neither.
	InternalIDSystem, RecordNumberSystem string
}

// PatientRow is Patient's canonical row.
type PatientRow struct {
	ID               mappings.Int  `json:"id"`
	Status           mappings.Int  `json:"status"`
	Title            mappings.Text `json:"title"`
	First            mappings.Text `json:"first"`
	Middle           mappings.Text `json:"middle"`
	Family           mappings.Text `json:"family"`
	Preferred        mappings.Text `json:"preferred"`
	Address1         mappings.Text `json:"address1"`
	Address2         mappings.Text `json:"address2"`
	City             mappings.Text `json:"city"`
	Postcode         mappings.Text `json:"postcode"`
	PostalAddress    mappings.Text `json:"postal_address"`
	PostalCity       mappings.Text `json:"postal_city"`
	PostalPostcode   mappings.Text `json:"postal_postcode"`
	DOB              mappings.Wall `json:"dob"`
	DOD              mappings.Wall `json:"dod"`
	Sex              mappings.Text `json:"sex"`
	IndigenousStatus mappings.Text `json:"indigenous_status"`
	HomePhone        mappings.Text `json:"home_phone"`
	WorkPhone        mappings.Text `json:"work_phone"`
	MobilePhone      mappings.Text `json:"mobile_phone"`
	Email            mappings.Text `json:"email"`
	IHI              mappings.Text `json:"ihi"`
	Medicare         mappings.Text `json:"medicare"`
	MedicareIRN      mappings.Text `json:"medicare_irn"`
	MedicareExpiry   mappings.Text `json:"medicare_expiry"`
	DVA              mappings.Text `json:"dva"`
	DVACard          mappings.Text `json:"dva_card"`
	RecordNo         mappings.Text `json:"record_no"`
	GPID             mappings.Int  `json:"gp_id"`
	GPTitle          mappings.Text `json:"gp_title"`
	GPFirst          mappings.Text `json:"gp_first"`
	GPFamily         mappings.Text `json:"gp_family"`
	Practice
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

// Patient is AU Core Patient. Deleted records never appear; inactive ones
// (not the active status: inactive, deceased) are found like any other,
// with active false (read and search agree; active=true leaves them out).
// The identifier and gender predicates are each PMS's, given as data in
// PatientCodes.
var Patient = &mappings.Def[PatientCodes]{
	Type:     "Patient",
	Profiles: []string{mappings.ProfilePatient},
	Columns:  mappings.ColumnsOf[PatientRow](),
	Params: []mappings.ParamDef[PatientCodes]{
		lastUpdated[PatientCodes](),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The patient's key in the practice system", Match: id("id")},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "IHI, Medicare number (10 digits, or 11 with the IRN), DVA number or the practice's record number",
			MatchCodes: func(_ mappings.Cols, codes PatientCodes) mappings.Matcher {
				return mappings.Identifiers(codes.Identifiers...)
			}},
		{Name: "family", Type: fhir.TypeString, Doc: "Surname", Match: str("family")},
		{Name: "given", Type: fhir.TypeString, Doc: "First, middle or preferred name", Match: str("first", "middle", "preferred")},
		{Name: "name", Type: fhir.TypeString, Doc: "Any part of the name: surname, first, middle or preferred name",
			Match: str("family", "first", "middle", "preferred")},
		{Name: "birthdate", Type: fhir.TypeDate, Doc: "Date of birth", Match: date("dob")},
		{Name: "gender", Type: fhir.TypeToken, Doc: "male | female | other | unknown, from the patient's sex",
			MatchCodes: func(_ mappings.Cols, codes PatientCodes) mappings.Matcher {
				return mappings.Codes(mappings.AdministrativeGenderCodeSystem, codes.GenderSQL)
			}},
		{Name: "phone", Type: fhir.TypeToken, Doc: "Home, work or mobile phone, ignoring spaces and punctuation",
			Match: func(c mappings.Cols) mappings.Matcher {
				return mappings.Phone(c.Col("home_phone"), c.Col("work_phone"), c.Col("mobile_phone"))
			}},
		{Name: "email", Type: fhir.TypeToken, Doc: "E-mail address, ignoring case",
			Match: func(c mappings.Cols) mappings.Matcher { return mappings.Email(c.Col("email")) }},
		{Name: "address-postalcode", Type: fhir.TypeString, Doc: "Postcode of the home or postal address", Match: str("postcode", "postal_postcode")},
		{Name: "active", Type: fhir.TypeToken, Doc: "true: an active patient; false: inactive or deceased",
			MatchCodes: func(c mappings.Cols, codes PatientCodes) mappings.Matcher {
				return activeFlag("status", codes.Active)(c)
			}},
		{Name: "general-practitioner", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The patient's usual doctor",
			Match: reference("gp_id", "Practitioner")},
	},
	Sorts: []mappings.SortDef{
		mappings.SortIntCol("_id", "id"),
		mappings.SortTextCol("family", "family"),
		mappings.SortTextCol("given", "first"),
		mappings.SortDateTimeCol("birthdate", "dob"),
	},
	Includes:     []fhir.Include{{Source: "Patient", Param: "general-practitioner", Target: "Practitioner"}},
	RevIncludes:  revPatient,
	DefaultCount: 20, MaxCount: 200,
	Row: patientRow,
}

func patientRow(codes PatientCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c PatientRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	id := c.ID.ID()
	w := mappings.NewResource("Patient")
	w.String("id", id)
	w.Meta(mappings.ProfilePatient, c.Updated, c.Created, site.Location)
	if s, ok := codes.Indigenous[strings.ToLower(string(c.IndigenousStatus))]; ok {
		w.Array("extension")
		w.Object("")
		w.String("url", mappings.ExtensionIndigenousStatus)
		w.Coding("valueCoding", mappings.Coding{System: mappings.CodeSystemIndigenousStatus, Code: s[0], Display: s[1]})
		w.End()
		w.End()
	}

	// Identifiers, the internal one last: every patient has it.
	w.Array("identifier")
	if c.IHI != "" {
		w.Identifier("", mappings.IHI(string(c.IHI)))
	}
	if m, ok := mappings.Medicare(string(c.Medicare), string(c.MedicareIRN), string(c.MedicareExpiry)); ok {
		w.Identifier("", m)
	}
	if c.DVA != "" {
		card := string(c.DVACard)
		if codes.DVACard != nil {
			card = codes.DVACard(card)
		}
		w.Identifier("", mappings.DVA(string(c.DVA), card))
	}
	if c.RecordNo != "" {
		w.Identifier("", mappings.RecordNumber(string(c.RecordNo), string(c.OrgHPIO), string(c.OrgABN),
			codes.RecordNumberSystem, string(c.OrgName)))
	}
	idSystem := codes.InternalIDSystem
	if scope := mappings.PracticeScope(string(c.OrgHPIO), string(c.OrgABN)); scope != "" {
		idSystem += "/" + scope
	}
	w.Identifier("", mappings.InternalID(idSystem, id, string(c.OrgName)))
	w.End()
	w.Bool("active", int(c.Status) == codes.Active)

	// Names: the official name and, when there is one, the preferred name.
	w.Array("name")
	w.Object("")
	w.String("use", "official")
	if c.Family == "" && c.First == "" && c.Middle == "" {
		w.String("text", "Unknown")
	}
	w.String("family", string(c.Family))
	w.Strings("given", string(c.First), string(c.Middle))
	w.Strings("prefix", string(c.Title))
	w.End()
	if c.Preferred != "" {
		w.Object("")
		w.String("use", "usual")
		w.String("family", string(c.Family))
		w.Strings("given", string(c.Preferred))
		w.End()
	}
	w.End()

	// Contact details and demographics.
	w.Array("telecom")
	w.Telecom("phone", "home", string(c.HomePhone))
	w.Telecom("phone", "work", string(c.WorkPhone))
	w.Telecom("phone", "mobile", string(c.MobilePhone))
	w.Telecom("email", "home", string(c.Email))
	w.End()
	gender := "unknown"
	switch g := codes.Gender(string(c.Sex)); g {
	case "male", "female", "other":
		gender = g
	}
	w.String("gender", gender)
	if !c.DOB.IsZero() {
		w.Date("birthDate", c.DOB)
	} else {
		// AU Core requires a birth date: say why it is missing.
		w.DataAbsentUnknown("_birthDate")
	}
	switch {
	case !c.DOD.IsZero():
		w.DateTime("deceasedDateTime", c.DOD, site.Location)
	case int(c.Status) == codes.Deceased:
		w.Bool("deceasedBoolean", true)
	}
	postal := []string{string(c.PostalAddress)}
	hasPostal := strings.TrimSpace(string(c.PostalAddress)) != "" || strings.TrimSpace(string(c.PostalCity)) != "" || strings.TrimSpace(string(c.PostalPostcode)) != ""
	homeType := "both"
	if hasPostal {
		homeType = "physical"
	}
	w.Array("address")
	w.Address("", "home", homeType, []string{string(c.Address1), string(c.Address2)}, string(c.City), string(c.Postcode))
	w.Address("", "home", "postal", postal, string(c.PostalCity), string(c.PostalPostcode))
	w.End()

	// The usual doctor and the practice.
	var refs map[string][]string
	if c.GPID != 0 {
		w.Array("generalPractitioner")
		w.Ref("", "Practitioner", c.GPID.ID(), string(c.GPTitle), string(c.GPFirst), string(c.GPFamily))
		w.End()
		refs = map[string][]string{"general-practitioner": {c.GPID.ID()}}
	}
	c.Practice.Ref(w, "managingOrganization")
	return mappings.Row{ID: id, Resource: w.Bytes(), Refs: refs}, nil
}
