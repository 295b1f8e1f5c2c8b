{{/* MedicationRequest: one row per live SCRIPT of a live patient, with the prescriber and the live
    consultation it was written at; the select list is medicationRequestCols. */ -}}
FROM {{t "SCRIPT"}} rx
{{clinicalJoins "rx" "SCRIPT"}}
LEFT JOIN {{t "CONSULT"}} e ON {{c "e" "CONSULT.CONSULT_ID"}} = {{c "rx" "SCRIPT.CONSULT_ID"}} AND {{live "e" "CONSULT"}}
WHERE {{live "rx" "SCRIPT"}}
