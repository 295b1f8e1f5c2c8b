{{/* Immunization: one row per live IMMUNISATION of a live patient, all given at the practice; the select list is immunizationCols. */ -}}
FROM {{t "IMMUNISATION"}} i
{{clinicalJoins "i" "IMMUNISATION"}}
WHERE {{live "i" "IMMUNISATION"}}
