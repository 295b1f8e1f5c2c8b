{{/* Practitioner: one row per DOCTOR who is a health practitioner (the rule is practitionerRule in codes.go). */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    {{c "d" "DOCTOR.DOCTOR_ID"}} AS "id",
    {{c "d" "DOCTOR.IS_ACTIVE"}} AS "active",
    {{c "d" "DOCTOR.TITLE"}} AS "title",
    {{c "d" "DOCTOR.FIRST_NAME"}} AS "first",
    {{c "d" "DOCTOR.SURNAME"}} AS "family",
    {{c "d" "DOCTOR.HPII"}} AS "hpii",
    {{c "d" "DOCTOR.AHPRA_NO"}} AS "ahpra",
    {{c "d" "DOCTOR.PRESCRIBER_NO"}} AS "prescriber_no",
    (SELECT MIN({{c "db" "DOCTOR_BRANCH.PROVIDER_NO"}}) FROM {{t "DOCTOR_BRANCH"}} db
        WHERE {{c "db" "DOCTOR_BRANCH.DOCTOR_ID"}} = {{c "d" "DOCTOR.DOCTOR_ID"}} AND {{live "db" "DOCTOR_BRANCH"}}) AS "provider_no",
    {{c "d" "DOCTOR.PHONE"}} AS "phone",
    {{c "d" "DOCTOR.MOBILE"}} AS "mobile",
    {{c "d" "DOCTOR.EMAIL"}} AS "email",
    {{c "d" "DOCTOR.CREATED_AT"}} AS "created",
    {{c "d" "DOCTOR.UPDATED_AT"}} AS "updated"{{.Keys}}{{end}}
FROM {{t "DOCTOR"}} d
WHERE {{practitioner "d"}}{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
