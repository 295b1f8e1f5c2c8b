package bppremier

import (
	_ "embed"
	"encoding/json"
	"strconv"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed practitioner.sql
var practitionerSQL string

// Practitioner maps the USERS who are health practitioners (clinicalUser).
// Deleted users never appear; inactive ones are found like any other, with
// active false (read and search agree; active=true leaves them out).
var Practitioner = mappings.NewTable(mappings.TableSpec{
	Type:     "Practitioner",
	Profiles: []string{mappings.ProfilePractitioner},
	SQL:      practitionerSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(`u."UPDATED"`, `u."CREATED"`),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The user's USERID",
			Match: mappings.ID(`u."USERID"`)},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "HPI-I, Ahpra registration number, Medicare provider number (main location) or PBS prescriber number",
			Match: mappings.Identifiers(
				mappings.IdentifierColumn(mappings.SystemHPII, `u."HPII"`, noSpaces),
				mappings.IdentifierColumn(mappings.SystemAHPRA, `u."REGISTRATIONNO"`, noSpaces),
				mappings.IdentifierColumn(mappings.SystemProviderNumber, `u."PROVIDERNO"`, noSpaces),
				mappings.IdentifierColumn(mappings.SystemPrescriberNumber, `u."PRESCRIBERNO"`, noSpaces),
			)},
		{Name: "name", Type: fhir.TypeString, Doc: "First name or surname",
			Match: mappings.String(mappings.Col(`u."SURNAME"`), mappings.Col(`u."FIRSTNAME"`))},
		{Name: "family", Type: fhir.TypeString, Doc: "Surname",
			Match: mappings.String(mappings.Col(`u."SURNAME"`))},
		{Name: "given", Type: fhir.TypeString, Doc: "First name",
			Match: mappings.String(mappings.Col(`u."FIRSTNAME"`))},
		{Name: "active", Type: fhir.TypeToken, Doc: "true: a current user; false: an inactive one",
			Match: mappings.Bool(`u."USERSTATUS" = `+strconv.Itoa(userActive), `u."USERSTATUS" <> `+strconv.Itoa(userActive))},
	},
	Sorts: map[string]mappings.Sort{
		"_id":    mappings.SortInt(`u."USERID"`),
		"family": mappings.SortText(`u."SURNAME"`),
		"given":  mappings.SortText(`u."FIRSTNAME"`),
	},
	RevIncludes: []fhir.Include{{Source: "PractitionerRole", Param: "practitioner", Target: "Practitioner"}},
	// Chained searches (PractitionerRole?practitioner.identifier=) look
	// among the clinical users, current or not, as a reference by id does.
	IDs: `SELECT u."USERID"
    FROM "USERS" u
    WHERE {{clinical "u"}}{{.Where}}`,
	DefaultCount: 20, MaxCount: 200,
	Row: practitionerRow,
})

type practitionerColumns struct {
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
	Fax          mappings.Text `json:"fax"`
	Pager        mappings.Text `json:"pager"`
	Email        mappings.Text `json:"email"`
	Created      mappings.Wall `json:"created"`
	Updated      mappings.Wall `json:"updated"`
}

func practitionerRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c practitionerColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	p := fm.Practitioner{
		Id:     mappings.Ptr(c.ID.ID()),
		Meta:   meta(mappings.ProfilePractitioner, c.Updated, c.Created, site),
		Active: mappings.Ptr(c.Status == userActive),
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
	p.Name = []fm.HumanName{personName(c.Title, c.First, c.Family)}
	p.Telecom = mappings.Telecom(p.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseWork, string(c.Phone))
	p.Telecom = mappings.Telecom(p.Telecom, fm.ContactPointSystemFax, fm.ContactPointUseWork, string(c.Fax))
	p.Telecom = mappings.Telecom(p.Telecom, fm.ContactPointSystemPager, fm.ContactPointUseWork, string(c.Pager))
	p.Telecom = mappings.Telecom(p.Telecom, fm.ContactPointSystemEmail, fm.ContactPointUseWork, string(c.Email))
	raw, err := mappings.Marshal("Practitioner", fm.OtherPractitioner(p))
	return mappings.Row{Resource: raw}, err
}

// personName is a user's official name.
func personName(title, first, family mappings.Text) fm.HumanName {
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
