{{/* Practitioner: one row per live USERS record of a health practitioner (the rule is clinicalUser in codes.go). */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
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
    u."UPDATED" AS "updated"{{.Keys}}{{end}}
FROM "USERS" u
LEFT JOIN "TITLES" t ON t."TITLECODE" = u."TITLECODE"
WHERE {{clinical "u"}}{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
