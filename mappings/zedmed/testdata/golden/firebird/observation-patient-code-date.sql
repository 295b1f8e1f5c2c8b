-- Observation?patient=12&code=http://loinc.org|85354-9&date=ge2026-01-01&_sort=-date
-- @p1 DateTime2 = '2026-01-01T00:00:00'
-- @p2 Int = '12'
-- @p3 Int = '51'
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
    COALESCE(m.MEASURED_AT, TIMESTAMP '0001-01-01 00:00:00') AS "_k0",
    m.MEASUREMENT_ID AS "_k1"
FROM MEASUREMENT m
JOIN PATIENT p ON p.PATIENT_ID = m.PATIENT_ID AND p.DELETED = 0
LEFT JOIN DOCTOR d ON d.DOCTOR_ID = m.DOCTOR_ID AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
WHERE m.DELETED = 0 AND m.MEAS_TYPE IN ('BMI', 'BP', 'HR', 'HT', 'RR', 'SPO2', 'TEMP', 'WT') AND m.VALUE_1 IS NOT NULL
  AND m.MEAS_TYPE = 'BP'
  AND m.MEASURED_AT >= @p1
  AND m.PATIENT_ID = @p2
ORDER BY COALESCE(m.MEASURED_AT, TIMESTAMP '0001-01-01 00:00:00') DESC, m.MEASUREMENT_ID ASC
FETCH FIRST @p3 ROWS ONLY
