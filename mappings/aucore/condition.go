package aucore

import (
	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// ConditionCodes are a PMS's code values for Condition.
type ConditionCodes struct {
	// Active and Inactive are the values of the status column of an active
	// item and an inactive one; an inactive item with a resolution date is
	// resolved, an item of another status has no clinical status.
	Active, Inactive int
	// ClinicalStatusSQL is the clinical-status search: each code as a
	// predicate on the PMS's row.
	ClinicalStatusSQL map[string]string
	// Severity is SNOMED CT's severity (code, display) of a severity value.
	Severity map[int][2]string
}

// ConditionRow is Condition's canonical row. The onset is a date (onset)
// or, for a PMS that records the parts it knows, a year, month and day
// (each 0 when unknown).
type ConditionRow struct {
	ID mappings.Int `json:"id"`
	Subject
	Year        mappings.Int  `json:"year"`
	Month       mappings.Int  `json:"month"`
	Day         mappings.Int  `json:"day"`
	Text        mappings.Text `json:"text"`
	SNOMED      mappings.Text `json:"snomed"`
	Onset       mappings.Wall `json:"onset"`
	Resolved    mappings.Wall `json:"resolved"`
	Status      mappings.Int  `json:"status"`
	Severity    mappings.Int  `json:"severity"`
	Provisional mappings.Int  `json:"provisional"`
	Details     mappings.Text `json:"details"`
	Recorded    mappings.Wall `json:"recorded"`
	Clinician
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

// ConditionClinicalStatuses is FHIR's condition-clinical value set: a
// clinical-status search with any other code is a bad request.
var ConditionClinicalStatuses = []string{"active", "recurrence", "relapse", "inactive", "remission", "resolved"}

// Condition is AU Core Condition: the patient's problem list (every item a
// problem-list-item), active or inactive as the practice marked it.
var Condition = &mappings.Def[ConditionCodes]{
	Type:     "Condition",
	Profiles: []string{mappings.ProfileCondition},
	Columns:  mappings.ColumnsOf[ConditionRow](),
	Optional: []string{"year", "month", "day", "onset", "resolved", "severity", "provisional", "details", "recorded"},
	Filters:  []string{"patient_ref"},
	Params: append(append([]mappings.ParamDef[ConditionCodes]{
		lastUpdated[ConditionCodes](),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The problem's key in the practice system", Match: id("id")},
	}, patientParams[ConditionCodes](true)...),
		mappings.ParamDef[ConditionCodes]{Name: "category", Type: fhir.TypeToken, Doc: "problem-list-item (every problem)",
			Match: func(mappings.Cols) mappings.Matcher {
				return mappings.Codes(mappings.CodeSystemConditionCategory, map[string]string{"problem-list-item": mappings.SQLTrue})
			}},
		mappings.ParamDef[ConditionCodes]{Name: "clinical-status", Type: fhir.TypeToken,
			Doc: "active or inactive, as the problem is marked; resolved: inactive with a resolution date",
			MatchCodes: func(_ mappings.Cols, codes ConditionCodes) mappings.Matcher {
				return mappings.StrictCodes(mappings.CodeSystemConditionClinical, codes.ClinicalStatusSQL, ConditionClinicalStatuses)
			}},
		mappings.ParamDef[ConditionCodes]{Name: "code", Type: fhir.TypeToken, Doc: "SNOMED CT code",
			Match: func(c mappings.Cols) mappings.Matcher {
				return mappings.CodeColumn(mappings.CodeSystemSNOMED, c.Col("snomed"))
			}},
		mappings.ParamDef[ConditionCodes]{Name: "onset-date", Type: fhir.TypeDate, Doc: "Onset: the date, or the year, month or day recorded",
			Match: func(c mappings.Cols) mappings.Matcher {
				if _, ok := c["onset"]; ok {
					return mappings.Date(c.Col("onset"))
				}
				return mappings.PartialDateMatcher(c.Col("year"), c.Col("month"), c.Col("day"))
			}},
	),
	Sorts: []mappings.SortDef{
		mappings.SortIntCol("_id", "id"),
		// Only by an onset date (a PMS with partial dates omits it).
		mappings.SortDateTimeCol("onset-date", "onset"),
	},
	Includes:     includePatient("Condition"),
	DefaultCount: 50, MaxCount: 500,
	Row: conditionRow,
}

func conditionRow(codes ConditionCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c ConditionRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	cond := fm.Condition{
		Id:       mappings.Ptr(c.ID.ID()),
		Meta:     mappings.Meta(mappings.ProfileCondition, c.Updated, c.Created, site.Location),
		Subject:  *c.PatientRef(),
		Category: []fm.CodeableConcept{*mappings.Concept(mappings.CodeSystemConditionCategory, "problem-list-item", "Problem List Item", "")},
		Recorder: c.PractitionerRef(),
	}
	switch {
	case int(c.Status) == codes.Active:
		cond.ClinicalStatus = mappings.Concept(mappings.CodeSystemConditionClinical, "active", "Active", "")
	case !c.Resolved.IsZero():
		cond.ClinicalStatus = mappings.Concept(mappings.CodeSystemConditionClinical, "resolved", "Resolved", "")
		cond.AbatementDateTime = mappings.Ptr(c.Resolved.DateTime(site.Location))
	case int(c.Status) == codes.Inactive:
		cond.ClinicalStatus = mappings.Concept(mappings.CodeSystemConditionClinical, "inactive", "Inactive", "")
	}
	if c.Provisional != 0 {
		cond.VerificationStatus = mappings.Concept(mappings.CodeSystemConditionVerification, "provisional", "Provisional", "")
	} else {
		cond.VerificationStatus = mappings.Concept(mappings.CodeSystemConditionVerification, "confirmed", "Confirmed", "")
	}
	code := fm.CodeableConcept{}
	if c.SNOMED != "" {
		code.Coding = []fm.Coding{mappings.Coding(mappings.CodeSystemSNOMED, string(c.SNOMED), "")}
	}
	if c.Text != "" {
		code.Text = mappings.Ptr(string(c.Text))
	}
	if code.Coding == nil && code.Text == nil {
		code.Text = mappings.Ptr("Unnamed condition")
	}
	cond.Code = &code
	if s, ok := codes.Severity[int(c.Severity)]; ok {
		cond.Severity = mappings.Concept(mappings.CodeSystemSNOMED, s[0], s[1], "")
	}
	if !c.Onset.IsZero() {
		cond.OnsetDateTime = mappings.Ptr(c.Onset.DateTime(site.Location))
	} else if onset := mappings.PartialDate(int(c.Year), int(c.Month), int(c.Day)); onset != "" {
		cond.OnsetDateTime = mappings.Ptr(onset)
	}
	switch {
	case !c.Recorded.IsZero():
		cond.RecordedDate = mappings.Ptr(c.Recorded.DateTime(site.Location))
	case !c.Created.IsZero():
		cond.RecordedDate = mappings.Ptr(c.Created.DateTime(site.Location))
	}
	if c.Details != "" {
		cond.Note = []fm.Annotation{{Text: string(c.Details)}}
	}
	raw, err := mappings.Marshal("Condition", fm.OtherCondition(cond))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{ID: *cond.Id, Resource: raw, Refs: refs(c.Subject, c.Clinician, "recorder")}, nil
}
