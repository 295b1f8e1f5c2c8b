-- Practitioner?_summary=count
-- count
SELECT COUNT(*) AS "total"
FROM "USERS" u
LEFT JOIN "TITLES" t ON t."TITLECODE" = u."TITLECODE"
WHERE (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
