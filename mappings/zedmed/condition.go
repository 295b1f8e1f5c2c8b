package zedmed

import (
	_ "embed"
	"encoding/json"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed condition.sql
var conditionSQL string

// h is a column of PROBLEM h.
func h(name string) string { return col("h", "PROBLEM."+name) }

// Condition maps PROBLEM, the problem list: active, or inactive (resolved when it has a
// resolution date).
var Condition = mappings.NewTable(mappings.TableSpec{
	Type:     "Condition",
	Profiles: []string{mappings.ProfileCondition},
	SQL:      conditionSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(h("UPDATED_AT"), h("CREATED_AT")),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The PROBLEM record's PROBLEM_ID",
			Match: mappings.ID(h("PROBLEM_ID"))},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(h("PATIENT_ID"), "Patient"), Chain: patientChain(h("PATIENT_ID"))},
		{Name: "subject", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(h("PATIENT_ID"), "Patient")},
		{Name: "category", Type: fhir.TypeToken, Doc: "problem-list-item (every problem)",
			Match: mappings.Codes(mappings.CodeSystemConditionCategory, map[string]string{"problem-list-item": mappings.SQLTrue})},
		{Name: "clinical-status", Type: fhir.TypeToken, Doc: "active; resolved (inactive with a resolution date) or inactive",
			Match: mappings.StrictCodes(mappings.CodeSystemConditionClinical, map[string]string{
				"active":   h("IS_ACTIVE") + " = 1",
				"resolved": "(" + h("IS_ACTIVE") + " = 0 AND " + h("RESOLVED_DATE") + " IS NOT NULL)",
				"inactive": "(" + h("IS_ACTIVE") + " = 0 AND " + h("RESOLVED_DATE") + " IS NULL)",
			}, []string{"active", "recurrence", "relapse", "inactive", "remission", "resolved"})},
		{Name: "code", Type: fhir.TypeToken, Doc: "SNOMED CT code",
			Match: mappings.CodeColumn(mappings.CodeSystemSNOMED, h("SNOMED_CODE"))},
		{Name: "onset-date", Type: fhir.TypeDate, Doc: "Onset date",
			Match: mappings.Date(h("ONSET_DATE"))},
	},
	Sorts: map[string]mappings.Sort{
		"_id":        mappings.SortInt(h("PROBLEM_ID")),
		"onset-date": mappings.SortDateTime(h("ONSET_DATE")),
	},
	Includes:     []fhir.Include{{Source: "Condition", Param: "patient", Target: "Patient"}},
	DefaultCount: 50, MaxCount: 500,
	Row: conditionRow,
})

type conditionColumns struct {
	ID mappings.Int `json:"id"`
	ownerColumns
	Text     mappings.Text `json:"text"`
	SNOMED   mappings.Text `json:"snomed"`
	Onset    mappings.Wall `json:"onset"`
	Resolved mappings.Wall `json:"resolved"`
	Active   mappings.Int  `json:"active"`
	Recorded mappings.Wall `json:"recorded"`
	Created  mappings.Wall `json:"created"`
	Updated  mappings.Wall `json:"updated"`
}

func conditionRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c conditionColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	cond := fm.Condition{
		Id:                 mappings.Ptr(c.ID.ID()),
		Meta:               mappings.Meta(mappings.ProfileCondition, c.Updated, c.Created, site.Location),
		Subject:            *c.patientRef(),
		Category:           []fm.CodeableConcept{*mappings.Concept(mappings.CodeSystemConditionCategory, "problem-list-item", "Problem List Item", "")},
		Recorder:           c.doctorRef(),
		VerificationStatus: mappings.Concept(mappings.CodeSystemConditionVerification, "confirmed", "Confirmed", ""),
	}
	switch {
	case c.Active == 1:
		cond.ClinicalStatus = mappings.Concept(mappings.CodeSystemConditionClinical, "active", "Active", "")
	case !c.Resolved.IsZero():
		cond.ClinicalStatus = mappings.Concept(mappings.CodeSystemConditionClinical, "resolved", "Resolved", "")
		cond.AbatementDateTime = mappings.Ptr(c.Resolved.DateTime(site.Location))
	default:
		cond.ClinicalStatus = mappings.Concept(mappings.CodeSystemConditionClinical, "inactive", "Inactive", "")
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
	if !c.Onset.IsZero() {
		cond.OnsetDateTime = mappings.Ptr(c.Onset.DateTime(site.Location))
	}
	switch {
	case !c.Recorded.IsZero():
		cond.RecordedDate = mappings.Ptr(c.Recorded.DateTime(site.Location))
	case !c.Created.IsZero():
		cond.RecordedDate = mappings.Ptr(c.Created.DateTime(site.Location))
	}
	raw, err := mappings.Marshal("Condition", fm.OtherCondition(cond))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: c.refs("recorder")}, nil
}
