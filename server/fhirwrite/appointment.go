package fhirwrite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/server/fhirsearch"
)

// maxReason is the longest appointment reason the practice systems keep.
const maxReason = 100

// booking is a validated Appointment create, with the slots it fills.
type booking struct {
	mappings.Booking
	start, end time.Time
}

// CreateAppointment books the Appointment in body (FHIR JSON): status
// booked, exactly one practitioner and one patient participant (a location
// one optional), and start and end filling free Slots of the
// practitioner's schedule (Appointment.slot may name them). It answers the
// appointment read back, 201; a time taken meanwhile is a 409 and books
// nothing. executionID makes the agent run the booking at most once.
func (s *Site) CreateAppointment(ctx context.Context, body []byte, executionID string) (Result, error) {
	if err := s.supports("Appointment", Create); err != nil {
		return Result{}, err
	}
	a, err := parseAppointment(body)
	if err != nil {
		return Result{}, err
	}
	b, err := s.validateBooking(ctx, a)
	if err != nil {
		return Result{}, err
	}
	return s.book(ctx, b, executionID)
}

// BookSlot is the Appointment $book operation: a Parameters resource with
// a slot (a Slot reference; several for consecutive slots) and a patient
// (a Patient reference), and optionally a reason (valueString); or one
// appointment parameter with the Appointment to create, as
// [Site.CreateAppointment] takes it.
func (s *Site) BookSlot(ctx context.Context, body []byte, executionID string) (Result, error) {
	if err := s.supports("Appointment", Create); err != nil {
		return Result{}, err
	}
	var p struct {
		ResourceType string `json:"resourceType"`
		Parameter    []struct {
			Name           string          `json:"name"`
			ValueReference *fm.Reference   `json:"valueReference"`
			ValueString    *string         `json:"valueString"`
			Resource       json.RawMessage `json:"resource"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.ResourceType != "Parameters" {
		return Result{}, invalid("$book takes a Parameters resource (FHIR JSON)")
	}
	a := fm.Appointment{Status: fm.AppointmentStatusBooked}
	var appointment json.RawMessage
	for i, par := range p.Parameter {
		ref := ""
		if par.ValueReference != nil && par.ValueReference.Reference != nil {
			ref = *par.ValueReference.Reference
		}
		switch {
		case par.Name == "appointment" && par.Resource != nil:
			appointment = par.Resource
		case (par.Name == "slot" || par.Name == "patient") && ref == "":
			return Result{}, invalid("Parameters.parameter[%d] (%s) needs a valueReference", i, par.Name)
		case par.Name == "slot":
			a.Slot = append(a.Slot, fm.Reference{Reference: &ref})
		case par.Name == "patient":
			a.Participant = append(a.Participant, fm.AppointmentParticipant{Actor: &fm.Reference{Reference: &ref}, Status: fm.ParticipationStatusAccepted})
		case par.Name == "reason" && par.ValueString != nil:
			a.Description = par.ValueString
		default:
			return Result{}, invalid("Parameters.parameter[%d]: $book takes slot and patient (valueReference), reason (valueString) or appointment (resource), not %q", i, par.Name)
		}
	}
	if appointment != nil {
		if len(a.Slot) > 0 || len(a.Participant) > 0 {
			return Result{}, invalid("$book takes either an appointment or slot and patient parameters, not both")
		}
		return s.CreateAppointment(ctx, appointment, executionID)
	}
	if len(a.Slot) == 0 || len(a.Participant) != 1 {
		return Result{}, invalid("$book needs one or more slot parameters and one patient parameter")
	}
	// The practitioner and the times are the slots'.
	slots, err := s.slotsByID(ctx, a.Slot)
	if err != nil {
		return Result{}, err
	}
	first, last := slots[0], slots[len(slots)-1]
	prac := "Practitioner/" + strconv.Itoa(first.key.Owner)
	a.Participant = append(a.Participant, fm.AppointmentParticipant{Actor: &fm.Reference{Reference: &prac}, Status: fm.ParticipationStatusAccepted})
	start, end := first.start.Format(time.RFC3339), last.end.Format(time.RFC3339)
	a.Start, a.End = &start, &end
	b, err := s.validateBooking(ctx, a)
	if err != nil {
		return Result{}, err
	}
	return s.book(ctx, b, executionID)
}

// book runs a validated booking and reads the appointment back.
func (s *Site) book(ctx context.Context, b booking, executionID string) (Result, error) {
	id, err := s.run(ctx, s.writes.Book(s.engine, b.Booking), executionID)
	if err != nil {
		return Result{}, err
	}
	if id == 0 {
		return Result{}, conflict("the time %s to %s with Practitioner/%d is already booked; nothing was booked: search the free Slots again",
			b.start.Format(time.RFC3339), b.end.Format(time.RFC3339), b.Practitioner)
	}
	return s.readBack(ctx, http.StatusCreated, "Appointment", id)
}

// parseAppointment decodes an Appointment's FHIR JSON.
func parseAppointment(body []byte) (fm.Appointment, error) {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return fm.Appointment{}, invalid("the body is not JSON: %v", err)
	}
	if head.ResourceType != "Appointment" {
		return fm.Appointment{}, invalid("the body must be an Appointment resource, not %q", head.ResourceType)
	}
	a, err := fm.UnmarshalAppointment(body)
	if err != nil {
		return fm.Appointment{}, invalid("the Appointment is not valid FHIR R4 JSON: %v", err)
	}
	return a, nil
}

// validateBooking checks a new appointment against the practice's book:
// what the booking needs, the patient on file, and free slots of the
// practitioner's schedule that its start and end fill exactly.
func (s *Site) validateBooking(ctx context.Context, a fm.Appointment) (booking, error) {
	var b booking
	if a.Status != fm.AppointmentStatusBooked {
		return b, unprocessable("Appointment.status: a new appointment is booked, not %s", a.Status.Code())
	}
	prac, patient, loc, err := s.participants(a.Participant)
	if err != nil {
		return b, err
	}
	if prac == 0 || patient == 0 {
		return b, unprocessable("Appointment.participant: a booking needs exactly one Practitioner and one Patient participant (actor.reference Practitioner/{id}, Patient/{id})")
	}
	if b.start, b.end, err = s.period(a.Start, a.End); err != nil {
		return b, err
	}
	if b.Reason, err = reason(a); err != nil {
		return b, err
	}
	var slots []slot
	if len(a.Slot) > 0 {
		if slots, err = s.slotsByID(ctx, a.Slot); err != nil {
			return b, err
		}
	} else if slots, err = s.slotsOf(ctx, prac, loc, b.start, b.end); err != nil {
		return b, err
	}
	if err := fills(slots, prac, loc, b.start, b.end, nil); err != nil {
		return b, err
	}
	if err := s.exists(ctx, "Appointment.participant", "Patient", patient); err != nil {
		return b, err
	}
	wall := b.start.In(s.read.Location())
	b.Booking = mappings.Booking{Patient: patient, Practitioner: prac, Location: slots[0].key.Loc,
		Day: time.Date(wall.Year(), wall.Month(), wall.Day(), 0, 0, 0, 0, time.UTC), Secs: wall.Hour()*3600 + wall.Minute()*60 + wall.Second(),
		Length: int(b.end.Sub(b.start) / time.Second), Reason: b.Reason}
	return b, nil
}

// participants reads the practitioner, patient and location ids of a
// booking's participants; any other actor is refused.
func (s *Site) participants(ps []fm.AppointmentParticipant) (prac, patient, loc int, err error) {
	for i, p := range ps {
		ref := ""
		if p.Actor != nil && p.Actor.Reference != nil {
			ref = *p.Actor.Reference
		}
		elem := fmt.Sprintf("Appointment.participant[%d].actor", i)
		var id *int
		var typ string
		for _, t := range []struct {
			typ string
			id  *int
		}{{"Practitioner", &prac}, {"Patient", &patient}, {"Location", &loc}} {
			if strings.Contains(ref, t.typ+"/") {
				typ, id = t.typ, t.id
			}
		}
		if id == nil {
			return 0, 0, 0, unprocessable("%s: a booking's participants are one Practitioner, one Patient and at most one Location, each by reference (Type/id), not %q", elem, ref)
		}
		n, ok := s.refID(ref, typ)
		if !ok {
			return 0, 0, 0, unprocessable("%s: %q is not a reference to a %s of this practice (%s/{id})", elem, ref, typ, typ)
		}
		if *id != 0 {
			return 0, 0, 0, unprocessable("%s: a booking has one %s participant", elem, typ)
		}
		*id = n
	}
	return prac, patient, loc, nil
}

// period parses a booking's start and end: instants with a zone, end after
// start, on one day of the practice's wall clock.
func (s *Site) period(startText, endText *string) (start, end time.Time, err error) {
	if startText == nil || endText == nil {
		return start, end, unprocessable("Appointment.start and Appointment.end: a booking needs both")
	}
	if start, err = time.Parse(time.RFC3339, *startText); err != nil {
		return start, end, invalid("Appointment.start: %q is not an instant (YYYY-MM-DDThh:mm:ss with a zone, e.g. +10:00 or Z)", *startText)
	}
	if end, err = time.Parse(time.RFC3339, *endText); err != nil {
		return start, end, invalid("Appointment.end: %q is not an instant (YYYY-MM-DDThh:mm:ss with a zone, e.g. +10:00 or Z)", *endText)
	}
	loc := s.read.Location()
	if !end.After(start) {
		return start, end, unprocessable("Appointment.end must be after Appointment.start")
	}
	if ws, we := start.In(loc), end.Add(-time.Second).In(loc); ws.YearDay() != we.YearDay() || ws.Year() != we.Year() {
		return start, end, unprocessable("Appointment.start and Appointment.end must lie within one day at the practice (%s)", loc)
	}
	return start, end, nil
}

// reason is the appointment's reason: its description, else the text of
// its first reasonCode.
func reason(a fm.Appointment) (string, error) {
	r := ""
	if a.Description != nil {
		r = *a.Description
	} else if len(a.ReasonCode) > 0 && a.ReasonCode[0].Text != nil {
		r = *a.ReasonCode[0].Text
	}
	if len([]rune(r)) > maxReason {
		return "", unprocessable("Appointment.description: the practice system keeps at most %d characters of a reason", maxReason)
	}
	return r, nil
}

// period is a time from start to end.
type period struct{ start, end time.Time }

// slot is one Slot of the practice's book.
type slot struct {
	key        mappings.SlotKey
	id, status string
	start, end time.Time
}

// slotsOf are the slots of the practitioner's schedules (at loc, or at
// each of their locations when 0) starting in [start, end), in order.
func (s *Site) slotsOf(ctx context.Context, prac, loc int, start, end time.Time) ([]slot, error) {
	var schedules []string
	if loc != 0 {
		schedules = []string{"Schedule/" + mappings.ScheduleID(prac, loc)}
	} else {
		res, err := s.read.Resource("Schedule")
		if err != nil {
			return nil, err
		}
		err = s.scan(ctx, res, url.Values{"actor": {"Practitioner/" + strconv.Itoa(prac)}, "_count": {"50"}}, func(r mappings.Row) error {
			schedules = append(schedules, "Schedule/"+r.ID)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(schedules) == 0 {
			return nil, unprocessable("Appointment.participant: Practitioner/%d has no schedule at this practice", prac)
		}
	}
	return s.slots(ctx, url.Values{"schedule": {strings.Join(schedules, ",")},
		"start": {"ge" + start.Format(time.RFC3339), "lt" + end.Format(time.RFC3339)}, "_count": {"200"}})
}

// slotsByID are the slots named by refs (Slot/{id}), in order; one the
// practice's book does not have is a 422.
func (s *Site) slotsByID(ctx context.Context, refs []fm.Reference) ([]slot, error) {
	var ids []string
	for i, r := range refs {
		ref := ""
		if r.Reference != nil {
			ref = strings.TrimPrefix(*r.Reference, s.read.Base()+"/")
		}
		id, ok := strings.CutPrefix(ref, "Slot/")
		if _, valid := mappings.ParseSlotID(id); !ok || !valid {
			return nil, unprocessable("Appointment.slot[%d]: %q is not a Slot of this practice (Slot/{id}, as a Slot search gives it)", i, ref)
		}
		ids = append(ids, id)
	}
	slots, err := s.slots(ctx, url.Values{"_id": {strings.Join(ids, ",")}, "_count": {"200"}})
	if err != nil {
		return nil, err
	}
	if len(slots) != len(ids) {
		return nil, unprocessable("Appointment.slot: the practice's book has no slot %s", strings.Join(ids, ", "))
	}
	return slots, nil
}

// slots runs a Slot search, its slots in start order.
func (s *Site) slots(ctx context.Context, q url.Values) ([]slot, error) {
	res, err := s.read.Resource("Slot")
	if err != nil {
		return nil, err
	}
	var out []slot
	err = s.scan(ctx, res, q, func(r mappings.Row) error {
		var v struct{ Status, Start, End string }
		if err := json.Unmarshal(r.Resource, &v); err != nil {
			return err
		}
		k, _ := mappings.ParseSlotID(r.ID)
		sl := slot{key: k, id: r.ID, status: v.Status}
		var e1, e2 error
		sl.start, e1 = time.Parse(time.RFC3339, v.Start)
		sl.end, e2 = time.Parse(time.RFC3339, v.End)
		if err := errors.Join(e1, e2); err != nil {
			return fmt.Errorf("fhirwrite: Slot %s: %w", r.ID, err)
		}
		out = append(out, sl)
		return nil
	})
	slices.SortFunc(out, func(a, b slot) int { return a.start.Compare(b.start) })
	return out, err
}

// scan runs a search of res given as its parameters, all of one page.
func (s *Site) scan(ctx context.Context, res mappings.Resource, q url.Values, fn func(mappings.Row) error) error {
	search, err := fhir.ParseSearch(res.Decl(), q, fhir.ParseOptions{Strict: true, Location: s.read.Location()})
	if err != nil {
		return err
	}
	_, err = s.read.Scan(ctx, res, search, fhirsearch.Interactive, fn)
	return err
}

// fills checks that slots are consecutive slots of prac's schedule (at loc
// unless 0) from start to end, none blocked, and for a move (own, the time
// the appointment has now) each free or busy within own. A booking (own
// nil) of a busy slot is left to the practice system's procedure, which
// answers "taken" on its own: a booking retried under its Idempotency-Key
// after the first run committed sees its own appointment in the slot, and
// must reach the agent, which answers the first run's outcome, rather than
// be refused here.
func fills(slots []slot, prac, loc int, start, end time.Time, own *period) error {
	if len(slots) == 0 || !slots[0].start.Equal(start) || !slots[len(slots)-1].end.Equal(end) {
		return unprocessable("Appointment.start and Appointment.end: %s to %s is not a run of Slots of Practitioner/%d's schedule; "+
			"take start and end from Slot?schedule=...&status=free", start.Format(time.RFC3339), end.Format(time.RFC3339), prac)
	}
	for i, sl := range slots {
		switch {
		case sl.key.Owner != prac || (loc != 0 && sl.key.Loc != loc) || sl.key.Loc != slots[0].key.Loc:
			return unprocessable("Appointment.slot: Slot/%s is not in the schedule of Practitioner/%d at one location", sl.id, prac)
		case i > 0 && !sl.start.Equal(slots[i-1].end):
			return unprocessable("Appointment.start and Appointment.end: the slots from %s to %s are not consecutive",
				start.Format(time.RFC3339), end.Format(time.RFC3339))
		case sl.status == "busy-unavailable":
			return unprocessable("Appointment.start: Slot/%s is not available for booking (blocked in the practice's book)", sl.id)
		case sl.status != "free" && own != nil && (!sl.start.Before(own.end) || !sl.end.After(own.start)):
			return conflict("Slot/%s is already booked; nothing was booked: search the free Slots again", sl.id)
		}
	}
	return nil
}

// sameJSON reports whether two JSON values are equal as values.
func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
