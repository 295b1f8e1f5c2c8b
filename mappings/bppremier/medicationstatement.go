package bppremier

import (
	_ "embed"
	"encoding/json"
	"strings"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed medicationstatement.sql
var medicationStatementSQL string

// MedicationStatement maps the current medicines list (CURRENTRX): a live
// row is active, one taken off the list (with its deletion date) stopped.
var MedicationStatement = mappings.NewTable(mappings.TableSpec{
	Type:     "MedicationStatement",
	Profiles: []string{mappings.ProfileMedicationStatement},
	SQL:      medicationStatementSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(`r."UPDATED"`, `r."CREATED"`),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The CURRENTRX record's RECORDID",
			Match: mappings.ID(`r."RECORDID"`)},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(`r."INTERNALID"`, "Patient"), Chain: patientChain(`r."INTERNALID"`)},
		{Name: "subject", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(`r."INTERNALID"`, "Patient")},
		{Name: "status", Type: fhir.TypeToken, Doc: "active (on the current medicines list) or stopped (taken off it)",
			Match: mappings.StrictCodes(mappings.CodeSystemMedicationStatementStatus, map[string]string{
				"active":  `r."RECORDSTATUS" = 1`,
				"stopped": `r."RECORDSTATUS" <> 1`,
			}, []string{"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"})},
		{Name: "effective", Type: fhir.TypeDate, Doc: "The date the medicine was started",
			Match: mappings.Date(`r."FIRSTDATE"`)},
	},
	Sorts: map[string]mappings.Sort{
		"_id":       mappings.SortInt(`r."RECORDID"`),
		"effective": mappings.SortDateTime(`r."FIRSTDATE"`),
	},
	Includes:     []fhir.Include{{Source: "MedicationStatement", Param: "patient", Target: "Patient"}},
	DefaultCount: 50, MaxCount: 500,
	Row: medicationStatementRow,
})

type medicationStatementColumns struct {
	ID             mappings.Int  `json:"id"`
	Patient        mappings.Int  `json:"patient"`
	PatientFirst   mappings.Text `json:"patient_first"`
	PatientFamily  mappings.Text `json:"patient_family"`
	RecordStatus   mappings.Int  `json:"record_status"`
	Drug           mappings.Text `json:"drug"`
	RxStatus       mappings.Int  `json:"rx_status"`
	Dose           mappings.Text `json:"dose"`
	Frequency      mappings.Text `json:"frequency"`
	Food           mappings.Text `json:"food"`
	Other          mappings.Text `json:"other"`
	PRN            mappings.Int  `json:"prn"`
	Instructions   mappings.Text `json:"instructions"`
	Indication     mappings.Text `json:"indication"`
	FirstDate      mappings.Wall `json:"first_date"`
	Deleted        mappings.Wall `json:"deleted"`
	DeletionReason mappings.Text `json:"deletion_reason"`
	Comment        mappings.Text `json:"comment"`
	Created        mappings.Wall `json:"created"`
	Updated        mappings.Wall `json:"updated"`
}

// dosageText is the directions as Bp shows them: the instructions when
// written, else the dose with its frequency, food and other-detail texts.
func dosageText(instructions, dose string, details ...string) string {
	if t := strings.TrimSpace(instructions); t != "" {
		return t
	}
	return mappings.PersonName(append([]string{dose}, details...)...)
}

func medicationStatementRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c medicationStatementColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	m := fm.MedicationStatement{
		Id:      mappings.Ptr(c.ID.ID()),
		Meta:    mappings.Meta(mappings.ProfileMedicationStatement, c.Updated, c.Created, site.Location),
		Status:  "active",
		Subject: *patientRef(c.Patient, c.PatientFirst, c.PatientFamily),
	}
	medicine := medicineConcept(string(c.Drug))
	if c.RecordStatus != recordLive {
		m.Status = "stopped"
		if c.DeletionReason != "" {
			m.StatusReason = []fm.CodeableConcept{{Text: mappings.Ptr(string(c.DeletionReason))}}
		}
	}
	if !c.FirstDate.IsZero() || !c.Deleted.IsZero() {
		p := &fm.Period{}
		if !c.FirstDate.IsZero() {
			p.Start = mappings.Ptr(c.FirstDate.DateTime(site.Location))
		}
		if !c.Deleted.IsZero() && m.Status == "stopped" {
			p.End = mappings.Ptr(c.Deleted.DateTime(site.Location))
		}
		if p.Start != nil || p.End != nil {
			m.EffectivePeriod = p
		}
	}
	if !c.Created.IsZero() {
		m.DateAsserted = mappings.Ptr(c.Created.DateTime(site.Location))
	}
	if c.Indication != "" {
		m.ReasonCode = []fm.CodeableConcept{{Text: mappings.Ptr(string(c.Indication))}}
	}
	if text := dosageText(string(c.Instructions), string(c.Dose), string(c.Frequency), string(c.Food), string(c.Other)); text != "" || c.PRN != 0 {
		d := fm.Dosage{}
		if text != "" {
			d.Text = mappings.Ptr(text)
		}
		if c.PRN != 0 {
			d.AsNeededBoolean = mappings.Ptr(true)
		}
		m.Dosage = []fm.Dosage{d}
	}
	var notes []string
	switch c.RxStatus {
	case rxLongTerm:
		notes = append(notes, "Long-term medicine")
	case rxShortTerm:
		notes = append(notes, "Short-term medicine")
	}
	if c.Comment != "" {
		notes = append(notes, string(c.Comment))
	}
	for _, n := range notes {
		m.Note = append(m.Note, fm.Annotation{Text: n})
	}
	raw, err := mappings.Marshal("MedicationStatement", medicationStatementJSON{OtherMedicationStatement: fm.OtherMedicationStatement(m), Medication: medicine})
	if err != nil {
		return mappings.Row{}, err
	}
	if m.EffectivePeriod == nil {
		raw = mappings.AddProperty(raw, "_effectiveDateTime", mappings.DataAbsentUnknown)
	}
	return mappings.Row{Resource: raw, Refs: map[string][]string{"patient": {c.Patient.ID()}}}, nil
}

// medicationStatementJSON encodes a MedicationStatement with its one
// medication[x]: the models' struct would write both choices.
type medicationStatementJSON struct {
	fm.OtherMedicationStatement
	Medication          *fm.CodeableConcept `json:"medicationCodeableConcept,omitempty"`
	MedicationReference *fm.Reference       `json:"medicationReference,omitempty"`
}

// medicineConcept is a medicine as text (Bp's drug names come from its
// reference database, without a code the practice's database keeps).
func medicineConcept(name string) *fm.CodeableConcept {
	if c := mappings.TextConcept(name); c != nil {
		return c
	}
	return mappings.TextConcept("Unnamed medicine")
}
