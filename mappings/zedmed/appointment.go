package zedmed

import (
	_ "embed"
	"encoding/json"
	"strconv"
	"strings"
	"text/template"
	"time"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed appointment.sql
var appointmentSQL string

// a is a column of APPOINTMENT a.
func a(name string) string { return col("a", "APPOINTMENT."+name) }

// apptStatuses are the FHIR statuses of APPOINTMENT.STATUS codes; any other code is booked.
var apptStatuses = map[fm.AppointmentStatus][]int{
	fm.AppointmentStatusArrived:   {apptArrived, apptInConsult},
	fm.AppointmentStatusFulfilled: {apptCompleted},
	fm.AppointmentStatusNoshow:    {apptDNA},
	fm.AppointmentStatusCancelled: {apptCancelled},
}

func appointmentStatus(code int) fm.AppointmentStatus {
	for s, codes := range apptStatuses {
		for _, c := range codes {
			if c == code {
				return s
			}
		}
	}
	return fm.AppointmentStatusBooked
}

// appointmentStatusSQL is the status search: each FHIR status as a predicate on a.
func appointmentStatusSQL() map[string]string {
	m := map[string]string{}
	var all []string
	for _, s := range []fm.AppointmentStatus{fm.AppointmentStatusArrived, fm.AppointmentStatusFulfilled, fm.AppointmentStatusNoshow, fm.AppointmentStatusCancelled} {
		var codes []string
		for _, c := range apptStatuses[s] {
			codes = append(codes, strconv.Itoa(c))
		}
		all = append(all, codes...)
		m[s.Code()] = a("STATUS") + " IN (" + strings.Join(codes, ", ") + ")"
	}
	m["booked"] = a("STATUS") + " NOT IN (" + strings.Join(all, ", ") + ")"
	return m
}

// appointmentStatusCodes is FHIR R4's appointmentstatus value set.
var appointmentStatusCodes = []string{"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
	"entered-in-error", "checked-in", "waitlist"}

const appointmentStatusSystem = "http://hl7.org/fhir/appointmentstatus"

// apptStart is where an appointment starts: its date and time of day.
var apptStart = mappings.DayTime{Date: a("APPT_DATE"), Secs: a("START_SECS")}

// withFuncs is funcs and more.
func withFuncs(more template.FuncMap) template.FuncMap {
	out := template.FuncMap{}
	for k, v := range funcs {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// Appointment maps APPOINTMENT: booked appointments, cancelled ones included (they keep their
// row with STATUS cancelled); blocked slots are not appointments.
var Appointment = mappings.NewTable(mappings.TableSpec{
	Type:  "Appointment",
	SQL:   appointmentSQL,
	Funcs: withFuncs(template.FuncMap{"blocked": func() int { return apptBlocked }}),
	Params: []mappings.Param{
		{Name: "_id", Type: fhir.TypeToken, Doc: "The appointment's APPT_ID",
			Match: mappings.ID(a("APPT_ID"))},
		{Name: "date", Type: fhir.TypeDate, Doc: "When the appointment starts (Appointment.start, as R4 defines the parameter), compared with the practice's wall clock",
			Match: mappings.Moment(apptStart)},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(a("PATIENT_ID"), "Patient"), Chain: patientChain(a("PATIENT_ID"))},
		{Name: "practitioner", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Doc: "The doctor whose book it is in",
			Match: mappings.Reference(a("DOCTOR_ID"), "Practitioner")},
		{Name: "location", Type: fhir.TypeReference, Targets: []string{"Location"}, Doc: "The branch",
			Match: mappings.Reference(a("BRANCH_ID"), "Location")},
		{Name: "actor", Type: fhir.TypeReference, Targets: []string{"Location", "Patient", "Practitioner"}, Doc: "The patient, doctor or branch",
			Match: mappings.References(
				mappings.RefTarget{Type: "Patient", Expr: a("PATIENT_ID")},
				mappings.RefTarget{Type: "Practitioner", Expr: a("DOCTOR_ID")},
				mappings.RefTarget{Type: "Location", Expr: a("BRANCH_ID")})},
		{Name: "status", Type: fhir.TypeToken, Doc: "booked, arrived (waiting or in consultation), fulfilled, noshow (did not attend), cancelled",
			Match: mappings.StrictCodes(appointmentStatusSystem, appointmentStatusSQL(), appointmentStatusCodes)},
	},
	Sorts: map[string]mappings.Sort{
		"_id":  mappings.SortInt(a("APPT_ID")),
		"date": mappings.SortDayTime(a("APPT_DATE"), a("START_SECS")),
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
	Status        mappings.Int  `json:"status"`
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
	DoctorID      mappings.Int  `json:"doctor_id"`
	DoctorTitle   mappings.Text `json:"doctor_title"`
	DoctorFirst   mappings.Text `json:"doctor_first"`
	DoctorFamily  mappings.Text `json:"doctor_family"`
	LocationID    mappings.Int  `json:"location_id"`
	LocationName  mappings.Text `json:"location_name"`
	Created       mappings.Wall `json:"created"`
	Updated       mappings.Wall `json:"updated"`
}

// instant is the FHIR instant of a day plus seconds of the practice's wall clock, with the
// zone's offset at that moment (daylight saving included).
func instant(day mappings.Wall, secs int, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	d := day.In(loc)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, secs, 0, loc).Format("2006-01-02T15:04:05-07:00")
}

// participationTypeSystem is HL7 v3 ParticipationType.
const participationTypeSystem = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

func appointmentRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c appointmentColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	ap := fm.Appointment{
		Id:     mappings.Ptr(c.ID.ID()),
		Meta:   mappings.Meta("", c.Updated, c.Created, site.Location),
		Status: appointmentStatus(int(c.Status)),
	}
	if !c.Date.IsZero() {
		ap.Start = mappings.Ptr(instant(c.Date, int(c.Time), site.Location))
		ap.End = mappings.Ptr(instant(c.Date, int(c.Time+c.Length), site.Location))
		if c.Length > 0 {
			ap.MinutesDuration = mappings.Ptr(int(c.Length+59) / 60)
		}
	}
	if ap.Status == fm.AppointmentStatusCancelled && c.CancelReason != "" {
		ap.CancelationReason = &fm.CodeableConcept{Text: mappings.Ptr(string(c.CancelReason))}
	}
	if c.Type != 0 {
		text := string(c.TypeText)
		if text == "" {
			text = "Appointment type " + c.Type.ID()
		}
		ap.AppointmentType = mappings.Concept(appointmentTypeSystem, c.Type.ID(), string(c.TypeText), text)
	}
	if c.Reason != "" {
		ap.ReasonCode = []fm.CodeableConcept{{Text: mappings.Ptr(string(c.Reason))}}
		ap.Description = mappings.Ptr(string(c.Reason))
	}
	if c.Comment != "" {
		ap.Comment = mappings.Ptr(string(c.Comment))
	}
	if c.Urgent != 0 {
		ap.Priority = mappings.Ptr(1)
	}
	if !c.Created.IsZero() {
		ap.Created = mappings.Ptr(c.Created.DateTime(site.Location))
	}
	refs := map[string][]string{}
	participant := func(ref *fm.Reference, typ *fm.CodeableConcept) {
		pt := fm.AppointmentParticipant{Actor: ref, Required: mappings.Ptr(fm.ParticipantRequiredRequired), Status: fm.ParticipationStatusAccepted}
		if typ != nil {
			pt.Type = []fm.CodeableConcept{*typ}
		}
		ap.Participant = append(ap.Participant, pt)
	}
	if c.PatientID != 0 {
		participant(mappings.Ref("Patient", c.PatientID.ID(), mappings.PersonName(string(c.PatientFirst), string(c.PatientFamily))), nil)
		refs["patient"] = []string{c.PatientID.ID()}
	}
	if c.DoctorID != 0 {
		participant(mappings.Ref("Practitioner", c.DoctorID.ID(), mappings.PersonName(string(c.DoctorTitle), string(c.DoctorFirst), string(c.DoctorFamily))),
			mappings.Concept(participationTypeSystem, "PPRF", "primary performer", ""))
		refs["practitioner"] = []string{c.DoctorID.ID()}
	}
	if c.LocationID != 0 {
		participant(mappings.Ref("Location", c.LocationID.ID(), string(c.LocationName)), nil)
		refs["location"] = []string{c.LocationID.ID()}
	}
	if len(ap.Participant) == 0 {
		participant(nil, mappings.Concept(participationTypeSystem, "PPRF", "primary performer", ""))
	}
	if len(refs) == 0 {
		refs = nil
	}
	raw, err := mappings.Marshal("Appointment", fm.OtherAppointment(ap))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}
