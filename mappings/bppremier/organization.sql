{{/* Organization: the live PRACTICE row(s); address and contacts from the practice's main (first live) location. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    pr."PRACTICEID" AS "id",
    pr."PRACTICENAME" AS "name",
    pr."HPIO" AS "hpio",
    pr."ABN" AS "abn",
    l."ADDRESS1" AS "address1",
    l."ADDRESS2" AS "address2",
    l."CITY" AS "city",
    l."POSTCODE" AS "postcode",
    l."PHONE" AS "phone",
    l."FAX" AS "fax",
    l."EMAIL" AS "email",
    pr."CREATED" AS "created",
    pr."UPDATED" AS "updated"{{.Keys}}{{end}}
FROM "PRACTICE" pr
LEFT JOIN "LOCATIONS" l ON l."LOCATIONID" = (SELECT MIN(x."LOCATIONID") FROM "LOCATIONS" x WHERE x."RECORDSTATUS" = 1)
WHERE pr."RECORDSTATUS" = 1{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
