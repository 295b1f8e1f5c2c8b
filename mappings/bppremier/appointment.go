package bppremier

import (
	_ "embed"
	"strconv"
	"strings"

	"fhirlink/agent/wire"
	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
	"fhirlink/mappings/bppremier/bpsynth"
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
var apptStatusCodes = map[string][]int{
	"arrived":   {apptWaiting, apptWithDoctor},
	"fulfilled": {apptAtBilling, apptCompleted, apptInvoiced, apptPaid},
	"noshow":    {apptDNA},
}

// appointmentStatus is the FHIR status of a row.
func appointmentStatus(code, record int) string {
	if record != recordLive {
		return "cancelled"
	}
	for s, codes := range apptStatusCodes {
		for _, c := range codes {
			if c == code {
				return s
			}
		}
	}
	return "booked"
}

// appointmentStatusSQL is the status search: each FHIR status as a
// predicate on the APPOINTMENTS row aliased a, built from apptStatusCodes.
// Rows that are not live are cancelled ones (appointment.sql shows no
// other).
func appointmentStatusSQL() map[string]string {
	live := `a."RECORDSTATUS" = ` + strconv.Itoa(recordLive)
	m := map[string]string{"cancelled": `a."RECORDSTATUS" <> ` + strconv.Itoa(recordLive)}
	var all []string
	for _, s := range []string{"arrived", "fulfilled", "noshow"} {
		codes := make([]string, len(apptStatusCodes[s]))
		for i, c := range apptStatusCodes[s] {
			codes[i] = strconv.Itoa(c)
		}
		all = append(all, codes...)
		m[s] = "(" + live + ` AND a."APPOINTMENTCODE" IN (` + strings.Join(codes, ", ") + "))"
	}
	m["booked"] = "(" + live + ` AND a."APPOINTMENTCODE" NOT IN (` + strings.Join(all, ", ") + "))"
	return m
}

// appointmentTypeSystem is a code system of fhirlink's own for Bp's
// appointment types.
const appointmentTypeSystem = "urn:fhirlink:bppremier:appointment-type"

//go:embed appointment.sql
var appointmentSQL string

// appointmentCols are Appointment's columns in appointment.sql; the
// patient's are patientCols'.
var appointmentCols = mappings.Cols{
	"id":                  `a."RECORDID"`,
	"record":              `a."RECORDSTATUS"`,
	"status":              `a."APPOINTMENTCODE"`,
	"date":                `a."APPOINTMENTDATE"`,
	"time":                `a."APPOINTMENTTIME"`,
	"length":              `a."APPOINTMENTLENGTH"`,
	"type":                `a."APPOINTMENTTYPE"`,
	"type_text":           `t."DESCRIPTION"`,
	"urgent":              `a."URGENT"`,
	"reason":              `a."REASON"`,
	"comment":             `a."COMMENT"`,
	"cancel_reason":       `(SELECT MIN(ca."REASON") FROM "CANCELLEDAPPOINTMENTS" ca WHERE ca."APPOINTMENTID" = a."RECORDID")`,
	"patient_id":          patientCols["id"],
	"patient_first":       patientCols["first"],
	"patient_family":      patientCols["family"],
	"practitioner_id":     `u."USERID"`,
	"practitioner_title":  `ut."TITLE"`,
	"practitioner_first":  `u."FIRSTNAME"`,
	"practitioner_family": `u."SURNAME"`,
	"location_id":         `l."LOCATIONID"`,
	"location_name":       `l."LOCATIONNAME"`,
	"created":             `a."CREATED"`,
	"updated":             `a."UPDATED"`,
	"patient_ref":         `a."INTERNALID"`,
	"practitioner_ref":    `a."USERID"`,
	"location_ref":        `a."LOCATIONID"`,
}

// Appointment maps APPOINTMENTS (aucore.Appointment): booked appointments
// (blocked slots, with no patient, are not appointments), including
// cancelled ones, which keep their row (RECORDSTATUS not live) and have a
// cancellation record.
var Appointment = aucore.Appointment.Table(mappings.Impl[aucore.AppointmentCodes]{
	Cols:   appointmentCols,
	From:   appointmentSQL,
	Funcs:  funcs,
	Codes:  aucore.AppointmentCodes{Status: appointmentStatus, StatusSQL: appointmentStatusSQL(), TypeSystem: appointmentTypeSystem},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})

// writes are Bp's FHIR writes (of appointments, and new
// patients through BP_AddPatient): its booking
// procedures (see the reference notes on Bp Premier), each answering the
// appointment's RECORDID, 0 when the time is taken. On SQL Server a
// booking is BP_IsAppointmentBooked then BP_AddAppointmentEx in one
// transaction that holds an application lock on the practitioner's book,
// so that two fhirlink bookings of one time run one after the other; on
// PostgreSQL (the replica) BP_AddAppointmentEx does both under its own
// lock; on SQLite (the demo) the replica's single statements stand for the
// procedures (bpsynth).
var writes = &mappings.Writes{
	Engines: []string{mappings.EngineSQLServer, mappings.EnginePostgres, mappings.EngineSQLite},
	Book:    bookAppointment,
	Move:    moveAppointment,
	Cancel:  cancelAppointment,

	AddPatient: addPatient,
}

// bpLogin is the Bp login fhirlink's writes are recorded as made by
// (loginid, CREATEDBY): 0, no user of the practice.
const bpLogin = 0

func bookAppointment(engine string, b mappings.Booking) mappings.Write {
	params := []wire.Param{
		mappings.DateParam("aptdate", b.Day), mappings.IntParam("apttime", b.Secs), mappings.IntParam("appointmenttype", b.Type),
		mappings.IntParam("aptlen", b.Length), mappings.IntParam("practitionerid", b.Practitioner), mappings.IntParam("patientid", b.Patient),
		mappings.TextParam("reason", b.Reason), mappings.IntParam("loginid", bpLogin), mappings.IntParam("locationid", b.Location),
		mappings.TextParam("videourl", ""),
	}
	return bookWrite(engine, params, "BP_AddAppointmentEx", bpsynth.SQLiteAddAppointment, `DECLARE @booked TABLE ("Booked" int);
INSERT INTO @booked EXEC BP_IsAppointmentBooked @userid = @practitionerid, @aptdate = @aptdate, @apttime = @apttime;
IF NOT EXISTS (SELECT 1 FROM @booked WHERE "Booked" <> 0)
    INSERT INTO @made EXEC BP_AddAppointmentEx @aptdate = @aptdate, @apttime = @apttime, @appointmenttype = @appointmenttype,
        @aptlen = @aptlen, @practitionerid = @practitionerid, @patientid = @patientid, @reason = @reason, @loginid = @loginid,
        @locationid = @locationid, @videourl = @videourl;
`)
}

func moveAppointment(engine string, m mappings.Move) mappings.Write {
	params := []wire.Param{
		mappings.IntParam("aptid", m.ID), mappings.DateParam("aptdate", m.Day), mappings.IntParam("apttime", m.Secs),
		mappings.IntParam("practitionerid", m.Practitioner), mappings.IntParam("locationid", m.Location),
	}
	return bookWrite(engine, params, "BP_MoveAppointment", bpsynth.SQLiteMoveAppointment,
		`INSERT INTO @made EXEC BP_MoveAppointment @aptid = @aptid, @aptdate = @aptdate, @apttime = @apttime,
    @practitionerid = @practitionerid, @locationid = @locationid;
`)
}

// bookWrite is a write of a practitioner's book answering RECORDID: on
// PostgreSQL a call of procedure, on SQLite the replica's statement
// sqlite, on SQL Server tsql (which fills @made) inside tsqlBookLock and
// tsqlAnswer.
func bookWrite(engine string, params []wire.Param, procedure, sqlite, tsql string) mappings.Write {
	w := mappings.Write{Query: mappings.Query{Params: params}, IDColumn: "RECORDID"}
	switch engine {
	case mappings.EnginePostgres:
		w.SQL, w.Procedure = procedure, true
	case mappings.EngineSQLite:
		w.SQL = sqlite
	default:
		w.SQL = tsqlBookLock + tsql + tsqlAnswer
	}
	return w
}

// cancelAppointment is BP_CancelAppointment. Bp's procedure takes no
// reason: the client's cancelationReason is not recorded. Its answer row
// is not read (the SQLite statement has none): the appointment read back
// says whether it is cancelled.
func cancelAppointment(engine string, c mappings.Cancel) mappings.Write {
	w := mappings.Write{Query: mappings.Query{Params: []wire.Param{mappings.IntParam("aptid", c.ID), mappings.IntParam("loginid", bpLogin)}}}
	switch engine {
	case mappings.EngineSQLite:
		w.SQL = bpsynth.SQLiteCancelAppointment
	default:
		w.SQL, w.Procedure = "BP_CancelAppointment", true
	}
	return w
}

// tsqlBookLock begins a T-SQL write of the practitioner's book: one
// transaction, rolled back whole on any error (XACT_ABORT), holding an
// exclusive application lock on @practitionerid's book until it ends, and
// @made, the table the procedure's answer row is put in.
const tsqlBookLock = `SET NOCOUNT ON;
SET XACT_ABORT ON;
DECLARE @made TABLE ("RECORDID" int);
DECLARE @book nvarchar(64) = N'fhirlink:appointment-book:' + CAST(@practitionerid AS nvarchar(12));
BEGIN TRANSACTION;
DECLARE @locked int;
EXEC @locked = sp_getapplock @Resource = @book, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 10000;
IF @locked < 0 THROW 50000, 'the appointment book stayed busy; retry', 1;
`

// tsqlAnswer ends a T-SQL write: it commits and answers @made's row
// through an OUTPUT clause, which the agent streams back.
const tsqlAnswer = `COMMIT TRANSACTION;
DELETE FROM @made OUTPUT deleted."RECORDID";`
