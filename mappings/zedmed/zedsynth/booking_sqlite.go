package zedsynth

// The booking procedures on the SQLite replica (the demo). SQLite has no stored procedures, so
// each of ZM_BOOK_APPOINTMENT, ZM_MOVE_APPOINTMENT, ZM_CANCEL_APPOINTMENT and ZM_ADD_PATIENT is
// one statement here, run as a nonQuery text command with the procedure's parameters under the
// same names (every one given, NULL for none) and answering RESULT_ID through RETURNING: no row
// where the procedure answers 0 (the time is taken, nothing to cancel) or raises ZM_BOOKING (a
// doctor, patient or branch that does not exist, a time outside the day).
//
// Each is atomic without a lock of its own: SQLite runs one write transaction at a time, and an
// INSERT or UPDATE takes the write lock before it reads, so its NOT EXISTS sees every booking
// committed before it. Dates are bound as text (YYYY-MM-DD) and stored as the generator stores
// TIMESTAMPs, through datetime().

// sqliteNow is the practice's wall clock as the generator stores it.
const sqliteNow = `strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime')`

// sqliteTaken is the condition that a live appointment of @DOCTOR_ID (not cancelled) overlaps
// [@START_SECS, @START_SECS + length) on @APPT_DATE, other than appointment self.
func sqliteTaken(length, self string) string {
	return `EXISTS (SELECT 1 FROM APPOINTMENT o WHERE o.DOCTOR_ID = @DOCTOR_ID AND o.APPT_DATE = datetime(@APPT_DATE)
      AND o.DELETED = 0 AND o.STATUS <> 5 AND o.APPT_ID <> ` + self + `
      AND o.START_SECS < @START_SECS + ` + length + ` AND o.START_SECS + o.DURATION_SECS > @START_SECS)`
}

// SQLiteBookAppointment is ZM_BOOK_APPOINTMENT (with DURATION_SECS given).
var SQLiteBookAppointment = `INSERT INTO APPOINTMENT (PATIENT_ID, DOCTOR_ID, BRANCH_ID, APPT_DATE, START_SECS, DURATION_SECS,
    APPT_TYPE_ID, STATUS, REASON, URGENT, CREATED_AT, DELETED)
SELECT @PATIENT_ID, @DOCTOR_ID, @BRANCH_ID, datetime(@APPT_DATE), @START_SECS, @DURATION_SECS, @APPT_TYPE_ID, 0, @REASON, 0,
    ` + sqliteNow + `, 0
WHERE EXISTS (SELECT 1 FROM DOCTOR WHERE DOCTOR_ID = @DOCTOR_ID AND DELETED = 0)
  AND EXISTS (SELECT 1 FROM PATIENT WHERE PATIENT_ID = @PATIENT_ID AND DELETED = 0)
  AND EXISTS (SELECT 1 FROM BRANCH WHERE BRANCH_ID = @BRANCH_ID AND DELETED = 0)
  AND (@APPT_TYPE_ID IS NULL OR EXISTS (SELECT 1 FROM APPT_TYPE WHERE APPT_TYPE_ID = @APPT_TYPE_ID AND DELETED = 0))
  AND @START_SECS >= 0 AND @DURATION_SECS > 0 AND @START_SECS + @DURATION_SECS <= 86400
  AND NOT ` + sqliteTaken("@DURATION_SECS", "0") + `
RETURNING APPT_ID AS RESULT_ID`

// SQLiteMoveAppointment is ZM_MOVE_APPOINTMENT.
var SQLiteMoveAppointment = `UPDATE APPOINTMENT AS a SET APPT_DATE = datetime(@APPT_DATE), START_SECS = @START_SECS,
    DOCTOR_ID = @DOCTOR_ID, BRANCH_ID = coalesce(@BRANCH_ID, a.BRANCH_ID), UPDATED_AT = ` + sqliteNow + `
WHERE a.APPT_ID = @APPT_ID AND a.DELETED = 0 AND a.STATUS NOT IN (5, 6) AND a.PATIENT_ID IS NOT NULL
  AND @START_SECS >= 0 AND @START_SECS + a.DURATION_SECS <= 86400
  AND EXISTS (SELECT 1 FROM DOCTOR WHERE DOCTOR_ID = @DOCTOR_ID AND DELETED = 0)
  AND NOT ` + sqliteTaken("a.DURATION_SECS", "a.APPT_ID") + `
RETURNING APPT_ID AS RESULT_ID`

// SQLiteCancelAppointment is ZM_CANCEL_APPOINTMENT.
const SQLiteCancelAppointment = `UPDATE APPOINTMENT SET STATUS = 5, CANCEL_REASON = @CANCEL_REASON, UPDATED_AT = ` + sqliteNow + `
WHERE APPT_ID = @APPT_ID AND DELETED = 0 AND PATIENT_ID IS NOT NULL AND STATUS <> 5
RETURNING APPT_ID AS RESULT_ID`

// SQLiteAddPatient is ZM_ADD_PATIENT.
const SQLiteAddPatient = `INSERT INTO PATIENT (FIRST_NAME, MIDDLE_NAME, SURNAME, SEX, DOB, ADDRESS_1, ADDRESS_2, SUBURB, POSTCODE,
    HOME_PHONE, MOBILE_PHONE, EMAIL, MEDICARE_NO, MEDICARE_IRN, ATSI, STATUS, CREATED_AT, DELETED)
SELECT @FIRST_NAME, @MIDDLE_NAME, @SURNAME, @SEX, datetime(@DOB), @ADDRESS_1, @ADDRESS_2, @SUBURB, @POSTCODE,
    @HOME_PHONE, @MOBILE_PHONE, @EMAIL, @MEDICARE_NO, @MEDICARE_IRN, 9, 1, ` + sqliteNow + `, 0
WHERE trim(coalesce(@SURNAME, '')) <> ''
RETURNING PATIENT_ID AS RESULT_ID`
