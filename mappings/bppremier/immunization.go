package bppremier

import (
	_ "embed"
	"encoding/json"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed immunization.sql
var immunizationSQL string

// Immunization maps IMMUNISATIONS: vaccines given at the practice (with
// the vaccinator, batch and place) and those recorded as given elsewhere
// (primarySource false). Every record is of a vaccine given: completed.
var Immunization = mappings.NewTable(mappings.TableSpec{
	Type:     "Immunization",
	Profiles: []string{mappings.ProfileImmunization},
	SQL:      immunizationSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(`m."UPDATED"`, `m."CREATED"`),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The IMMUNISATIONS record's RECORDID",
			Match: mappings.ID(`m."RECORDID"`)},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(`m."INTERNALID"`, "Patient"), Chain: patientChain(`m."INTERNALID"`)},
		{Name: "status", Type: fhir.TypeToken, Doc: "completed (every record)",
			Match: mappings.StrictCodes(mappings.CodeSystemImmunizationStatus, map[string]string{"completed": mappings.SQLTrue},
				[]string{"completed", "entered-in-error", "not-done"})},
		{Name: "date", Type: fhir.TypeDate, Doc: "The date given",
			Match: mappings.Date(`m."GIVENDATE"`)},
	},
	Sorts: map[string]mappings.Sort{
		"_id":  mappings.SortInt(`m."RECORDID"`),
		"date": mappings.SortDateTime(`m."GIVENDATE"`),
	},
	Includes: []fhir.Include{
		{Source: "Immunization", Param: "patient", Target: "Patient"},
		{Source: "Immunization", Param: "performer", Target: "Practitioner"},
	},
	DefaultCount: 50, MaxCount: 500,
	Row: immunizationRow,
})

type immunizationColumns struct {
	ID            mappings.Int  `json:"id"`
	Patient       mappings.Int  `json:"patient"`
	PatientFirst  mappings.Text `json:"patient_first"`
	PatientFamily mappings.Text `json:"patient_family"`
	Given         mappings.Wall `json:"given"`
	Elsewhere     mappings.Int  `json:"elsewhere"`
	Vaccine       mappings.Text `json:"vaccine"`
	Batch         mappings.Text `json:"batch"`
	Expiry        mappings.Wall `json:"expiry"`
	Sequence      mappings.Int  `json:"sequence"`
	Comment       mappings.Text `json:"comment"`
	userColumns
	LocationID   mappings.Int  `json:"location_id"`
	LocationName mappings.Text `json:"location_name"`
	Created      mappings.Wall `json:"created"`
	Updated      mappings.Wall `json:"updated"`
}

// immunizationJSON encodes an Immunization with its one occurrence[x] (the
// models' struct writes both choices) and dose numbers.
type immunizationJSON struct {
	fm.OtherImmunization
	OccurrenceDateTime *string                `json:"occurrenceDateTime,omitempty"`
	OccurrenceString   *string                `json:"occurrenceString,omitempty"`
	ProtocolApplied    []immunizationProtocol `json:"protocolApplied,omitempty"`
}

type immunizationProtocol struct {
	DoseNumberPositiveInt int `json:"doseNumberPositiveInt"`
}

func immunizationRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c immunizationColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	im := fm.Immunization{
		Id:            mappings.Ptr(c.ID.ID()),
		Meta:          mappings.Meta(mappings.ProfileImmunization, c.Updated, c.Created, site.Location),
		Status:        fm.ImmunizationStatusCodesCompleted,
		VaccineCode:   *medicineConcept(string(c.Vaccine)),
		Patient:       *patientRef(c.Patient, c.PatientFirst, c.PatientFamily),
		PrimarySource: mappings.Ptr(c.Elsewhere != givenElsewhere),
	}
	out := immunizationJSON{}
	if !c.Given.IsZero() {
		out.OccurrenceDateTime = mappings.Ptr(c.Given.DateTime(site.Location))
	} else {
		out.OccurrenceString = mappings.Ptr("Date not recorded")
	}
	if c.Elsewhere == givenElsewhere {
		im.ReportOrigin = mappings.TextConcept("Recorded as given elsewhere")
	}
	if !c.Created.IsZero() {
		im.Recorded = mappings.Ptr(c.Created.DateTime(site.Location))
	}
	if c.Batch != "" {
		im.LotNumber = mappings.Ptr(string(c.Batch))
	}
	if !c.Expiry.IsZero() {
		im.ExpirationDate = mappings.Ptr(c.Expiry.Date())
	}
	refs := map[string][]string{"patient": {c.Patient.ID()}}
	if p := c.userColumns.ref(); p != nil {
		im.Performer = []fm.ImmunizationPerformer{{
			Function: mappings.Concept("http://terminology.hl7.org/CodeSystem/v2-0443", "AP", "Administering Provider", ""),
			Actor:    *p,
		}}
		refs["performer"] = []string{c.UserID.ID()}
	}
	if c.LocationID != 0 {
		im.Location = mappings.Ref("Location", c.LocationID.ID(), string(c.LocationName))
	}
	if c.Comment != "" {
		im.Note = []fm.Annotation{{Text: string(c.Comment)}}
	}
	if c.Sequence > 0 {
		out.ProtocolApplied = []immunizationProtocol{{DoseNumberPositiveInt: int(c.Sequence)}}
	}
	out.OtherImmunization = fm.OtherImmunization(im)
	raw, err := mappings.Marshal("Immunization", out)
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}
