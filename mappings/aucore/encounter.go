package aucore

import (
	"strings"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// EncounterCodes are a PMS's code values for Encounter.
type EncounterCodes struct {
	// Class is the v3 ActCode class of a type value; any other type is
	// ambulatory (AMB). ClassSQL is the class search: each class as a
	// predicate on the row.
	Class    map[int]string
	ClassSQL map[string]string
	// TypeText names a type value, for a PMS whose row has no type_text.
	TypeText map[int]string
	// StatusSQL is the status search; InProgress: an encounter without an
	// end is in progress (otherwise every encounter recorded is finished).
	StatusSQL  map[string]string
	InProgress bool
}

// ReasonSeparator separates the reasons of one encounter in the reasons
// column (the unit separator, character 31).
const ReasonSeparator = "\x1f"

// EncounterRow is Encounter's canonical row: one consultation or contact.
// visit_date, start_time and end_time are the parts start and end are
// made of, where the PMS records them apart.
type EncounterRow struct {
	ID mappings.Int `json:"id"`
	Subject
	Type      mappings.Int  `json:"type"`
	TypeText  mappings.Text `json:"type_text"`
	VisitDate mappings.Wall `json:"visit_date"`
	StartTime mappings.Int  `json:"start_time"`
	EndTime   mappings.Int  `json:"end_time"`
	Start     mappings.Wall `json:"start"`
	End       mappings.Wall `json:"end"`
	Reasons   mappings.Text `json:"reasons"`
	ApptID    mappings.Int  `json:"appt_id"`
	Clinician
	LocationID   mappings.Int  `json:"location_id"`
	LocationName mappings.Text `json:"location_name"`
	Practice
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

// encounterClassDisplay is the display of each ActCode class.
var encounterClassDisplay = map[string]string{"AMB": "ambulatory", "HH": "home health", "IMP": "inpatient encounter",
	"VR": "virtual", "FLD": "field"}

// Encounter is AU Core Encounter: each consultation or contact recorded.
// The date parameter and sort read the row's when filter (when the
// encounter started); the patient, practitioner and location parameters
// the encounter's own columns.
var Encounter = &mappings.Def[EncounterCodes]{
	Type:     "Encounter",
	Profiles: []string{mappings.ProfileEncounter},
	Columns:  mappings.ColumnsOf[EncounterRow](),
	Optional: []string{"type_text", "visit_date", "start_time", "end_time", "appt_id", "org_hpio", "org_abn"},
	Filters:  []string{"patient_ref", "when", "practitioner_ref", "location_ref"},
	Params: append(append([]mappings.ParamDef[EncounterCodes]{
		lastUpdated[EncounterCodes](),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The encounter's key in the practice system", Match: id("id")},
	}, patientParams[EncounterCodes](true)...),
		mappings.ParamDef[EncounterCodes]{Name: "date", Type: fhir.TypeDate,
			Doc:   "When the encounter started, in the practice's time zone (the day, where the practice records the visit's day apart)",
			Match: func(c mappings.Cols) mappings.Matcher { return mappings.DateTime(c.Col("when")) }},
		mappings.ParamDef[EncounterCodes]{Name: "class", Type: fhir.TypeToken,
			Doc: "AMB (at the surgery, and others), HH (home, residential care), IMP (hospital), VR (telephone, telehealth, SMS, e-mail), FLD (out of office), as the practice system records them",
			MatchCodes: func(_ mappings.Cols, codes EncounterCodes) mappings.Matcher {
				return mappings.Codes(mappings.CodeSystemActCode, codes.ClassSQL)
			}},
		mappings.ParamDef[EncounterCodes]{Name: "status", Type: fhir.TypeToken, Doc: "finished (the encounter has ended or, where the practice system records no end, every one) or in-progress",
			MatchCodes: func(_ mappings.Cols, codes EncounterCodes) mappings.Matcher {
				return mappings.StrictCodes(mappings.CodeSystemEncounterStatus, codes.StatusSQL,
					[]string{"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error", "unknown"})
			}},
		mappings.ParamDef[EncounterCodes]{Name: "location", Type: fhir.TypeReference, Targets: []string{"Location"}, Doc: "The practice location",
			Match: reference("location_ref", "Location")},
		mappings.ParamDef[EncounterCodes]{Name: "practitioner", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The practitioner seen",
			Match: reference("practitioner_ref", "Practitioner")},
	),
	Sorts: []mappings.SortDef{
		mappings.SortIntCol("_id", "id"),
		mappings.SortDateTimeCol("date", "when"),
	},
	Includes: append(includePatient("Encounter"),
		fhir.Include{Source: "Encounter", Param: "practitioner", Target: "Practitioner"},
		fhir.Include{Source: "Encounter", Param: "location", Target: "Location"}),
	DefaultCount: 50, MaxCount: 500,
	Row: encounterRow,
}

func encounterRow(codes EncounterCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c EncounterRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	class, ok := codes.Class[int(c.Type)]
	if !ok {
		class = "AMB"
	}
	id := c.ID.ID()
	w := mappings.NewResource("Encounter")
	w.String("id", id)
	w.Meta(mappings.ProfileEncounter, c.Updated, c.Created, site.Location)
	if c.End.IsZero() && codes.InProgress {
		w.String("status", "in-progress")
	} else {
		w.String("status", "finished")
	}
	w.Coding("class", mappings.Coding{System: mappings.CodeSystemActCode, Code: class, Display: encounterClassDisplay[class]})
	text := string(c.TypeText)
	if text == "" {
		text = codes.TypeText[int(c.Type)]
	}
	w.Array("type")
	w.Concept("", text)
	w.End()
	c.PatientRef(w, "subject")
	refs := refs(c.Subject, c.Clinician, "practitioner")
	if c.PractitionerID != 0 {
		w.Array("participant")
		w.Object("")
		primaryPerformer(w)
		c.PractitionerRef(w, "individual")
		w.End()
		w.End()
	}
	if c.ApptID != 0 {
		w.Array("appointment")
		w.Ref("", "Appointment", c.ApptID.ID(), "")
		w.End()
	}
	if !c.Start.IsZero() {
		w.Object("period")
		w.Instant("start", c.Start, site.Location)
		if !c.End.IsZero() && c.End.In(site.Location).After(c.Start.In(site.Location)) {
			w.Instant("end", c.End, site.Location)
		}
		w.End()
	}
	w.Array("reasonCode")
	for r := range strings.SplitSeq(string(c.Reasons), ReasonSeparator) {
		w.Concept("", r)
	}
	w.End()
	if c.LocationID != 0 {
		w.Array("location")
		w.Object("")
		w.Ref("location", "Location", c.LocationID.ID(), string(c.LocationName))
		w.End()
		w.End()
		refs["location"] = []string{c.LocationID.ID()}
	}
	c.Practice.Ref(w, "serviceProvider")
	return mappings.Row{ID: id, Resource: w.Bytes(), Refs: refs}, nil
}
