-- Condition?code=http://snomed.info/sct|59621000&onset-date=ge2020
-- @p1 VarChar = '59621000'
-- @p2 DateTime2 = '2020-01-01T00:00:00'
-- @p3 Int = '51'
SELECT
    h.PROBLEM_ID AS "id",
    p.PATIENT_ID AS "patient",
    p.FIRST_NAME AS "patient_first",
    p.SURNAME AS "patient_family",
    h.DESCRIPTION AS "text",
    h.SNOMED_CODE AS "snomed",
    h.ONSET_DATE AS "onset",
    h.RESOLVED_DATE AS "resolved",
    h.IS_ACTIVE AS "status",
    h.RECORDED_AT AS "recorded",
    d.DOCTOR_ID AS "practitioner_id",
    d.TITLE AS "practitioner_title",
    d.FIRST_NAME AS "practitioner_first",
    d.SURNAME AS "practitioner_family",
    h.CREATED_AT AS "created",
    h.UPDATED_AT AS "updated",
    h.PROBLEM_ID AS "_k0"
FROM PROBLEM h
JOIN PATIENT p ON p.PATIENT_ID = h.PATIENT_ID AND p.DELETED = 0
LEFT JOIN DOCTOR d ON d.DOCTOR_ID = h.DOCTOR_ID AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
WHERE h.DELETED = 0
  AND h.SNOMED_CODE = @p1
  AND h.ONSET_DATE >= @p2
ORDER BY h.PROBLEM_ID ASC
FETCH FIRST @p3 ROWS ONLY
