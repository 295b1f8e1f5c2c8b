{{/* Observation: one row per live MEASUREMENT of a live patient whose MEAS_TYPE is a mapped vital sign. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    {{c "m" "MEASUREMENT.MEASUREMENT_ID"}} AS "id",
    {{clinicalColumns}},
    {{c "m" "MEASUREMENT.MEAS_TYPE"}} AS "type",
    {{c "m" "MEASUREMENT.MEASURED_AT"}} AS "effective",
    {{c "m" "MEASUREMENT.VALUE_1"}} AS "value1",
    {{c "m" "MEASUREMENT.VALUE_2"}} AS "value2",
    {{c "m" "MEASUREMENT.CREATED_AT"}} AS "created",
    {{c "m" "MEASUREMENT.UPDATED_AT"}} AS "updated"{{.Keys}}{{end}}
FROM {{t "MEASUREMENT"}} m
{{clinicalJoins "m" "MEASUREMENT"}}
WHERE {{live "m" "MEASUREMENT"}} AND {{c "m" "MEASUREMENT.MEAS_TYPE"}} IN ({{vitalTypes}}) AND {{c "m" "MEASUREMENT.VALUE_1"}} IS NOT NULL{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
