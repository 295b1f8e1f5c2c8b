{{/* Schedule: one row per practitioner and location with live sessions (SESSIONS or EXTRASESSIONS), both still on file; the select list is scheduleCols. */ -}}
FROM (SELECT s."USERID", s."LOCATIONID" FROM "SESSIONS" s WHERE s."RECORDSTATUS" = 1
      UNION
      SELECT e."USERID", e."LOCATIONID" FROM "EXTRASESSIONS" e WHERE e."RECORDSTATUS" = 1) sc
JOIN "USERS" u ON u."USERID" = sc."USERID" AND {{clinical "u"}}
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
JOIN "LOCATIONS" l ON l."LOCATIONID" = sc."LOCATIONID" AND l."RECORDSTATUS" = 1
WHERE 1 = 1
