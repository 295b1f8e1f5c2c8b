package zedmed

import (
	_ "embed"
	"encoding/json"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed organization.sql
var organizationSQL string

// Organization maps PRACTICE: the practice, with its HPI-O and ABN, and the address and
// contacts of its main (first) branch.
var Organization = mappings.NewTable(mappings.TableSpec{
	Type:     "Organization",
	Profiles: []string{mappings.ProfileOrganization},
	SQL:      organizationSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		{Name: "_id", Type: fhir.TypeToken, Doc: "The practice's PRACTICE_ID",
			Match: mappings.ID(col("pr", "PRACTICE.PRACTICE_ID"))},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "HPI-O or ABN",
			Match: mappings.Identifiers(
				mappings.IdentifierColumn(mappings.SystemHPIO, col("pr", "PRACTICE.HPIO"), noSpaces),
				mappings.IdentifierColumn(mappings.SystemABN, "REPLACE("+col("pr", "PRACTICE.ABN")+", ' ', '')", noSpaces),
			)},
		{Name: "name", Type: fhir.TypeString, Doc: "The practice's name",
			Match: mappings.String(mappings.Col(col("pr", "PRACTICE.PRACTICE_NAME")))},
		{Name: "address", Type: fhir.TypeString, Doc: "Any part of the main branch's address: street, suburb, postcode or state",
			Match: addressMatcher("l")},
	},
	Sorts: map[string]mappings.Sort{
		"_id":  mappings.SortInt(col("pr", "PRACTICE.PRACTICE_ID")),
		"name": mappings.SortText(col("pr", "PRACTICE.PRACTICE_NAME")),
	},
	DefaultCount: 20, MaxCount: 200,
	Row: organizationRow,
})

// addressMatcher matches any part of a BRANCH row's address, the state derived from its
// postcode included.
func addressMatcher(alias string) mappings.Matcher {
	b := func(n string) string { return col(alias, "BRANCH."+n) }
	return mappings.String(mappings.Col(b("ADDRESS_1")), mappings.Col(b("ADDRESS_2")), mappings.Col(b("SUBURB")),
		mappings.Col(b("POSTCODE")), mappings.State(b("POSTCODE")))
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
