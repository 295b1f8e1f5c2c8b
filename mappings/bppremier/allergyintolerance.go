package bppremier

import (
	_ "embed"
	"encoding/json"
	"strings"
	"text/template"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed allergyintolerance.sql
var allergyIntoleranceSQL string

// nkaPrefix starts the id of a patient's "no known allergy" record, which
// the patient's INTERNALID follows; a reaction's id is its RECORDID.
const nkaPrefix = "nka-"

// AllergyIntolerance maps the REACTIONS of live patients (Bp records drug
// reactions: products, ingredients and drug classes) and the "nil known"
// state of CLINICAL.KNOWNALLERGIES as SNOMED CT 716186003 No known allergy.
var AllergyIntolerance = mappings.NewTable(mappings.TableSpec{
	Type:     "AllergyIntolerance",
	Profiles: []string{mappings.ProfileAllergyIntolerance},
	SQL:      allergyIntoleranceSQL,
	Funcs: withFuncs(template.FuncMap{
		"nilKnown": func() int { return allergiesNilKnown },
	}),
	Params: []mappings.Param{
		mappings.LastUpdatedParam(`a."updated"`, `a."created"`),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The REACTIONS record's RECORDID, or nka-{patient id} for the no known allergy record",
			Match: allergyID()},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(`a."patient"`, "Patient"), Chain: patientChain(`a."patient"`)},
		{Name: "clinical-status", Type: fhir.TypeToken, Doc: "active (every record: Bp keeps no inactive or resolved allergy, and deleted ones are never shown)",
			Match: mappings.StrictCodes(mappings.CodeSystemAllergyClinical, map[string]string{
				"active": mappings.SQLTrue,
			}, []string{"active", "inactive", "resolved"})},
	},
	Sorts: map[string]mappings.Sort{
		"_id": mappings.SortInt(`a."k"`),
	},
	Includes:     []fhir.Include{{Source: "AllergyIntolerance", Param: "patient", Target: "Patient"}},
	DefaultCount: 50, MaxCount: 500,
	Row: allergyIntoleranceRow,
})

// withFuncs is the SQL templates' functions and more.
func withFuncs(more template.FuncMap) template.FuncMap {
	m := template.FuncMap{}
	for k, v := range funcs {
		m[k] = v
	}
	for k, v := range more {
		m[k] = v
	}
	return m
}

// allergyID matches a reaction's RECORDID or a no known allergy record's
// nka-{patient}.
func allergyID() mappings.Matcher {
	reaction := mappings.ID(`a."rid"`)
	return mappings.MatchFunc(func(b *mappings.Builder, modifier string, v fhir.Value) (string, error) {
		if rest, ok := strings.CutPrefix(v.Code, nkaPrefix); ok {
			v.Code = rest
			pred, err := mappings.ID(`a."patient"`).Match(b, modifier, v)
			if err != nil || pred == mappings.SQLFalse {
				return pred, err
			}
			return `(a."src" = 2 AND ` + pred + ")", nil
		}
		pred, err := reaction.Match(b, modifier, v)
		if err != nil || pred == mappings.SQLFalse {
			return pred, err
		}
		return `(a."src" = 1 AND ` + pred + ")", nil
	})
}

// reactionSeverity is FHIR's reaction severity for SEVERITYCODES.
var reactionSeverity = map[int]fm.AllergyIntoleranceSeverity{
	severityMild:     fm.AllergyIntoleranceSeverityMild,
	severityModerate: fm.AllergyIntoleranceSeverityModerate,
	severitySevere:   fm.AllergyIntoleranceSeveritySevere,
}

type allergyColumns struct {
	Src           mappings.Int  `json:"src"`
	RID           mappings.Int  `json:"rid"`
	Patient       mappings.Int  `json:"patient"`
	PatientFirst  mappings.Text `json:"patient_first"`
	PatientFamily mappings.Text `json:"patient_family"`
	Status        mappings.Int  `json:"status"`
	Item          mappings.Text `json:"item"`
	Reaction      mappings.Text `json:"reaction"`
	Severity      mappings.Int  `json:"severity"`
	Comment       mappings.Text `json:"comment"`
	userColumns
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

func allergyIntoleranceRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c allergyColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	a := fm.AllergyIntolerance{
		Meta:               mappings.Meta(mappings.ProfileAllergyIntolerance, c.Updated, c.Created, site.Location),
		Patient:            *patientRef(c.Patient, c.PatientFirst, c.PatientFamily),
		ClinicalStatus:     mappings.Concept(mappings.CodeSystemAllergyClinical, "active", "Active", ""),
		VerificationStatus: mappings.Concept(mappings.CodeSystemAllergyVerification, "confirmed", "Confirmed", ""),
		Recorder:           c.userColumns.ref(),
	}
	if !c.Created.IsZero() {
		a.RecordedDate = mappings.Ptr(c.Created.DateTime(site.Location))
	}
	if c.Src == 2 {
		a.Id = mappings.Ptr(nkaPrefix + c.Patient.ID())
		a.Code = mappings.Concept(mappings.CodeSystemSNOMED, "716186003", "No known allergy", "Nil known allergies")
	} else {
		a.Id = mappings.Ptr(c.RID.ID())
		a.Category = []fm.AllergyIntoleranceCategory{fm.AllergyIntoleranceCategoryMedication}
		a.Code = mappings.TextConcept(string(c.Item))
		if c.Reaction != "" || c.Severity != 0 {
			r := fm.AllergyIntoleranceReaction{Manifestation: []fm.CodeableConcept{{Text: mappings.Ptr(string(c.Reaction))}}}
			if c.Reaction == "" {
				r.Manifestation[0].Text = mappings.Ptr("Unspecified reaction")
			}
			if s, ok := reactionSeverity[int(c.Severity)]; ok {
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
	refs := map[string][]string{"patient": {c.Patient.ID()}}
	if c.UserID != 0 {
		refs["recorder"] = []string{c.UserID.ID()}
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}
