package zedmed

import (
	_ "embed"
	"encoding/json"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed allergyintolerance.sql
var allergySQL string

// ALLERGY.CATEGORY (codes.go's assumption) as FHIR categories.
var allergyCategories = map[int]fm.AllergyIntoleranceCategory{
	1: fm.AllergyIntoleranceCategoryMedication,
	2: fm.AllergyIntoleranceCategoryFood,
	3: fm.AllergyIntoleranceCategoryEnvironment,
}

// ALLERGY.SEVERITY: 1 mild, 2 moderate, 3 severe.
var allergySeverities = map[int]fm.AllergyIntoleranceSeverity{
	1: fm.AllergyIntoleranceSeverityMild,
	2: fm.AllergyIntoleranceSeverityModerate,
	3: fm.AllergyIntoleranceSeveritySevere,
}

// AllergyIntolerance maps ALLERGY: every live record is an active, confirmed allergy or
// intolerance.
var AllergyIntolerance = mappings.NewTable(mappings.TableSpec{
	Type:     "AllergyIntolerance",
	Profiles: []string{mappings.ProfileAllergyIntolerance},
	SQL:      allergySQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(col("x", "ALLERGY.UPDATED_AT"), col("x", "ALLERGY.CREATED_AT")),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The ALLERGY record's ALLERGY_ID",
			Match: mappings.ID(col("x", "ALLERGY.ALLERGY_ID"))},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(col("x", "ALLERGY.PATIENT_ID"), "Patient"), Chain: patientChain(col("x", "ALLERGY.PATIENT_ID"))},
		{Name: "clinical-status", Type: fhir.TypeToken, Doc: "active (every record)",
			Match: mappings.StrictCodes(mappings.CodeSystemAllergyClinical, map[string]string{"active": mappings.SQLTrue},
				[]string{"active", "inactive", "resolved"})},
	},
	Sorts:        map[string]mappings.Sort{"_id": mappings.SortInt(col("x", "ALLERGY.ALLERGY_ID"))},
	Includes:     []fhir.Include{{Source: "AllergyIntolerance", Param: "patient", Target: "Patient"}},
	DefaultCount: 50, MaxCount: 500,
	Row: allergyRow,
})

type allergyColumns struct {
	ID mappings.Int `json:"id"`
	ownerColumns
	Substance mappings.Text `json:"substance"`
	SNOMED    mappings.Text `json:"snomed"`
	Reaction  mappings.Text `json:"reaction"`
	Severity  mappings.Int  `json:"severity"`
	Category  mappings.Int  `json:"category"`
	Onset     mappings.Wall `json:"onset"`
	Recorded  mappings.Wall `json:"recorded"`
	Created   mappings.Wall `json:"created"`
	Updated   mappings.Wall `json:"updated"`
}

func allergyRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c allergyColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	al := fm.AllergyIntolerance{
		Id:                 mappings.Ptr(c.ID.ID()),
		Meta:               mappings.Meta(mappings.ProfileAllergyIntolerance, c.Updated, c.Created, site.Location),
		ClinicalStatus:     mappings.Concept(mappings.CodeSystemAllergyClinical, "active", "Active", ""),
		VerificationStatus: mappings.Concept(mappings.CodeSystemAllergyVerification, "confirmed", "Confirmed", ""),
		Patient:            *c.patientRef(),
		Recorder:           c.doctorRef(),
	}
	code := fm.CodeableConcept{}
	if c.SNOMED != "" {
		code.Coding = []fm.Coding{mappings.Coding(mappings.CodeSystemSNOMED, string(c.SNOMED), "")}
	}
	if c.Substance != "" {
		code.Text = mappings.Ptr(string(c.Substance))
	} else if code.Coding == nil {
		code.Text = mappings.Ptr("Unnamed substance")
	}
	al.Code = &code
	if cat, ok := allergyCategories[int(c.Category)]; ok {
		al.Category = []fm.AllergyIntoleranceCategory{cat}
	}
	if !c.Onset.IsZero() {
		al.OnsetDateTime = mappings.Ptr(c.Onset.DateTime(site.Location))
	}
	switch {
	case !c.Recorded.IsZero():
		al.RecordedDate = mappings.Ptr(c.Recorded.DateTime(site.Location))
	case !c.Created.IsZero():
		al.RecordedDate = mappings.Ptr(c.Created.DateTime(site.Location))
	}
	if c.Reaction != "" {
		r := fm.AllergyIntoleranceReaction{Manifestation: []fm.CodeableConcept{{Text: mappings.Ptr(string(c.Reaction))}}}
		if s, ok := allergySeverities[int(c.Severity)]; ok {
			r.Severity = &s
		}
		al.Reaction = []fm.AllergyIntoleranceReaction{r}
	}
	raw, err := mappings.Marshal("AllergyIntolerance", fm.OtherAllergyIntolerance(al))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: c.refs("recorder")}, nil
}
