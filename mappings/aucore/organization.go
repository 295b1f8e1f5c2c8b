package aucore

import (
	"fhirlink/fhir"
	"fhirlink/mappings"
)

// OrganizationRow is Organization's canonical row: the practice, with the
// address and contacts of its main location.
type OrganizationRow struct {
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

// Organization is AU Core Organization: the practice, with its HPI-O and
// ABN, and the address and contacts of its main location. It has no code
// values of a PMS (none).
var Organization = &mappings.Def[struct{}]{
	Type:     "Organization",
	Profiles: []string{mappings.ProfileOrganization},
	Columns:  mappings.ColumnsOf[OrganizationRow](),
	Params: []mappings.ParamDef[struct{}]{
		lastUpdated[struct{}](),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The practice's key in the practice system", Match: id("id")},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "HPI-O or ABN",
			Match: func(c mappings.Cols) mappings.Matcher {
				return mappings.Identifiers(
					mappings.IdentifierColumn(mappings.SystemHPIO, c.Col("hpio"), mappings.NoSpaces),
					mappings.IdentifierColumn(mappings.SystemABN, "REPLACE("+c.Col("abn")+", ' ', '')", mappings.NoSpaces),
				)
			}},
		{Name: "name", Type: fhir.TypeString, Doc: "The practice's name", Match: str("name")},
		{Name: "address", Type: fhir.TypeString, Doc: "Any part of the main location's address: street, suburb, postcode or state",
			Match: address},
	},
	Sorts: []mappings.SortDef{
		mappings.SortIntCol("_id", "id"),
		mappings.SortTextCol("name", "name"),
	},
	DefaultCount: 20, MaxCount: 200,
	Row: organizationRow,
}

// address matches any part of a row's address (address1, address2, city,
// postcode), the state derived from its postcode included.
func address(c mappings.Cols) mappings.Matcher {
	return mappings.String(mappings.Col(c.Col("address1")), mappings.Col(c.Col("address2")), mappings.Col(c.Col("city")),
		mappings.Col(c.Col("postcode")), mappings.State(c.Col("postcode")))
}

func organizationRow(_ struct{}, row []byte, site mappings.Site) (mappings.Row, error) {
	var c OrganizationRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	id := c.ID.ID()
	w := mappings.NewResource("Organization")
	w.String("id", id)
	w.Meta(mappings.ProfileOrganization, c.Updated, c.Created, site.Location)
	w.Array("identifier")
	if c.HPIO != "" {
		w.Identifier("", mappings.HPIO(string(c.HPIO)))
	}
	if abn, ok := mappings.ABN(string(c.ABN)); ok {
		w.Identifier("", abn)
	}
	w.End()
	w.Bool("active", true)
	w.Array("type")
	w.Concept("", "", mappings.Coding{System: mappings.CodeSystemOrganizationType, Code: "prov", Display: "Healthcare Provider"})
	w.End()
	w.String("name", string(c.Name))
	w.Array("telecom")
	w.Telecom("phone", "work", string(c.Phone))
	w.Telecom("fax", "work", string(c.Fax))
	w.Telecom("email", "work", string(c.Email))
	w.End()
	w.Array("address")
	w.Address("", "work", "both", []string{string(c.Address1), string(c.Address2)}, string(c.City), string(c.Postcode))
	w.End()
	return mappings.Row{ID: id, Resource: w.Bytes()}, nil
}
