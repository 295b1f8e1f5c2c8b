{{/* AllergyIntolerance: one row per live ALLERGY of a live patient. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    {{c "x" "ALLERGY.ALLERGY_ID"}} AS "id",
    {{clinicalColumns}},
    {{c "x" "ALLERGY.SUBSTANCE"}} AS "substance",
    {{c "x" "ALLERGY.SNOMED_CODE"}} AS "snomed",
    {{c "x" "ALLERGY.REACTION"}} AS "reaction",
    {{c "x" "ALLERGY.SEVERITY"}} AS "severity",
    {{c "x" "ALLERGY.CATEGORY"}} AS "category",
    {{c "x" "ALLERGY.ONSET_DATE"}} AS "onset",
    {{c "x" "ALLERGY.RECORDED_AT"}} AS "recorded",
    {{c "x" "ALLERGY.CREATED_AT"}} AS "created",
    {{c "x" "ALLERGY.UPDATED_AT"}} AS "updated"{{.Keys}}{{end}}
FROM {{t "ALLERGY"}} x
{{clinicalJoins "x" "ALLERGY"}}
WHERE {{live "x" "ALLERGY"}}{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
