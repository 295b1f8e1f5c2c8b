-- Appointment?patient.identifier=http://ns.electronichealth.net.au/id/hi/hi/1.0|8003608166690503
-- @p1 Int = '51'
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
    a.APPT_ID AS "_k0"
FROM APPOINTMENT a
LEFT JOIN APPT_TYPE ty ON ty.APPT_TYPE_ID = a.APPT_TYPE_ID AND ty.DELETED = 0
LEFT JOIN PATIENT p ON p.PATIENT_ID = a.PATIENT_ID AND p.DELETED = 0
LEFT JOIN DOCTOR d ON d.DOCTOR_ID = a.DOCTOR_ID AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
LEFT JOIN BRANCH l ON l.BRANCH_ID = a.BRANCH_ID AND l.DELETED = 0
WHERE a.DELETED = 0 AND a.PATIENT_ID IS NOT NULL AND a.STATUS <> 6
  AND a.PATIENT_ID IN (SELECT p.PATIENT_ID
    FROM PATIENT p
    LEFT JOIN PRACTICE pr ON pr.PRACTICE_ID = (SELECT MIN(x.PRACTICE_ID) FROM PRACTICE x WHERE x.DELETED = 0)
    WHERE p.DELETED = 0
      AND 1 = 0)
ORDER BY a.APPT_ID ASC
FETCH FIRST @p1 ROWS ONLY
