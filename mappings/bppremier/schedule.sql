{{/* Schedule: one row per practitioner and location with live sessions (SESSIONS or EXTRASESSIONS), both still on file. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    sc."USERID" AS "user_id",
    sc."LOCATIONID" AS "location_id",
    ut."TITLE" AS "user_title",
    u."FIRSTNAME" AS "user_first",
    u."SURNAME" AS "user_family",
    l."LOCATIONNAME" AS "location_name",
    CASE WHEN {{scheduleActive}} THEN 1 ELSE 0 END AS "active"{{.Keys}}{{end}}
FROM (SELECT s."USERID", s."LOCATIONID" FROM "SESSIONS" s WHERE s."RECORDSTATUS" = 1
      UNION
      SELECT e."USERID", e."LOCATIONID" FROM "EXTRASESSIONS" e WHERE e."RECORDSTATUS" = 1) sc
JOIN "USERS" u ON u."USERID" = sc."USERID" AND {{clinical "u"}}
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
JOIN "LOCATIONS" l ON l."LOCATIONID" = sc."LOCATIONID" AND l."RECORDSTATUS" = 1
WHERE 1 = 1{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
