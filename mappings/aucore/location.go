package aucore

import (
	"fhirlink/fhir"
	"fhirlink/mappings"
)

// LocationRow is Location's canonical row: one of the practice's sites.
type LocationRow struct {
	ID       mappings.Int  `json:"id"`
	Name     mappings.Text `json:"name"`
	Address1 mappings.Text `json:"address1"`
	Address2 mappings.Text `json:"address2"`
	City     mappings.Text `json:"city"`
	Postcode mappings.Text `json:"postcode"`
	HPIO     mappings.Text `json:"hpio"`
	Phone    mappings.Text `json:"phone"`
	Fax      mappings.Text `json:"fax"`
	Email    mappings.Text `json:"email"`
	Practice
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

// Location is AU Core Location: the practice's sites, managed by the
// practice.
var Location = &mappings.Def[struct{}]{
	Type:     "Location",
	Profiles: []string{mappings.ProfileLocation},
	Columns:  mappings.ColumnsOf[LocationRow](),
	Params: []mappings.ParamDef[struct{}]{
		lastUpdated[struct{}](),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The location's key in the practice system", Match: id("id")},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "The location's HPI-O",
			Match: func(c mappings.Cols) mappings.Matcher {
				return mappings.Identifiers(mappings.IdentifierColumn(mappings.SystemHPIO, c.Col("hpio"), mappings.NoSpaces))
			}},
		{Name: "name", Type: fhir.TypeString, Doc: "The location's name", Match: str("name")},
		{Name: "address", Type: fhir.TypeString, Doc: "Any part of the address: street, suburb, postcode or state", Match: address},
		{Name: "address-city", Type: fhir.TypeString, Doc: "Suburb or town", Match: str("city")},
		{Name: "address-state", Type: fhir.TypeString, Doc: "State or territory (NSW, VIC, ... or its name), derived from the postcode",
			Match: func(c mappings.Cols) mappings.Matcher { return mappings.String(mappings.State(c.Col("postcode"))) }},
		{Name: "address-postalcode", Type: fhir.TypeString, Doc: "Postcode", Match: str("postcode")},
		{Name: "organization", Type: fhir.TypeReference, Targets: []string{"Organization"}, Doc: "The practice",
			Match: reference("org_id", "Organization")},
	},
	Sorts: []mappings.SortDef{
		mappings.SortIntCol("_id", "id"),
		mappings.SortTextCol("name", "name"),
	},
	DefaultCount: 20, MaxCount: 200,
	Row: locationRow,
}

func locationRow(_ struct{}, row []byte, site mappings.Site) (mappings.Row, error) {
	var c LocationRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	id := c.ID.ID()
	w := mappings.NewResource("Location")
	w.String("id", id)
	w.Meta(mappings.ProfileLocation, c.Updated, c.Created, site.Location)
	if c.HPIO != "" {
		w.Array("identifier")
		w.Identifier("", mappings.HPIO(string(c.HPIO)))
		w.End()
	}
	w.String("status", "active")
	w.String("name", string(c.Name))
	w.String("mode", "instance")
	w.Array("telecom")
	w.Telecom("phone", "work", string(c.Phone))
	w.Telecom("fax", "work", string(c.Fax))
	w.Telecom("email", "work", string(c.Email))
	w.End()
	w.Address("address", "work", "both", []string{string(c.Address1), string(c.Address2)}, string(c.City), string(c.Postcode))
	c.Practice.Ref(w, "managingOrganization")
	return mappings.Row{ID: id, Resource: w.Bytes()}, nil
}
