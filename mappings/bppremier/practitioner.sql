{{/* Practitioner: one row per live USERS record of a health practitioner (the rule is clinicalUser in codes.go; the select list is practitionerCols). */ -}}
FROM "USERS" u
LEFT JOIN "TITLES" t ON t."TITLECODE" = u."TITLECODE"
WHERE {{clinical "u"}}
