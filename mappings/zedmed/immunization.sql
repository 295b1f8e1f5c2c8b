{{/* Immunization: one row per live IMMUNISATION of a live patient, all given at the practice. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    {{c "i" "IMMUNISATION.IMMUNISATION_ID"}} AS "id",
    {{clinicalColumns}},
    {{c "i" "IMMUNISATION.VACCINE_NAME"}} AS "vaccine",
    {{c "i" "IMMUNISATION.AMT_CODE"}} AS "amt",
    {{c "i" "IMMUNISATION.BATCH_NO"}} AS "batch",
    {{c "i" "IMMUNISATION.DOSE_NO"}} AS "dose",
    {{c "i" "IMMUNISATION.SITE"}} AS "site",
    {{c "i" "IMMUNISATION.GIVEN_DATE"}} AS "given",
    {{c "i" "IMMUNISATION.CREATED_AT"}} AS "created",
    {{c "i" "IMMUNISATION.UPDATED_AT"}} AS "updated"{{.Keys}}{{end}}
FROM {{t "IMMUNISATION"}} i
{{clinicalJoins "i" "IMMUNISATION"}}
WHERE {{live "i" "IMMUNISATION"}}{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
