-- Schedule?_count=5
-- after ["300001"]
-- @p1 Int = '300001'
-- @p2 Int = '6'
SELECT TOP (@p2)
    sc."USERID" AS "practitioner_id",
    sc."LOCATIONID" AS "location_id",
    ut."TITLE" AS "practitioner_title",
    u."FIRSTNAME" AS "practitioner_first",
    u."SURNAME" AS "practitioner_family",
    l."LOCATIONNAME" AS "location_name",
    CASE WHEN (u."USERSTATUS" = 1 AND EXISTS (SELECT 1 FROM "SESSIONS" x WHERE x."RECORDSTATUS" = 1 AND x."USERID" = sc."USERID" AND x."LOCATIONID" = sc."LOCATIONID" AND x."ENDDATE" IS NULL)) THEN 1 ELSE 0 END AS "active",
    sc."USERID" * 100000 + sc."LOCATIONID" AS "_k0"
FROM (SELECT s."USERID", s."LOCATIONID" FROM "SESSIONS" s WHERE s."RECORDSTATUS" = 1
      UNION
      SELECT e."USERID", e."LOCATIONID" FROM "EXTRASESSIONS" e WHERE e."RECORDSTATUS" = 1) sc
JOIN "USERS" u ON u."USERID" = sc."USERID" AND (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
JOIN "LOCATIONS" l ON l."LOCATIONID" = sc."LOCATIONID" AND l."RECORDSTATUS" = 1
WHERE 1 = 1
  AND sc."USERID" * 100000 + sc."LOCATIONID" > @p1
ORDER BY sc."USERID" * 100000 + sc."LOCATIONID" ASC
