{{/* PractitionerRole: one row per live PROVIDER_LOCATION record of a practitioner at a live location. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    pl."RECORDID" AS "id",
    pl."PROVIDERNUMBER" AS "provider_no",
    u."USERID" AS "user_id",
    u."USERSTATUS" AS "user_status",
    u."GROUPCODE" AS "group",
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
    pl."UPDATED" AS "updated"{{.Keys}}{{end}}
FROM "PROVIDER_LOCATION" pl
JOIN "USERS" u ON u."USERID" = pl."USERID" AND {{clinical "u"}}
JOIN "LOCATIONS" l ON l."LOCATIONID" = pl."LOCATIONID" AND l."RECORDSTATUS" = 1
LEFT JOIN "TITLES" t ON t."TITLECODE" = u."TITLECODE"
LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
WHERE pl."RECORDSTATUS" = 1{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
