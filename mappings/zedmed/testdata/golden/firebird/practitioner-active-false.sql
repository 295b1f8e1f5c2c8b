-- Practitioner?active=false
-- @p1 Int = '21'
SELECT
    d.DOCTOR_ID AS "id",
    d.IS_ACTIVE AS "status",
    d.TITLE AS "title",
    d.FIRST_NAME AS "first",
    d.SURNAME AS "family",
    d.HPII AS "hpii",
    d.AHPRA_NO AS "ahpra",
    (SELECT MIN(db.PROVIDER_NO) FROM DOCTOR_BRANCH db
        WHERE db.DOCTOR_ID = d.DOCTOR_ID AND db.DELETED = 0) AS "provider_no",
    d.PRESCRIBER_NO AS "prescriber_no",
    d.PHONE AS "phone",
    d.MOBILE AS "mobile",
    d.EMAIL AS "email",
    d.CREATED_AT AS "created",
    d.UPDATED_AT AS "updated",
    d.DOCTOR_ID AS "_k0"
FROM DOCTOR d
WHERE (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
  AND d.IS_ACTIVE <> 1
ORDER BY d.DOCTOR_ID ASC
FETCH FIRST @p1 ROWS ONLY
