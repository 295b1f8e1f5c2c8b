package aucore

import (
	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// ImmunizationCodes are a PMS's code values for Immunization.
type ImmunizationCodes struct {
	// GivenElsewhere is the elsewhere value of a vaccine recorded as given
	// elsewhere (not by the practice: primarySource false).
	GivenElsewhere int
}

// ImmunizationRow is Immunization's canonical row: one vaccine given.
// visit_id is the visit it was given in, which the resource does not yet
// carry.
type ImmunizationRow struct {
	ID mappings.Int `json:"id"`
	Subject
	Given     mappings.Wall `json:"given"`
	Elsewhere mappings.Int  `json:"elsewhere"`
	Vaccine   mappings.Text `json:"vaccine"`
	AMT       mappings.Text `json:"amt"`
	Batch     mappings.Text `json:"batch"`
	Expiry    mappings.Wall `json:"expiry"`
	Dose      mappings.Int  `json:"dose"`
	Site      mappings.Text `json:"site"`
	Comment   mappings.Text `json:"comment"`
	VisitID   mappings.Int  `json:"visit_id"`
	Clinician
	LocationID   mappings.Int  `json:"location_id"`
	LocationName mappings.Text `json:"location_name"`
	Created      mappings.Wall `json:"created"`
	Updated      mappings.Wall `json:"updated"`
}

// Immunization is AU Core Immunization: every record is of a vaccine
// given (completed), at the practice or, where the practice records it,
// elsewhere.
var Immunization = &mappings.Def[ImmunizationCodes]{
	Type:     "Immunization",
	Profiles: []string{mappings.ProfileImmunization},
	Columns:  mappings.ColumnsOf[ImmunizationRow](),
	Optional: []string{"elsewhere", "amt", "expiry", "site", "comment", "visit_id", "location_id", "location_name"},
	Filters:  []string{"patient_ref"},
	Params: append(append([]mappings.ParamDef[ImmunizationCodes]{
		lastUpdated[ImmunizationCodes](),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The immunisation's key in the practice system", Match: id("id")},
	}, patientParams[ImmunizationCodes](false)...),
		mappings.ParamDef[ImmunizationCodes]{Name: "status", Type: fhir.TypeToken, Doc: "completed (every record)",
			Match: func(mappings.Cols) mappings.Matcher {
				return mappings.StrictCodes(mappings.CodeSystemImmunizationStatus, map[string]string{"completed": mappings.SQLTrue},
					[]string{"completed", "entered-in-error", "not-done"})
			}},
		mappings.ParamDef[ImmunizationCodes]{Name: "date", Type: fhir.TypeDate, Doc: "The date given", Match: date("given")},
		mappings.ParamDef[ImmunizationCodes]{Name: "vaccine-code", Type: fhir.TypeToken, Doc: "AMT (SNOMED CT-AU) code of the vaccine",
			Match: func(c mappings.Cols) mappings.Matcher {
				return mappings.CodeColumn(mappings.CodeSystemSNOMED, c.Col("amt"))
			}},
	),
	Sorts: []mappings.SortDef{
		mappings.SortIntCol("_id", "id"),
		mappings.SortDateTimeCol("date", "given"),
	},
	Includes: append(includePatient("Immunization"),
		fhir.Include{Source: "Immunization", Param: "performer", Target: "Practitioner"}),
	DefaultCount: 50, MaxCount: 500,
	Row: immunizationRow,
}

// immunizationJSON writes the one occurrence[x] and the dose numbers (the
// models' struct would write every choice).
type immunizationJSON struct {
	fm.OtherImmunization
	OccurrenceDateTime *string                `json:"occurrenceDateTime,omitempty"`
	OccurrenceString   *string                `json:"occurrenceString,omitempty"`
	ProtocolApplied    []immunizationProtocol `json:"protocolApplied,omitempty"`
}

type immunizationProtocol struct {
	DoseNumberPositiveInt int `json:"doseNumberPositiveInt"`
}

func immunizationRow(codes ImmunizationCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c ImmunizationRow
	if err := mappings.DecodeRow(row, &c); err != nil {
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
	elsewhere := c.Elsewhere != 0 && int(c.Elsewhere) == codes.GivenElsewhere
	im := fm.Immunization{
		Id:            mappings.Ptr(c.ID.ID()),
		Meta:          mappings.Meta(mappings.ProfileImmunization, c.Updated, c.Created, site.Location),
		Status:        fm.ImmunizationStatusCodesCompleted,
		VaccineCode:   code,
		Patient:       *c.PatientRef(),
		PrimarySource: mappings.Ptr(!elsewhere),
	}
	out := immunizationJSON{}
	if !c.Given.IsZero() {
		out.OccurrenceDateTime = mappings.Ptr(c.Given.DateTime(site.Location))
	} else {
		out.OccurrenceString = mappings.Ptr("Date not recorded")
	}
	if elsewhere {
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
	if c.Site != "" {
		im.Site = mappings.TextConcept(string(c.Site))
	}
	if p := c.PractitionerRef(); p != nil {
		im.Performer = []fm.ImmunizationPerformer{{
			Function: mappings.Concept("http://terminology.hl7.org/CodeSystem/v2-0443", "AP", "Administering Provider", ""),
			Actor:    *p,
		}}
	}
	if c.LocationID != 0 {
		im.Location = mappings.Ref("Location", c.LocationID.ID(), string(c.LocationName))
	}
	if c.Comment != "" {
		im.Note = []fm.Annotation{{Text: string(c.Comment)}}
	}
	if c.Dose > 0 {
		out.ProtocolApplied = []immunizationProtocol{{DoseNumberPositiveInt: int(c.Dose)}}
	}
	out.OtherImmunization = fm.OtherImmunization(im)
	raw, err := mappings.Marshal("Immunization", out)
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{ID: *im.Id, Resource: raw, Refs: refs(c.Subject, c.Clinician, "performer")}, nil
}
