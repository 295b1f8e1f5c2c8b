{{/* Condition: one row per live PASTHISTORY item of a live patient, with the SNOMED CT code
    BPS_History shows for it (Bp takes it from its reference data). */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    h."RECORDID" AS "id",
    h."INTERNALID" AS "patient",
    {{patient "first"}} AS "patient_first",
    {{patient "family"}} AS "patient_family",
    h."YEAR" AS "year",
    h."MONTH" AS "month",
    h."DAY" AS "day",
    h."ITEMTEXT" AS "text",
    bh."SNOMED" AS "snomed",
    h."STATUSCODE" AS "status",
    h."SEVERITYCODE" AS "severity",
    h."PROVISIONAL" AS "provisional",
    h."DETAILS" AS "details",
    u."USERID" AS "user_id",
    ut."TITLE" AS "user_title",
    u."FIRSTNAME" AS "user_first",
    u."SURNAME" AS "user_family",
    h."CREATED" AS "created",
    h."UPDATED" AS "updated"{{.Keys}}{{end}}
FROM "PASTHISTORY" h
JOIN "PATIENTS" p ON p."INTERNALID" = h."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "BPS_History" bh ON bh."RECORDID" = h."RECORDID"
LEFT JOIN "USERS" u ON u."USERID" = h."USERID" AND {{clinical "u"}}
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
WHERE h."RECORDSTATUS" = 1{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
