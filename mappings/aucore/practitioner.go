package aucore

import (
	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// PractitionerCodes are a PMS's code values for Practitioner.
type PractitionerCodes struct {
	// Active is the status column's value for a current practitioner.
	Active int
	// ProviderNumber, when set, is how the PMS finds a Medicare provider
	// number (one per location it works at); by default the provider_no
	// column.
	ProviderNumber *mappings.IdentifierSystem
}

// PractitionerRow is Practitioner's canonical row.
type PractitionerRow struct {
	ID           mappings.Int  `json:"id"`
	Status       mappings.Int  `json:"status"`
	Title        mappings.Text `json:"title"`
	First        mappings.Text `json:"first"`
	Family       mappings.Text `json:"family"`
	HPII         mappings.Text `json:"hpii"`
	AHPRA        mappings.Text `json:"ahpra"`
	ProviderNo   mappings.Text `json:"provider_no"`
	PrescriberNo mappings.Text `json:"prescriber_no"`
	Phone        mappings.Text `json:"phone"`
	Mobile       mappings.Text `json:"mobile"`
	Fax          mappings.Text `json:"fax"`
	Pager        mappings.Text `json:"pager"`
	Email        mappings.Text `json:"email"`
	Created      mappings.Wall `json:"created"`
	Updated      mappings.Wall `json:"updated"`
}

// Practitioner is AU Core Practitioner: the PMS's users who are health
// practitioners. Inactive ones are found like any other, with active false
// (read and search agree; active=true leaves them out).
var Practitioner = &mappings.Def[PractitionerCodes]{
	Type:     "Practitioner",
	Profiles: []string{mappings.ProfilePractitioner},
	Columns:  mappings.ColumnsOf[PractitionerRow](),
	Optional: []string{"mobile", "fax", "pager"},
	Params: []mappings.ParamDef[PractitionerCodes]{
		lastUpdated[PractitionerCodes](),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The practitioner's key in the practice system", Match: id("id")},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "HPI-I, Ahpra registration number, Medicare provider number or PBS prescriber number",
			MatchCodes: func(c mappings.Cols, codes PractitionerCodes) mappings.Matcher {
				provider := mappings.IdentifierColumn(mappings.SystemProviderNumber, c.Col("provider_no"), mappings.NoSpaces)
				if codes.ProviderNumber != nil {
					provider = *codes.ProviderNumber
				}
				return mappings.Identifiers(
					mappings.IdentifierColumn(mappings.SystemHPII, c.Col("hpii"), mappings.NoSpaces),
					mappings.IdentifierColumn(mappings.SystemAHPRA, c.Col("ahpra"), mappings.NoSpaces),
					provider,
					mappings.IdentifierColumn(mappings.SystemPrescriberNumber, c.Col("prescriber_no"), mappings.NoSpaces),
				)
			}},
		{Name: "name", Type: fhir.TypeString, Doc: "First name or surname", Match: str("family", "first")},
		{Name: "family", Type: fhir.TypeString, Doc: "Surname", Match: str("family")},
		{Name: "given", Type: fhir.TypeString, Doc: "First name", Match: str("first")},
		{Name: "active", Type: fhir.TypeToken, Doc: "true: a current practitioner; false: an inactive one",
			MatchCodes: func(c mappings.Cols, codes PractitionerCodes) mappings.Matcher {
				return activeFlag("status", codes.Active)(c)
			}},
	},
	Sorts: []mappings.SortDef{
		mappings.SortIntCol("_id", "id"),
		mappings.SortTextCol("family", "family"),
		mappings.SortTextCol("given", "first"),
	},
	RevIncludes:  []fhir.Include{{Source: "PractitionerRole", Param: "practitioner", Target: "Practitioner"}},
	DefaultCount: 20, MaxCount: 200,
	Row: practitionerRow,
}

func practitionerRow(codes PractitionerCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c PractitionerRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	p := fm.Practitioner{
		Id:     mappings.Ptr(c.ID.ID()),
		Meta:   mappings.Meta(mappings.ProfilePractitioner, c.Updated, c.Created, site.Location),
		Active: mappings.Ptr(int(c.Status) == codes.Active),
	}
	if c.HPII != "" {
		p.Identifier = append(p.Identifier, mappings.HPII(string(c.HPII)))
	}
	if c.AHPRA != "" {
		p.Identifier = append(p.Identifier, mappings.AHPRA(string(c.AHPRA)))
	}
	if c.ProviderNo != "" {
		p.Identifier = append(p.Identifier, mappings.ProviderNumber(string(c.ProviderNo)))
	}
	if c.PrescriberNo != "" {
		p.Identifier = append(p.Identifier, mappings.PrescriberNumber(string(c.PrescriberNo)))
	}
	p.Name = []fm.HumanName{officialName(c.Title, c.First, c.Family)}
	p.Telecom = mappings.Telecom(p.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseWork, string(c.Phone))
	p.Telecom = mappings.Telecom(p.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseMobile, string(c.Mobile))
	p.Telecom = mappings.Telecom(p.Telecom, fm.ContactPointSystemFax, fm.ContactPointUseWork, string(c.Fax))
	p.Telecom = mappings.Telecom(p.Telecom, fm.ContactPointSystemPager, fm.ContactPointUseWork, string(c.Pager))
	p.Telecom = mappings.Telecom(p.Telecom, fm.ContactPointSystemEmail, fm.ContactPointUseWork, string(c.Email))
	raw, err := mappings.Marshal("Practitioner", fm.OtherPractitioner(p))
	return mappings.Row{ID: *p.Id, Resource: raw}, err
}

// officialName is a practitioner's official name; without a surname, its
// text is the title and first name.
func officialName(title, first, family mappings.Text) fm.HumanName {
	n := fm.HumanName{Use: mappings.Ptr(fm.NameUseOfficial)}
	if title != "" {
		n.Prefix = []string{string(title)}
	}
	if first != "" {
		n.Given = []string{string(first)}
	}
	if family != "" {
		n.Family = mappings.Ptr(string(family))
	} else {
		n.Text = mappings.Ptr(mappings.PersonName(string(title), string(first)))
	}
	return n
}
