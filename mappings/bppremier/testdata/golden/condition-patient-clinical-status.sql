-- Condition?patient=12&clinical-status=active
-- @p1 Int = '12'
-- @p2 Int = '51'
SELECT TOP (@p2)
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
  AND h."INTERNALID" = @p1
ORDER BY h."RECORDID" ASC
