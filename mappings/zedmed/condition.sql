{{/* Condition: one row per live PROBLEM of a live patient: the problem list; the select list is conditionCols. */ -}}
FROM {{t "PROBLEM"}} h
{{clinicalJoins "h" "PROBLEM"}}
WHERE {{live "h" "PROBLEM"}}
