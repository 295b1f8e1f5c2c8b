package bppremier

import (
	_ "embed"
	"encoding/json"
	"strconv"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed condition.sql
var conditionSQL string

// Condition maps the past history (PASTHISTORY): every item is on the
// patient's problem list, active or inactive as the practice marked it.
var Condition = mappings.NewTable(mappings.TableSpec{
	Type:     "Condition",
	Profiles: []string{mappings.ProfileCondition},
	SQL:      conditionSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(`h."UPDATED"`, `h."CREATED"`),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The PASTHISTORY record's RECORDID",
			Match: mappings.ID(`h."RECORDID"`)},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(`h."INTERNALID"`, "Patient"), Chain: patientChain(`h."INTERNALID"`)},
		{Name: "subject", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(`h."INTERNALID"`, "Patient")},
		{Name: "category", Type: fhir.TypeToken, Doc: "problem-list-item (every past history item)",
			Match: mappings.Codes(mappings.CodeSystemConditionCategory, map[string]string{"problem-list-item": mappings.SQLTrue})},
		{Name: "clinical-status", Type: fhir.TypeToken, Doc: "active or inactive, as the item is marked",
			Match: mappings.StrictCodes(mappings.CodeSystemConditionClinical, map[string]string{
				"active":   `h."STATUSCODE" = ` + strconv.Itoa(historyActive),
				"inactive": `h."STATUSCODE" = ` + strconv.Itoa(historyInactive),
			}, []string{"active", "recurrence", "relapse", "inactive", "remission", "resolved"})},
		{Name: "code", Type: fhir.TypeToken, Doc: "SNOMED CT code (from BPS_History.SNOMED)",
			Match: mappings.CodeColumn(mappings.CodeSystemSNOMED, `bh."SNOMED"`)},
		{Name: "onset-date", Type: fhir.TypeDate, Doc: "Onset: the year, month or day recorded",
			Match: mappings.PartialDateMatcher(`h."YEAR"`, `h."MONTH"`, `h."DAY"`)},
	},
	Sorts: map[string]mappings.Sort{
		"_id": mappings.SortInt(`h."RECORDID"`),
	},
	Includes:     []fhir.Include{{Source: "Condition", Param: "patient", Target: "Patient"}},
	DefaultCount: 50, MaxCount: 500,
	Row: conditionRow,
})

// conditionSeverity is SNOMED CT's severity for SEVERITYCODES.
var conditionSeverity = map[int][2]string{
	severityMild:     {"255604002", "Mild"},
	severityModerate: {"6736007", "Moderate"},
	severitySevere:   {"24484000", "Severe"},
}

type conditionColumns struct {
	ID            mappings.Int  `json:"id"`
	Patient       mappings.Int  `json:"patient"`
	PatientFirst  mappings.Text `json:"patient_first"`
	PatientFamily mappings.Text `json:"patient_family"`
	Year          mappings.Int  `json:"year"`
	Month         mappings.Int  `json:"month"`
	Day           mappings.Int  `json:"day"`
	Text          mappings.Text `json:"text"`
	SNOMED        mappings.Text `json:"snomed"`
	Status        mappings.Int  `json:"status"`
	Severity      mappings.Int  `json:"severity"`
	Provisional   mappings.Int  `json:"provisional"`
	Details       mappings.Text `json:"details"`
	userColumns
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

func conditionRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c conditionColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	cond := fm.Condition{
		Id:       mappings.Ptr(c.ID.ID()),
		Meta:     mappings.Meta(mappings.ProfileCondition, c.Updated, c.Created, site.Location),
		Subject:  *patientRef(c.Patient, c.PatientFirst, c.PatientFamily),
		Category: []fm.CodeableConcept{*mappings.Concept(mappings.CodeSystemConditionCategory, "problem-list-item", "Problem List Item", "")},
		Recorder: c.userColumns.ref(),
	}
	switch c.Status {
	case historyActive:
		cond.ClinicalStatus = mappings.Concept(mappings.CodeSystemConditionClinical, "active", "Active", "")
	case historyInactive:
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
	if s, ok := conditionSeverity[int(c.Severity)]; ok {
		cond.Severity = mappings.Concept(mappings.CodeSystemSNOMED, s[0], s[1], "")
	}
	if onset := mappings.PartialDate(int(c.Year), int(c.Month), int(c.Day)); onset != "" {
		cond.OnsetDateTime = mappings.Ptr(onset)
	}
	if !c.Created.IsZero() {
		cond.RecordedDate = mappings.Ptr(c.Created.DateTime(site.Location))
	}
	if c.Details != "" {
		cond.Note = []fm.Annotation{{Text: string(c.Details)}}
	}
	raw, err := mappings.Marshal("Condition", fm.OtherCondition(cond))
	if err != nil {
		return mappings.Row{}, err
	}
	refs := map[string][]string{"patient": {c.Patient.ID()}}
	if c.UserID != 0 {
		refs["recorder"] = []string{c.UserID.ID()}
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}
