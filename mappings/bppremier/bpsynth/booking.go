package bpsynth

import (
	"fmt"
	"strings"
)

// The practice's booking procedures on the SQLite replica (the demo). SQLite has no stored
// procedures, so each of Bp Premier's is one statement here, run as a nonQuery text command
// with the procedure's parameters under the same names (@aptdate, @apttime, ...; every one
// given, NULL where the procedure has a default). On PostgreSQL the same procedures are
// PL/pgSQL functions (procedures.postgres.sql); these statements do what those do, except that
// a statement cannot raise an error of its own: where a function refuses an unknown patient or
// practitioner, the statement answers no row.
//
// Each is atomic without a lock of its own: SQLite runs one write transaction at a time, and
// an INSERT or UPDATE statement takes the write lock before it reads, so the statement's NOT
// EXISTS sees every booking committed before it and none can commit in between. Of two
// concurrent bookings of one slot exactly one inserts; the other waits for the lock (the
// connection's busy timeout) and then finds the slot taken. Dates are bound as text
// (YYYY-MM-DD, a Date parameter) and stored as DATETIME text through datetime().

// sqliteTaken is the condition that a live appointment (booked, or a blocked slot) of
// practitioner user on day overlaps [at, at + length), other than appointment self.
func sqliteTaken(user, day, at, length, self string) string {
	return `EXISTS (SELECT 1 FROM "APPOINTMENTS" o WHERE o."USERID" = ` + user + ` AND o."APPOINTMENTDATE" = ` + day +
		` AND o."RECORDSTATUS" = 1 AND o."RECORDID" <> ` + self + ` AND o."APPOINTMENTTIME" < ` + at + ` + ` + length +
		` AND o."APPOINTMENTTIME" + o."APPOINTMENTLENGTH" > ` + at + `)`
}

// sqliteNow is the practice's wall clock as DATETIME text.
const sqliteNow = `strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime')`

// SQLiteAddAppointment is BP_AddAppointmentEx: it books @patientid with @practitionerid on
// @aptdate at @apttime (seconds after midnight) for @aptlen seconds and returns the new
// appointment's "RECORDID", or no row when the time overlaps another live appointment of the
// practitioner (the slot is taken), the patient or practitioner is not live, or the time
// leaves the day. @appointmenttype 0 (or NULL) is the practice's first type; @locationid 0 (or
// NULL) the location of the practitioner's session at that time, else the practitioner's own;
// @reason, @loginid and @videourl may be NULL. rowsAffected is 1 for a booking, 0 otherwise.
// BP_AddAppointment is the same with @appointmenttype, @reason and @videourl NULL.
var SQLiteAddAppointment = `INSERT INTO "APPOINTMENTS" ("INTERNALID", "RECORDSTATUS", "USERID", "LOCATIONID", "VISITID",
    "APPOINTMENTDATE", "APPOINTMENTTIME", "APPOINTMENTLENGTH", "APPOINTMENTCODE", "APPOINTMENTTYPE", "URGENT", "REASON",
    "ARRIVALTIME", "CONSULTATIONTIME", "VISITLENGTH", "ROOMID", "OPERATIONID", "BOOKEDBY", "ACCOUNTTYPE", "NNAC",
    "PATIENTS", "ITEMLIST", "COMMENT", "CREATED", "CREATEDBY", "FOLLOWUP", "VIDEOURL")
SELECT @patientid, 1, u."USERID",
    coalesce(nullif(@locationid, 0),
        (SELECT s."LOCATIONID" FROM "SESSIONS" s
          WHERE s."USERID" = u."USERID" AND s."RECORDSTATUS" = 1
            AND s."DAYOFWEEK" = CAST(strftime('%w', @aptdate) AS INTEGER) + 1
            AND (s."STARTDATE" IS NULL OR s."STARTDATE" <= datetime(@aptdate))
            AND (s."ENDDATE" IS NULL OR s."ENDDATE" >= datetime(@aptdate))
            AND s."STARTTIME" <= @apttime AND s."ENDTIME" > @apttime
         UNION ALL
         SELECT e."LOCATIONID" FROM "EXTRASESSIONS" e
          WHERE e."USERID" = u."USERID" AND e."RECORDSTATUS" = 1 AND e."SESSIONDATE" = datetime(@aptdate)
            AND e."STARTTIME" <= @apttime AND e."ENDTIME" > @apttime
         LIMIT 1),
        u."LOCATIONID"),
    0, datetime(@aptdate), @apttime, @aptlen, 1,
    coalesce(nullif(@appointmenttype, 0),
        (SELECT t."APPOINTMENTCODE" FROM "APPOINTMENTTYPES" t WHERE t."RECORDSTATUS" = 1 ORDER BY t."LISTORDER", t."APPOINTMENTCODE" LIMIT 1)),
    0, coalesce(@reason, ''), 0, 0, 0, 0, 0, coalesce(@loginid, 0), 0, 0, 1, '', '', ` + sqliteNow + `, coalesce(@loginid, 0), 0,
    nullif(@videourl, '')
FROM "USERS" u
WHERE u."USERID" = @practitionerid AND u."RECORDSTATUS" = 1
  AND EXISTS (SELECT 1 FROM "PATIENTS" p WHERE p."INTERNALID" = @patientid AND p."RECORDSTATUS" = 1)
  AND @apttime >= 0 AND @aptlen > 0 AND @apttime + @aptlen <= 86400
  AND (nullif(@appointmenttype, 0) IS NULL
       OR EXISTS (SELECT 1 FROM "APPOINTMENTTYPES" t WHERE t."APPOINTMENTCODE" = @appointmenttype AND t."RECORDSTATUS" = 1))
  AND NOT ` + sqliteTaken("u.\"USERID\"", "datetime(@aptdate)", "@apttime", "@aptlen", "0") + `
RETURNING "RECORDID"`

// SQLiteIsAppointmentBooked is BP_IsAppointmentBooked: one row, "Booked" 1 when a live
// appointment of @userid (with a patient, or a blocked slot) covers @apttime on @aptdate, else
// 0. A reader.
var SQLiteIsAppointmentBooked = `SELECT CASE WHEN ` +
	sqliteTaken("@userid", "datetime(@aptdate)", "@apttime", "1", "0") + ` THEN 1 ELSE 0 END AS "Booked"`

// SQLiteMoveAppointment is BP_MoveAppointment: it moves live appointment @aptid to @aptdate at
// @apttime with @practitionerid (at @locationid, or where it was for 0 or NULL), keeping its
// length, and returns its "RECORDID", or no row when the new time overlaps another live
// appointment of that practitioner or the appointment is not live.
var SQLiteMoveAppointment = `UPDATE "APPOINTMENTS" AS a SET "APPOINTMENTDATE" = datetime(@aptdate), "APPOINTMENTTIME" = @apttime,
    "USERID" = @practitionerid, "LOCATIONID" = coalesce(nullif(@locationid, 0), a."LOCATIONID"), "UPDATED" = ` + sqliteNow + `
WHERE a."RECORDID" = @aptid AND a."RECORDSTATUS" = 1 AND a."INTERNALID" <> 0
  AND @apttime >= 0 AND @apttime + a."APPOINTMENTLENGTH" <= 86400
  AND EXISTS (SELECT 1 FROM "USERS" u WHERE u."USERID" = @practitionerid AND u."RECORDSTATUS" = 1)
  AND NOT ` + sqliteTaken("@practitionerid", "datetime(@aptdate)", "@apttime", `a."APPOINTMENTLENGTH"`, `a."RECORDID"`) + `
RETURNING "RECORDID"`

// SQLiteCancelAppointment is BP_CancelAppointment: live appointment @aptid is cancelled as the
// generated data records cancellations (its row no longer live, a CANCELLATIONS and a
// CANCELLEDAPPOINTMENTS record by @loginid) and its time is free again. It is a script of one
// transaction (a nonQuery text runs every statement): the first UPDATE changes one row or none
// (an appointment already cancelled), and each INSERT writes only when the statement before it
// wrote one. A statement that fails leaves the transaction open, and the agent then discards
// the connection, which rolls it back.
var SQLiteCancelAppointment = `BEGIN IMMEDIATE;
UPDATE "APPOINTMENTS" SET "RECORDSTATUS" = 0, "UPDATED" = ` + sqliteNow + `, "UPDATEDBY" = coalesce(@loginid, 0)
WHERE "RECORDID" = @aptid AND "RECORDSTATUS" = 1 AND "INTERNALID" <> 0;
INSERT INTO "CANCELLATIONS" ("RECORDSTATUS", "INTERNALID", "USERID", "APPOINTMENTID", "CREATED", "CREATEDBY")
SELECT 1, a."INTERNALID", a."USERID", a."RECORDID", ` + sqliteNow + `, coalesce(@loginid, 0)
FROM "APPOINTMENTS" a WHERE a."RECORDID" = @aptid AND changes() = 1;
INSERT INTO "CANCELLEDAPPOINTMENTS" ("APPOINTMENTID", "CANCELLEDBY", "CANCELLEDDATE", "CANCELLEDTIME", "REASON")
SELECT @aptid, coalesce(@loginid, 0), date('now', 'localtime') || ' 00:00:00',
    CAST(strftime('%s', 'now', 'localtime') AS INTEGER) % 86400, NULL
WHERE changes() = 1;
COMMIT`

// patientColumns are the PATIENTS columns BP_AddPatient writes from its parameters: the column,
// the parameter, and for char(n) columns n, to which SQLite's values are padded as the
// generator pads them (0: not padded).
var patientColumns = []struct {
	col, param string
	width      int
}{
	{"EXTERNALID", "externalid", 12}, {"TITLECODE", "titlecode", 0}, {"FIRSTNAME", "firstname", 40},
	{"MIDDLENAME", "middlename", 30}, {"SURNAME", "surname", 40}, {"PREFERREDNAME", "preferredname", 30},
	{"ADDRESS1", "address1", 40}, {"ADDRESS2", "address2", 40}, {"CITY", "city", 40}, {"POSTCODE", "postcode", 4},
	{"POSTALADDRESS", "postaladdress", 40}, {"POSTALCITY", "postalcity", 40}, {"POSTALPOSTCODE", "postalpostcode", 4},
	{"DOB", "dob", 0}, {"SEXCODE", "sexcode", 0}, {"ETHNICCODE", "ethniccode", 0}, {"HOMEPHONE", "homephone", 14},
	{"WORKPHONE", "workphone", 14}, {"MOBILEPHONE", "mobilephone", 14}, {"MEDICARENO", "medicareno", 13},
	{"MEDICARELINENO", "medicarelineno", 1}, {"MEDICAREEXPIRY", "medicareexpiry", 10}, {"PENSIONCODE", "pensioncode", 0},
	{"PENSIONNO", "pensionno", 14}, {"PENSIONEXPIRY", "pensionexpiry", 0}, {"DVACODE", "dvacode", 0},
	{"DVANO", "dvano", 14}, {"RECORDNO", "recordno", 10}, {"HEADOFFAMILYID", "headoffamilyid", 0},
	{"NEXTOFKINID", "nextofkinid", 0}, {"CONSENTSMSREMINDER", "consentsmsreminder", 0}, {"EMAIL", "email", 0},
}

// patientZeros are PATIENTS' other NOT NULL columns: no parameter sets them, and BP_AddPatient
// writes 0 (PATIENTSTATUS and RECORDSTATUS are 1, CREATED the time of the call).
var patientZeros = []string{"IHISTATUS", "IHIRECORDSTATUS", "IHISOURCE", "ORIGIN", "HEALTHFUNDID", "ACCOUNTCODE",
	"USERID", "DENYACCESS", "NOREMINDERS", "CONTACTMETHOD", "EMERGENCYID", "REFERRALCODE", "ERX", "DISPENSE", "MEDVIEW",
	"PHARMACYID", "CTG", "CREATEDBY", "DEFAULTVISITTYPE", "HCHTIER", "PublicFunding", "FinDependant", "CSCHolder",
	"HUCHolder", "IWI", "ETHNIC1CODE", "ETHNIC2CODE"}

// SQLiteAddPatient is BP_AddPatient: it registers a live, active patient from the procedure's
// parameters (@titlecode ... @email, and @headoffamilyid, @ethniccode, @consentsmsreminder,
// @nextofkinid, all given, NULL for none) and returns the new "INTERNALID"; no row without a
// surname. Text left out is blank, as Bp writes it; @dob and @pensionexpiry are Dates. Like the
// procedure it does not look for an existing patient.
var SQLiteAddPatient = func() string {
	var cols, vals []string
	for _, c := range patientColumns {
		cols = append(cols, `"`+c.col+`"`)
		v := "@" + c.param
		switch {
		case c.col == "DOB" || c.col == "PENSIONEXPIRY":
			v = "datetime(" + v + ")"
		case c.col == "EMAIL":
			v = "nullif(" + v + ", '')"
		case c.width > 0:
			v = fmt.Sprintf("printf('%%-%ds', coalesce(%s, ''))", c.width, v)
		default:
			v = "coalesce(" + v + ", 0)"
		}
		vals = append(vals, v)
	}
	for _, c := range patientZeros {
		cols = append(cols, `"`+c+`"`)
		vals = append(vals, "0")
	}
	cols = append(cols, `"RECORDSTATUS"`, `"PATIENTSTATUS"`, `"CREATED"`)
	vals = append(vals, "1", "1", sqliteNow)
	return `INSERT INTO "PATIENTS" (` + strings.Join(cols, ", ") + `)
SELECT ` + strings.Join(vals, ", ") + `
WHERE trim(coalesce(@surname, '')) <> ''
RETURNING "INTERNALID"`
}()
