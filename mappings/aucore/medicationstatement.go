package aucore

import (
	"strings"

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

// medicine writes a medicine's concept as medicationCodeableConcept: its
// AMT code and its name and strength, and the description in brackets
// when there is one and a name.
func medicine(w *mappings.JSON, amt, name, strength, description mappings.Text) {
	text := mappings.PersonName(string(name), string(strength))
	switch {
	case text == "" && amt == "":
		text = "Unnamed medicine"
	case name != "" && description != "":
		text += " (" + string(description) + ")"
	}
	w.Concept("medicationCodeableConcept", text, mappings.Coding{System: mappings.CodeSystemSNOMED, Code: string(amt)})
}

// dosage writes the one dosage of a medication as the member key: its
// directions (DosageText) and whether it is taken as needed.
func dosage(w *mappings.JSON, key, text string, prn bool) {
	w.Array(key)
	w.Object("")
	w.String("text", text)
	if prn {
		w.Bool("asNeededBoolean", true)
	}
	w.End()
	w.End()
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
	id := c.ID.ID()
	w := mappings.NewResource("MedicationStatement")
	w.String("id", id)
	w.Meta(mappings.ProfileMedicationStatement, c.Updated, c.Created, site.Location)
	ended := int(c.Status) != codes.Active
	if ended {
		w.String("status", codes.Ended)
		w.Array("statusReason")
		w.Concept("", string(c.StopReason))
		w.End()
	} else {
		w.String("status", "active")
	}
	medicine(w, c.AMT, c.Drug, c.Strength, "")
	c.PatientRef(w, "subject")
	stop := !c.Stop.IsZero() && (ended || codes.StopPlanned)
	if c.Start.IsZero() && !stop {
		// AU Core requires effective[x]: say why it is missing.
		w.DataAbsentUnknown("_effectiveDateTime")
	}
	w.Object("effectivePeriod")
	if !c.Start.IsZero() {
		w.DateTime("start", c.Start, site.Location)
	}
	if stop {
		w.DateTime("end", c.Stop, site.Location)
	}
	w.End()
	recordedDate(w, "dateAsserted", c.Recorded, c.Created, site.Location)
	c.PractitionerRef(w, "informationSource")
	w.Array("reasonCode")
	w.Concept("", string(c.Indication))
	w.End()
	w.Array("note")
	if n, ok := codes.Terms[int(c.RxStatus)]; ok {
		w.Object("")
		w.String("text", n)
		w.End()
	}
	w.Object("")
	w.String("text", string(c.Comment))
	w.End()
	w.End()
	if text := DosageText(string(c.Instructions), string(c.Dose), string(c.Frequency), string(c.Food), string(c.Other)); text != "" || c.PRN != 0 {
		dosage(w, "dosage", text, c.PRN != 0)
	}
	return mappings.Row{ID: id, Resource: w.Bytes(), Refs: refs(c.Subject, c.Clinician, "")}, nil
}
