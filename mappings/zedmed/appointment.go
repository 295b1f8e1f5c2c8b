package zedmed

import (
	_ "embed"
	"strconv"
	"strings"
	"text/template"

	"fhirlink/agent/wire"
	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
	"fhirlink/mappings/zedmed/zedsynth"
)

//go:embed appointment.sql
var appointmentSQL string

// a is a column of APPOINTMENT a.
func a(name string) string { return col("a", "APPOINTMENT."+name) }

// apptStatuses are the FHIR statuses of APPOINTMENT.STATUS codes; any other code is booked.
var apptStatuses = map[string][]int{
	"arrived":   {apptArrived, apptInConsult},
	"fulfilled": {apptCompleted},
	"noshow":    {apptDNA},
	"cancelled": {apptCancelled},
}

// appointmentStatus is the FHIR status of a STATUS code (Zedmed keeps no
// separate record state: a cancelled appointment has its own code).
func appointmentStatus(code, _ int) string {
	for s, codes := range apptStatuses {
		for _, c := range codes {
			if c == code {
				return s
			}
		}
	}
	return "booked"
}

// appointmentStatusSQL is the status search: each FHIR status as a predicate on a.
func appointmentStatusSQL() map[string]string {
	m := map[string]string{}
	var all []string
	for _, s := range []string{"arrived", "fulfilled", "noshow", "cancelled"} {
		var codes []string
		for _, c := range apptStatuses[s] {
			codes = append(codes, strconv.Itoa(c))
		}
		all = append(all, codes...)
		m[s] = a("STATUS") + " IN (" + strings.Join(codes, ", ") + ")"
	}
	m["booked"] = a("STATUS") + " NOT IN (" + strings.Join(all, ", ") + ")"
	return m
}

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

// appointmentCols are Appointment's columns in appointment.sql; the
// patient's are patientCols'.
var appointmentCols = mappings.Cols{
	"id":                  a("APPT_ID"),
	"status":              a("STATUS"),
	"date":                a("APPT_DATE"),
	"time":                a("START_SECS"),
	"length":              a("DURATION_SECS"),
	"type":                a("APPT_TYPE_ID"),
	"type_text":           col("ty", "APPT_TYPE.DESCRIPTION"),
	"urgent":              a("URGENT"),
	"reason":              a("REASON"),
	"comment":             a("NOTES"),
	"cancel_reason":       a("CANCEL_REASON"),
	"patient_id":          patientCols["id"],
	"patient_first":       patientCols["first"],
	"patient_family":      patientCols["family"],
	"practitioner_id":     d("DOCTOR_ID"),
	"practitioner_title":  d("TITLE"),
	"practitioner_first":  d("FIRST_NAME"),
	"practitioner_family": d("SURNAME"),
	"location_id":         l("BRANCH_ID"),
	"location_name":       l("BRANCH_NAME"),
	"created":             a("CREATED_AT"),
	"updated":             a("UPDATED_AT"),
	"patient_ref":         a("PATIENT_ID"),
	"practitioner_ref":    a("DOCTOR_ID"),
	"location_ref":        a("BRANCH_ID"),
}

// Appointment maps APPOINTMENT (aucore.Appointment): booked appointments, cancelled ones
// included (they keep their row with STATUS cancelled); blocked slots are not appointments.
var Appointment = aucore.Appointment.Table(mappings.Impl[aucore.AppointmentCodes]{
	Cols:   appointmentCols,
	From:   appointmentSQL,
	Funcs:  withFuncs(template.FuncMap{"blocked": func() int { return apptBlocked }}),
	Codes:  aucore.AppointmentCodes{Status: appointmentStatus, StatusSQL: appointmentStatusSQL(), TypeSystem: appointmentTypeSystem},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})

// writes are Zedmed's FHIR writes, on the assumed schema's procedures
// (zedsynth: ZM_BOOK_APPOINTMENT, ZM_MOVE_APPOINTMENT,
// ZM_CANCEL_APPOINTMENT, ZM_ADD_PATIENT), each one transaction that
// answers RESULT_ID, 0 when the time is taken; on SQLite (the demo) the
// replica's single statements that stand for them.
var writes = &mappings.Writes{
	Engines: []string{mappings.EngineFirebird, mappings.EngineSQLite},
	Book: func(engine string, b mappings.Booking) mappings.Write {
		typ := mappings.NullParam("APPT_TYPE_ID")
		if b.Type != 0 {
			typ = mappings.IntParam("APPT_TYPE_ID", b.Type)
		}
		return zedWrite(engine, "ZM_BOOK_APPOINTMENT", zedsynth.SQLiteBookAppointment, mappings.IntParam("DOCTOR_ID", b.Practitioner),
			mappings.IntParam("BRANCH_ID", b.Location), mappings.DateParam("APPT_DATE", b.Day), mappings.IntParam("START_SECS", b.Secs),
			mappings.IntParam("DURATION_SECS", b.Length), mappings.IntParam("PATIENT_ID", b.Patient), typ, mappings.TextParam("REASON", b.Reason))
	},
	Move: func(engine string, m mappings.Move) mappings.Write {
		branch := mappings.NullParam("BRANCH_ID")
		if m.Location != 0 {
			branch = mappings.IntParam("BRANCH_ID", m.Location)
		}
		return zedWrite(engine, "ZM_MOVE_APPOINTMENT", zedsynth.SQLiteMoveAppointment, mappings.IntParam("APPT_ID", m.ID),
			mappings.DateParam("APPT_DATE", m.Day), mappings.IntParam("START_SECS", m.Secs), mappings.IntParam("DOCTOR_ID", m.Practitioner), branch)
	},
	Cancel: func(engine string, c mappings.Cancel) mappings.Write {
		return zedWrite(engine, "ZM_CANCEL_APPOINTMENT", zedsynth.SQLiteCancelAppointment, mappings.IntParam("APPT_ID", c.ID),
			mappings.TextParam("CANCEL_REASON", c.Reason))
	},
	AddPatient: func(engine string, p mappings.NewPatient) mappings.Write {
		t := mappings.TextParam
		return zedWrite(engine, "ZM_ADD_PATIENT", zedsynth.SQLiteAddPatient, t("FIRST_NAME", p.Given), t("MIDDLE_NAME", p.Middle),
			t("SURNAME", p.Family), t("SEX", genderSex[p.Gender]), mappings.DateOrNull("DOB", p.BirthDate), t("ADDRESS_1", p.Line1),
			t("ADDRESS_2", p.Line2), t("SUBURB", p.City), t("POSTCODE", p.Postcode), t("HOME_PHONE", p.HomePhone),
			t("MOBILE_PHONE", p.MobilePhone), t("EMAIL", p.Email), t("MEDICARE_NO", p.Medicare), t("MEDICARE_IRN", p.MedicareIRN))
	},
}

// zedWrite is a call of procedure with params, answering RESULT_ID; on
// SQLite the statement sqlite.
func zedWrite(engine, procedure, sqlite string, params ...wire.Param) mappings.Write {
	if engine == mappings.EngineSQLite {
		return mappings.Write{Query: mappings.Query{SQL: sqlite, Params: params}, IDColumn: "RESULT_ID"}
	}
	return mappings.Write{Query: mappings.Query{SQL: procedure, Params: params}, Procedure: true, IDColumn: "RESULT_ID"}
}
