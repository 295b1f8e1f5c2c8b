package bppremier

import (
	_ "embed"
	"encoding/json"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed location.sql
var locationSQL string

// Location maps LOCATIONS: the practice's sites.
var Location = mappings.NewTable(mappings.TableSpec{
	Type:     "Location",
	Profiles: []string{mappings.ProfileLocation},
	SQL:      locationSQL,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(`l."UPDATED"`, `l."CREATED"`),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The location's LOCATIONID",
			Match: mappings.ID(`l."LOCATIONID"`)},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "The location's HPI-O",
			Match: mappings.Identifiers(mappings.IdentifierColumn(mappings.SystemHPIO, `l."HPIO"`, noSpaces))},
		{Name: "name", Type: fhir.TypeString, Doc: "The location's name",
			Match: mappings.String(mappings.Col(`l."LOCATIONNAME"`))},
		{Name: "address", Type: fhir.TypeString, Doc: "Any part of the address: street, suburb, postcode or state",
			Match: addressMatcher("l")},
		{Name: "address-city", Type: fhir.TypeString, Doc: "Suburb or town",
			Match: mappings.String(mappings.Col(`l."CITY"`))},
		{Name: "address-state", Type: fhir.TypeString, Doc: "State or territory (NSW, VIC, ... or its name), derived from the postcode",
			Match: mappings.String(mappings.State(`l."POSTCODE"`))},
		{Name: "address-postalcode", Type: fhir.TypeString, Doc: "Postcode",
			Match: mappings.String(mappings.Col(`l."POSTCODE"`))},
		{Name: "organization", Type: fhir.TypeReference, Targets: []string{"Organization"}, Doc: "The practice",
			Match: mappings.Reference(`pr."PRACTICEID"`, "Organization")},
	},
	Sorts: map[string]mappings.Sort{
		"_id":  mappings.SortInt(`l."LOCATIONID"`),
		"name": mappings.SortText(`l."LOCATIONNAME"`),
	},
	DefaultCount: 20, MaxCount: 200,
	Row: locationRow,
})

type locationColumns struct {
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
	practiceColumns
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

func locationRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c locationColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	l := fm.Location{
		Id:                   mappings.Ptr(c.ID.ID()),
		Meta:                 meta(mappings.ProfileLocation, c.Updated, c.Created, site),
		Status:               mappings.Ptr(fm.LocationStatusActive),
		Mode:                 mappings.Ptr(fm.LocationModeInstance),
		ManagingOrganization: c.practiceColumns.ref(),
		Address:              mappings.Address(fm.AddressUseWork, fm.AddressTypeBoth, []string{string(c.Address1), string(c.Address2)}, string(c.City), string(c.Postcode)),
	}
	if c.HPIO != "" {
		l.Identifier = []fm.Identifier{mappings.HPIO(string(c.HPIO))}
	}
	if c.Name != "" {
		l.Name = mappings.Ptr(string(c.Name))
	}
	l.Telecom = mappings.Telecom(l.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseWork, string(c.Phone))
	l.Telecom = mappings.Telecom(l.Telecom, fm.ContactPointSystemFax, fm.ContactPointUseWork, string(c.Fax))
	l.Telecom = mappings.Telecom(l.Telecom, fm.ContactPointSystemEmail, fm.ContactPointUseWork, string(c.Email))
	raw, err := mappings.Marshal("Location", fm.OtherLocation(l))
	return mappings.Row{Resource: raw}, err
}
