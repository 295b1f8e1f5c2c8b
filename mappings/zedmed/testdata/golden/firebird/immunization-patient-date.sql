-- Immunization?patient=12&date=ge2025&status=completed
-- @p1 DateTime2 = '2025-01-01T00:00:00'
-- @p2 Int = '12'
-- @p3 Int = '51'
SELECT
    i.IMMUNISATION_ID AS "id",
    p.PATIENT_ID AS "patient",
    p.FIRST_NAME AS "patient_first",
    p.SURNAME AS "patient_family",
    i.GIVEN_DATE AS "given",
    i.VACCINE_NAME AS "vaccine",
    i.AMT_CODE AS "amt",
    i.BATCH_NO AS "batch",
    i.DOSE_NO AS "dose",
    i.SITE AS "site",
    d.DOCTOR_ID AS "practitioner_id",
    d.TITLE AS "practitioner_title",
    d.FIRST_NAME AS "practitioner_first",
    d.SURNAME AS "practitioner_family",
    i.CREATED_AT AS "created",
    i.UPDATED_AT AS "updated",
    i.IMMUNISATION_ID AS "_k0"
FROM IMMUNISATION i
JOIN PATIENT p ON p.PATIENT_ID = i.PATIENT_ID AND p.DELETED = 0
LEFT JOIN DOCTOR d ON d.DOCTOR_ID = i.DOCTOR_ID AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
WHERE i.DELETED = 0
  AND i.GIVEN_DATE >= @p1
  AND i.PATIENT_ID = @p2
  AND 1 = 1
ORDER BY i.IMMUNISATION_ID ASC
FETCH FIRST @p3 ROWS ONLY
