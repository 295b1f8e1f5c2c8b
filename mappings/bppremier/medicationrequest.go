package bppremier

import (
	_ "embed"
	"encoding/json"
	"text/template"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed medicationrequest.sql
var medicationRequestSQL string

// activeScript is the rule for a live script item that is active: the
// latest script of a medicine still on the patient's current medicines
// list (a live CURRENTRX row of the same product last prescribed no later
// than this script). Other live items are completed; items of deleted
// scripts cancelled.
const activeScript = `(s."RECORDSTATUS" = 1 AND EXISTS (SELECT 1 FROM "CURRENTRX" c WHERE c."INTERNALID" = s."INTERNALID"` +
	` AND c."PRODUCTID" = i."PRODUCTID" AND c."RECORDSTATUS" = 1 AND (c."LASTDATE" IS NULL OR c."LASTDATE" <= s."SCRIPTDATE")))`

// MedicationRequest maps the items of prescriptions written at the
// practice (SCRIPTITEMS of PRESCRIPTIONS), as orders: active, completed or
// cancelled by activeScript's rule. Bp does not know whether a script was
// dispensed.
var MedicationRequest = mappings.NewTable(mappings.TableSpec{
	Type:     "MedicationRequest",
	Profiles: []string{mappings.ProfileMedicationRequest},
	SQL:      medicationRequestSQL,
	Funcs:    withFuncs(template.FuncMap{"active": func() string { return activeScript }}),
	Params: []mappings.Param{
		mappings.LastUpdatedParam(`i."UPDATED"`, `i."CREATED"`),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The SCRIPTITEMS record's RECORDID",
			Match: mappings.ID(`i."RECORDID"`)},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(`s."INTERNALID"`, "Patient"), Chain: patientChain(`s."INTERNALID"`)},
		{Name: "subject", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(`s."INTERNALID"`, "Patient")},
		{Name: "status", Type: fhir.TypeToken, Doc: "active (the latest script of a current medicine), completed (another script) or cancelled (a deleted script)",
			Match: mappings.StrictCodes(mappings.CodeSystemMedicationRequestStatus, map[string]string{
				"active":    activeScript,
				"completed": `(s."RECORDSTATUS" = 1 AND NOT ` + activeScript + ")",
				"cancelled": `s."RECORDSTATUS" <> 1`,
			}, []string{"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"})},
		{Name: "intent", Type: fhir.TypeToken, Doc: "order (every prescription)",
			Match: mappings.StrictCodes(mappings.CodeSystemMedicationRequestIntent, map[string]string{"order": mappings.SQLTrue},
				[]string{"proposal", "plan", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"})},
		{Name: "authoredon", Type: fhir.TypeDate, Doc: "When the script was written",
			Match: mappings.DateTime(`s."SCRIPTDATE"`)},
		{Name: "requester", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The prescriber",
			Match: mappings.Reference(`s."USERID"`, "Practitioner")},
		{Name: "encounter", Type: fhir.TypeReference, Targets: []string{"Encounter"}, Doc: "The visit the script was written at",
			Match: mappings.Reference(`v."VISITID"`, "Encounter")},
	},
	Sorts: map[string]mappings.Sort{
		"_id":        mappings.SortInt(`i."RECORDID"`),
		"authoredon": mappings.SortDateTime(`s."SCRIPTDATE"`),
	},
	Includes: []fhir.Include{
		{Source: "MedicationRequest", Param: "patient", Target: "Patient"},
		{Source: "MedicationRequest", Param: "requester", Target: "Practitioner"},
	},
	DefaultCount: 50, MaxCount: 500,
	Row: medicationRequestRow,
})

type medicationRequestColumns struct {
	ID             mappings.Int  `json:"id"`
	Patient        mappings.Int  `json:"patient"`
	PatientFirst   mappings.Text `json:"patient_first"`
	PatientFamily  mappings.Text `json:"patient_family"`
	ScriptID       mappings.Int  `json:"script_id"`
	RecordStatus   mappings.Int  `json:"record_status"`
	Active         mappings.Int  `json:"active"`
	Authored       mappings.Wall `json:"authored"`
	DeletionReason mappings.Text `json:"deletion_reason"`
	Product        mappings.Text `json:"product"`
	Strength       mappings.Text `json:"strength"`
	Description    mappings.Text `json:"description"`
	Dose           mappings.Text `json:"dose"`
	PRN            mappings.Int  `json:"prn"`
	Instructions   mappings.Text `json:"instructions"`
	Quantity       mappings.Int  `json:"quantity"`
	Unit           mappings.Text `json:"unit"`
	Repeats        mappings.Int  `json:"repeats"`
	VisitID        mappings.Int  `json:"visit_id"`
	userColumns
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

// medicationRequestJSON encodes a MedicationRequest with its one
// medication[x]: the models' struct would write both choices.
type medicationRequestJSON struct {
	fm.OtherMedicationRequest
	Medication          *fm.CodeableConcept `json:"medicationCodeableConcept,omitempty"`
	MedicationReference *fm.Reference       `json:"medicationReference,omitempty"`
}

func medicationRequestRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c medicationRequestColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	m := fm.MedicationRequest{
		Id:        mappings.Ptr(c.ID.ID()),
		Meta:      mappings.Meta(mappings.ProfileMedicationRequest, c.Updated, c.Created, site.Location),
		Status:    "completed",
		Intent:    "order",
		Subject:   *patientRef(c.Patient, c.PatientFirst, c.PatientFamily),
		Requester: c.userColumns.ref(),
		Identifier: []fm.Identifier{{
			System: mappings.Ptr("urn:fhirlink:bppremier:script-id"),
			Value:  mappings.Ptr(c.ScriptID.ID()),
		}},
	}
	if c.Active != 0 {
		m.Status = "active"
	}
	if c.RecordStatus != recordLive {
		m.Status = "cancelled"
		if c.DeletionReason != "" {
			m.StatusReason = mappings.TextConcept(string(c.DeletionReason))
		}
	}
	if !c.Authored.IsZero() {
		m.AuthoredOn = mappings.Ptr(c.Authored.DateTime(site.Location))
	}
	medicine := medicineConcept(mappings.PersonName(string(c.Product), string(c.Strength)))
	if c.Description != "" && c.Product != "" {
		medicine.Text = mappings.Ptr(*medicine.Text + " (" + string(c.Description) + ")")
	}
	if text := aucore.DosageText(string(c.Instructions), string(c.Dose)); text != "" || c.PRN != 0 {
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
	refs := map[string][]string{"patient": {c.Patient.ID()}}
	if c.UserID != 0 {
		refs["requester"] = []string{c.UserID.ID()}
	}
	if c.VisitID != 0 {
		m.Encounter = mappings.Ref("Encounter", c.VisitID.ID(), "")
		refs["encounter"] = []string{c.VisitID.ID()}
	}
	raw, err := mappings.Marshal("MedicationRequest", medicationRequestJSON{OtherMedicationRequest: fm.OtherMedicationRequest(m), Medication: medicine})
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}
