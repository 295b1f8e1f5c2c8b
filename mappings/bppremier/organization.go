package bppremier

import (
	_ "embed"
	"encoding/json"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed organization.sql
var organizationSQL string

// mainLocation is the practice's main location in organization.sql.
const mainLocation = "l"

// Organization maps PRACTICE: the practice, with its HPI-O and ABN, and
// the address and contacts of its main location.
var Organization = mappings.NewTable(mappings.TableSpec{
	Type:     "Organization",
	Profiles: []string{mappings.ProfileOrganization},
	SQL:      organizationSQL,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(`pr."UPDATED"`, `pr."CREATED"`),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The practice's PRACTICEID",
			Match: mappings.ID(`pr."PRACTICEID"`)},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "HPI-O or ABN",
			Match: mappings.Identifiers(
				mappings.IdentifierColumn(mappings.SystemHPIO, `pr."HPIO"`, noSpaces),
				mappings.IdentifierColumn(mappings.SystemABN, `REPLACE(pr."ABN", ' ', '')`, noSpaces),
			)},
		{Name: "name", Type: fhir.TypeString, Doc: "The practice's name",
			Match: mappings.String(mappings.Col(`pr."PRACTICENAME"`))},
		{Name: "address", Type: fhir.TypeString, Doc: "Any part of the main location's address: street, suburb, postcode or state",
			Match: addressMatcher(mainLocation)},
	},
	Sorts: map[string]mappings.Sort{
		"_id":  mappings.SortInt(`pr."PRACTICEID"`),
		"name": mappings.SortText(`pr."PRACTICENAME"`),
	},
	DefaultCount: 20, MaxCount: 200,
	Row: organizationRow,
})

// addressMatcher matches any part of a LOCATIONS row's address, the state
// derived from its postcode included.
func addressMatcher(alias string) mappings.Matcher {
	a := alias + "."
	return mappings.String(mappings.Col(a+`"ADDRESS1"`), mappings.Col(a+`"ADDRESS2"`), mappings.Col(a+`"CITY"`),
		mappings.Col(a+`"POSTCODE"`), mappings.State(a+`"POSTCODE"`))
}

type organizationColumns struct {
	ID       mappings.Int  `json:"id"`
	Name     mappings.Text `json:"name"`
	HPIO     mappings.Text `json:"hpio"`
	ABN      mappings.Text `json:"abn"`
	Address1 mappings.Text `json:"address1"`
	Address2 mappings.Text `json:"address2"`
	City     mappings.Text `json:"city"`
	Postcode mappings.Text `json:"postcode"`
	Phone    mappings.Text `json:"phone"`
	Fax      mappings.Text `json:"fax"`
	Email    mappings.Text `json:"email"`
	Created  mappings.Wall `json:"created"`
	Updated  mappings.Wall `json:"updated"`
}

func organizationRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c organizationColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	o := fm.Organization{
		Id:     mappings.Ptr(c.ID.ID()),
		Meta:   meta(mappings.ProfileOrganization, c.Updated, c.Created, site),
		Active: mappings.Ptr(true),
		Type:   []fm.CodeableConcept{*mappings.Concept(mappings.CodeSystemOrganizationType, "prov", "Healthcare Provider", "")},
	}
	if c.HPIO != "" {
		o.Identifier = append(o.Identifier, mappings.HPIO(string(c.HPIO)))
	}
	if id, ok := mappings.ABN(string(c.ABN)); ok {
		o.Identifier = append(o.Identifier, id)
	}
	if c.Name != "" {
		o.Name = mappings.Ptr(string(c.Name))
	}
	o.Telecom = mappings.Telecom(o.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseWork, string(c.Phone))
	o.Telecom = mappings.Telecom(o.Telecom, fm.ContactPointSystemFax, fm.ContactPointUseWork, string(c.Fax))
	o.Telecom = mappings.Telecom(o.Telecom, fm.ContactPointSystemEmail, fm.ContactPointUseWork, string(c.Email))
	if a := mappings.Address(fm.AddressUseWork, fm.AddressTypeBoth, []string{string(c.Address1), string(c.Address2)}, string(c.City), string(c.Postcode)); a != nil {
		o.Address = []fm.Address{*a}
	}
	raw, err := mappings.Marshal("Organization", fm.OtherOrganization(o))
	return mappings.Row{Resource: raw}, err
}
