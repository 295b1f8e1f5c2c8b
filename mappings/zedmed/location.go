package zedmed

import (
	_ "embed"
	"encoding/json"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed location.sql
var locationSQL string

// l is a column of BRANCH l.
func l(name string) string { return col("l", "BRANCH."+name) }

// Location maps BRANCH: the practice's sites.
var Location = mappings.NewTable(mappings.TableSpec{
	Type:     "Location",
	Profiles: []string{mappings.ProfileLocation},
	SQL:      locationSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		{Name: "_id", Type: fhir.TypeToken, Doc: "The branch's BRANCH_ID",
			Match: mappings.ID(l("BRANCH_ID"))},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "The branch's HPI-O",
			Match: mappings.Identifiers(mappings.IdentifierColumn(mappings.SystemHPIO, l("HPIO"), noSpaces))},
		{Name: "name", Type: fhir.TypeString, Doc: "The branch's name",
			Match: mappings.String(mappings.Col(l("BRANCH_NAME")))},
		{Name: "address", Type: fhir.TypeString, Doc: "Any part of the address: street, suburb, postcode or state",
			Match: addressMatcher("l")},
		{Name: "address-city", Type: fhir.TypeString, Doc: "Suburb or town",
			Match: mappings.String(mappings.Col(l("SUBURB")))},
		{Name: "address-state", Type: fhir.TypeString, Doc: "State or territory (NSW, VIC, ... or its name), derived from the postcode",
			Match: mappings.String(mappings.State(l("POSTCODE")))},
		{Name: "address-postalcode", Type: fhir.TypeString, Doc: "Postcode",
			Match: mappings.String(mappings.Col(l("POSTCODE")))},
		{Name: "organization", Type: fhir.TypeReference, Targets: []string{"Organization"}, Doc: "The practice",
			Match: mappings.Reference(col("pr", "PRACTICE.PRACTICE_ID"), "Organization")},
	},
	Sorts: map[string]mappings.Sort{
		"_id":  mappings.SortInt(l("BRANCH_ID")),
		"name": mappings.SortText(l("BRANCH_NAME")),
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
	loc := fm.Location{
		Id:                   mappings.Ptr(c.ID.ID()),
		Meta:                 meta(mappings.ProfileLocation, c.Updated, c.Created, site),
		Status:               mappings.Ptr(fm.LocationStatusActive),
		Mode:                 mappings.Ptr(fm.LocationModeInstance),
		ManagingOrganization: c.practiceColumns.ref(),
		Address:              mappings.Address(fm.AddressUseWork, fm.AddressTypeBoth, []string{string(c.Address1), string(c.Address2)}, string(c.City), string(c.Postcode)),
	}
	if c.HPIO != "" {
		loc.Identifier = []fm.Identifier{mappings.HPIO(string(c.HPIO))}
	}
	if c.Name != "" {
		loc.Name = mappings.Ptr(string(c.Name))
	}
	loc.Telecom = mappings.Telecom(loc.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseWork, string(c.Phone))
	loc.Telecom = mappings.Telecom(loc.Telecom, fm.ContactPointSystemFax, fm.ContactPointUseWork, string(c.Fax))
	loc.Telecom = mappings.Telecom(loc.Telecom, fm.ContactPointSystemEmail, fm.ContactPointUseWork, string(c.Email))
	raw, err := mappings.Marshal("Location", fm.OtherLocation(loc))
	return mappings.Row{Resource: raw}, err
}
