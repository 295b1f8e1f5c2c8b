package aucore

import (
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
	id := c.ID.ID()
	w := mappings.NewResource("PractitionerRole")
	w.String("id", id)
	w.Meta(mappings.ProfilePractitionerRole, c.Updated, c.Created, site.Location)
	if c.ProviderNo != "" {
		w.Array("identifier")
		w.Identifier("", mappings.ProviderNumber(string(c.ProviderNo)))
		w.End()
	}
	w.Bool("active", int(c.PractitionerStatus) == codes.Active)
	w.Ref("practitioner", "Practitioner", c.PractitionerID.ID(), string(c.Title), string(c.First), string(c.Family))
	c.Practice.Ref(w, "organization")
	role.write(w)
	w.Array("location")
	w.Ref("", "Location", c.LocationID.ID(), string(c.LocationName))
	w.End()
	w.Array("telecom")
	w.Telecom("phone", "work", string(c.Phone))
	w.Telecom("email", "work", string(c.Email))
	w.End()
	refs := map[string][]string{"practitioner": {c.PractitionerID.ID()}, "location": {c.LocationID.ID()}}
	if c.OrgID != 0 {
		refs["organization"] = []string{c.OrgID.ID()}
	}
	return mappings.Row{ID: id, Resource: w.Bytes(), Refs: refs}, nil
}

// write writes PractitionerRole.code and specialty: general practitioner
// (SNOMED CT-AU occupation and ANZSCO, as AU Core's examples code it) in
// general practice, or registered nurse.
func (r Role) write(w *mappings.JSON) {
	switch r {
	case RoleGP:
		w.Array("code")
		w.Concept("", "General practitioner",
			mappings.Coding{System: mappings.CodeSystemSNOMED, Code: "62247001", Display: "General practitioner"},
			mappings.Coding{System: mappings.CodeSystemANZSCO, Code: "253111", Display: "General Practitioner"})
		w.End()
		w.Array("specialty")
		w.Concept("", "General practice", mappings.Coding{System: mappings.CodeSystemSNOMED, Code: "408443003", Display: "General medical practice"})
		w.End()
	case RoleNurse:
		w.Array("code")
		w.Concept("", "Registered nurse", mappings.Coding{System: mappings.CodeSystemSNOMED, Code: "224535009", Display: "Registered nurse"})
		w.End()
	}
}
