-- MedicationRequest?encounter=Encounter/7&requester=Practitioner/2
-- @p1 Int = '7'
-- @p2 Int = '2'
-- @p3 Int = '51'
SELECT
    rx.SCRIPT_ID AS "id",
    p.PATIENT_ID AS "patient",
    p.FIRST_NAME AS "patient_first",
    p.SURNAME AS "patient_family",
    rx.STATUS AS "status",
    rx.SCRIPT_DATE AS "authored",
    rx.CANCEL_REASON AS "cancel_reason",
    rx.DRUG_NAME AS "drug",
    rx.STRENGTH AS "strength",
    rx.AMT_CODE AS "amt",
    rx.DOSE_TEXT AS "dose",
    rx.PRN AS "prn",
    rx.QUANTITY AS "quantity",
    rx.REPEATS AS "repeats",
    e.CONSULT_ID AS "encounter_id",
    d.DOCTOR_ID AS "practitioner_id",
    d.TITLE AS "practitioner_title",
    d.FIRST_NAME AS "practitioner_first",
    d.SURNAME AS "practitioner_family",
    rx.CREATED_AT AS "created",
    rx.UPDATED_AT AS "updated",
    rx.SCRIPT_ID AS "_k0"
FROM SCRIPT rx
JOIN PATIENT p ON p.PATIENT_ID = rx.PATIENT_ID AND p.DELETED = 0
LEFT JOIN DOCTOR d ON d.DOCTOR_ID = rx.DOCTOR_ID AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
LEFT JOIN CONSULT e ON e.CONSULT_ID = rx.CONSULT_ID AND e.DELETED = 0
WHERE rx.DELETED = 0
  AND e.CONSULT_ID = @p1
  AND rx.DOCTOR_ID = @p2
ORDER BY rx.SCRIPT_ID ASC
FETCH FIRST @p3 ROWS ONLY
