-- MedicationStatement?patient=12&status=active
-- @p1 Int = '12'
-- @p2 Int = '51'
SELECT
    md.MEDICATION_ID AS "id",
    p.PATIENT_ID AS "patient",
    p.FIRST_NAME AS "patient_first",
    p.SURNAME AS "patient_family",
    md.IS_CURRENT AS "status",
    md.DRUG_NAME AS "drug",
    md.STRENGTH AS "strength",
    md.AMT_CODE AS "amt",
    md.DOSE_TEXT AS "dose",
    md.START_DATE AS "start",
    md.STOP_DATE AS "stop",
    md.RECORDED_AT AS "recorded",
    d.DOCTOR_ID AS "practitioner_id",
    d.TITLE AS "practitioner_title",
    d.FIRST_NAME AS "practitioner_first",
    d.SURNAME AS "practitioner_family",
    md.CREATED_AT AS "created",
    md.UPDATED_AT AS "updated",
    md.MEDICATION_ID AS "_k0"
FROM MEDICATION md
JOIN PATIENT p ON p.PATIENT_ID = md.PATIENT_ID AND p.DELETED = 0
LEFT JOIN DOCTOR d ON d.DOCTOR_ID = md.DOCTOR_ID AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
WHERE md.DELETED = 0
  AND md.PATIENT_ID = @p1
  AND md.IS_CURRENT = 1
ORDER BY md.MEDICATION_ID ASC
FETCH FIRST @p2 ROWS ONLY
