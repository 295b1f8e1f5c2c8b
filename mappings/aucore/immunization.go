package aucore

import (
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

func immunizationRow(codes ImmunizationCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c ImmunizationRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	elsewhere := c.Elsewhere != 0 && int(c.Elsewhere) == codes.GivenElsewhere
	id := c.ID.ID()
	w := mappings.NewResource("Immunization")
	w.String("id", id)
	w.Meta(mappings.ProfileImmunization, c.Updated, c.Created, site.Location)
	w.String("status", "completed")
	text := string(c.Vaccine)
	if text == "" && c.AMT == "" {
		text = "Unnamed vaccine"
	}
	w.Concept("vaccineCode", text, mappings.Coding{System: mappings.CodeSystemSNOMED, Code: string(c.AMT)})
	c.PatientRef(w, "patient")
	if !c.Given.IsZero() {
		w.DateTime("occurrenceDateTime", c.Given, site.Location)
	} else {
		w.String("occurrenceString", "Date not recorded")
	}
	if !c.Created.IsZero() {
		w.DateTime("recorded", c.Created, site.Location)
	}
	w.Bool("primarySource", !elsewhere)
	if elsewhere {
		w.Concept("reportOrigin", "Recorded as given elsewhere")
	}
	if c.LocationID != 0 {
		w.Ref("location", "Location", c.LocationID.ID(), string(c.LocationName))
	}
	w.String("lotNumber", string(c.Batch))
	if !c.Expiry.IsZero() {
		w.Date("expirationDate", c.Expiry)
	}
	w.Concept("site", string(c.Site))
	if c.PractitionerID != 0 {
		w.Array("performer")
		w.Object("")
		w.Concept("function", "", mappings.Coding{System: "http://terminology.hl7.org/CodeSystem/v2-0443", Code: "AP", Display: "Administering Provider"})
		c.PractitionerRef(w, "actor")
		w.End()
		w.End()
	}
	w.Note(string(c.Comment))
	if c.Dose > 0 {
		w.Array("protocolApplied")
		w.Object("")
		w.Int("doseNumberPositiveInt", int64(c.Dose))
		w.End()
		w.End()
	}
	return mappings.Row{ID: id, Resource: w.Bytes(), Refs: refs(c.Subject, c.Clinician, "performer")}, nil
}
