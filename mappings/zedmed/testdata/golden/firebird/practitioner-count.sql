-- Practitioner?_summary=count
-- count
SELECT COUNT(*) AS "total"
FROM DOCTOR d
WHERE (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
