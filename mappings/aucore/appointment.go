package aucore

import (
	"fhirlink/fhir"
	"fhirlink/mappings"
)

// AppointmentCodes are a PMS's code values for Appointment.
type AppointmentCodes struct {
	// Status is the FHIR status code of a row's status code (and record state,
	// for a PMS that marks a cancelled appointment there).
	Status func(status, record int) string
	// StatusSQL is the status search: each FHIR status as a predicate on
	// the PMS's row, the reverse of Status.
	StatusSQL map[string]string
	// TypeSystem is the code system of the PMS's appointment types.
	TypeSystem string
}

// AppointmentRow is Appointment's canonical row: one booked appointment,
// its day and seconds-since-midnight start, and the names of whom it
// refers to.
type AppointmentRow struct {
	ID                 mappings.Int  `json:"id"`
	Record             mappings.Int  `json:"record"` // optional: the row's live or cancelled state
	Status             mappings.Int  `json:"status"`
	Date               mappings.Wall `json:"date"`
	Time               mappings.Int  `json:"time"`
	Length             mappings.Int  `json:"length"`
	Type               mappings.Int  `json:"type"`
	TypeText           mappings.Text `json:"type_text"`
	Urgent             mappings.Int  `json:"urgent"`
	Reason             mappings.Text `json:"reason"`
	Comment            mappings.Text `json:"comment"`
	CancelReason       mappings.Text `json:"cancel_reason"`
	PatientID          mappings.Int  `json:"patient_id"`
	PatientFirst       mappings.Text `json:"patient_first"`
	PatientFamily      mappings.Text `json:"patient_family"`
	PractitionerID     mappings.Int  `json:"practitioner_id"`
	PractitionerTitle  mappings.Text `json:"practitioner_title"`
	PractitionerFirst  mappings.Text `json:"practitioner_first"`
	PractitionerFamily mappings.Text `json:"practitioner_family"`
	LocationID         mappings.Int  `json:"location_id"`
	LocationName       mappings.Text `json:"location_name"`
	Created            mappings.Wall `json:"created"`
	Updated            mappings.Wall `json:"updated"`
}

// AppointmentStatuses is FHIR R4's appointmentstatus value set: a status
// search with any other code is a bad request.
var AppointmentStatuses = []string{"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
	"entered-in-error", "checked-in", "waitlist"}

// appointmentStatusSystem is FHIR's appointmentstatus code system.
const appointmentStatusSystem = "http://hl7.org/fhir/appointmentstatus"

// Appointment is FHIR Appointment (AU Core has no profile for it): booked
// appointments, cancelled ones included; blocked slots are not
// appointments. The patient, practitioner and location references search
// the appointment's own columns (patient_ref, ...), which find it even
// when the referenced record is gone.
var Appointment = &mappings.Def[AppointmentCodes]{
	Type:     "Appointment",
	Columns:  mappings.ColumnsOf[AppointmentRow](),
	Optional: []string{"record"},
	Filters:  []string{"patient_ref", "practitioner_ref", "location_ref"},
	Params: []mappings.ParamDef[AppointmentCodes]{
		lastUpdated[AppointmentCodes](),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The appointment's key in the practice system", Match: id("id")},
		{Name: "date", Type: fhir.TypeDate, Doc: "When the appointment starts (Appointment.start, as R4 defines the parameter), compared with the practice's wall clock",
			Match: func(c mappings.Cols) mappings.Matcher {
				return mappings.Moment(mappings.DayTime{Date: c.Col("date"), Secs: c.Col("time")})
			}},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: reference("patient_ref", "Patient"), ChainBy: []string{"identifier"}, ChainColumn: "patient_ref"},
		{Name: "practitioner", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The practitioner whose book it is in",
			Match: reference("practitioner_ref", "Practitioner")},
		{Name: "location", Type: fhir.TypeReference, Targets: []string{"Location"}, Doc: "The practice location",
			Match: reference("location_ref", "Location")},
		{Name: "actor", Type: fhir.TypeReference, Targets: []string{"Location", "Patient", "Practitioner"}, Doc: "The patient, practitioner or location",
			Match: func(c mappings.Cols) mappings.Matcher {
				return mappings.References(
					mappings.RefTarget{Type: "Patient", Expr: c.Col("patient_ref")},
					mappings.RefTarget{Type: "Practitioner", Expr: c.Col("practitioner_ref")},
					mappings.RefTarget{Type: "Location", Expr: c.Col("location_ref")})
			}},
		{Name: "status", Type: fhir.TypeToken, Doc: "booked, arrived, fulfilled, noshow (did not attend) or cancelled, from the appointment book's status",
			MatchCodes: func(_ mappings.Cols, codes AppointmentCodes) mappings.Matcher {
				return mappings.StrictCodes(appointmentStatusSystem, codes.StatusSQL, AppointmentStatuses)
			}},
	},
	Sorts: []mappings.SortDef{
		mappings.SortIntCol("_id", "id"),
		{Name: "date", Sort: func(c mappings.Cols) mappings.Sort { return mappings.SortDayTime(c.Col("date"), c.Col("time")) }},
	},
	Includes: []fhir.Include{
		{Source: "Appointment", Param: "patient", Target: "Patient"},
		{Source: "Appointment", Param: "practitioner", Target: "Practitioner"},
		{Source: "Appointment", Param: "location", Target: "Location"},
	},
	DefaultCount: 50, MaxCount: 500,
	Row: appointmentRow,
}

func appointmentRow(codes AppointmentCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c AppointmentRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	id := c.ID.ID()
	status := codes.Status(int(c.Status), int(c.Record))
	w := mappings.NewResource("Appointment")
	w.String("id", id)
	w.Meta("", c.Updated, c.Created, site.Location)
	w.String("status", status)
	if status == "cancelled" {
		w.Concept("cancelationReason", string(c.CancelReason))
	}
	if c.Type != 0 {
		text := string(c.TypeText)
		if text == "" {
			text = "Appointment type " + c.Type.ID()
		}
		w.Concept("appointmentType", text, mappings.Coding{System: codes.TypeSystem, Code: c.Type.ID(), Display: string(c.TypeText)})
	}
	if c.Reason != "" {
		w.Array("reasonCode")
		w.Concept("", string(c.Reason))
		w.End()
	}
	if c.Urgent != 0 {
		w.Int("priority", 1) // urgent; FHIR leaves 0 as undefined
	}
	w.String("description", string(c.Reason))
	if !c.Date.IsZero() {
		w.InstantAt("start", c.Date, int(c.Time), site.Location)
		w.InstantAt("end", c.Date, int(c.Time+c.Length), site.Location)
		if c.Length > 0 {
			w.Int("minutesDuration", int64(c.Length+59)/60)
		}
	}
	if !c.Created.IsZero() {
		w.DateTime("created", c.Created, site.Location)
	}
	w.String("comment", string(c.Comment))

	// Participants: whoever of the patient, the practitioner and the
	// location is still on file.
	var refs map[string][]string
	ref := func(name, id string) {
		if refs == nil {
			refs = map[string][]string{}
		}
		refs[name] = []string{id}
	}
	participant := func(performer bool, typ, id string, display ...string) {
		w.Object("")
		if performer {
			primaryPerformer(w)
		}
		if typ != "" {
			w.Ref("actor", typ, id, display...)
		}
		w.String("required", "required")
		w.String("status", "accepted")
		w.End()
	}
	w.Array("participant")
	if c.PatientID != 0 {
		participant(false, "Patient", c.PatientID.ID(), string(c.PatientFirst), string(c.PatientFamily))
		ref("patient", c.PatientID.ID())
	}
	if c.PractitionerID != 0 {
		participant(true, "Practitioner", c.PractitionerID.ID(),
			string(c.PractitionerTitle), string(c.PractitionerFirst), string(c.PractitionerFamily))
		ref("practitioner", c.PractitionerID.ID())
	}
	if c.LocationID != 0 {
		participant(false, "Location", c.LocationID.ID(), string(c.LocationName))
		ref("location", c.LocationID.ID())
	}
	if refs == nil {
		// FHIR requires a participant: the booking's performer, unknown.
		participant(true, "", "")
	}
	w.End()
	return mappings.Row{ID: id, Resource: w.Bytes(), Refs: refs}, nil
}
