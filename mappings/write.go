package mappings

import (
	"slices"
	"strconv"
	"time"

	"fhirlink/agent/wire"
)

// Writes are what a PMS declares next to its resources' definitions to
// take FHIR writes: for each interaction, a function from the validated
// FHIR input to the one command that does it in the practice system (a
// stored procedure, or on an engine without procedures the statement that
// stands for it), with every value a bound parameter. The command runs in
// one transaction and answers one row whose Write.IDColumn is the id the
// interaction made or changed, 0 (or no row) when the practice system
// refused it because the time is taken.
//
// A nil function, or an engine not in Engines, is an interaction the PMS
// does not offer there: the CapabilityStatement does not advertise it and
// a request for it is refused before anything is sent.
type Writes struct {
	// Engines are the agent engines the writes are declared for.
	Engines []string
	Book    func(engine string, b Booking) Write
	Move    func(engine string, m Move) Write
	Cancel  func(engine string, c Cancel) Write
	// AddPatient registers a patient; its IDColumn is the new patient's id.
	AddPatient func(engine string, p NewPatient) Write
}

// On reports whether the writes are declared for engine.
func (w *Writes) On(engine string) bool {
	return w != nil && slices.Contains(w.Engines, engine)
}

// Booking is a validated new appointment: a patient booked with a
// practitioner at a location (0: the practitioner's session's) on Day (a
// date, UTC midnight, on the practice's wall clock) from Secs after
// midnight for Length seconds.
type Booking struct {
	Patient, Practitioner, Location int
	Day                             time.Time
	Secs, Length                    int
	// Type is the PMS's appointment type, 0 for the practice's default.
	Type   int
	Reason string
}

// Move is a validated change of an appointment's time: appointment ID to
// Day at Secs with Practitioner at Location (0: where it was), keeping its
// length.
type Move struct {
	ID, Practitioner, Location int
	Day                        time.Time
	Secs                       int
}

// Cancel is a validated cancellation of appointment ID, with the reason
// the client gave ("" for none).
type Cancel struct {
	ID     int
	Reason string
}

// NewPatient is a validated new patient: text left empty is none, a zero
// BirthDate unknown. Gender is FHIR's administrative gender ("" for none);
// Medicare is the 10-digit card number and MedicareIRN the person's
// reference number on it.
type NewPatient struct {
	Family, Given, Middle        string
	BirthDate                    time.Time
	Gender                       string
	HomePhone, MobilePhone       string
	Email                        string
	Line1, Line2, City, Postcode string
	Medicare, MedicareIRN        string
}

// Write is one write command for the agent.
type Write struct {
	Query
	// Procedure says Query.SQL is a stored procedure's name (the agent
	// binds Params to its parameters by name); otherwise it is a text
	// nonQuery whose RETURNING or OUTPUT clause answers the row.
	Procedure bool
	// IDColumn is the answer row's column holding the id.
	IDColumn string
}

// Request is the agent's request for w: a stored procedure or a nonQuery,
// which the agent runs only at a site that allows writes.
func (w Write) Request() wire.QueryRequest {
	q := wire.QueryRequest{Text: w.SQL, Params: w.Params, Mode: wire.ModeNonQuery, Type: wire.CommandText}
	if w.Procedure {
		q.Type = wire.CommandStoredProcedure
	}
	return q
}

// IntParam, DateParam and TextParam are a write's bound parameters: a
// stored procedure's by its parameter's name, without the @ (as the
// Builder names a query's).
func IntParam(name string, v int) wire.Param {
	s := strconv.Itoa(v)
	return wire.Param{Name: name, Type: ParamInt, Value: &s}
}

// DateParam is a Date parameter of day (its wall-clock date).
func DateParam(name string, day time.Time) wire.Param {
	s := day.Format("2006-01-02")
	return wire.Param{Name: name, Type: "Date", Value: &s}
}

// TextParam is a VarChar parameter; "" binds NULL.
func TextParam(name, v string) wire.Param {
	p := wire.Param{Name: name, Type: ParamVarChar}
	if v != "" {
		p.Value = &v
	}
	return p
}

// DateOrNull is DateParam, or a Date parameter bound to NULL for a zero
// day.
func DateOrNull(name string, day time.Time) wire.Param {
	if day.IsZero() {
		return wire.Param{Name: name, Type: "Date"}
	}
	return DateParam(name, day)
}

// NullParam is an Int parameter bound to NULL (a procedure's parameter
// with a default).
func NullParam(name string) wire.Param {
	return wire.Param{Name: name, Type: ParamInt}
}
