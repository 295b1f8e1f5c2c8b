{{/* AllergyIntolerance: one row per live ALLERGY of a live patient; the select list is allergyCols. */ -}}
FROM {{t "ALLERGY"}} x
{{clinicalJoins "x" "ALLERGY"}}
WHERE {{live "x" "ALLERGY"}}
