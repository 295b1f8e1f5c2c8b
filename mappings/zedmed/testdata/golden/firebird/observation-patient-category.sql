-- Observation?patient=12&category=vital-signs
-- @p1 Int = '12'
-- @p2 Int = '51'
SELECT
    m.MEASUREMENT_ID AS "id",
    p.PATIENT_ID AS "patient",
    p.FIRST_NAME AS "patient_first",
    p.SURNAME AS "patient_family",
    m.MEAS_TYPE AS "type",
    m.VALUE_1 AS "value",
    m.VALUE_2 AS "value2",
    m.MEASURED_AT AS "effective",
    d.DOCTOR_ID AS "practitioner_id",
    d.TITLE AS "practitioner_title",
    d.FIRST_NAME AS "practitioner_first",
    d.SURNAME AS "practitioner_family",
    m.CREATED_AT AS "created",
    m.UPDATED_AT AS "updated",
    m.MEASUREMENT_ID AS "_k0"
FROM MEASUREMENT m
JOIN PATIENT p ON p.PATIENT_ID = m.PATIENT_ID AND p.DELETED = 0
LEFT JOIN DOCTOR d ON d.DOCTOR_ID = m.DOCTOR_ID AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
WHERE m.DELETED = 0 AND m.MEAS_TYPE IN ('BMI', 'BP', 'HR', 'HT', 'RR', 'SPO2', 'TEMP', 'WT') AND m.VALUE_1 IS NOT NULL
  AND 1 = 1
  AND m.PATIENT_ID = @p1
ORDER BY m.MEASUREMENT_ID ASC
FETCH FIRST @p2 ROWS ONLY
