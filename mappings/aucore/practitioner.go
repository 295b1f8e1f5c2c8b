package aucore

import (
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
	id := c.ID.ID()
	w := mappings.NewResource("Practitioner")
	w.String("id", id)
	w.Meta(mappings.ProfilePractitioner, c.Updated, c.Created, site.Location)
	w.Array("identifier")
	if c.HPII != "" {
		w.Identifier("", mappings.HPII(string(c.HPII)))
	}
	if c.AHPRA != "" {
		w.Identifier("", mappings.AHPRA(string(c.AHPRA)))
	}
	if c.ProviderNo != "" {
		w.Identifier("", mappings.ProviderNumber(string(c.ProviderNo)))
	}
	if c.PrescriberNo != "" {
		w.Identifier("", mappings.PrescriberNumber(string(c.PrescriberNo)))
	}
	w.End()
	w.Bool("active", int(c.Status) == codes.Active)
	w.Array("name")
	officialName(w, c.Title, c.First, c.Family)
	w.End()
	w.Array("telecom")
	w.Telecom("phone", "work", string(c.Phone))
	w.Telecom("phone", "mobile", string(c.Mobile))
	w.Telecom("fax", "work", string(c.Fax))
	w.Telecom("pager", "work", string(c.Pager))
	w.Telecom("email", "work", string(c.Email))
	w.End()
	return mappings.Row{ID: id, Resource: w.Bytes()}, nil
}

// officialName writes a practitioner's official name into the open array;
// without a surname, its text is the title and first name.
func officialName(w *mappings.JSON, title, first, family mappings.Text) {
	w.Object("")
	w.String("use", "official")
	if family == "" {
		w.String("text", mappings.PersonName(string(title), string(first)))
	}
	w.String("family", string(family))
	w.Strings("given", string(first))
	w.Strings("prefix", string(title))
	w.End()
}
