{{/* Immunization: the live IMMUNISATIONS rows of live patients. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    m."RECORDID" AS "id",
    m."INTERNALID" AS "patient",
    {{patient "first"}} AS "patient_first",
    {{patient "family"}} AS "patient_family",
    m."GIVENDATE" AS "given",
    m."NOTGIVENHERE" AS "elsewhere",
    m."VACCINENAME" AS "vaccine",
    m."BATCHNUMBER" AS "batch",
    m."EXPIRYDATE" AS "expiry",
    m."SEQUENCE" AS "sequence",
    m."COMMENT" AS "comment",
    v."VISITID" AS "visit_id",
    u."USERID" AS "user_id",
    ut."TITLE" AS "user_title",
    u."FIRSTNAME" AS "user_first",
    u."SURNAME" AS "user_family",
    l."LOCATIONID" AS "location_id",
    l."LOCATIONNAME" AS "location_name",
    m."CREATED" AS "created",
    m."UPDATED" AS "updated"{{.Keys}}{{end}}
FROM "IMMUNISATIONS" m
JOIN "PATIENTS" p ON p."INTERNALID" = m."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "USERS" u ON u."USERID" = m."ADMINISTEREDBY" AND m."NOTGIVENHERE" = 0 AND {{clinical "u"}}
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
LEFT JOIN "VISITS" v ON v."VISITID" = m."VisitId" AND v."RECORDSTATUS" = 1 AND v."VISITDATE" IS NOT NULL
LEFT JOIN "LOCATIONS" l ON l."LOCATIONID" = m."ADMINISTEREDBYLOCATIONID" AND m."NOTGIVENHERE" = 0 AND l."RECORDSTATUS" = 1
WHERE m."RECORDSTATUS" = 1{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
