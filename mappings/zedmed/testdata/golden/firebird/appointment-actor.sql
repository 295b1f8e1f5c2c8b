-- Appointment?actor=Location/2&_sort=date
-- after ["2026-06-15T09:00:00" "77"]
-- @p1 Int = '2'
-- @p2 DateTime2 = '2026-06-15T09:00:00'
-- @p3 Int = '77'
-- @p4 Int = '51'
SELECT
    a.APPT_ID AS "id",
    a.STATUS AS "status",
    a.APPT_DATE AS "date",
    a.START_SECS AS "time",
    a.DURATION_SECS AS "length",
    a.APPT_TYPE_ID AS "type",
    ty.DESCRIPTION AS "type_text",
    a.URGENT AS "urgent",
    a.REASON AS "reason",
    a.NOTES AS "comment",
    a.CANCEL_REASON AS "cancel_reason",
    p.PATIENT_ID AS "patient_id",
    p.FIRST_NAME AS "patient_first",
    p.SURNAME AS "patient_family",
    d.DOCTOR_ID AS "practitioner_id",
    d.TITLE AS "practitioner_title",
    d.FIRST_NAME AS "practitioner_first",
    d.SURNAME AS "practitioner_family",
    l.BRANCH_ID AS "location_id",
    l.BRANCH_NAME AS "location_name",
    a.CREATED_AT AS "created",
    a.UPDATED_AT AS "updated",
    DATEADD(SECOND, a.START_SECS, a.APPT_DATE) AS "_k0",
    a.APPT_ID AS "_k1"
FROM APPOINTMENT a
LEFT JOIN APPT_TYPE ty ON ty.APPT_TYPE_ID = a.APPT_TYPE_ID AND ty.DELETED = 0
LEFT JOIN PATIENT p ON p.PATIENT_ID = a.PATIENT_ID AND p.DELETED = 0
LEFT JOIN DOCTOR d ON d.DOCTOR_ID = a.DOCTOR_ID AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
LEFT JOIN BRANCH l ON l.BRANCH_ID = a.BRANCH_ID AND l.DELETED = 0
WHERE a.DELETED = 0 AND a.PATIENT_ID IS NOT NULL AND a.STATUS <> 6
  AND a.BRANCH_ID = @p1
  AND (DATEADD(SECOND, a.START_SECS, a.APPT_DATE) > @p2
       OR (DATEADD(SECOND, a.START_SECS, a.APPT_DATE) = @p2 AND a.APPT_ID > @p3))
ORDER BY DATEADD(SECOND, a.START_SECS, a.APPT_DATE) ASC, a.APPT_ID ASC
FETCH FIRST @p4 ROWS ONLY
