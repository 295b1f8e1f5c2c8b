package zedmed

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

// PractitionerRole maps DOCTOR_BRANCH: a practitioner working at one of the practice's
// branches, with the Medicare provider number for that branch. Roles of inactive doctors are
// found like any other, with active false (read and search agree; active=true leaves them out).
var PractitionerRole = mappings.NewTable(mappings.TableSpec{
	Type:     "PractitionerRole",
	Profiles: []string{mappings.ProfilePractitionerRole},
	SQL:      practitionerRoleSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		{Name: "_id", Type: fhir.TypeToken, Doc: "The DOCTOR_BRANCH record's DOCTOR_BRANCH_ID",
			Match: mappings.ID(col("db", "DOCTOR_BRANCH.DOCTOR_BRANCH_ID"))},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "The Medicare provider number at this branch",
			Match: mappings.Identifiers(mappings.IdentifierColumn(mappings.SystemProviderNumber, col("db", "DOCTOR_BRANCH.PROVIDER_NO"), noSpaces))},
		{Name: "practitioner", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The practitioner",
			Match: mappings.Reference(col("db", "DOCTOR_BRANCH.DOCTOR_ID"), "Practitioner"),
			Chain: &mappings.Chain{Column: col("db", "DOCTOR_BRANCH.DOCTOR_ID"), Target: Practitioner, Params: []string{"identifier"}}},
		{Name: "location", Type: fhir.TypeReference, Targets: []string{"Location"}, Doc: "The branch",
			Match: mappings.Reference(col("db", "DOCTOR_BRANCH.BRANCH_ID"), "Location")},
		{Name: "organization", Type: fhir.TypeReference, Targets: []string{"Organization"}, Doc: "The practice",
			Match: mappings.Reference(col("pr", "PRACTICE.PRACTICE_ID"), "Organization")},
		{Name: "active", Type: fhir.TypeToken, Doc: "true: the practitioner is a current doctor; false: an inactive one",
			Match: mappings.Bool(doctorIsActive, d("IS_ACTIVE")+" <> "+strconv.Itoa(doctorActive))},
	},
	Sorts: map[string]mappings.Sort{
		"_id": mappings.SortInt(col("db", "DOCTOR_BRANCH.DOCTOR_BRANCH_ID")),
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
	DoctorID     mappings.Int  `json:"doctor_id"`
	DoctorActive mappings.Int  `json:"doctor_active"`
	DoctorType   mappings.Int  `json:"doctor_type"`
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
		Active:       mappings.Ptr(c.DoctorActive == doctorActive),
		Practitioner: mappings.Ref("Practitioner", c.DoctorID.ID(), mappings.PersonName(string(c.Title), string(c.First), string(c.Family))),
		Location:     []fm.Reference{*mappings.Ref("Location", c.LocationID.ID(), string(c.LocationName))},
		Organization: c.practiceColumns.ref(),
		Code:         roleCode(int(c.DoctorType)),
		Specialty:    roleSpecialty(int(c.DoctorType)),
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
	refs := map[string][]string{"practitioner": {c.DoctorID.ID()}, "location": {c.LocationID.ID()}}
	if c.OrgID != 0 {
		refs["organization"] = []string{c.OrgID.ID()}
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}
