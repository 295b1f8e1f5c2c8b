{{/* MedicationRequest: one row per live SCRIPT of a live patient, with the prescriber and the live
    consultation it was written at. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    {{c "rx" "SCRIPT.SCRIPT_ID"}} AS "id",
    {{clinicalColumns}},
    {{c "rx" "SCRIPT.STATUS"}} AS "status",
    {{c "rx" "SCRIPT.CANCEL_REASON"}} AS "cancel_reason",
    {{c "rx" "SCRIPT.SCRIPT_DATE"}} AS "authored",
    {{c "rx" "SCRIPT.DRUG_NAME"}} AS "drug",
    {{c "rx" "SCRIPT.STRENGTH"}} AS "strength",
    {{c "rx" "SCRIPT.AMT_CODE"}} AS "amt",
    {{c "rx" "SCRIPT.DOSE_TEXT"}} AS "dose",
    {{c "rx" "SCRIPT.PRN"}} AS "prn",
    {{c "rx" "SCRIPT.QUANTITY"}} AS "quantity",
    {{c "rx" "SCRIPT.REPEATS"}} AS "repeats",
    {{c "e" "CONSULT.CONSULT_ID"}} AS "consult_id",
    {{c "rx" "SCRIPT.CREATED_AT"}} AS "created",
    {{c "rx" "SCRIPT.UPDATED_AT"}} AS "updated"{{.Keys}}{{end}}
FROM {{t "SCRIPT"}} rx
{{clinicalJoins "rx" "SCRIPT"}}
LEFT JOIN {{t "CONSULT"}} e ON {{c "e" "CONSULT.CONSULT_ID"}} = {{c "rx" "SCRIPT.CONSULT_ID"}} AND {{live "e" "CONSULT"}}
WHERE {{live "rx" "SCRIPT"}}{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
