{{/* Observation: one row per live MEASUREMENT of a live patient whose MEAS_TYPE is a mapped vital sign; the select list is observationCols. */ -}}
FROM {{t "MEASUREMENT"}} m
{{clinicalJoins "m" "MEASUREMENT"}}
WHERE {{live "m" "MEASUREMENT"}} AND {{c "m" "MEASUREMENT.MEAS_TYPE"}} IN ({{vitalTypes}}) AND {{c "m" "MEASUREMENT.VALUE_1"}} IS NOT NULL
