package zedsynth

import "strconv"

// Booking on the assumed schema: the insert that books an appointment, the updates that
// move and cancel one, and the insert that registers a patient (ZM_ADD_PATIENT), as PSQL procedures of the Firebird replica (Apply creates them). Like
// the schema they are this package's design, not Zedmed's: a caller names them in a
// storedProcedure command (ZM_BOOK_APPOINTMENT, ...) with the parameters below, and the agent
// binds those by name. Each is an executable procedure whose output row is RESULT_ID: the
// appointment's APPT_ID, or 0 when nothing was done (the time is taken, or the appointment
// was already cancelled). A doctor, patient, branch or appointment that does not exist is an
// error (exception ZM_BOOKING, with a message saying which).
//
// Concurrency: a booking or a move first locks the doctor's DOCTOR row (SELECT ... WITH
// LOCK), so that changes to one doctor's book run one at a time; the overlap check that
// follows then sees every booking committed before it (READ COMMITTED, the agent's write
// transactions). A lock held by another booking is waited for (WAIT). Where Firebird answers
// the wait with an update or lock conflict instead (a NO WAIT transaction; a row another
// transaction changed meanwhile), the procedure takes the lock again, up to bookingLockTries
// times: the conflict only says the row changed, and the next look sees the change. New
// APPT_IDs come from the sequence APPT_SEQ, moved past the generated ids on first use.

// bookingLockTries bounds how often a procedure retries the doctor's lock.
const bookingLockTries = 50

// lockDoctor is the PSQL that locks the doctor :DOCTOR_ID (a live one, else ZM_BOOKING).
var lockDoctor = `  TRIES = 0;
  LOCKED = 0;
  WHILE (LOCKED = 0) DO
  BEGIN
    TRIES = TRIES + 1;
    BEGIN
      X = NULL;
      SELECT DOCTOR_ID FROM DOCTOR WHERE DOCTOR_ID = :DOCTOR_ID AND DELETED = 0 WITH LOCK INTO :X;
      IF (X IS NULL) THEN
        EXCEPTION ZM_BOOKING 'no doctor ' || COALESCE(CAST(:DOCTOR_ID AS VARCHAR(12)), 'NULL');
      LOCKED = 1;
      WHEN GDSCODE update_conflict, GDSCODE deadlock, GDSCODE lock_conflict DO
      BEGIN
        IF (TRIES >= ` + strconv.Itoa(bookingLockTries) + `) THEN
          EXCEPTION ZM_BOOKING 'the appointment book of doctor ' || CAST(:DOCTOR_ID AS VARCHAR(12)) || ' stayed busy; try again';
      END
    END
  END
`

// taken is the PSQL condition that a live appointment of :DOCTOR_ID (not cancelled: booked,
// under way, or a blocked slot) overlaps [:START_SECS, :START_SECS + :LEN) on :APPT_DATE,
// other than :SELF.
const taken = `EXISTS (SELECT 1 FROM APPOINTMENT a WHERE a.DOCTOR_ID = :DOCTOR_ID AND a.APPT_DATE = :APPT_DATE
      AND a.DELETED = 0 AND a.STATUS <> 5 AND a.APPT_ID <> :SELF
      AND a.START_SECS < :START_SECS + :LEN AND a.START_SECS + a.DURATION_SECS > :START_SECS)`

// bookingDDL are the Firebird objects of booking, in creation order.
var bookingDDL = []string{
	`CREATE EXCEPTION ZM_BOOKING 'booking refused'`,
	`CREATE SEQUENCE APPT_SEQ`,
	`CREATE SEQUENCE PATIENT_SEQ`,

	// ZM_ADD_PATIENT registers a live, active patient (STATUS 1, ATSI 9: not stated) from the parameters and
	// answers the new PATIENT_ID; text left out is NULL, SEX is M, F or X. A blank SURNAME is
	// an error. Like Bp's BP_AddPatient it does not look for an existing patient: a caller
	// that must not duplicate one searches first. New ids come from PATIENT_SEQ, moved past
	// the generated ids on first use.
	`CREATE PROCEDURE ZM_ADD_PATIENT (FIRST_NAME VARCHAR(40), MIDDLE_NAME VARCHAR(40), SURNAME VARCHAR(40), SEX VARCHAR(1),
    DOB DATE, ADDRESS_1 VARCHAR(80), ADDRESS_2 VARCHAR(80), SUBURB VARCHAR(60), POSTCODE VARCHAR(4),
    HOME_PHONE VARCHAR(20), MOBILE_PHONE VARCHAR(20), EMAIL VARCHAR(100), MEDICARE_NO VARCHAR(10), MEDICARE_IRN VARCHAR(1))
  RETURNS (RESULT_ID INTEGER)
AS
  DECLARE M INTEGER;
BEGIN
  IF (COALESCE(TRIM(SURNAME), '') = '') THEN
    EXCEPTION ZM_BOOKING 'a surname is required';
  RESULT_ID = GEN_ID(PATIENT_SEQ, 1);
  SELECT COALESCE(MAX(PATIENT_ID), 0) FROM PATIENT INTO :M;
  IF (RESULT_ID <= M) THEN
    RESULT_ID = GEN_ID(PATIENT_SEQ, M - RESULT_ID + 1);
  INSERT INTO PATIENT (PATIENT_ID, FIRST_NAME, MIDDLE_NAME, SURNAME, SEX, DOB, ADDRESS_1, ADDRESS_2, SUBURB, POSTCODE,
      HOME_PHONE, MOBILE_PHONE, EMAIL, MEDICARE_NO, MEDICARE_IRN, ATSI, STATUS, CREATED_AT, DELETED)
    VALUES (:RESULT_ID, :FIRST_NAME, :MIDDLE_NAME, :SURNAME, :SEX, :DOB, :ADDRESS_1, :ADDRESS_2, :SUBURB, :POSTCODE,
      :HOME_PHONE, :MOBILE_PHONE, :EMAIL, :MEDICARE_NO, :MEDICARE_IRN, 9, 1, LOCALTIMESTAMP, 0);
END`,

	// ZM_BOOK_APPOINTMENT books PATIENT_ID with DOCTOR_ID at BRANCH_ID on APPT_DATE at
	// START_SECS (seconds after midnight) for DURATION_SECS (NULL or 0: the type's length).
	`CREATE PROCEDURE ZM_BOOK_APPOINTMENT (DOCTOR_ID INTEGER, BRANCH_ID INTEGER, APPT_DATE DATE, START_SECS INTEGER,
    DURATION_SECS INTEGER, PATIENT_ID INTEGER, APPT_TYPE_ID INTEGER = NULL, REASON VARCHAR(100) = NULL, URGENT SMALLINT = 0)
  RETURNS (RESULT_ID INTEGER)
AS
  DECLARE TRIES INTEGER;
  DECLARE LOCKED INTEGER;
  DECLARE X INTEGER;
  DECLARE LEN INTEGER;
  DECLARE SELF INTEGER = 0;
  DECLARE M INTEGER;
BEGIN
  LEN = DURATION_SECS;
  IF (COALESCE(LEN, 0) = 0 AND APPT_TYPE_ID IS NOT NULL) THEN
    SELECT t.DURATION_SECS FROM APPT_TYPE t WHERE t.APPT_TYPE_ID = :APPT_TYPE_ID AND t.DELETED = 0 INTO :LEN;
  IF (APPT_TYPE_ID IS NOT NULL AND NOT EXISTS (SELECT 1 FROM APPT_TYPE WHERE APPT_TYPE_ID = :APPT_TYPE_ID AND DELETED = 0)) THEN
    EXCEPTION ZM_BOOKING 'no appointment type ' || CAST(APPT_TYPE_ID AS VARCHAR(12));
  IF (APPT_DATE IS NULL OR START_SECS IS NULL OR COALESCE(LEN, 0) <= 0 OR START_SECS < 0 OR START_SECS + LEN > 86400) THEN
    EXCEPTION ZM_BOOKING 'the time must lie within the day';
  IF (NOT EXISTS (SELECT 1 FROM PATIENT WHERE PATIENT_ID = :PATIENT_ID AND DELETED = 0)) THEN
    EXCEPTION ZM_BOOKING 'no patient ' || COALESCE(CAST(PATIENT_ID AS VARCHAR(12)), 'NULL');
  IF (NOT EXISTS (SELECT 1 FROM BRANCH WHERE BRANCH_ID = :BRANCH_ID AND DELETED = 0)) THEN
    EXCEPTION ZM_BOOKING 'no branch ' || COALESCE(CAST(BRANCH_ID AS VARCHAR(12)), 'NULL');
` + lockDoctor + `
  IF (` + taken + `) THEN
  BEGIN
    RESULT_ID = 0;
    EXIT;
  END
  RESULT_ID = GEN_ID(APPT_SEQ, 1);
  SELECT COALESCE(MAX(APPT_ID), 0) FROM APPOINTMENT INTO :M;
  IF (RESULT_ID <= M) THEN
    RESULT_ID = GEN_ID(APPT_SEQ, M - RESULT_ID + 1);
  INSERT INTO APPOINTMENT (APPT_ID, PATIENT_ID, DOCTOR_ID, BRANCH_ID, APPT_DATE, START_SECS, DURATION_SECS, APPT_TYPE_ID,
      STATUS, REASON, URGENT, CREATED_AT, DELETED)
    VALUES (:RESULT_ID, :PATIENT_ID, :DOCTOR_ID, :BRANCH_ID, :APPT_DATE, :START_SECS, :LEN, :APPT_TYPE_ID,
      0, :REASON, COALESCE(:URGENT, 0), LOCALTIMESTAMP, 0);
END`,

	// ZM_MOVE_APPOINTMENT moves appointment APPT_ID, booked and live, to DOCTOR_ID at BRANCH_ID
	// (NULL: where it was) on APPT_DATE at START_SECS, keeping its length.
	`CREATE PROCEDURE ZM_MOVE_APPOINTMENT (APPT_ID INTEGER, APPT_DATE DATE, START_SECS INTEGER, DOCTOR_ID INTEGER,
    BRANCH_ID INTEGER = NULL)
  RETURNS (RESULT_ID INTEGER)
AS
  DECLARE TRIES INTEGER;
  DECLARE LOCKED INTEGER;
  DECLARE X INTEGER;
  DECLARE LEN INTEGER;
  DECLARE SELF INTEGER;
BEGIN
  SELF = APPT_ID;
` + lockDoctor + `
  LEN = NULL;
  SELECT a.DURATION_SECS FROM APPOINTMENT a WHERE a.APPT_ID = :SELF AND a.DELETED = 0 AND a.STATUS NOT IN (5, 6)
    AND a.PATIENT_ID IS NOT NULL INTO :LEN;
  IF (LEN IS NULL) THEN
    EXCEPTION ZM_BOOKING 'no booked appointment ' || COALESCE(CAST(SELF AS VARCHAR(12)), 'NULL');
  IF (APPT_DATE IS NULL OR START_SECS IS NULL OR START_SECS < 0 OR START_SECS + LEN > 86400) THEN
    EXCEPTION ZM_BOOKING 'the time must lie within the day';
  IF (` + taken + `) THEN
  BEGIN
    RESULT_ID = 0;
    EXIT;
  END
  UPDATE APPOINTMENT SET APPT_DATE = :APPT_DATE, START_SECS = :START_SECS, DOCTOR_ID = :DOCTOR_ID,
      BRANCH_ID = COALESCE(:BRANCH_ID, BRANCH_ID), UPDATED_AT = LOCALTIMESTAMP
    WHERE APPT_ID = :SELF;
  RESULT_ID = SELF;
END`,

	// ZM_CANCEL_APPOINTMENT cancels appointment APPT_ID as the generated data records
	// cancellations: its row stays, STATUS 5 with CANCEL_REASON, and its time is free again.
	`CREATE PROCEDURE ZM_CANCEL_APPOINTMENT (APPT_ID INTEGER, CANCEL_REASON VARCHAR(100) = NULL)
  RETURNS (RESULT_ID INTEGER)
AS
  DECLARE TRIES INTEGER = 0;
  DECLARE DONE INTEGER = 0;
BEGIN
  IF (NOT EXISTS (SELECT 1 FROM APPOINTMENT a WHERE a.APPT_ID = :APPT_ID AND a.DELETED = 0 AND a.PATIENT_ID IS NOT NULL)) THEN
    EXCEPTION ZM_BOOKING 'no appointment ' || COALESCE(CAST(APPT_ID AS VARCHAR(12)), 'NULL');
  RESULT_ID = 0;
  WHILE (DONE = 0) DO
  BEGIN
    TRIES = TRIES + 1;
    BEGIN
      UPDATE APPOINTMENT SET STATUS = 5, CANCEL_REASON = :CANCEL_REASON, UPDATED_AT = LOCALTIMESTAMP
        WHERE APPT_ID = :APPT_ID AND STATUS <> 5;
      IF (ROW_COUNT = 1) THEN
        RESULT_ID = APPT_ID;
      DONE = 1;
      WHEN GDSCODE update_conflict, GDSCODE deadlock, GDSCODE lock_conflict DO
      BEGIN
        IF (TRIES >= ` + strconv.Itoa(bookingLockTries) + `) THEN
          EXCEPTION ZM_BOOKING 'appointment ' || CAST(APPT_ID AS VARCHAR(12)) || ' stayed busy; try again';
      END
    END
  END
END`,
}
