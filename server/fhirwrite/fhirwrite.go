// Package fhirwrite runs the FHIR writes of one site: it parses and
// validates the request's resource, has the site's PMS mapping turn it into
// its one write command (mappings.Writes: a stored procedure call with
// bound parameters), runs that on the site's agent through a
// [server.Querier] and reads the result back through the normal read
// mapping (package fhirsearch), so a written resource looks exactly like a
// read one.
//
// Bad input is refused before anything reaches the agent: a malformed
// request is a 400, a well-formed one the practice system cannot take
// (no free slot there, a change it cannot make) a 422 naming the element;
// a time taken meanwhile is a 409, with nothing written. Like fhirsearch
// it knows neither HTTP routing nor who may ask: callers check access.
package fhirwrite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"fhirlink/agent/wire"
	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/server"
	"fhirlink/server/fhirsearch"
)

// Interactions a site may offer for a type, as the CapabilityStatement
// names them.
const (
	Create = "create"
	Update = "update"
	Patch  = "patch"
)

// BookOperation is the Appointment $book operation, as the Argonaut
// Scheduling guidance defines it: a Slot and a Patient make an Appointment.
var BookOperation = fhir.Operation{Name: "book", Definition: "http://fhir.org/guides/argonaut-scheduling/OperationDefinition/appointment-book",
	Documentation: "POST a Parameters resource with slot (valueReference Slot/{id}; repeat for consecutive slots), patient " +
		"(valueReference Patient/{id}) and optionally reason (valueString), or with appointment (resource, as for create). " +
		"Answers 201 with the booked Appointment; 409 when the slot was taken meanwhile (nothing booked)."}

// Capabilities are the write interactions and operations of each type
// the site's PMS declares on engine, for the CapabilityStatement of a site
// that allows writes.
func Capabilities(m *mappings.Mapping, engine string) map[string]fhir.Writes {
	out := map[string]fhir.Writes{}
	for _, r := range m.Resources {
		typ := r.Decl().Type
		in := Interactions(m, engine, typ)
		if in == nil {
			continue
		}
		w := fhir.Writes{Interactions: in}
		switch typ {
		case "Appointment":
			w.Operations = []fhir.Operation{BookOperation}
		case "Patient":
			w.ConditionalCreate = true
		}
		out[typ] = w
	}
	return out
}

// Limits are those of a write's command: an integrator is waiting, and a
// booking must not linger in the queue.
var Limits = fhirsearch.Limits{Priority: wire.PriorityInteractive, MaxTimeInQueue: 10 * time.Second, Timeout: 30 * time.Second, MaxBytes: 1 << 20}

// Site runs FHIR writes on one site.
type Site struct {
	read       *fhirsearch.Site
	querier    server.Querier
	integrator string
	engine     string
	writes     *mappings.Writes
}

// New returns the writes integratorID makes at the site read reads, sent
// through q. The agent runs a write only for an integrator the practice
// granted writes, so each carries the integrator's id.
func New(read *fhirsearch.Site, q server.Querier, integratorID string) *Site {
	return &Site{read: read, querier: q, integrator: integratorID, engine: read.Dialect().Engine(), writes: read.Mapping().Writes}
}

// Interactions are the write interactions the site's PMS declares for
// typ on the site's engine (nil: none); the CapabilityStatement advertises
// them and nothing else.
func Interactions(m *mappings.Mapping, engine, typ string) []string {
	w := m.Writes
	if !w.On(engine) {
		return nil
	}
	switch {
	case typ == "Appointment" && w.Book != nil:
		out := []string{Create}
		if w.Move != nil || w.Cancel != nil {
			out = append(out, Update, Patch)
		}
		return out
	case typ == "Patient" && w.AddPatient != nil:
		return []string{Create}
	}
	return nil
}

// Result is a written resource, read back.
type Result struct {
	// Status is 201 for a resource made, 200 for one changed (or left as
	// it was).
	Status   int
	Type, ID string
	Resource json.RawMessage
	// Version is the resource's weak ETag (see [ETag]).
	Version string
}

// supports refuses an interaction the site does not offer, as a 405.
func (s *Site) supports(typ, interaction string) error {
	for _, i := range Interactions(s.read.Mapping(), s.engine, typ) {
		if i == interaction {
			return nil
		}
	}
	return fhir.Errorf(http.StatusMethodNotAllowed, fhir.IssueNotSupported,
		"%s %s is not available at this practice; the CapabilityStatement at %s/metadata lists what is", interaction, typ, s.read.Base())
}

// run sends w to the agent as one write under executionID (the agent runs
// it at most once under that id) and returns the id its answer row holds:
// 0 when the row says the practice system refused (the time is taken) or
// there is no row. A write without IDColumn reads no row.
func (s *Site) run(ctx context.Context, w mappings.Write, executionID string) (int, error) {
	q := w.Request()
	q.ID, q.ExecutionID, q.IntegratorID = executionID, executionID, s.integrator
	q.Priority, q.MaxTimeInQueueMS, q.TimeoutMS, q.MaxBytes = Limits.Priority, Limits.MaxTimeInQueue.Milliseconds(), Limits.Timeout.Milliseconds(), Limits.MaxBytes
	rows, err := s.querier.Query(ctx, s.read.ID(), q)
	if err != nil {
		return 0, writeError(err)
	}
	defer rows.Close()
	id := 0
	for rows.Next() {
		if w.IDColumn == "" || id != 0 {
			continue
		}
		var row map[string]json.Number
		if err := json.Unmarshal(rows.Row(), &row); err != nil {
			return 0, fmt.Errorf("fhirwrite: answer row %s: %w", rows.Row(), err)
		}
		n, err := strconv.Atoi(row[w.IDColumn].String())
		if err != nil {
			return 0, fmt.Errorf("fhirwrite: answer row %s has no integer %s", rows.Row(), w.IDColumn)
		}
		id = n
	}
	if err := rows.Err(); err != nil {
		return 0, writeError(err)
	}
	return id, nil
}

// writeError is what a FHIR client sees of a failed write. The command is
// ours, so a database error is our failure (internal, logged by the
// caller). A timeout may have left the write done: the client retries with
// the same idempotency key, or reads the practice's appointments.
func writeError(err error) error {
	werr, ok := errors.AsType[*wire.Error](err)
	if !ok {
		return err
	}
	switch werr.Kind {
	case wire.KindForbidden:
		return server.Errorf(server.EFORBIDDEN, "the practice has not enabled writes at this site")
	case wire.KindTimeout:
		return server.Errorf(server.ETIMEOUT, "the practice database did not answer in time; the write may or may not have been made: read the appointment book before retrying")
	case wire.KindExpiredInQueue, wire.KindUnavailable:
		return server.Errorf(server.EUNAVAILABLE, "the practice database is busy or unavailable; nothing was written; retry later")
	}
	return err
}

// readBack reads typ/id after a write.
func (s *Site) readBack(ctx context.Context, status int, typ string, id int) (Result, error) {
	res, err := s.read.Read(ctx, typ, strconv.Itoa(id))
	if err != nil {
		return Result{}, err
	}
	return Result{Status: status, Type: typ, ID: strconv.Itoa(id), Resource: res, Version: ETag(res)}, nil
}

// ETag is a resource's weak entity tag: W/"{meta.versionId}", or, for a
// PMS that keeps no versions (Bp Premier, Zedmed), W/"{meta.lastUpdated}",
// which changes with every write the practice system records; "" when the
// resource has neither.
func ETag(resource json.RawMessage) string {
	var r struct {
		Meta struct{ VersionID, LastUpdated string } `json:"meta"`
	}
	if json.Unmarshal(resource, &r) != nil {
		return ""
	}
	v := r.Meta.VersionID
	if v == "" {
		v = r.Meta.LastUpdated
	}
	if v == "" {
		return ""
	}
	return `W/"` + v + `"`
}

// invalid is a 400 about the request's form.
func invalid(format string, args ...any) error {
	return fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, format, args...)
}

// unprocessable is a 422: a well-formed request the practice system
// cannot take, naming the element at fault.
func unprocessable(format string, args ...any) error {
	return fhir.Errorf(http.StatusUnprocessableEntity, fhir.IssueBusinessRule, format, args...)
}

// conflict is the 409 of a time taken.
func conflict(format string, args ...any) error {
	return fhir.Errorf(http.StatusConflict, fhir.IssueConflict, format, args...)
}

// refID returns the id of a reference "Type/id" (relative, or absolute
// under the site's base) to typ, with ok false for anything else.
func (s *Site) refID(ref, typ string) (int, bool) {
	ref = strings.TrimPrefix(ref, s.read.Base()+"/")
	rest, ok := strings.CutPrefix(ref, typ+"/")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n > 0 && strconv.Itoa(n) == rest
}

// exists checks that typ/id is a live record, for a reference of elem.
func (s *Site) exists(ctx context.Context, elem, typ string, id int) error {
	if _, err := s.read.Read(ctx, typ, strconv.Itoa(id)); err != nil {
		if fe, ok := errors.AsType[*fhir.Error](err); ok && fe.Status == http.StatusNotFound {
			return unprocessable("%s: %s/%d is not known at this practice", elem, typ, id)
		}
		return err
	}
	return nil
}
