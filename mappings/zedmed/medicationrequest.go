package zedmed

import (
	_ "embed"
	"encoding/json"
	"strconv"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed medicationrequest.sql
var medicationRequestSQL string

// rx is a column of SCRIPT rx.
func rx(name string) string { return col("rx", "SCRIPT."+name) }

// scriptStatuses are the MedicationRequest statuses of SCRIPT.STATUS codes; any other code is
// unknown.
var scriptStatuses = map[int]string{
	scriptActive:    "active",
	scriptCompleted: "completed",
	scriptCeased:    "stopped",
	scriptCancelled: "cancelled",
}

// scriptStatusSQL is the status search: each status as a predicate on STATUS.
func scriptStatusSQL() map[string]string {
	m := map[string]string{}
	var known string
	for _, code := range []int{scriptActive, scriptCompleted, scriptCeased, scriptCancelled} {
		m[scriptStatuses[code]] = rx("STATUS") + " = " + strconv.Itoa(code)
		if known != "" {
			known += ", "
		}
		known += strconv.Itoa(code)
	}
	m["unknown"] = rx("STATUS") + " NOT IN (" + known + ")"
	return m
}

// MedicationRequest maps SCRIPT, the prescriptions written at the practice, as orders: the
// latest script of a current medicine active, earlier ones completed, the last of a stopped
// medicine stopped, a voided one cancelled. Zedmed does not know whether a script was
// dispensed.
var MedicationRequest = mappings.NewTable(mappings.TableSpec{
	Type:     "MedicationRequest",
	Profiles: []string{mappings.ProfileMedicationRequest},
	SQL:      medicationRequestSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(rx("UPDATED_AT"), rx("CREATED_AT")),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The SCRIPT record's SCRIPT_ID",
			Match: mappings.ID(rx("SCRIPT_ID"))},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(rx("PATIENT_ID"), "Patient"), Chain: patientChain(rx("PATIENT_ID"))},
		{Name: "subject", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(rx("PATIENT_ID"), "Patient")},
		{Name: "status", Type: fhir.TypeToken, Doc: "active (the latest script of a current medicine), completed (an earlier script, or a course), stopped (the last script of a stopped medicine) or cancelled (voided)",
			Match: mappings.StrictCodes(mappings.CodeSystemMedicationRequestStatus, scriptStatusSQL(),
				[]string{"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"})},
		{Name: "intent", Type: fhir.TypeToken, Doc: "order (every prescription)",
			Match: mappings.StrictCodes(mappings.CodeSystemMedicationRequestIntent, map[string]string{"order": mappings.SQLTrue},
				[]string{"proposal", "plan", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"})},
		{Name: "authoredon", Type: fhir.TypeDate, Doc: "When the script was written",
			Match: mappings.DateTime(rx("SCRIPT_DATE"))},
		{Name: "requester", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The prescriber",
			Match: mappings.Reference(rx("DOCTOR_ID"), "Practitioner")},
		{Name: "encounter", Type: fhir.TypeReference, Targets: []string{"Encounter"}, Doc: "The consultation the script was written at",
			Match: mappings.Reference(col("e", "CONSULT.CONSULT_ID"), "Encounter")},
	},
	Sorts: map[string]mappings.Sort{
		"_id":        mappings.SortInt(rx("SCRIPT_ID")),
		"authoredon": mappings.SortDateTime(rx("SCRIPT_DATE")),
	},
	Includes: []fhir.Include{
		{Source: "MedicationRequest", Param: "patient", Target: "Patient"},
		{Source: "MedicationRequest", Param: "requester", Target: "Practitioner"},
	},
	DefaultCount: 50, MaxCount: 500,
	Row: medicationRequestRow,
})

type scriptColumns struct {
	ID mappings.Int `json:"id"`
	ownerColumns
	Status       mappings.Int  `json:"status"`
	CancelReason mappings.Text `json:"cancel_reason"`
	Authored     mappings.Wall `json:"authored"`
	Drug         mappings.Text `json:"drug"`
	Strength     mappings.Text `json:"strength"`
	AMT          mappings.Text `json:"amt"`
	Dose         mappings.Text `json:"dose"`
	PRN          mappings.Int  `json:"prn"`
	Quantity     mappings.Int  `json:"quantity"`
	Repeats      mappings.Int  `json:"repeats"`
	ConsultID    mappings.Int  `json:"consult_id"`
	Created      mappings.Wall `json:"created"`
	Updated      mappings.Wall `json:"updated"`
}

// medicationRequestJSON writes the one medication[x]: the models' struct has neither
// choice omitempty, so both fields are shadowed and medicationReference stays out.
type medicationRequestJSON struct {
	fm.OtherMedicationRequest
	Medication          *fm.CodeableConcept `json:"medicationCodeableConcept,omitempty"`
	MedicationReference *fm.Reference       `json:"medicationReference,omitempty"`
}

func medicationRequestRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c scriptColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	status, ok := scriptStatuses[int(c.Status)]
	if !ok {
		status = "unknown"
	}
	m := fm.MedicationRequest{
		Id:        mappings.Ptr(c.ID.ID()),
		Meta:      mappings.Meta(mappings.ProfileMedicationRequest, c.Updated, c.Created, site.Location),
		Status:    status,
		Intent:    "order",
		Subject:   *c.patientRef(),
		Requester: c.doctorRef(),
	}
	if status == "cancelled" && c.CancelReason != "" {
		m.StatusReason = mappings.TextConcept(string(c.CancelReason))
	}
	if !c.Authored.IsZero() {
		m.AuthoredOn = mappings.Ptr(c.Authored.DateTime(site.Location))
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
	if c.Dose != "" || c.PRN != 0 {
		d := fm.Dosage{}
		if c.Dose != "" {
			d.Text = mappings.Ptr(string(c.Dose))
		}
		if c.PRN != 0 {
			d.AsNeededBoolean = mappings.Ptr(true)
		}
		m.DosageInstruction = []fm.Dosage{d}
	}
	if c.Quantity > 0 || c.Repeats > 0 {
		dr := &fm.MedicationRequestDispenseRequest{NumberOfRepeatsAllowed: mappings.Ptr(int(c.Repeats))}
		if c.Quantity > 0 {
			dr.Quantity = &fm.Quantity{Value: mappings.Ptr(json.Number(c.Quantity.ID()))}
		}
		m.DispenseRequest = dr
	}
	refs := c.refs("requester")
	if c.ConsultID != 0 {
		m.Encounter = mappings.Ref("Encounter", c.ConsultID.ID(), "")
		refs["encounter"] = []string{c.ConsultID.ID()}
	}
	raw, err := mappings.Marshal("MedicationRequest", medicationRequestJSON{OtherMedicationRequest: fm.OtherMedicationRequest(m), Medication: medicine})
	if err != nil {
		return mappings.Row{}, err
	}
	if m.AuthoredOn == nil {
		raw = mappings.AddProperty(raw, "_authoredOn", mappings.DataAbsentUnknown)
	}
	if m.Requester == nil { // a prescriber whose record was deleted: AU Core requires one
		raw = mappings.AddProperty(raw, "requester", mappings.DataAbsentUnknown)
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}
