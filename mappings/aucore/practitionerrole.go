package aucore

import (
	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// Role is what a practitioner's role column says they are, for
// PractitionerRole.code and specialty.
type Role int

// Roles a PMS's codes are read as.
const (
	RoleOther Role = iota // no code or specialty
	RoleGP                // a general practitioner (principal, doctor, registrar)
	RoleNurse             // a registered nurse
)

// PractitionerRoleCodes are a PMS's code values for PractitionerRole.
type PractitionerRoleCodes struct {
	// Active is the practitioner_status value of a current practitioner.
	Active int
	// Role reads the role column.
	Role func(code int) Role
}

// PractitionerRoleRow is PractitionerRole's canonical row: a practitioner
// at one of the practice's locations.
type PractitionerRoleRow struct {
	ID                 mappings.Int  `json:"id"`
	ProviderNo         mappings.Text `json:"provider_no"`
	PractitionerID     mappings.Int  `json:"practitioner_id"`
	PractitionerStatus mappings.Int  `json:"practitioner_status"`
	Role               mappings.Int  `json:"role"`
	Title              mappings.Text `json:"title"`
	First              mappings.Text `json:"first"`
	Family             mappings.Text `json:"family"`
	Phone              mappings.Text `json:"phone"`
	Email              mappings.Text `json:"email"`
	LocationID         mappings.Int  `json:"location_id"`
	LocationName       mappings.Text `json:"location_name"`
	Practice
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

// PractitionerRole is AU Core PractitionerRole: a practitioner working at
// one of the practice's locations, with the Medicare provider number for
// that location. Roles of inactive practitioners are found like any
// other, with active false.
var PractitionerRole = &mappings.Def[PractitionerRoleCodes]{
	Type:     "PractitionerRole",
	Profiles: []string{mappings.ProfilePractitionerRole},
	Columns:  mappings.ColumnsOf[PractitionerRoleRow](),
	// The role's own references, which the joined practitioner_id and
	// location_id equal.
	Filters: []string{"practitioner_ref", "location_ref"},
	Params: []mappings.ParamDef[PractitionerRoleCodes]{
		lastUpdated[PractitionerRoleCodes](),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The role's key in the practice system", Match: id("id")},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "The Medicare provider number at this location",
			Match: func(c mappings.Cols) mappings.Matcher {
				return mappings.Identifiers(mappings.IdentifierColumn(mappings.SystemProviderNumber, c.Col("provider_no"), mappings.NoSpaces))
			}},
		{Name: "practitioner", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The practitioner",
			Match: reference("practitioner_ref", "Practitioner"), ChainBy: []string{"identifier"}, ChainColumn: "practitioner_ref"},
		{Name: "location", Type: fhir.TypeReference, Targets: []string{"Location"}, Doc: "The location",
			Match: reference("location_ref", "Location")},
		{Name: "organization", Type: fhir.TypeReference, Targets: []string{"Organization"}, Doc: "The practice",
			Match: reference("org_id", "Organization")},
		{Name: "active", Type: fhir.TypeToken, Doc: "true: the practitioner is a current one; false: an inactive one",
			MatchCodes: func(c mappings.Cols, codes PractitionerRoleCodes) mappings.Matcher {
				return activeFlag("practitioner_status", codes.Active)(c)
			}},
	},
	Sorts: []mappings.SortDef{mappings.SortIntCol("_id", "id")},
	Includes: []fhir.Include{
		{Source: "PractitionerRole", Param: "practitioner", Target: "Practitioner"},
		{Source: "PractitionerRole", Param: "location", Target: "Location"},
		{Source: "PractitionerRole", Param: "organization", Target: "Organization"},
	},
	DefaultCount: 20, MaxCount: 200,
	Row: practitionerRoleRow,
}

func practitionerRoleRow(codes PractitionerRoleCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c PractitionerRoleRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	role := RoleOther
	if codes.Role != nil {
		role = codes.Role(int(c.Role))
	}
	r := fm.PractitionerRole{
		Id:           mappings.Ptr(c.ID.ID()),
		Meta:         mappings.Meta(mappings.ProfilePractitionerRole, c.Updated, c.Created, site.Location),
		Active:       mappings.Ptr(int(c.PractitionerStatus) == codes.Active),
		Practitioner: mappings.Ref("Practitioner", c.PractitionerID.ID(), mappings.PersonName(string(c.Title), string(c.First), string(c.Family))),
		Location:     []fm.Reference{*mappings.Ref("Location", c.LocationID.ID(), string(c.LocationName))},
		Organization: c.Practice.Ref(),
		Code:         role.code(),
		Specialty:    role.specialty(),
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
	refs := map[string][]string{"practitioner": {c.PractitionerID.ID()}, "location": {c.LocationID.ID()}}
	if c.OrgID != 0 {
		refs["organization"] = []string{c.OrgID.ID()}
	}
	return mappings.Row{ID: *r.Id, Resource: raw, Refs: refs}, nil
}

// code is PractitionerRole.code: general practitioner (SNOMED CT-AU
// occupation and ANZSCO, as AU Core's examples code it) or registered
// nurse.
func (r Role) code() []fm.CodeableConcept {
	switch r {
	case RoleGP:
		return []fm.CodeableConcept{{
			Coding: []fm.Coding{
				{System: mappings.Ptr(mappings.CodeSystemSNOMED), Code: mappings.Ptr("62247001"), Display: mappings.Ptr("General practitioner")},
				{System: mappings.Ptr(mappings.CodeSystemANZSCO), Code: mappings.Ptr("253111"), Display: mappings.Ptr("General Practitioner")},
			},
			Text: mappings.Ptr("General practitioner"),
		}}
	case RoleNurse:
		return []fm.CodeableConcept{*mappings.Concept(mappings.CodeSystemSNOMED, "224535009", "Registered nurse", "Registered nurse")}
	}
	return nil
}

// specialty is PractitionerRole.specialty: general practice for GPs.
func (r Role) specialty() []fm.CodeableConcept {
	if r == RoleGP {
		return []fm.CodeableConcept{*mappings.Concept(mappings.CodeSystemSNOMED, "408443003", "General medical practice", "General practice")}
	}
	return nil
}
