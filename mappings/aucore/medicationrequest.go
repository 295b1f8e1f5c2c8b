package aucore

import (
	"fhirlink/fhir"
	"fhirlink/mappings"
)

// MedicationRequestCodes are a PMS's code values for MedicationRequest.
type MedicationRequestCodes struct {
	// Status is the FHIR status of a row's status value and, for a PMS
	// that works it out in SQL, its active flag.
	Status func(status, active int) string
	// StatusSQL is the status search: each code as a predicate on the row.
	StatusSQL map[string]string
	// ScriptIDSystem is the identifier system of the script a row is an
	// item of; "" when each row is a script of its own.
	ScriptIDSystem string
}

// MedicationRequestRow is MedicationRequest's canonical row: one medicine
// prescribed (a script, or an item of one).
type MedicationRequestRow struct {
	ID mappings.Int `json:"id"`
	Subject
	ScriptID     mappings.Int  `json:"script_id"`
	Status       mappings.Int  `json:"status"`
	Active       mappings.Int  `json:"active"`
	Authored     mappings.Wall `json:"authored"`
	CancelReason mappings.Text `json:"cancel_reason"`
	Drug         mappings.Text `json:"drug"`
	Strength     mappings.Text `json:"strength"`
	Description  mappings.Text `json:"description"`
	AMT          mappings.Text `json:"amt"`
	Dose         mappings.Text `json:"dose"`
	PRN          mappings.Int  `json:"prn"`
	Instructions mappings.Text `json:"instructions"`
	Quantity     mappings.Int  `json:"quantity"`
	Unit         mappings.Text `json:"unit"`
	Repeats      mappings.Int  `json:"repeats"`
	EncounterID  mappings.Int  `json:"encounter_id"`
	Clinician
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

// MedicationRequest is AU Core MedicationRequest: the prescriptions
// written at the practice, as orders. No PMS knows whether a script was
// dispensed.
var MedicationRequest = &mappings.Def[MedicationRequestCodes]{
	Type:     "MedicationRequest",
	Profiles: []string{mappings.ProfileMedicationRequest},
	Columns:  mappings.ColumnsOf[MedicationRequestRow](),
	Optional: []string{"script_id", "active", "description", "amt", "instructions", "unit"},
	Filters:  []string{"patient_ref", "requester_ref"},
	Params: append(append([]mappings.ParamDef[MedicationRequestCodes]{
		lastUpdated[MedicationRequestCodes](),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The prescription's key in the practice system", Match: id("id")},
	}, patientParams[MedicationRequestCodes](true)...),
		mappings.ParamDef[MedicationRequestCodes]{Name: "status", Type: fhir.TypeToken,
			Doc: "active (the latest script of a current medicine), completed (another script), stopped (the last script of a stopped medicine) or cancelled (a deleted or voided script), as the practice system records them",
			MatchCodes: func(_ mappings.Cols, codes MedicationRequestCodes) mappings.Matcher {
				return mappings.StrictCodes(mappings.CodeSystemMedicationRequestStatus, codes.StatusSQL,
					[]string{"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"})
			}},
		mappings.ParamDef[MedicationRequestCodes]{Name: "intent", Type: fhir.TypeToken, Doc: "order (every prescription)",
			Match: func(mappings.Cols) mappings.Matcher {
				return mappings.StrictCodes(mappings.CodeSystemMedicationRequestIntent, map[string]string{"order": mappings.SQLTrue},
					[]string{"proposal", "plan", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"})
			}},
		mappings.ParamDef[MedicationRequestCodes]{Name: "authoredon", Type: fhir.TypeDate, Doc: "When the script was written",
			Match: func(c mappings.Cols) mappings.Matcher { return mappings.DateTime(c.Col("authored")) }},
		mappings.ParamDef[MedicationRequestCodes]{Name: "requester", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The prescriber",
			Match: reference("requester_ref", "Practitioner")},
		mappings.ParamDef[MedicationRequestCodes]{Name: "encounter", Type: fhir.TypeReference, Targets: []string{"Encounter"}, Doc: "The visit (consultation) the script was written at",
			Match: reference("encounter_id", "Encounter")},
	),
	Sorts: []mappings.SortDef{
		mappings.SortIntCol("_id", "id"),
		mappings.SortDateTimeCol("authoredon", "authored"),
	},
	Includes: append(includePatient("MedicationRequest"),
		fhir.Include{Source: "MedicationRequest", Param: "requester", Target: "Practitioner"}),
	DefaultCount: 50, MaxCount: 500,
	Row: medicationRequestRow,
}

func medicationRequestRow(codes MedicationRequestCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c MedicationRequestRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	id := c.ID.ID()
	status := codes.Status(int(c.Status), int(c.Active))
	w := mappings.NewResource("MedicationRequest")
	w.String("id", id)
	w.Meta(mappings.ProfileMedicationRequest, c.Updated, c.Created, site.Location)
	if codes.ScriptIDSystem != "" {
		w.Array("identifier")
		w.Identifier("", mappings.Identifier{System: codes.ScriptIDSystem, Value: c.ScriptID.ID()})
		w.End()
	}
	w.String("status", status)
	if status == "cancelled" {
		w.Concept("statusReason", string(c.CancelReason))
	}
	w.String("intent", "order")
	medicine(w, c.AMT, c.Drug, c.Strength, c.Description)
	c.PatientRef(w, "subject")
	refs := refs(c.Subject, c.Clinician, "requester")
	if c.EncounterID != 0 {
		w.Ref("encounter", "Encounter", c.EncounterID.ID(), "")
		refs["encounter"] = []string{c.EncounterID.ID()}
	}
	// AU Core requires both authoredOn and requester: say why one is
	// missing (a prescriber whose record was deleted).
	if !c.Authored.IsZero() {
		w.DateTime("authoredOn", c.Authored, site.Location)
	} else {
		w.DataAbsentUnknown("_authoredOn")
	}
	if c.PractitionerID != 0 {
		c.PractitionerRef(w, "requester")
	} else {
		w.DataAbsentUnknown("requester")
	}
	if text := DosageText(string(c.Instructions), string(c.Dose)); text != "" || c.PRN != 0 {
		dosage(w, "dosageInstruction", text, c.PRN != 0)
	}
	if c.Quantity > 0 || c.Repeats > 0 {
		w.Object("dispenseRequest")
		w.Int("numberOfRepeatsAllowed", int64(c.Repeats))
		if c.Quantity > 0 {
			w.Object("quantity")
			w.Int("value", int64(c.Quantity))
			w.String("unit", string(c.Unit))
			w.End()
		}
		w.End()
	}
	return mappings.Row{ID: id, Resource: w.Bytes(), Refs: refs}, nil
}
