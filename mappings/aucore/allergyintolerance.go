package aucore

import (
	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// AllergyIntoleranceCodes are a PMS's code values for AllergyIntolerance.
type AllergyIntoleranceCodes struct {
	// Category is the FHIR category of a category value; ok false leaves
	// the record without one.
	Category func(category int) (fm.AllergyIntoleranceCategory, bool)
	// Severity is FHIR's reaction severity of a severity value.
	Severity map[int]fm.AllergyIntoleranceSeverity
}

// NoKnownAllergyPrefix starts the id of a patient's "no known allergy"
// record (a row with src AllergyNoneKnown), which the patient's id follows.
const NoKnownAllergyPrefix = "nka-"

// AllergyNoneKnown is the src of a row that is the patient's "no known
// allergy" state rather than a recorded allergy.
const AllergyNoneKnown = 2

// AllergyIntoleranceRow is AllergyIntolerance's canonical row: a recorded
// allergy or, for a PMS that records the "nil known" state, a patient's no
// known allergy (src AllergyNoneKnown). k is the row's unique key where id
// is not (the no known allergy rows), status the record's state (every
// row shown is live).
type AllergyIntoleranceRow struct {
	K   mappings.Int `json:"k"`
	Src mappings.Int `json:"src"`
	ID  mappings.Int `json:"id"`
	Subject
	Status    mappings.Int  `json:"status"`
	Substance mappings.Text `json:"substance"`
	SNOMED    mappings.Text `json:"snomed"`
	Reaction  mappings.Text `json:"reaction"`
	Severity  mappings.Int  `json:"severity"`
	Category  mappings.Int  `json:"category"`
	Onset     mappings.Wall `json:"onset"`
	Comment   mappings.Text `json:"comment"`
	Recorded  mappings.Wall `json:"recorded"`
	Clinician
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

// AllergyIntolerance is AU Core AllergyIntolerance: every live record is
// an active, confirmed allergy or intolerance (deleted ones are never
// shown).
var AllergyIntolerance = &mappings.Def[AllergyIntoleranceCodes]{
	Type:     "AllergyIntolerance",
	Profiles: []string{mappings.ProfileAllergyIntolerance},
	Columns:  mappings.ColumnsOf[AllergyIntoleranceRow](),
	Optional: []string{"k", "src", "status", "snomed", "category", "onset", "comment", "recorded"},
	Filters:  []string{"patient_ref"},
	Params: append(append([]mappings.ParamDef[AllergyIntoleranceCodes]{
		lastUpdated[AllergyIntoleranceCodes](),
		// A PMS with no known allergy records gives its own predicate.
		{Name: "_id", Type: fhir.TypeToken, Doc: "The record's key in the practice system (nka-{patient id}: the patient's no known allergy record)",
			Match: id("id")},
	}, patientParams[AllergyIntoleranceCodes](false)...),
		mappings.ParamDef[AllergyIntoleranceCodes]{Name: "clinical-status", Type: fhir.TypeToken,
			Doc: "active (every record: the practice keeps no inactive or resolved allergy, and deleted ones are never shown)",
			Match: func(mappings.Cols) mappings.Matcher {
				return mappings.StrictCodes(mappings.CodeSystemAllergyClinical, map[string]string{"active": mappings.SQLTrue},
					[]string{"active", "inactive", "resolved"})
			}},
	),
	Sorts: []mappings.SortDef{{Name: "_id", Sort: func(c mappings.Cols) mappings.Sort {
		if k, ok := c["k"]; ok {
			return mappings.SortInt(k)
		}
		return mappings.SortInt(c.Col("id"))
	}}},
	Includes:     includePatient("AllergyIntolerance"),
	DefaultCount: 50, MaxCount: 500,
	Row: allergyIntoleranceRow,
}

func allergyIntoleranceRow(codes AllergyIntoleranceCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c AllergyIntoleranceRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	a := fm.AllergyIntolerance{
		Meta:               mappings.Meta(mappings.ProfileAllergyIntolerance, c.Updated, c.Created, site.Location),
		Patient:            *c.PatientRef(),
		ClinicalStatus:     mappings.Concept(mappings.CodeSystemAllergyClinical, "active", "Active", ""),
		VerificationStatus: mappings.Concept(mappings.CodeSystemAllergyVerification, "confirmed", "Confirmed", ""),
		Recorder:           c.PractitionerRef(),
	}
	switch {
	case !c.Recorded.IsZero():
		a.RecordedDate = mappings.Ptr(c.Recorded.DateTime(site.Location))
	case !c.Created.IsZero():
		a.RecordedDate = mappings.Ptr(c.Created.DateTime(site.Location))
	}
	if c.Src == AllergyNoneKnown {
		a.Id = mappings.Ptr(NoKnownAllergyPrefix + c.Patient.ID())
		a.Code = mappings.Concept(mappings.CodeSystemSNOMED, "716186003", "No known allergy", "Nil known allergies")
	} else {
		a.Id = mappings.Ptr(c.ID.ID())
		if cat, ok := codes.Category(int(c.Category)); ok {
			a.Category = []fm.AllergyIntoleranceCategory{cat}
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
		a.Code = &code
		if !c.Onset.IsZero() {
			a.OnsetDateTime = mappings.Ptr(c.Onset.DateTime(site.Location))
		}
		if c.Reaction != "" || c.Severity != 0 {
			r := fm.AllergyIntoleranceReaction{Manifestation: []fm.CodeableConcept{{Text: mappings.Ptr(string(c.Reaction))}}}
			if c.Reaction == "" {
				r.Manifestation[0].Text = mappings.Ptr("Unspecified reaction")
			}
			if s, ok := codes.Severity[int(c.Severity)]; ok {
				r.Severity = &s
			}
			a.Reaction = []fm.AllergyIntoleranceReaction{r}
		}
		if c.Comment != "" {
			a.Note = []fm.Annotation{{Text: string(c.Comment)}}
		}
	}
	raw, err := mappings.Marshal("AllergyIntolerance", fm.OtherAllergyIntolerance(a))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{ID: *a.Id, Resource: raw, Refs: refs(c.Subject, c.Clinician, "recorder")}, nil
}
