package bppremier

import (
	_ "embed"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"text/template"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed encounter.sql
var encounterSQL string

// encounterClass is the v3 ActCode class of each visit type; any other
// type is ambulatory (AMB).
var encounterClass = map[int]string{
	visitHome:        "HH",
	visitRACF:        "HH",
	visitHostel:      "HH",
	visitLocum:       "HH",
	visitHospital:    "IMP",
	visitTelephone:   "VR",
	visitSMS:         "VR",
	visitEmail:       "VR",
	visitTelehealth:  "VR",
	visitOutOfOffice: "FLD",
}

var classDisplay = map[string]string{"AMB": "ambulatory", "HH": "home health", "IMP": "inpatient encounter",
	"VR": "virtual", "FLD": "field"}

// classSQL is the class search: each code as a predicate on VISITCODE.
func classSQL() map[string]string {
	byClass := map[string][]int{}
	var other []int
	for code, class := range encounterClass {
		byClass[class] = append(byClass[class], code)
		other = append(other, code)
	}
	list := func(codes []int) string {
		slices.Sort(codes)
		s := make([]string, len(codes))
		for i, c := range codes {
			s[i] = strconv.Itoa(c)
		}
		return strings.Join(s, ", ")
	}
	m := map[string]string{"AMB": `v."VISITCODE" NOT IN (` + list(other) + ")"}
	for class, codes := range byClass {
		m[class] = `v."VISITCODE" IN (` + list(codes) + ")"
	}
	return m
}

// reasonSeparator separates the reasons of one visit in the "reasons"
// column.
const reasonSeparator = "\x1f"

// reasonsSQL aggregates a visit's live VISITREASON texts, in the order
// recorded. STRING_AGG needs SQL Server 2017 or later.
func reasonsSQL(d mappings.Dialect) string {
	from := ` FROM "VISITREASON" vr WHERE vr."VISITID" = v."VISITID" AND vr."RECORDSTATUS" = 1 AND RTRIM(vr."REASON") <> ''`
	switch d.Engine() {
	case mappings.EngineSQLServer:
		return `(SELECT STRING_AGG(RTRIM(vr."REASON"), CHAR(31)) WITHIN GROUP (ORDER BY vr."RECORDID")` + from + ")"
	case mappings.EnginePostgres:
		return `(SELECT string_agg(rtrim(vr."REASON"), chr(31) ORDER BY vr."RECORDID")` + from + ")"
	}
	return `(SELECT group_concat(x."r", char(31)) FROM (SELECT RTRIM(vr."REASON") AS "r"` + from + ` ORDER BY vr."RECORDID") x)`
}

// Encounter maps VISITS: each consultation or contact recorded in the
// clinical notes, finished.
var Encounter = mappings.NewTable(mappings.TableSpec{
	Type:     "Encounter",
	Profiles: []string{mappings.ProfileEncounter},
	SQL:      encounterSQL,
	Funcs:    withFuncs(template.FuncMap{"addSeconds": mappings.AddSeconds, "reasons": reasonsSQL}),
	Params: []mappings.Param{
		mappings.LastUpdatedParam(`v."UPDATED"`, `v."CREATED"`),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The VISITS record's VISITID",
			Match: mappings.ID(`v."VISITID"`)},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(`v."INTERNALID"`, "Patient"), Chain: patientChain(`v."INTERNALID"`)},
		{Name: "subject", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(`v."INTERNALID"`, "Patient")},
		{Name: "date", Type: fhir.TypeDate, Doc: "The day of the visit",
			Match: mappings.Date(`v."VISITDATE"`)},
		{Name: "class", Type: fhir.TypeToken, Doc: "AMB (surgery and others), HH (home, residential care), IMP (hospital), VR (telephone, telehealth, SMS, e-mail), FLD (out of office)",
			Match: mappings.Codes(mappings.CodeSystemActCode, classSQL())},
		{Name: "status", Type: fhir.TypeToken, Doc: "finished (every visit recorded)",
			Match: mappings.StrictCodes(mappings.CodeSystemEncounterStatus, map[string]string{"finished": mappings.SQLTrue},
				[]string{"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error", "unknown"})},
		{Name: "location", Type: fhir.TypeReference, Targets: []string{"Location"}, Doc: "The practice location",
			Match: mappings.Reference(`v."LOCATION"`, "Location")},
		{Name: "practitioner", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The practitioner seen",
			Match: mappings.Reference(`v."USERID"`, "Practitioner")},
	},
	Sorts: map[string]mappings.Sort{
		"_id":  mappings.SortInt(`v."VISITID"`),
		"date": mappings.SortDateTime(`v."VISITDATE"`),
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
	ID            mappings.Int  `json:"id"`
	Patient       mappings.Int  `json:"patient"`
	PatientFirst  mappings.Text `json:"patient_first"`
	PatientFamily mappings.Text `json:"patient_family"`
	VisitCode     mappings.Int  `json:"visit_code"`
	VisitType     mappings.Text `json:"visit_type"`
	StartTime     mappings.Int  `json:"start_time"`
	EndTime       mappings.Int  `json:"end_time"`
	Start         mappings.Wall `json:"start"`
	End           mappings.Wall `json:"end"`
	Reasons       mappings.Text `json:"reasons"`
	userColumns
	LocationID   mappings.Int  `json:"location_id"`
	LocationName mappings.Text `json:"location_name"`
	aucore.Practice
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

func encounterRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c encounterColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	class, ok := encounterClass[int(c.VisitCode)]
	if !ok {
		class = "AMB"
	}
	e := fm.Encounter{
		Id:              mappings.Ptr(c.ID.ID()),
		Meta:            mappings.Meta(mappings.ProfileEncounter, c.Updated, c.Created, site.Location),
		Status:          fm.EncounterStatusFinished,
		Class:           mappings.Coding(mappings.CodeSystemActCode, class, classDisplay[class]),
		Subject:         patientRef(c.Patient, c.PatientFirst, c.PatientFamily),
		ServiceProvider: c.Practice.Ref(),
	}
	if c.VisitType != "" {
		e.Type = []fm.CodeableConcept{{Text: mappings.Ptr(string(c.VisitType))}}
	}
	if !c.Start.IsZero() {
		e.Period = &fm.Period{Start: mappings.Ptr(c.Start.Instant(site.Location))}
		if c.EndTime > c.StartTime && !c.End.IsZero() {
			e.Period.End = mappings.Ptr(c.End.Instant(site.Location))
		}
	}
	for _, r := range strings.Split(string(c.Reasons), reasonSeparator) {
		if r = strings.TrimSpace(r); r != "" {
			e.ReasonCode = append(e.ReasonCode, fm.CodeableConcept{Text: mappings.Ptr(r)})
		}
	}
	refs := map[string][]string{"patient": {c.Patient.ID()}}
	if p := c.userColumns.ref(); p != nil {
		e.Participant = []fm.EncounterParticipant{{
			Type:       []fm.CodeableConcept{*mappings.Concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF", "primary performer", "")},
			Individual: p,
		}}
		refs["practitioner"] = []string{c.UserID.ID()}
	}
	if c.LocationID != 0 {
		e.Location = []fm.EncounterLocation{{Location: *mappings.Ref("Location", c.LocationID.ID(), string(c.LocationName))}}
		refs["location"] = []string{c.LocationID.ID()}
	}
	raw, err := mappings.Marshal("Encounter", fm.OtherEncounter(e))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}
