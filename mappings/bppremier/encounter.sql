{{/* Encounter: the live VISITS of live patients, with the visit type, the reasons recorded in
    VISITREASON (joined into one text, separated by the unit separator, character 31), the
    location and the practice. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    v."VISITID" AS "id",
    v."INTERNALID" AS "patient",
    {{patient "first"}} AS "patient_first",
    {{patient "family"}} AS "patient_family",
    v."VISITCODE" AS "visit_code",
    vt."VISITTYPE" AS "visit_type",
    v."VISITDATE" AS "visit_date",
    v."STARTTIME" AS "start_time",
    v."ENDTIME" AS "end_time",
    {{addSeconds .Dialect "v.\"VISITDATE\"" "v.\"STARTTIME\""}} AS "start",
    {{addSeconds .Dialect "v.\"VISITDATE\"" "v.\"ENDTIME\""}} AS "end",
    {{reasons .Dialect}} AS "reasons",
    u."USERID" AS "user_id",
    ut."TITLE" AS "user_title",
    u."FIRSTNAME" AS "user_first",
    u."SURNAME" AS "user_family",
    l."LOCATIONID" AS "location_id",
    l."LOCATIONNAME" AS "location_name",
    pr."PRACTICEID" AS "org_id",
    pr."PRACTICENAME" AS "org_name",
    v."CREATED" AS "created",
    v."UPDATED" AS "updated"{{.Keys}}{{end}}
FROM "VISITS" v
JOIN "PATIENTS" p ON p."INTERNALID" = v."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "VISITTYPE" vt ON vt."VISITCODE" = v."VISITCODE"
LEFT JOIN "USERS" u ON u."USERID" = v."USERID" AND {{clinical "u"}}
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
LEFT JOIN "LOCATIONS" l ON l."LOCATIONID" = v."LOCATION" AND l."RECORDSTATUS" = 1
LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
WHERE v."RECORDSTATUS" = 1 AND v."VISITDATE" IS NOT NULL{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
