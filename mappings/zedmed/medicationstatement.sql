{{/* MedicationStatement: one row per live MEDICATION of a live patient: current ones active, stopped ones completed; the select list is medicationStatementCols. */ -}}
FROM {{t "MEDICATION"}} md
{{clinicalJoins "md" "MEDICATION"}}
WHERE {{live "md" "MEDICATION"}}
