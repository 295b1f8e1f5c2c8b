package zedmed

import (
	_ "embed"
	"encoding/json"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed immunization.sql
var immunizationSQL string

// i is a column of IMMUNISATION i.
func i(name string) string { return col("i", "IMMUNISATION."+name) }

// Immunization maps IMMUNISATION: vaccines given at the practice.
var Immunization = mappings.NewTable(mappings.TableSpec{
	Type:     "Immunization",
	Profiles: []string{mappings.ProfileImmunization},
	SQL:      immunizationSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(i("UPDATED_AT"), i("CREATED_AT")),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The IMMUNISATION record's IMMUNISATION_ID",
			Match: mappings.ID(i("IMMUNISATION_ID"))},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(i("PATIENT_ID"), "Patient"), Chain: patientChain(i("PATIENT_ID"))},
		{Name: "status", Type: fhir.TypeToken, Doc: "completed (every record)",
			Match: mappings.Codes(mappings.CodeSystemImmunizationStatus, map[string]string{"completed": mappings.SQLTrue})},
		{Name: "date", Type: fhir.TypeDate, Doc: "The date given",
			Match: mappings.Date(i("GIVEN_DATE"))},
		{Name: "vaccine-code", Type: fhir.TypeToken, Doc: "AMT (SNOMED CT-AU) code of the vaccine",
			Match: mappings.CodeColumn(mappings.CodeSystemSNOMED, i("AMT_CODE"))},
	},
	Sorts: map[string]mappings.Sort{
		"_id":  mappings.SortInt(i("IMMUNISATION_ID")),
		"date": mappings.SortDateTime(i("GIVEN_DATE")),
	},
	Includes:     []fhir.Include{{Source: "Immunization", Param: "patient", Target: "Patient"}},
	DefaultCount: 50, MaxCount: 500,
	Row: immunizationRow,
})

type immunizationColumns struct {
	ID mappings.Int `json:"id"`
	ownerColumns
	Vaccine mappings.Text `json:"vaccine"`
	AMT     mappings.Text `json:"amt"`
	Batch   mappings.Text `json:"batch"`
	Dose    mappings.Int  `json:"dose"`
	Site    mappings.Text `json:"site"`
	Given   mappings.Wall `json:"given"`
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

// immunizationJSON writes the one occurrence[x] and the dose numbers (the models' struct
// would write every choice).
type immunizationJSON struct {
	fm.OtherImmunization
	OccurrenceDateTime *string           `json:"occurrenceDateTime,omitempty"`
	OccurrenceString   *string           `json:"occurrenceString,omitempty"`
	ProtocolApplied    []protocolApplied `json:"protocolApplied,omitempty"`
}

type protocolApplied struct {
	DoseNumberPositiveInt int `json:"doseNumberPositiveInt"`
}

func immunizationRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c immunizationColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	code := fm.CodeableConcept{}
	if c.AMT != "" {
		code.Coding = []fm.Coding{mappings.Coding(mappings.CodeSystemSNOMED, string(c.AMT), "")}
	}
	if c.Vaccine != "" {
		code.Text = mappings.Ptr(string(c.Vaccine))
	} else if code.Coding == nil {
		code.Text = mappings.Ptr("Unnamed vaccine")
	}
	im := fm.Immunization{
		Id:            mappings.Ptr(c.ID.ID()),
		Meta:          mappings.Meta(mappings.ProfileImmunization, c.Updated, c.Created, site.Location),
		Status:        fm.ImmunizationStatusCodesCompleted,
		VaccineCode:   code,
		Patient:       *c.patientRef(),
		PrimarySource: mappings.Ptr(true),
	}
	out := immunizationJSON{}
	if !c.Given.IsZero() {
		out.OccurrenceDateTime = mappings.Ptr(c.Given.DateTime(site.Location))
	} else {
		out.OccurrenceString = mappings.Ptr("Date not recorded")
	}
	if !c.Created.IsZero() {
		im.Recorded = mappings.Ptr(c.Created.DateTime(site.Location))
	}
	if c.Batch != "" {
		im.LotNumber = mappings.Ptr(string(c.Batch))
	}
	if c.Site != "" {
		im.Site = mappings.TextConcept(string(c.Site))
	}
	if p := c.doctorRef(); p != nil {
		im.Performer = []fm.ImmunizationPerformer{{
			Function: mappings.Concept("http://terminology.hl7.org/CodeSystem/v2-0443", "AP", "Administering Provider", ""),
			Actor:    *p,
		}}
	}
	if c.Dose > 0 {
		out.ProtocolApplied = []protocolApplied{{DoseNumberPositiveInt: int(c.Dose)}}
	}
	out.OtherImmunization = fm.OtherImmunization(im)
	raw, err := mappings.Marshal("Immunization", out)
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: c.refs("performer")}, nil
}
