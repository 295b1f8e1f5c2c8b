-- Condition?patient.identifier=http://ns.electronichealth.net.au/id/medicare-number|29501012341&clinical-status=active
-- @p1 VarChar = '2950101234'
-- @p2 VarChar = '1'
-- @p3 Int = '51'
SELECT TOP (@p3)
    h."RECORDID" AS "id",
    h."INTERNALID" AS "patient",
    p."FIRSTNAME" AS "patient_first",
    p."SURNAME" AS "patient_family",
    h."YEAR" AS "year",
    h."MONTH" AS "month",
    h."DAY" AS "day",
    h."ITEMTEXT" AS "text",
    bh."SNOMED" AS "snomed",
    h."STATUSCODE" AS "status",
    h."SEVERITYCODE" AS "severity",
    h."PROVISIONAL" AS "provisional",
    h."DETAILS" AS "details",
    u."USERID" AS "practitioner_id",
    ut."TITLE" AS "practitioner_title",
    u."FIRSTNAME" AS "practitioner_first",
    u."SURNAME" AS "practitioner_family",
    h."CREATED" AS "created",
    h."UPDATED" AS "updated",
    h."RECORDID" AS "_k0"
FROM "PASTHISTORY" h
JOIN "PATIENTS" p ON p."INTERNALID" = h."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "BPS_History" bh ON bh."RECORDID" = h."RECORDID"
LEFT JOIN "USERS" u ON u."USERID" = h."USERID" AND (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
WHERE h."RECORDSTATUS" = 1
  AND h."STATUSCODE" = 1
  AND h."INTERNALID" IN (SELECT p."INTERNALID"
    FROM "PATIENTS" p
    LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
    WHERE p."RECORDSTATUS" = 1
      AND (REPLACE(p."MEDICARENO", ' ', '') = @p1 AND p."MEDICARELINENO" = @p2))
ORDER BY h."RECORDID" ASC
