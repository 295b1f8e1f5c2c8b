-- PractitionerRole?identifier=http://ns.electronichealth.net.au/id/medicare-provider-number|2426621B
-- @p1 VarChar = '2426621B'
-- @p2 Int = '21'
SELECT TOP (@p2)
    pl."RECORDID" AS "id",
    pl."PROVIDERNUMBER" AS "provider_no",
    u."USERID" AS "practitioner_id",
    u."USERSTATUS" AS "practitioner_status",
    u."GROUPCODE" AS "role",
    t."TITLE" AS "title",
    u."FIRSTNAME" AS "first",
    u."SURNAME" AS "family",
    u."PHONE" AS "phone",
    u."EMAIL" AS "email",
    l."LOCATIONID" AS "location_id",
    l."LOCATIONNAME" AS "location_name",
    pr."PRACTICEID" AS "org_id",
    pr."PRACTICENAME" AS "org_name",
    pr."HPIO" AS "org_hpio",
    pr."ABN" AS "org_abn",
    pl."CREATED" AS "created",
    pl."UPDATED" AS "updated",
    pl."RECORDID" AS "_k0"
FROM "PROVIDER_LOCATION" pl
JOIN "USERS" u ON u."USERID" = pl."USERID" AND (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
JOIN "LOCATIONS" l ON l."LOCATIONID" = pl."LOCATIONID" AND l."RECORDSTATUS" = 1
LEFT JOIN "TITLES" t ON t."TITLECODE" = u."TITLECODE"
LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
WHERE pl."RECORDSTATUS" = 1
  AND pl."PROVIDERNUMBER" = @p1
ORDER BY pl."RECORDID" ASC
