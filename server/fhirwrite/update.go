package fhirwrite

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// JSONPatchType is the media type of a JSON Patch (RFC 6902) body.
const JSONPatchType = "application/json-patch+json"

// changeable are the Appointment elements an update may change: the status
// to cancelled (with its reason), or the time (a move). Every other
// element must stay as the practice system has it.
var changeable = []string{"status", "cancelationReason", "start", "end", "minutesDuration"}

// ignored are the elements a client's copy may differ in without asking
// for a change: the server's own.
var ignored = []string{"meta", "text", "id"}

// UpdateAppointment is PUT Appointment/{id}: body is the whole new
// Appointment. See [Site.changeAppointment] for what may change.
func (s *Site) UpdateAppointment(ctx context.Context, id string, body []byte, ifMatch, executionID string) (Result, error) {
	if err := s.supports("Appointment", Update); err != nil {
		return Result{}, err
	}
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return Result{}, invalid("the body is not JSON: %v", err)
	}
	if head.ResourceType != "Appointment" || head.ID != id {
		return Result{}, invalid("the body must be the Appointment with id %q (Appointment.id as in the URL)", id)
	}
	cur, err := s.current(ctx, id, ifMatch)
	if err != nil {
		return Result{}, err
	}
	return s.changeAppointment(ctx, id, cur, body, executionID)
}

// PatchAppointment is PATCH Appointment/{id} with a JSON Patch (RFC 6902,
// Content-Type application/json-patch+json) or a FHIRPath Patch of
// top-level elements (a Parameters resource, application/fhir+json),
// applied to the appointment as it is read now. See
// [Site.changeAppointment] for what may change.
func (s *Site) PatchAppointment(ctx context.Context, id, contentType string, body []byte, ifMatch, executionID string) (Result, error) {
	if err := s.supports("Appointment", Patch); err != nil {
		return Result{}, err
	}
	var patch jsonpatch.Patch
	var err error
	switch mt, _, _ := strings.Cut(contentType, ";"); strings.TrimSpace(mt) {
	case JSONPatchType:
		if patch, err = jsonpatch.DecodePatch(body); err != nil {
			return Result{}, invalid("the body is not a JSON Patch: %v", err)
		}
	case "application/fhir+json", "application/json+fhir":
		if patch, err = fhirPathPatch("Appointment", body); err != nil {
			return Result{}, err
		}
	default:
		return Result{}, fhir.Errorf(http.StatusUnsupportedMediaType, fhir.IssueNotSupported,
			"PATCH takes a JSON Patch (Content-Type: %s) or a FHIRPath Patch Parameters resource (application/fhir+json)", JSONPatchType)
	}
	cur, err := s.current(ctx, id, ifMatch)
	if err != nil {
		return Result{}, err
	}
	next, err := patch.Apply(cur)
	if err != nil {
		return Result{}, unprocessable("the patch does not apply to Appointment/%s: %v", id, err)
	}
	return s.changeAppointment(ctx, id, cur, next, executionID)
}

// fhirPathPatch turns a FHIRPath Patch of typ's top-level elements into
// the JSON Patch that does the same: replace and delete of "typ.elem",
// add of name elem to "typ". Deeper paths are refused (a 422): the
// changes an update can make are all of top-level elements.
func fhirPathPatch(typ string, body []byte) (jsonpatch.Patch, error) {
	var p struct {
		ResourceType string `json:"resourceType"`
		Parameter    []struct {
			Name string                       `json:"name"`
			Part []map[string]json.RawMessage `json:"part"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.ResourceType != "Parameters" {
		return nil, invalid("a FHIRPath Patch is a Parameters resource of operation parameters")
	}
	var ops []map[string]any
	for i, par := range p.Parameter {
		if par.Name != "operation" {
			return nil, invalid("Parameters.parameter[%d]: a FHIRPath Patch has only operation parameters, not %q", i, par.Name)
		}
		var kind, path, name string
		var value json.RawMessage
		for _, part := range par.Part {
			var n, text string
			var v json.RawMessage // the part's value[x]
			json.Unmarshal(part["name"], &n)
			for k, raw := range part {
				if strings.HasPrefix(k, "value") {
					v = raw
				}
			}
			json.Unmarshal(v, &text)
			switch n {
			case "value":
				value = v
			case "type":
				kind = text
			case "path":
				path = text
			case "name":
				name = text
			}
		}
		elem, top := strings.CutPrefix(path, typ+".")
		switch {
		case kind == "replace" && top && validElement(elem) && value != nil:
			ops = append(ops, map[string]any{"op": "replace", "path": "/" + elem, "value": value})
		case kind == "delete" && top && validElement(elem):
			ops = append(ops, map[string]any{"op": "remove", "path": "/" + elem})
		case kind == "add" && path == typ && validElement(name) && value != nil:
			ops = append(ops, map[string]any{"op": "add", "path": "/" + name, "value": value})
		default:
			return nil, unprocessable("Parameters.parameter[%d]: fhirlink takes FHIRPath Patch replace and delete of %s.{element} and add to %s "+
				"(top-level elements, with a value[x]), not %s %q", i, typ, typ, kind, path)
		}
	}
	raw, err := json.Marshal(ops)
	if err != nil {
		return nil, err
	}
	return jsonpatch.DecodePatch(raw)
}

// validElement reports a FHIR element name (letters only).
func validElement(name string) bool {
	return name != "" && strings.IndexFunc(name, func(r rune) bool { return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') }) < 0
}

// current reads Appointment/id, checking ifMatch (a weak ETag, see [ETag])
// when given.
func (s *Site) current(ctx context.Context, id, ifMatch string) (json.RawMessage, error) {
	if _, err := strconv.Atoi(id); err != nil {
		return nil, fhir.Errorf(http.StatusNotFound, fhir.IssueNotFound, "Appointment/%s is not known", id)
	}
	cur, err := s.read.Read(ctx, "Appointment", id)
	if err != nil {
		return nil, err
	}
	if ifMatch != "" && strings.TrimPrefix(ifMatch, "W/") != strings.TrimPrefix(ETag(cur), "W/") {
		return nil, fhir.Errorf(http.StatusPreconditionFailed, fhir.IssueConflict,
			"Appointment/%s changed since the version in If-Match (%s); its current ETag is %s: read it again", id, ifMatch, ETag(cur))
	}
	return cur, nil
}

// changeAppointment makes the practice's appointment what next says, from
// what it is (cur): a status changed to cancelled cancels it (with
// cancelationReason, which Bp Premier does not record); a changed start
// and end move it to another run of free slots of the same practitioner,
// keeping its length. Any other difference is a 422 naming the elements
// that cannot be changed; no difference changes nothing. It answers the
// appointment read back, 200.
func (s *Site) changeAppointment(ctx context.Context, id string, cur, next []byte, executionID string) (Result, error) {
	var was, is map[string]json.RawMessage
	if err := json.Unmarshal(cur, &was); err != nil {
		return Result{}, err
	}
	if err := json.Unmarshal(next, &is); err != nil {
		return Result{}, invalid("the new Appointment is not a JSON object")
	}
	var fixed, changed []string
	for _, m := range []map[string]json.RawMessage{was, is} {
		for k := range m {
			if slices.Contains(ignored, k) || slices.Contains(fixed, k) || slices.Contains(changed, k) || sameJSON(was[k], is[k]) {
				continue
			}
			if slices.Contains(changeable, k) {
				changed = append(changed, k)
			} else {
				fixed = append(fixed, "Appointment."+k)
			}
		}
	}
	if len(fixed) > 0 {
		slices.Sort(fixed)
		return Result{}, unprocessable("%s cannot be changed through fhirlink: only a cancellation (status cancelled, with cancelationReason) "+
			"or a move (start and end) can", strings.Join(fixed, ", "))
	}
	moved := slices.Contains(changed, "start") || slices.Contains(changed, "end")
	if i := slices.Index(changed, "minutesDuration"); i >= 0 && !moved {
		// A copy without the derived duration asks for no change; one
		// with another asks for a length a move cannot give.
		if is["minutesDuration"] != nil {
			return Result{}, unprocessable("Appointment.minutesDuration: the length of an appointment cannot be changed")
		}
		changed = slices.Delete(changed, i, i+1)
	}
	n, _ := strconv.Atoi(id)
	if len(changed) == 0 {
		return Result{Status: http.StatusOK, Type: "Appointment", ID: id, Resource: cur, Version: ETag(cur)}, nil
	}
	old, err := fm.UnmarshalAppointment(cur)
	if err != nil {
		return Result{}, err
	}
	a, err := parseAppointment(next)
	if err != nil {
		return Result{}, err
	}
	if old.Status == fm.AppointmentStatusCancelled {
		return Result{}, unprocessable("Appointment/%s is cancelled: it cannot be changed", id)
	}
	if slices.Contains(changed, "status") || slices.Contains(changed, "cancelationReason") {
		if a.Status != fm.AppointmentStatusCancelled {
			return Result{}, unprocessable("Appointment.status: it can only be changed to cancelled (with cancelationReason), not to %s", a.Status.Code())
		}
		if moved {
			return Result{}, unprocessable("Appointment.start, Appointment.end: a cancellation cannot move the appointment too")
		}
		return s.cancel(ctx, n, a, executionID)
	}
	return s.move(ctx, n, old, a, executionID)
}

// cancel cancels appointment id.
func (s *Site) cancel(ctx context.Context, id int, a fm.Appointment, executionID string) (Result, error) {
	if s.writes.Cancel == nil {
		return Result{}, unprocessable("Appointment.status: this practice system takes no cancellations through fhirlink")
	}
	r := ""
	if a.CancelationReason != nil && a.CancelationReason.Text != nil {
		r = *a.CancelationReason.Text
	} else if a.CancelationReason != nil && len(a.CancelationReason.Coding) > 0 && a.CancelationReason.Coding[0].Display != nil {
		r = *a.CancelationReason.Coding[0].Display
	}
	if len([]rune(r)) > maxReason {
		return Result{}, unprocessable("Appointment.cancelationReason: the practice system keeps at most %d characters", maxReason)
	}
	if _, err := s.run(ctx, s.writes.Cancel(s.engine, mappings.Cancel{ID: id, Reason: r}), executionID); err != nil {
		return Result{}, err
	}
	res, err := s.readBack(ctx, http.StatusOK, "Appointment", id)
	if err != nil {
		return res, err
	}
	var v struct{ Status string }
	if json.Unmarshal(res.Resource, &v); v.Status != "cancelled" {
		return Result{}, conflict("Appointment/%s could not be cancelled: the practice system kept it %s", strconv.Itoa(id), v.Status)
	}
	return res, nil
}

// move moves appointment id (old) to a's start and end.
func (s *Site) move(ctx context.Context, id int, old, a fm.Appointment, executionID string) (Result, error) {
	if s.writes.Move == nil {
		return Result{}, unprocessable("Appointment.start: this practice system takes no moves through fhirlink")
	}
	start, end, err := s.period(a.Start, a.End)
	if err != nil {
		return Result{}, err
	}
	oldStart, oldEnd, err := s.period(old.Start, old.End)
	if err != nil {
		return Result{}, err
	}
	if end.Sub(start) != oldEnd.Sub(oldStart) {
		return Result{}, unprocessable("Appointment.end: a move keeps the appointment's length (%s); set end %s after start",
			oldEnd.Sub(oldStart), oldEnd.Sub(oldStart))
	}
	if a.MinutesDuration != nil && old.MinutesDuration != nil && *a.MinutesDuration != *old.MinutesDuration {
		return Result{}, unprocessable("Appointment.minutesDuration: a move keeps the appointment's length")
	}
	prac, _, loc, err := s.participants(withActors(old.Participant))
	if err != nil || prac == 0 {
		return Result{}, unprocessable("Appointment/%d has no practitioner to move it with", id)
	}
	slots, err := s.slotsOf(ctx, prac, loc, start, end)
	if err != nil {
		return Result{}, err
	}
	if err := fills(slots, prac, loc, start, end, &period{oldStart, oldEnd}); err != nil {
		return Result{}, err
	}
	wall := start.In(s.read.Location())
	m := mappings.Move{ID: id, Practitioner: prac, Location: slots[0].key.Loc,
		Day: time.Date(wall.Year(), wall.Month(), wall.Day(), 0, 0, 0, 0, time.UTC), Secs: wall.Hour()*3600 + wall.Minute()*60 + wall.Second()}
	got, err := s.run(ctx, s.writes.Move(s.engine, m), executionID)
	if err != nil {
		return Result{}, err
	}
	if got == 0 {
		return Result{}, conflict("the time %s to %s with Practitioner/%d was booked meanwhile; Appointment/%d was not moved",
			start.Format(time.RFC3339), end.Format(time.RFC3339), prac, id)
	}
	return s.readBack(ctx, http.StatusOK, "Appointment", id)
}

// withActors are the participants that have an actor (a read
// appointment's whose record is gone has none).
func withActors(ps []fm.AppointmentParticipant) []fm.AppointmentParticipant {
	var out []fm.AppointmentParticipant
	for _, p := range ps {
		if p.Actor != nil && p.Actor.Reference != nil {
			out = append(out, p)
		}
	}
	return out
}
