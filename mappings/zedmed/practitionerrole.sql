{{/* PractitionerRole: one row per live DOCTOR_BRANCH record of a practitioner at a live branch. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    {{c "db" "DOCTOR_BRANCH.DOCTOR_BRANCH_ID"}} AS "id",
    {{c "db" "DOCTOR_BRANCH.PROVIDER_NO"}} AS "provider_no",
    {{c "d" "DOCTOR.DOCTOR_ID"}} AS "doctor_id",
    {{c "d" "DOCTOR.IS_ACTIVE"}} AS "doctor_active",
    {{c "d" "DOCTOR.DOCTOR_TYPE"}} AS "doctor_type",
    {{c "d" "DOCTOR.TITLE"}} AS "title",
    {{c "d" "DOCTOR.FIRST_NAME"}} AS "first",
    {{c "d" "DOCTOR.SURNAME"}} AS "family",
    {{c "d" "DOCTOR.PHONE"}} AS "phone",
    {{c "d" "DOCTOR.EMAIL"}} AS "email",
    {{c "l" "BRANCH.BRANCH_ID"}} AS "location_id",
    {{c "l" "BRANCH.BRANCH_NAME"}} AS "location_name",
    {{c "pr" "PRACTICE.PRACTICE_ID"}} AS "org_id",
    {{c "pr" "PRACTICE.PRACTICE_NAME"}} AS "org_name",
    {{c "pr" "PRACTICE.HPIO"}} AS "org_hpio",
    {{c "pr" "PRACTICE.ABN"}} AS "org_abn",
    {{c "db" "DOCTOR_BRANCH.CREATED_AT"}} AS "created",
    {{c "db" "DOCTOR_BRANCH.UPDATED_AT"}} AS "updated"{{.Keys}}{{end}}
FROM {{t "DOCTOR_BRANCH"}} db
JOIN {{t "DOCTOR"}} d ON {{c "d" "DOCTOR.DOCTOR_ID"}} = {{c "db" "DOCTOR_BRANCH.DOCTOR_ID"}} AND {{practitioner "d"}}
JOIN {{t "BRANCH"}} l ON {{c "l" "BRANCH.BRANCH_ID"}} = {{c "db" "DOCTOR_BRANCH.BRANCH_ID"}} AND {{live "l" "BRANCH"}}
LEFT JOIN {{t "PRACTICE"}} pr ON {{c "pr" "PRACTICE.PRACTICE_ID"}} = {{c "l" "BRANCH.PRACTICE_ID"}} AND {{live "pr" "PRACTICE"}}
WHERE {{live "db" "DOCTOR_BRANCH"}}{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
