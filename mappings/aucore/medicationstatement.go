package aucore

import (
	"strings"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// MedicationStatementCodes are a PMS's code values for MedicationStatement.
type MedicationStatementCodes struct {
	// Active is the status value of a medicine on the current list; any
	// other is one taken off it, whose FHIR status is Ended (stopped or
	// completed, as the PMS means it).
	Active int
	Ended  string
	// StatusSQL is the status search: each code as a predicate on the row.
	StatusSQL map[string]string
	// StopPlanned: the stop date of an active medicine is its planned end;
	// otherwise only an ended medicine's stop date is shown.
	StopPlanned bool
	// Terms are the notes of the PMS's rx_status values (long-term, ...).
	Terms map[int]string
}

// MedicationStatementRow is MedicationStatement's canonical row: one
// medicine of the patient's medicines list. quantity, unit, repeats and
// last_date are selected where the PMS has them and not yet carried.
type MedicationStatementRow struct {
	ID mappings.Int `json:"id"`
	Subject
	Status       mappings.Int  `json:"status"`
	Drug         mappings.Text `json:"drug"`
	Strength     mappings.Text `json:"strength"`
	AMT          mappings.Text `json:"amt"`
	RxStatus     mappings.Int  `json:"rx_status"`
	Dose         mappings.Text `json:"dose"`
	Frequency    mappings.Text `json:"frequency"`
	Food         mappings.Text `json:"food"`
	Other        mappings.Text `json:"other"`
	PRN          mappings.Int  `json:"prn"`
	Instructions mappings.Text `json:"instructions"`
	Quantity     mappings.Text `json:"quantity"`
	Unit         mappings.Text `json:"unit"`
	Repeats      mappings.Int  `json:"repeats"`
	Indication   mappings.Text `json:"indication"`
	Start        mappings.Wall `json:"start"`
	LastDate     mappings.Wall `json:"last_date"`
	Stop         mappings.Wall `json:"stop"`
	StopReason   mappings.Text `json:"stop_reason"`
	Comment      mappings.Text `json:"comment"`
	Recorded     mappings.Wall `json:"recorded"`
	Clinician
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

// medicationStatementStatuses is FHIR's medication-statement-status value set.
var medicationStatementStatuses = []string{"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"}

// MedicationStatement is AU Core MedicationStatement: the patient's
// medicines list, current medicines active.
var MedicationStatement = &mappings.Def[MedicationStatementCodes]{
	Type:     "MedicationStatement",
	Profiles: []string{mappings.ProfileMedicationStatement},
	Columns:  mappings.ColumnsOf[MedicationStatementRow](),
	Optional: []string{"strength", "amt", "rx_status", "frequency", "food", "other", "prn", "instructions", "quantity", "unit",
		"repeats", "indication", "last_date", "stop_reason", "comment", "recorded",
		"practitioner_id", "practitioner_title", "practitioner_first", "practitioner_family"},
	Filters: []string{"patient_ref"},
	Params: append(append([]mappings.ParamDef[MedicationStatementCodes]{
		lastUpdated[MedicationStatementCodes](),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The medicine's key in the practice system", Match: id("id")},
	}, patientParams[MedicationStatementCodes](true)...),
		mappings.ParamDef[MedicationStatementCodes]{Name: "status", Type: fhir.TypeToken,
			Doc: "active (on the current medicines list), or stopped or completed (taken off it), as the practice system records it",
			MatchCodes: func(_ mappings.Cols, codes MedicationStatementCodes) mappings.Matcher {
				return mappings.StrictCodes(mappings.CodeSystemMedicationStatementStatus, codes.StatusSQL, medicationStatementStatuses)
			}},
		mappings.ParamDef[MedicationStatementCodes]{Name: "effective", Type: fhir.TypeDate, Doc: "The date the medicine was started",
			Match: date("start")},
	),
	Sorts: []mappings.SortDef{
		mappings.SortIntCol("_id", "id"),
		mappings.SortDateTimeCol("effective", "start"),
	},
	Includes:     includePatient("MedicationStatement"),
	DefaultCount: 50, MaxCount: 500,
	Row: medicationStatementRow,
}

// medicationStatementJSON encodes a MedicationStatement with its one
// medication[x]: the models' struct would write both choices.
type medicationStatementJSON struct {
	fm.OtherMedicationStatement
	Medication          *fm.CodeableConcept `json:"medicationCodeableConcept,omitempty"`
	MedicationReference *fm.Reference       `json:"medicationReference,omitempty"`
}

// medicine is a medicine's concept: its AMT code and its name and strength.
func medicine(amt, name, strength mappings.Text) *fm.CodeableConcept {
	m := &fm.CodeableConcept{}
	if amt != "" {
		m.Coding = []fm.Coding{mappings.Coding(mappings.CodeSystemSNOMED, string(amt), "")}
	}
	if text := mappings.PersonName(string(name), string(strength)); text != "" {
		m.Text = mappings.Ptr(text)
	} else if m.Coding == nil {
		m.Text = mappings.Ptr("Unnamed medicine")
	}
	return m
}

// DosageText is the directions: the instructions when written, else the
// dose with its frequency, food and other-detail texts.
func DosageText(instructions, dose string, details ...string) string {
	if t := strings.TrimSpace(instructions); t != "" {
		return t
	}
	return mappings.PersonName(append([]string{dose}, details...)...)
}

func medicationStatementRow(codes MedicationStatementCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c MedicationStatementRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	m := fm.MedicationStatement{
		Id:                mappings.Ptr(c.ID.ID()),
		Meta:              mappings.Meta(mappings.ProfileMedicationStatement, c.Updated, c.Created, site.Location),
		Status:            "active",
		Subject:           *c.PatientRef(),
		InformationSource: c.PractitionerRef(),
	}
	ended := int(c.Status) != codes.Active
	if ended {
		m.Status = codes.Ended
		if c.StopReason != "" {
			m.StatusReason = []fm.CodeableConcept{{Text: mappings.Ptr(string(c.StopReason))}}
		}
	}
	p := &fm.Period{}
	if !c.Start.IsZero() {
		p.Start = mappings.Ptr(c.Start.DateTime(site.Location))
	}
	if !c.Stop.IsZero() && (ended || codes.StopPlanned) {
		p.End = mappings.Ptr(c.Stop.DateTime(site.Location))
	}
	if p.Start != nil || p.End != nil {
		m.EffectivePeriod = p
	}
	switch {
	case !c.Recorded.IsZero():
		m.DateAsserted = mappings.Ptr(c.Recorded.DateTime(site.Location))
	case !c.Created.IsZero():
		m.DateAsserted = mappings.Ptr(c.Created.DateTime(site.Location))
	}
	if c.Indication != "" {
		m.ReasonCode = []fm.CodeableConcept{{Text: mappings.Ptr(string(c.Indication))}}
	}
	if text := DosageText(string(c.Instructions), string(c.Dose), string(c.Frequency), string(c.Food), string(c.Other)); text != "" || c.PRN != 0 {
		d := fm.Dosage{}
		if text != "" {
			d.Text = mappings.Ptr(text)
		}
		if c.PRN != 0 {
			d.AsNeededBoolean = mappings.Ptr(true)
		}
		m.Dosage = []fm.Dosage{d}
	}
	if n, ok := codes.Terms[int(c.RxStatus)]; ok {
		m.Note = append(m.Note, fm.Annotation{Text: n})
	}
	if c.Comment != "" {
		m.Note = append(m.Note, fm.Annotation{Text: string(c.Comment)})
	}
	raw, err := mappings.Marshal("MedicationStatement", medicationStatementJSON{OtherMedicationStatement: fm.OtherMedicationStatement(m),
		Medication: medicine(c.AMT, c.Drug, c.Strength)})
	if err != nil {
		return mappings.Row{}, err
	}
	if m.EffectivePeriod == nil {
		raw = mappings.AddProperty(raw, "_effectiveDateTime", mappings.DataAbsentUnknown)
	}
	return mappings.Row{ID: *m.Id, Resource: raw, Refs: refs(c.Subject, c.Clinician, "")}, nil
}
