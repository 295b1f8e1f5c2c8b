{{/* Practitioner: one row per DOCTOR who is a health practitioner (the rule is practitionerRule in codes.go; the select list is practitionerCols). */ -}}
FROM {{t "DOCTOR"}} d
WHERE {{practitioner "d"}}
