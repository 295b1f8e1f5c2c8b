package zedmed

import (
	_ "embed"
	"encoding/json"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed medicationstatement.sql
var medicationStatementSQL string

// md is a column of MEDICATION md.
func md(name string) string { return col("md", "MEDICATION."+name) }

// MedicationStatement maps MEDICATION, the patient's medicines list: current medicines are
// active, stopped ones completed.
var MedicationStatement = mappings.NewTable(mappings.TableSpec{
	Type:     "MedicationStatement",
	Profiles: []string{mappings.ProfileMedicationStatement},
	SQL:      medicationStatementSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(md("UPDATED_AT"), md("CREATED_AT")),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The MEDICATION record's MEDICATION_ID",
			Match: mappings.ID(md("MEDICATION_ID"))},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(md("PATIENT_ID"), "Patient"), Chain: patientChain(md("PATIENT_ID"))},
		{Name: "subject", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(md("PATIENT_ID"), "Patient")},
		{Name: "status", Type: fhir.TypeToken, Doc: "active (a current medicine) or completed (stopped)",
			Match: mappings.StrictCodes(mappings.CodeSystemMedicationStatementStatus, map[string]string{
				"active":    md("IS_CURRENT") + " = 1",
				"completed": md("IS_CURRENT") + " = 0",
			}, []string{"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"})},
		{Name: "effective", Type: fhir.TypeDate, Doc: "The date the medicine was started",
			Match: mappings.Date(md("START_DATE"))},
	},
	Sorts: map[string]mappings.Sort{
		"_id":       mappings.SortInt(md("MEDICATION_ID")),
		"effective": mappings.SortDateTime(md("START_DATE")),
	},
	Includes:     []fhir.Include{{Source: "MedicationStatement", Param: "patient", Target: "Patient"}},
	DefaultCount: 50, MaxCount: 500,
	Row: medicationStatementRow,
})

type medicationColumns struct {
	ID mappings.Int `json:"id"`
	ownerColumns
	Drug     mappings.Text `json:"drug"`
	Strength mappings.Text `json:"strength"`
	AMT      mappings.Text `json:"amt"`
	Dose     mappings.Text `json:"dose"`
	Start    mappings.Wall `json:"start"`
	Stop     mappings.Wall `json:"stop"`
	Current  mappings.Int  `json:"current"`
	Recorded mappings.Wall `json:"recorded"`
	Created  mappings.Wall `json:"created"`
	Updated  mappings.Wall `json:"updated"`
}

// medicationStatementJSON writes the one medication[x]: the models' struct has neither
// choice omitempty, so both fields are shadowed and medicationReference stays out.
type medicationStatementJSON struct {
	fm.OtherMedicationStatement
	Medication          *fm.CodeableConcept `json:"medicationCodeableConcept,omitempty"`
	MedicationReference *fm.Reference       `json:"medicationReference,omitempty"`
}

func medicationStatementRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c medicationColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	ms := fm.MedicationStatement{
		Id:                mappings.Ptr(c.ID.ID()),
		Meta:              mappings.Meta(mappings.ProfileMedicationStatement, c.Updated, c.Created, site.Location),
		Status:            "active",
		Subject:           *c.patientRef(),
		InformationSource: c.doctorRef(),
	}
	if c.Current != 1 {
		ms.Status = "completed"
	}
	if !c.Start.IsZero() || !c.Stop.IsZero() {
		p := &fm.Period{}
		if !c.Start.IsZero() {
			p.Start = mappings.Ptr(c.Start.DateTime(site.Location))
		}
		if !c.Stop.IsZero() {
			p.End = mappings.Ptr(c.Stop.DateTime(site.Location))
		}
		ms.EffectivePeriod = p
	}
	switch {
	case !c.Recorded.IsZero():
		ms.DateAsserted = mappings.Ptr(c.Recorded.DateTime(site.Location))
	case !c.Created.IsZero():
		ms.DateAsserted = mappings.Ptr(c.Created.DateTime(site.Location))
	}
	if c.Dose != "" {
		ms.Dosage = []fm.Dosage{{Text: mappings.Ptr(string(c.Dose))}}
	}
	medicine := &fm.CodeableConcept{}
	if c.AMT != "" {
		medicine.Coding = []fm.Coding{mappings.Coding(mappings.CodeSystemSNOMED, string(c.AMT), "")}
	}
	if name := mappings.PersonName(string(c.Drug), string(c.Strength)); name != "" {
		medicine.Text = mappings.Ptr(name)
	} else if medicine.Coding == nil {
		medicine.Text = mappings.Ptr("Unnamed medicine")
	}
	raw, err := mappings.Marshal("MedicationStatement", medicationStatementJSON{OtherMedicationStatement: fm.OtherMedicationStatement(ms), Medication: medicine})
	if err != nil {
		return mappings.Row{}, err
	}
	if ms.EffectivePeriod == nil {
		raw = mappings.AddProperty(raw, "_effectiveDateTime", mappings.DataAbsentUnknown)
	}
	return mappings.Row{Resource: raw, Refs: c.refs("")}, nil
}
