-- PractitionerRole?practitioner.identifier=http://ns.electronichealth.net.au/id/hi/hpii/1.0|8003614900040155
-- @p1 VarChar = '8003614900040155'
-- @p2 Int = '21'
SELECT
    db.DOCTOR_BRANCH_ID AS "id",
    db.PROVIDER_NO AS "provider_no",
    d.DOCTOR_ID AS "practitioner_id",
    d.IS_ACTIVE AS "practitioner_status",
    d.DOCTOR_TYPE AS "role",
    d.TITLE AS "title",
    d.FIRST_NAME AS "first",
    d.SURNAME AS "family",
    d.PHONE AS "phone",
    d.EMAIL AS "email",
    l.BRANCH_ID AS "location_id",
    l.BRANCH_NAME AS "location_name",
    pr.PRACTICE_ID AS "org_id",
    pr.PRACTICE_NAME AS "org_name",
    pr.HPIO AS "org_hpio",
    pr.ABN AS "org_abn",
    db.CREATED_AT AS "created",
    db.UPDATED_AT AS "updated",
    db.DOCTOR_BRANCH_ID AS "_k0"
FROM DOCTOR_BRANCH db
JOIN DOCTOR d ON d.DOCTOR_ID = db.DOCTOR_ID AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
JOIN BRANCH l ON l.BRANCH_ID = db.BRANCH_ID AND l.DELETED = 0
LEFT JOIN PRACTICE pr ON pr.PRACTICE_ID = l.PRACTICE_ID AND pr.DELETED = 0
WHERE db.DELETED = 0
  AND db.DOCTOR_ID IN (SELECT d.DOCTOR_ID
    FROM DOCTOR d
    WHERE (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
      AND UPPER(d.HPII) = UPPER(CAST(@p1 AS VARCHAR(4096))))
ORDER BY db.DOCTOR_BRANCH_ID ASC
FETCH FIRST @p2 ROWS ONLY
