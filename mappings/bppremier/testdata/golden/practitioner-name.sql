-- Practitioner?name=smi
-- @p1 VarChar = 'smi%'
-- @p2 Int = '21'
SELECT TOP (@p2)
    u."USERID" AS "id",
    u."USERSTATUS" AS "status",
    t."TITLE" AS "title",
    u."FIRSTNAME" AS "first",
    u."SURNAME" AS "family",
    u."HPII" AS "hpii",
    u."REGISTRATIONNO" AS "ahpra",
    u."PROVIDERNO" AS "provider_no",
    u."PRESCRIBERNO" AS "prescriber_no",
    u."PHONE" AS "phone",
    u."FAX" AS "fax",
    u."PAGER" AS "pager",
    u."EMAIL" AS "email",
    u."CREATED" AS "created",
    u."UPDATED" AS "updated",
    u."USERID" AS "_k0"
FROM "USERS" u
LEFT JOIN "TITLES" t ON t."TITLECODE" = u."TITLECODE"
WHERE (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
  AND (u."SURNAME" LIKE @p1 ESCAPE '\' OR u."FIRSTNAME" LIKE @p1 ESCAPE '\')
ORDER BY u."USERID" ASC
