package zedmed

import (
	_ "embed"
	"encoding/json"
	"strconv"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed practitioner.sql
var practitionerSQL string

// d is a column of DOCTOR d.
func d(name string) string { return col("d", "DOCTOR."+name) }

// doctorIsActive is the predicate of a current doctor.
var doctorIsActive = d("IS_ACTIVE") + " = " + strconv.Itoa(doctorActive)

// Practitioner maps the DOCTOR rows of health practitioners. Inactive ones are found like any
// other, with active false (read and search agree; active=true leaves them out).
var Practitioner = mappings.NewTable(mappings.TableSpec{
	Type:     "Practitioner",
	Profiles: []string{mappings.ProfilePractitioner},
	SQL:      practitionerSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		{Name: "_id", Type: fhir.TypeToken, Doc: "The doctor's DOCTOR_ID",
			Match: mappings.ID(d("DOCTOR_ID"))},
		{Name: "identifier", Type: fhir.TypeToken, Doc: "HPI-I, Ahpra registration number, Medicare provider number (at any branch) or PBS prescriber number",
			Match: mappings.Identifiers(
				mappings.IdentifierColumn(mappings.SystemHPII, d("HPII"), noSpaces),
				mappings.IdentifierColumn(mappings.SystemAHPRA, d("AHPRA_NO"), noSpaces),
				providerNumberAnyBranch(),
				mappings.IdentifierColumn(mappings.SystemPrescriberNumber, d("PRESCRIBER_NO"), noSpaces),
			)},
		{Name: "name", Type: fhir.TypeString, Doc: "First name or surname",
			Match: mappings.String(mappings.Col(d("SURNAME")), mappings.Col(d("FIRST_NAME")))},
		{Name: "family", Type: fhir.TypeString, Doc: "Surname",
			Match: mappings.String(mappings.Col(d("SURNAME")))},
		{Name: "given", Type: fhir.TypeString, Doc: "First name",
			Match: mappings.String(mappings.Col(d("FIRST_NAME")))},
		{Name: "active", Type: fhir.TypeToken, Doc: "true: a current doctor; false: an inactive one",
			Match: mappings.Bool(doctorIsActive, d("IS_ACTIVE")+" <> "+strconv.Itoa(doctorActive))},
	},
	Sorts: map[string]mappings.Sort{
		"_id":    mappings.SortInt(d("DOCTOR_ID")),
		"family": mappings.SortText(d("SURNAME")),
		"given":  mappings.SortText(d("FIRST_NAME")),
	},
	RevIncludes: []fhir.Include{{Source: "PractitionerRole", Param: "practitioner", Target: "Practitioner"}},
	IDs: `SELECT ` + d("DOCTOR_ID") + `
    FROM {{t "DOCTOR"}} d
    WHERE {{practitioner "d"}}{{.Where}}`,
	DefaultCount: 20, MaxCount: 200,
	Row: practitionerRow,
})

// providerNumberAnyBranch matches a Medicare provider number the doctor has at any live
// branch.
func providerNumberAnyBranch() mappings.IdentifierSystem {
	pn := col("db", "DOCTOR_BRANCH.PROVIDER_NO")
	exists := func(pred string) string {
		return "EXISTS (SELECT 1 FROM " + tbl("DOCTOR_BRANCH") + " db WHERE " + col("db", "DOCTOR_BRANCH.DOCTOR_ID") + " = " + d("DOCTOR_ID") +
			" AND " + live("db", "DOCTOR_BRANCH") + " AND " + pred + ")"
	}
	return mappings.IdentifierSystem{
		System: mappings.SystemProviderNumber,
		Match: func(b *mappings.Builder, _, value string) string {
			v := noSpaces(value)
			if v == "" {
				return mappings.SQLFalse
			}
			return exists(b.Dialect.EqualFold(pn, b.Param(mappings.ParamVarChar, v)))
		},
		Present: func(*mappings.Builder, string) string { return exists("COALESCE(" + pn + ", '') <> ''") },
	}
}

type practitionerColumns struct {
	ID           mappings.Int  `json:"id"`
	Active       mappings.Int  `json:"active"`
	Title        mappings.Text `json:"title"`
	First        mappings.Text `json:"first"`
	Family       mappings.Text `json:"family"`
	HPII         mappings.Text `json:"hpii"`
	AHPRA        mappings.Text `json:"ahpra"`
	ProviderNo   mappings.Text `json:"provider_no"`
	PrescriberNo mappings.Text `json:"prescriber_no"`
	Phone        mappings.Text `json:"phone"`
	Mobile       mappings.Text `json:"mobile"`
	Email        mappings.Text `json:"email"`
	Created      mappings.Wall `json:"created"`
	Updated      mappings.Wall `json:"updated"`
}

func practitionerRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c practitionerColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	pr := fm.Practitioner{
		Id:     mappings.Ptr(c.ID.ID()),
		Meta:   meta(mappings.ProfilePractitioner, c.Updated, c.Created, site),
		Active: mappings.Ptr(c.Active == doctorActive),
	}
	if c.HPII != "" {
		pr.Identifier = append(pr.Identifier, mappings.HPII(string(c.HPII)))
	}
	if c.AHPRA != "" {
		pr.Identifier = append(pr.Identifier, mappings.AHPRA(string(c.AHPRA)))
	}
	if c.ProviderNo != "" {
		pr.Identifier = append(pr.Identifier, mappings.ProviderNumber(string(c.ProviderNo)))
	}
	if c.PrescriberNo != "" {
		pr.Identifier = append(pr.Identifier, mappings.PrescriberNumber(string(c.PrescriberNo)))
	}
	pr.Name = []fm.HumanName{personName(c.Title, c.First, c.Family)}
	pr.Telecom = mappings.Telecom(pr.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseWork, string(c.Phone))
	pr.Telecom = mappings.Telecom(pr.Telecom, fm.ContactPointSystemPhone, fm.ContactPointUseMobile, string(c.Mobile))
	pr.Telecom = mappings.Telecom(pr.Telecom, fm.ContactPointSystemEmail, fm.ContactPointUseWork, string(c.Email))
	raw, err := mappings.Marshal("Practitioner", fm.OtherPractitioner(pr))
	return mappings.Row{Resource: raw}, err
}

// personName is a doctor's official name.
func personName(title, first, family mappings.Text) fm.HumanName {
	n := fm.HumanName{Use: mappings.Ptr(fm.NameUseOfficial)}
	if title != "" {
		n.Prefix = []string{string(title)}
	}
	if first != "" {
		n.Given = []string{string(first)}
	}
	if family != "" {
		n.Family = mappings.Ptr(string(family))
	} else {
		n.Text = mappings.Ptr(mappings.PersonName(string(title), string(first)))
	}
	return n
}
