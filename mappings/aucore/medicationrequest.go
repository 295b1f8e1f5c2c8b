package aucore

import (
	"encoding/json"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

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

// medicationRequestJSON encodes a MedicationRequest with its one
// medication[x]: the models' struct would write both choices.
type medicationRequestJSON struct {
	fm.OtherMedicationRequest
	Medication          *fm.CodeableConcept `json:"medicationCodeableConcept,omitempty"`
	MedicationReference *fm.Reference       `json:"medicationReference,omitempty"`
}

func medicationRequestRow(codes MedicationRequestCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c MedicationRequestRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	m := fm.MedicationRequest{
		Id:        mappings.Ptr(c.ID.ID()),
		Meta:      mappings.Meta(mappings.ProfileMedicationRequest, c.Updated, c.Created, site.Location),
		Status:    codes.Status(int(c.Status), int(c.Active)),
		Intent:    "order",
		Subject:   *c.PatientRef(),
		Requester: c.PractitionerRef(),
	}
	if codes.ScriptIDSystem != "" {
		m.Identifier = []fm.Identifier{{System: mappings.Ptr(codes.ScriptIDSystem), Value: mappings.Ptr(c.ScriptID.ID())}}
	}
	if m.Status == "cancelled" && c.CancelReason != "" {
		m.StatusReason = mappings.TextConcept(string(c.CancelReason))
	}
	if !c.Authored.IsZero() {
		m.AuthoredOn = mappings.Ptr(c.Authored.DateTime(site.Location))
	}
	med := medicine(c.AMT, c.Drug, c.Strength)
	if c.Description != "" && c.Drug != "" {
		med.Text = mappings.Ptr(*med.Text + " (" + string(c.Description) + ")")
	}
	if text := DosageText(string(c.Instructions), string(c.Dose)); text != "" || c.PRN != 0 {
		d := fm.Dosage{}
		if text != "" {
			d.Text = mappings.Ptr(text)
		}
		if c.PRN != 0 {
			d.AsNeededBoolean = mappings.Ptr(true)
		}
		m.DosageInstruction = []fm.Dosage{d}
	}
	if c.Quantity > 0 || c.Repeats > 0 {
		dr := &fm.MedicationRequestDispenseRequest{NumberOfRepeatsAllowed: mappings.Ptr(int(c.Repeats))}
		if c.Quantity > 0 {
			q := &fm.Quantity{Value: mappings.Ptr(json.Number(c.Quantity.ID()))}
			if c.Unit != "" {
				q.Unit = mappings.Ptr(string(c.Unit))
			}
			dr.Quantity = q
		}
		m.DispenseRequest = dr
	}
	refs := refs(c.Subject, c.Clinician, "requester")
	if c.EncounterID != 0 {
		m.Encounter = mappings.Ref("Encounter", c.EncounterID.ID(), "")
		refs["encounter"] = []string{c.EncounterID.ID()}
	}
	raw, err := mappings.Marshal("MedicationRequest", medicationRequestJSON{OtherMedicationRequest: fm.OtherMedicationRequest(m), Medication: med})
	if err != nil {
		return mappings.Row{}, err
	}
	// AU Core requires both: say why one is missing (a prescriber whose
	// record was deleted).
	if m.AuthoredOn == nil {
		raw = mappings.AddProperty(raw, "_authoredOn", mappings.DataAbsentUnknown)
	}
	if m.Requester == nil {
		raw = mappings.AddProperty(raw, "requester", mappings.DataAbsentUnknown)
	}
	return mappings.Row{ID: *m.Id, Resource: raw, Refs: refs}, nil
}
