-- AllergyIntolerance?patient=12&clinical-status=active
-- @p1 Int = '12'
-- @p2 Int = '51'
SELECT
    x.ALLERGY_ID AS "id",
    p.PATIENT_ID AS "patient",
    p.FIRST_NAME AS "patient_first",
    p.SURNAME AS "patient_family",
    x.SUBSTANCE AS "substance",
    x.SNOMED_CODE AS "snomed",
    x.REACTION AS "reaction",
    x.SEVERITY AS "severity",
    x.CATEGORY AS "category",
    x.ONSET_DATE AS "onset",
    x.RECORDED_AT AS "recorded",
    d.DOCTOR_ID AS "practitioner_id",
    d.TITLE AS "practitioner_title",
    d.FIRST_NAME AS "practitioner_first",
    d.SURNAME AS "practitioner_family",
    x.CREATED_AT AS "created",
    x.UPDATED_AT AS "updated",
    x.ALLERGY_ID AS "_k0"
FROM ALLERGY x
JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID AND p.DELETED = 0
LEFT JOIN DOCTOR d ON d.DOCTOR_ID = x.DOCTOR_ID AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
WHERE x.DELETED = 0
  AND 1 = 1
  AND x.PATIENT_ID = @p1
ORDER BY x.ALLERGY_ID ASC
FETCH FIRST @p2 ROWS ONLY
