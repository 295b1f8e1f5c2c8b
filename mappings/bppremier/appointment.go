package bppremier

import (
	_ "embed"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// Appointment codes (APPOINTMENTCODES.APPOINTMENTCODE, APPOINTMENTS'
// status). The texts are seen; the numbers are the unofficial list's order
// from 0 and are ASSUMED, shared with the synthetic database: 0
// Unavailable (a blocked slot, also told by INTERNALID 0), 1 Booked,
// 2 Waiting, 3 With doctor, 4 At billing, 5 Completed, 6 DNA, 7 Reserved,
// 8 Invoiced, 9 Paid. Correct them here when real values are confirmed.
const (
	apptWaiting    = 2
	apptWithDoctor = 3
	apptAtBilling  = 4
	apptCompleted  = 5
	apptDNA        = 6
	apptInvoiced   = 8
	apptPaid       = 9
)

// apptStatusCodes are the FHIR statuses made from APPOINTMENTCODE (for a
// live row; a cancelled one is cancelled whatever its code). Any other code
// (Booked, Reserved, one not known here) is booked.
var apptStatusCodes = map[fm.AppointmentStatus][]int{
	fm.AppointmentStatusArrived:   {apptWaiting, apptWithDoctor},
	fm.AppointmentStatusFulfilled: {apptAtBilling, apptCompleted, apptInvoiced, apptPaid},
	fm.AppointmentStatusNoshow:    {apptDNA},
}

// appointmentStatus is the FHIR status of a row.
func appointmentStatus(record, code int) fm.AppointmentStatus {
	if record != recordLive {
		return fm.AppointmentStatusCancelled
	}
	for s, codes := range apptStatusCodes {
		for _, c := range codes {
			if c == code {
				return s
			}
		}
	}
	return fm.AppointmentStatusBooked
}

// appointmentStatusSQL is the status search: each FHIR status as a
// predicate on the APPOINTMENTS row aliased a, built from apptStatusCodes.
// Rows that are not live are cancelled ones (appointment.sql shows no
// other).
func appointmentStatusSQL() map[string]string {
	live := `a."RECORDSTATUS" = ` + strconv.Itoa(recordLive)
	m := map[string]string{"cancelled": `a."RECORDSTATUS" <> ` + strconv.Itoa(recordLive)}
	var all []string
	for _, s := range []fm.AppointmentStatus{fm.AppointmentStatusArrived, fm.AppointmentStatusFulfilled, fm.AppointmentStatusNoshow} {
		codes := make([]string, len(apptStatusCodes[s]))
		for i, c := range apptStatusCodes[s] {
			codes[i] = strconv.Itoa(c)
		}
		all = append(all, codes...)
		m[s.Code()] = "(" + live + ` AND a."APPOINTMENTCODE" IN (` + strings.Join(codes, ", ") + "))"
	}
	m["booked"] = "(" + live + ` AND a."APPOINTMENTCODE" NOT IN (` + strings.Join(all, ", ") + "))"
	return m
}

// appointmentStatuses is FHIR R4's appointmentstatus value set: a status
// search with any other code is a bad request.
var appointmentStatuses = []string{"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
	"entered-in-error", "checked-in", "waitlist"}

// Code systems of fhirlink's own for Bp's local codes.
const (
	appointmentTypeSystem = "urn:fhirlink:bppremier:appointment-type"
	appointmentStatusCS   = "http://hl7.org/fhir/appointmentstatus"
)

//go:embed appointment.sql
var appointmentSQL string

// apptStart is where an appointment starts: its date and time of day.
var apptStart = mappings.DayTime{Date: `a."APPOINTMENTDATE"`, Secs: `a."APPOINTMENTTIME"`}

// Appointment maps APPOINTMENTS: booked appointments (blocked slots, with
// no patient, are not appointments), including cancelled ones, which keep
// their row (RECORDSTATUS not live) and have a cancellation record.
var Appointment = mappings.NewTable(mappings.TableSpec{
	Type:  "Appointment",
	SQL:   appointmentSQL,
	Funcs: funcs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(`a."UPDATED"`, `a."CREATED"`),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The appointment's RECORDID",
			Match: mappings.ID(`a."RECORDID"`)},
		{Name: "date", Type: fhir.TypeDate, Doc: "When the appointment starts (Appointment.start, as R4 defines the parameter), compared with the practice's wall clock",
			Match: mappings.Moment(apptStart)},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(`a."INTERNALID"`, "Patient"), Chain: patientChain(`a."INTERNALID"`)},
		{Name: "practitioner", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The practitioner whose book it is in",
			Match: mappings.Reference(`a."USERID"`, "Practitioner")},
		{Name: "location", Type: fhir.TypeReference, Targets: []string{"Location"}, Doc: "The practice location",
			Match: mappings.Reference(`a."LOCATIONID"`, "Location")},
		{Name: "actor", Type: fhir.TypeReference, Targets: []string{"Location", "Patient", "Practitioner"}, Doc: "The patient, practitioner or location",
			Match: mappings.References(
				mappings.RefTarget{Type: "Patient", Expr: `a."INTERNALID"`},
				mappings.RefTarget{Type: "Practitioner", Expr: `a."USERID"`},
				mappings.RefTarget{Type: "Location", Expr: `a."LOCATIONID"`})},
		{Name: "status", Type: fhir.TypeToken, Doc: "booked, arrived (waiting, with doctor), fulfilled (at billing, completed, invoiced, paid), noshow (did not attend), cancelled",
			Match: mappings.StrictCodes(appointmentStatusCS, appointmentStatusSQL(), appointmentStatuses)},
	},
	Sorts: map[string]mappings.Sort{
		"_id":  mappings.SortInt(`a."RECORDID"`),
		"date": mappings.SortDayTime(`a."APPOINTMENTDATE"`, `a."APPOINTMENTTIME"`),
	},
	Includes: []fhir.Include{
		{Source: "Appointment", Param: "patient", Target: "Patient"},
		{Source: "Appointment", Param: "practitioner", Target: "Practitioner"},
		{Source: "Appointment", Param: "location", Target: "Location"},
	},
	DefaultCount: 50, MaxCount: 500,
	Row: appointmentRow,
})

type appointmentColumns struct {
	ID            mappings.Int  `json:"id"`
	Record        mappings.Int  `json:"record"`
	Code          mappings.Int  `json:"code"`
	Date          mappings.Wall `json:"date"`
	Time          mappings.Int  `json:"time"`
	Length        mappings.Int  `json:"length"`
	Type          mappings.Int  `json:"type"`
	TypeText      mappings.Text `json:"type_text"`
	Urgent        mappings.Int  `json:"urgent"`
	Reason        mappings.Text `json:"reason"`
	Comment       mappings.Text `json:"comment"`
	CancelReason  mappings.Text `json:"cancel_reason"`
	PatientID     mappings.Int  `json:"patient_id"`
	PatientFirst  mappings.Text `json:"patient_first"`
	PatientFamily mappings.Text `json:"patient_family"`
	UserID        mappings.Int  `json:"user_id"`
	UserTitle     mappings.Text `json:"user_title"`
	UserFirst     mappings.Text `json:"user_first"`
	UserFamily    mappings.Text `json:"user_family"`
	LocationID    mappings.Int  `json:"location_id"`
	LocationName  mappings.Text `json:"location_name"`
	Created       mappings.Wall `json:"created"`
	Updated       mappings.Wall `json:"updated"`
}

// instant is the FHIR instant of a day plus seconds of the practice's wall
// clock, with the zone's offset at that moment (daylight saving included).
func instant(day mappings.Wall, secs int, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	d := day.In(loc)
	t := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, secs, 0, loc)
	return t.Format("2006-01-02T15:04:05-07:00")
}

func appointmentRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c appointmentColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	a := fm.Appointment{
		Id:     mappings.Ptr(c.ID.ID()),
		Status: appointmentStatus(int(c.Record), int(c.Code)),
	}
	if lu := mappings.LastUpdated(c.Updated, c.Created, site.Location); lu != "" {
		a.Meta = &fm.Meta{LastUpdated: mappings.Ptr(lu)}
	}
	if !c.Date.IsZero() {
		a.Start = mappings.Ptr(instant(c.Date, int(c.Time), site.Location))
		a.End = mappings.Ptr(instant(c.Date, int(c.Time+c.Length), site.Location))
		if c.Length > 0 {
			a.MinutesDuration = mappings.Ptr(int(c.Length+59) / 60)
		}
	}
	if a.Status == fm.AppointmentStatusCancelled && c.CancelReason != "" {
		a.CancelationReason = &fm.CodeableConcept{Text: mappings.Ptr(string(c.CancelReason))}
	}
	if c.Type != 0 {
		text := string(c.TypeText)
		if text == "" {
			text = "Appointment type " + c.Type.ID()
		}
		a.AppointmentType = mappings.Concept(appointmentTypeSystem, c.Type.ID(), string(c.TypeText), text)
	}
	if c.Reason != "" {
		a.ReasonCode = []fm.CodeableConcept{{Text: mappings.Ptr(string(c.Reason))}}
		a.Description = mappings.Ptr(string(c.Reason))
	}
	if c.Comment != "" {
		a.Comment = mappings.Ptr(string(c.Comment))
	}
	if c.Urgent != 0 {
		a.Priority = mappings.Ptr(1) // urgent; FHIR leaves 0 as undefined
	}
	if !c.Created.IsZero() {
		a.Created = mappings.Ptr(c.Created.DateTime(site.Location))
	}

	// Participants: whoever of the patient, the practitioner and the
	// location is still on file.
	refs := map[string][]string{}
	participant := func(ref *fm.Reference, typ *fm.CodeableConcept) {
		p := fm.AppointmentParticipant{Actor: ref, Required: mappings.Ptr(fm.ParticipantRequiredRequired), Status: fm.ParticipationStatusAccepted}
		if typ != nil {
			p.Type = []fm.CodeableConcept{*typ}
		}
		a.Participant = append(a.Participant, p)
	}
	if c.PatientID != 0 {
		participant(mappings.Ref("Patient", c.PatientID.ID(), mappings.PersonName(string(c.PatientFirst), string(c.PatientFamily))), nil)
		refs["patient"] = []string{c.PatientID.ID()}
	}
	if c.UserID != 0 {
		participant(mappings.Ref("Practitioner", c.UserID.ID(), mappings.PersonName(string(c.UserTitle), string(c.UserFirst), string(c.UserFamily))),
			mappings.Concept(participationTypeSystem, "PPRF", "primary performer", ""))
		refs["practitioner"] = []string{c.UserID.ID()}
	}
	if c.LocationID != 0 {
		participant(mappings.Ref("Location", c.LocationID.ID(), string(c.LocationName)), nil)
		refs["location"] = []string{c.LocationID.ID()}
	}
	if len(a.Participant) == 0 {
		// FHIR requires a participant: the booking's performer, unknown.
		participant(nil, mappings.Concept(participationTypeSystem, "PPRF", "primary performer", ""))
	}
	if len(refs) == 0 {
		refs = nil
	}
	raw, err := mappings.Marshal("Appointment", fm.OtherAppointment(a))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}

// participationTypeSystem is HL7 v3 ParticipationType (the practitioner
// is the primary performer).
const participationTypeSystem = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
