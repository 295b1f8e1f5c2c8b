-- Encounter?patient=12&class=VR&status=finished
-- @p1 Int = '12'
-- @p2 Int = '51'
SELECT
    e.CONSULT_ID AS "id",
    p.PATIENT_ID AS "patient",
    p.FIRST_NAME AS "patient_first",
    p.SURNAME AS "patient_family",
    e.CONSULT_TYPE AS "type",
    e.START_AT AS "start",
    e.END_AT AS "end",
    e.REASON AS "reasons",
    ap.APPT_ID AS "appt_id",
    d.DOCTOR_ID AS "practitioner_id",
    d.TITLE AS "practitioner_title",
    d.FIRST_NAME AS "practitioner_first",
    d.SURNAME AS "practitioner_family",
    l.BRANCH_ID AS "location_id",
    l.BRANCH_NAME AS "location_name",
    pr.PRACTICE_ID AS "org_id",
    pr.PRACTICE_NAME AS "org_name",
    e.CREATED_AT AS "created",
    e.UPDATED_AT AS "updated",
    e.CONSULT_ID AS "_k0"
FROM CONSULT e
JOIN PATIENT p ON p.PATIENT_ID = e.PATIENT_ID AND p.DELETED = 0
LEFT JOIN DOCTOR d ON d.DOCTOR_ID = e.DOCTOR_ID AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
LEFT JOIN BRANCH l ON l.BRANCH_ID = e.BRANCH_ID AND l.DELETED = 0
LEFT JOIN APPOINTMENT ap ON ap.APPT_ID = e.APPT_ID AND ap.DELETED = 0
LEFT JOIN PRACTICE pr ON pr.PRACTICE_ID = (SELECT MIN(x.PRACTICE_ID) FROM PRACTICE x WHERE x.DELETED = 0)
WHERE e.DELETED = 0 AND e.START_AT IS NOT NULL
  AND e.CONSULT_TYPE IN (2, 3)
  AND e.PATIENT_ID = @p1
  AND e.END_AT IS NOT NULL
ORDER BY e.CONSULT_ID ASC
FETCH FIRST @p2 ROWS ONLY
