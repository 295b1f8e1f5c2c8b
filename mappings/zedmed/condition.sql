{{/* Condition: one row per live PROBLEM of a live patient: the problem list. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    {{c "h" "PROBLEM.PROBLEM_ID"}} AS "id",
    {{clinicalColumns}},
    {{c "h" "PROBLEM.DESCRIPTION"}} AS "text",
    {{c "h" "PROBLEM.SNOMED_CODE"}} AS "snomed",
    {{c "h" "PROBLEM.ONSET_DATE"}} AS "onset",
    {{c "h" "PROBLEM.RESOLVED_DATE"}} AS "resolved",
    {{c "h" "PROBLEM.IS_ACTIVE"}} AS "active",
    {{c "h" "PROBLEM.RECORDED_AT"}} AS "recorded",
    {{c "h" "PROBLEM.CREATED_AT"}} AS "created",
    {{c "h" "PROBLEM.UPDATED_AT"}} AS "updated"{{.Keys}}{{end}}
FROM {{t "PROBLEM"}} h
{{clinicalJoins "h" "PROBLEM"}}
WHERE {{live "h" "PROBLEM"}}{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
