package zedmed

import (
	_ "embed"
	"encoding/json"
	"strconv"
	"strings"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed encounter.sql
var encounterSQL string

// e is a column of CONSULT e.
func e(name string) string { return col("e", "CONSULT."+name) }

// consultClasses are the v3 ActCode class of each CONSULT_TYPE; any other type is
// ambulatory (AMB), as a consultation at the branch is.
var consultClasses = map[int]string{
	consultVideo:    "VR",
	consultPhone:    "VR",
	consultHome:     "HH",
	consultAgedCare: "HH",
}

// consultTypes name the CONSULT_TYPE codes (Encounter.type).
var consultTypes = map[int]string{
	consultSurgery:  "Consultation at the surgery",
	consultVideo:    "Telehealth video consultation",
	consultPhone:    "Telephone consultation",
	consultHome:     "Home visit",
	consultAgedCare: "Residential aged care visit",
}

// consultClassSQL is the class search: each class as a predicate on CONSULT_TYPE.
func consultClassSQL() map[string]string {
	byClass := map[string][]string{}
	var other []string
	for _, typ := range []int{consultVideo, consultPhone, consultHome, consultAgedCare} {
		class := consultClasses[typ]
		byClass[class] = append(byClass[class], strconv.Itoa(typ))
		other = append(other, strconv.Itoa(typ))
	}
	m := map[string]string{"AMB": e("CONSULT_TYPE") + " NOT IN (" + strings.Join(other, ", ") + ")"}
	for class, codes := range byClass {
		m[class] = e("CONSULT_TYPE") + " IN (" + strings.Join(codes, ", ") + ")"
	}
	return m
}

// encounterStatusCodes is FHIR R4's encounter-status value set.
var encounterStatusCodes = []string{"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error", "unknown"}

// Encounter maps CONSULT: each consultation or contact, finished once it has an end, in
// progress until then.
var Encounter = mappings.NewTable(mappings.TableSpec{
	Type:     "Encounter",
	Profiles: []string{mappings.ProfileEncounter},
	SQL:      encounterSQL,
	Funcs:    funcs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(e("UPDATED_AT"), e("CREATED_AT")),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The CONSULT record's CONSULT_ID",
			Match: mappings.ID(e("CONSULT_ID"))},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(e("PATIENT_ID"), "Patient"), Chain: patientChain(e("PATIENT_ID"))},
		{Name: "subject", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(e("PATIENT_ID"), "Patient")},
		{Name: "date", Type: fhir.TypeDate, Doc: "When the consultation started, in the practice's time zone",
			Match: mappings.DateTime(e("START_AT"))},
		{Name: "class", Type: fhir.TypeToken, Doc: "AMB (at the surgery), VR (telehealth video, telephone), HH (home and aged-care visits)",
			Match: mappings.Codes(mappings.CodeSystemActCode, consultClassSQL())},
		{Name: "status", Type: fhir.TypeToken, Doc: "finished (the consultation has ended) or in-progress",
			Match: mappings.StrictCodes(mappings.CodeSystemEncounterStatus, map[string]string{
				"finished":    e("END_AT") + " IS NOT NULL",
				"in-progress": e("END_AT") + " IS NULL",
			}, encounterStatusCodes)},
		{Name: "location", Type: fhir.TypeReference, Targets: []string{"Location"}, Doc: "The branch",
			Match: mappings.Reference(e("BRANCH_ID"), "Location")},
		{Name: "practitioner", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The doctor seen",
			Match: mappings.Reference(e("DOCTOR_ID"), "Practitioner")},
	},
	Sorts: map[string]mappings.Sort{
		"_id":  mappings.SortInt(e("CONSULT_ID")),
		"date": mappings.SortDateTime(e("START_AT")),
	},
	Includes: []fhir.Include{
		{Source: "Encounter", Param: "patient", Target: "Patient"},
		{Source: "Encounter", Param: "practitioner", Target: "Practitioner"},
		{Source: "Encounter", Param: "location", Target: "Location"},
	},
	DefaultCount: 50, MaxCount: 500,
	Row: encounterRow,
})

type encounterColumns struct {
	ID mappings.Int `json:"id"`
	ownerColumns
	Type         mappings.Int  `json:"consult_type"`
	Start        mappings.Wall `json:"start"`
	End          mappings.Wall `json:"end"`
	Reason       mappings.Text `json:"reason"`
	ApptID       mappings.Int  `json:"appt_id"`
	LocationID   mappings.Int  `json:"location_id"`
	LocationName mappings.Text `json:"location_name"`
	aucore.Practice
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

var classDisplay = map[string]string{"AMB": "ambulatory", "HH": "home health", "VR": "virtual"}

func encounterRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c encounterColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	class, ok := consultClasses[int(c.Type)]
	if !ok {
		class = "AMB"
	}
	enc := fm.Encounter{
		Id:              mappings.Ptr(c.ID.ID()),
		Meta:            mappings.Meta(mappings.ProfileEncounter, c.Updated, c.Created, site.Location),
		Status:          fm.EncounterStatusFinished,
		Class:           mappings.Coding(mappings.CodeSystemActCode, class, classDisplay[class]),
		Subject:         c.patientRef(),
		ServiceProvider: c.Practice.Ref(),
		Period:          &fm.Period{Start: mappings.Ptr(c.Start.Instant(site.Location))},
	}
	if c.End.IsZero() {
		enc.Status = fm.EncounterStatusInProgress
	} else if !c.End.In(site.Location).Before(c.Start.In(site.Location)) {
		enc.Period.End = mappings.Ptr(c.End.Instant(site.Location))
	}
	if text, ok := consultTypes[int(c.Type)]; ok {
		enc.Type = []fm.CodeableConcept{{Text: mappings.Ptr(text)}}
	}
	if c.Reason != "" {
		enc.ReasonCode = []fm.CodeableConcept{{Text: mappings.Ptr(string(c.Reason))}}
	}
	refs := c.refs("practitioner")
	if p := c.doctorRef(); p != nil {
		enc.Participant = []fm.EncounterParticipant{{
			Type:       []fm.CodeableConcept{*mappings.Concept(mappings.CodeSystemParticipationType, "PPRF", "primary performer", "")},
			Individual: p,
		}}
	}
	if c.ApptID != 0 {
		enc.Appointment = []fm.Reference{*mappings.Ref("Appointment", c.ApptID.ID(), "")}
	}
	if c.LocationID != 0 {
		enc.Location = []fm.EncounterLocation{{Location: *mappings.Ref("Location", c.LocationID.ID(), string(c.LocationName))}}
		refs["location"] = []string{c.LocationID.ID()}
	}
	raw, err := mappings.Marshal("Encounter", fm.OtherEncounter(enc))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}
