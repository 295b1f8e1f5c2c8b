package bppremier

import (
	_ "embed"
	"strconv"
	"strings"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
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
func appointmentStatus(code, record int) fm.AppointmentStatus {
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
