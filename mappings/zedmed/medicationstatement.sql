{{/* MedicationStatement: one row per live MEDICATION of a live patient: current ones active, stopped ones completed. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    {{c "md" "MEDICATION.MEDICATION_ID"}} AS "id",
    {{clinicalColumns}},
    {{c "md" "MEDICATION.DRUG_NAME"}} AS "drug",
    {{c "md" "MEDICATION.STRENGTH"}} AS "strength",
    {{c "md" "MEDICATION.AMT_CODE"}} AS "amt",
    {{c "md" "MEDICATION.DOSE_TEXT"}} AS "dose",
    {{c "md" "MEDICATION.START_DATE"}} AS "start",
    {{c "md" "MEDICATION.STOP_DATE"}} AS "stop",
    {{c "md" "MEDICATION.IS_CURRENT"}} AS "current",
    {{c "md" "MEDICATION.RECORDED_AT"}} AS "recorded",
    {{c "md" "MEDICATION.CREATED_AT"}} AS "created",
    {{c "md" "MEDICATION.UPDATED_AT"}} AS "updated"{{.Keys}}{{end}}
FROM {{t "MEDICATION"}} md
{{clinicalJoins "md" "MEDICATION"}}
WHERE {{live "md" "MEDICATION"}}{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
