package aucore

import (
	"fhirlink/fhir"
	"fhirlink/mappings"
)

// AllergyIntoleranceCodes are a PMS's code values for AllergyIntolerance.
type AllergyIntoleranceCodes struct {
	// Category is the FHIR category of a category value; ok false leaves
	// the record without one.
	Category func(category int) (string, bool)
	// Severity is FHIR's reaction severity code of a severity value.
	Severity map[int]string
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
	none := c.Src == AllergyNoneKnown
	id := c.ID.ID()
	if none {
		id = NoKnownAllergyPrefix + c.Patient.ID()
	}
	w := mappings.NewResource("AllergyIntolerance")
	w.String("id", id)
	w.Meta(mappings.ProfileAllergyIntolerance, c.Updated, c.Created, site.Location)
	w.Concept("clinicalStatus", "", mappings.Coding{System: mappings.CodeSystemAllergyClinical, Code: "active", Display: "Active"})
	w.Concept("verificationStatus", "", mappings.Coding{System: mappings.CodeSystemAllergyVerification, Code: "confirmed", Display: "Confirmed"})
	if none {
		w.Concept("code", "Nil known allergies", mappings.Coding{System: mappings.CodeSystemSNOMED, Code: "716186003", Display: "No known allergy"})
	} else {
		if cat, ok := codes.Category(int(c.Category)); ok {
			w.Strings("category", cat)
		}
		text := string(c.Substance)
		if text == "" && c.SNOMED == "" {
			text = "Unnamed substance"
		}
		w.Concept("code", text, mappings.Coding{System: mappings.CodeSystemSNOMED, Code: string(c.SNOMED)})
	}
	c.PatientRef(w, "patient")
	if !none && !c.Onset.IsZero() {
		w.DateTime("onsetDateTime", c.Onset, site.Location)
	}
	recordedDate(w, "recordedDate", c.Recorded, c.Created, site.Location)
	c.PractitionerRef(w, "recorder")
	if !none {
		w.Note(string(c.Comment))
		if c.Reaction != "" || c.Severity != 0 {
			reaction := string(c.Reaction)
			if reaction == "" {
				reaction = "Unspecified reaction"
			}
			w.Array("reaction")
			w.Object("")
			w.Array("manifestation")
			w.Concept("", reaction)
			w.End()
			w.String("severity", codes.Severity[int(c.Severity)])
			w.End()
			w.End()
		}
	}
	return mappings.Row{ID: id, Resource: w.Bytes(), Refs: refs(c.Subject, c.Clinician, "recorder")}, nil
}
