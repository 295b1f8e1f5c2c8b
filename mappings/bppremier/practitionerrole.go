package bppremier

import (
	_ "embed"
	"encoding/json"
	"strconv"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed practitionerrole.sql
var practitionerRoleSQL string

// PractitionerRole maps PROVIDER_LOCATION: a practitioner working at one of
// the practice's locations, with the Medicare provider number for that
// location. Roles of inactive users are found like any other, with active
// false (read and search agree; active=true leaves them out).
var PractitionerRole = mappings.NewTable(mappings.TableSpec{
	Type:     "PractitionerRole",
	Profiles: []string{mappings.ProfilePractitionerRole},
	SQL:      practitionerRoleSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(`pl."UPDATED"`, `pl."CREATED"`),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The PROVIDER_LOCATION record's RECORDID",
			Match: mappings.ID(`pl."RECORDID"`)},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "The Medicare provider number at this location",
			Match: mappings.Identifiers(mappings.IdentifierColumn(mappings.SystemProviderNumber, `pl."PROVIDERNUMBER"`, noSpaces))},
		{Name: "practitioner", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The practitioner",
			Match: mappings.Reference(`pl."USERID"`, "Practitioner"),
			Chain: &mappings.Chain{Column: `pl."USERID"`, Target: Practitioner, Params: []string{"identifier"}}},
		{Name: "location", Type: fhir.TypeReference, Targets: []string{"Location"}, Doc: "The location",
			Match: mappings.Reference(`pl."LOCATIONID"`, "Location")},
		{Name: "organization", Type: fhir.TypeReference, Targets: []string{"Organization"}, Doc: "The practice",
			Match: mappings.Reference(`pr."PRACTICEID"`, "Organization")},
		{Name: "active", Type: fhir.TypeToken, Doc: "true: the practitioner is a current user; false: an inactive one",
			Match: mappings.Bool(`u."USERSTATUS" = `+strconv.Itoa(userActive), `u."USERSTATUS" <> `+strconv.Itoa(userActive))},
	},
	Sorts: map[string]mappings.Sort{
		"_id": mappings.SortInt(`pl."RECORDID"`),
	},
	Includes: []fhir.Include{
		{Source: "PractitionerRole", Param: "practitioner", Target: "Practitioner"},
		{Source: "PractitionerRole", Param: "location", Target: "Location"},
		{Source: "PractitionerRole", Param: "organization", Target: "Organization"},
	},
	DefaultCount: 20, MaxCount: 200,
	Row: practitionerRoleRow,
})

type practitionerRoleColumns struct {
	ID           mappings.Int  `json:"id"`
	ProviderNo   mappings.Text `json:"provider_no"`
	UserID       mappings.Int  `json:"user_id"`
	UserStatus   mappings.Int  `json:"user_status"`
	Group        mappings.Int  `json:"group"`
	Title        mappings.Text `json:"title"`
	First        mappings.Text `json:"first"`
	Family       mappings.Text `json:"family"`
	Phone        mappings.Text `json:"phone"`
	Email        mappings.Text `json:"email"`
	LocationID   mappings.Int  `json:"location_id"`
	LocationName mappings.Text `json:"location_name"`
	practiceColumns
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

func practitionerRoleRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c practitionerRoleColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	r := fm.PractitionerRole{
		Id:           mappings.Ptr(c.ID.ID()),
		Meta:         meta(mappings.ProfilePractitionerRole, c.Updated, c.Created, site),
		Active:       mappings.Ptr(c.UserStatus == userActive),
		Practitioner: mappings.Ref("Practitioner", c.UserID.ID(), mappings.PersonName(string(c.Title), string(c.First), string(c.Family))),
		Location:     []fm.Reference{*mappings.Ref("Location", c.LocationID.ID(), string(c.LocationName))},
		Organization: c.practiceColumns.ref(),
		Code:         roleCode(int(c.Group)),
		Specialty:    roleSpecialty(int(c.Group)),
	}
	if c.ProviderNo != "" {
		r.Identifier = []fm.Identifier{mappings.ProviderNumber(string(c.ProviderNo))}
	}
	r.Telecom = mappings.Telecom(r.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseWork, string(c.Phone))
	r.Telecom = mappings.Telecom(r.Telecom, fm.ContactPointSystemEmail, fm.ContactPointUseWork, string(c.Email))
	raw, err := mappings.Marshal("PractitionerRole", fm.OtherPractitionerRole(r))
	if err != nil {
		return mappings.Row{}, err
	}
	refs := map[string][]string{
		"practitioner": {c.UserID.ID()},
		"location":     {c.LocationID.ID()},
	}
	if c.OrgID != 0 {
		refs["organization"] = []string{c.OrgID.ID()}
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}
