package aucore

import (
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
	id := c.ID.ID()
	w := mappings.NewResource("Condition")
	w.String("id", id)
	w.Meta(mappings.ProfileCondition, c.Updated, c.Created, site.Location)
	clinical := func(code, display string) {
		w.Concept("clinicalStatus", "", mappings.Coding{System: mappings.CodeSystemConditionClinical, Code: code, Display: display})
	}
	resolved := int(c.Status) != codes.Active && !c.Resolved.IsZero()
	switch {
	case int(c.Status) == codes.Active:
		clinical("active", "Active")
	case resolved:
		clinical("resolved", "Resolved")
	case int(c.Status) == codes.Inactive:
		clinical("inactive", "Inactive")
	}
	verification := mappings.Coding{System: mappings.CodeSystemConditionVerification, Code: "confirmed", Display: "Confirmed"}
	if c.Provisional != 0 {
		verification.Code, verification.Display = "provisional", "Provisional"
	}
	w.Concept("verificationStatus", "", verification)
	w.Array("category")
	w.Concept("", "", mappings.Coding{System: mappings.CodeSystemConditionCategory, Code: "problem-list-item", Display: "Problem List Item"})
	w.End()
	if s, ok := codes.Severity[int(c.Severity)]; ok {
		w.Concept("severity", "", mappings.Coding{System: mappings.CodeSystemSNOMED, Code: s[0], Display: s[1]})
	}
	text := string(c.Text)
	if text == "" && c.SNOMED == "" {
		text = "Unnamed condition"
	}
	w.Concept("code", text, mappings.Coding{System: mappings.CodeSystemSNOMED, Code: string(c.SNOMED)})
	c.PatientRef(w, "subject")
	if !c.Onset.IsZero() {
		w.DateTime("onsetDateTime", c.Onset, site.Location)
	} else {
		w.String("onsetDateTime", mappings.PartialDate(int(c.Year), int(c.Month), int(c.Day)))
	}
	if resolved {
		w.DateTime("abatementDateTime", c.Resolved, site.Location)
	}
	recordedDate(w, "recordedDate", c.Recorded, c.Created, site.Location)
	c.PractitionerRef(w, "recorder")
	w.Note(string(c.Details))
	return mappings.Row{ID: id, Resource: w.Bytes(), Refs: refs(c.Subject, c.Clinician, "recorder")}, nil
}
