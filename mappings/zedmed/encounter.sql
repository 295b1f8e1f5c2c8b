{{/* Encounter: one row per live CONSULT of a live patient, with the doctor seen, the live branch, the
    live appointment it came from and the practice. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    {{c "e" "CONSULT.CONSULT_ID"}} AS "id",
    {{clinicalColumns}},
    {{c "e" "CONSULT.CONSULT_TYPE"}} AS "consult_type",
    {{c "e" "CONSULT.START_AT"}} AS "start",
    {{c "e" "CONSULT.END_AT"}} AS "end",
    {{c "e" "CONSULT.REASON"}} AS "reason",
    {{c "ap" "APPOINTMENT.APPT_ID"}} AS "appt_id",
    {{c "l" "BRANCH.BRANCH_ID"}} AS "location_id",
    {{c "l" "BRANCH.BRANCH_NAME"}} AS "location_name",
    {{c "pr" "PRACTICE.PRACTICE_ID"}} AS "org_id",
    {{c "pr" "PRACTICE.PRACTICE_NAME"}} AS "org_name",
    {{c "e" "CONSULT.CREATED_AT"}} AS "created",
    {{c "e" "CONSULT.UPDATED_AT"}} AS "updated"{{.Keys}}{{end}}
FROM {{t "CONSULT"}} e
{{clinicalJoins "e" "CONSULT"}}
LEFT JOIN {{t "BRANCH"}} l ON {{c "l" "BRANCH.BRANCH_ID"}} = {{c "e" "CONSULT.BRANCH_ID"}} AND {{live "l" "BRANCH"}}
LEFT JOIN {{t "APPOINTMENT"}} ap ON {{c "ap" "APPOINTMENT.APPT_ID"}} = {{c "e" "CONSULT.APPT_ID"}} AND {{live "ap" "APPOINTMENT"}}
{{practice}}
WHERE {{live "e" "CONSULT"}} AND {{c "e" "CONSULT.START_AT"}} IS NOT NULL{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
