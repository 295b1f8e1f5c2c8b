{{/* Location: one row per live LOCATIONS record, managed by the practice (the select list is locationCols). */ -}}
FROM "LOCATIONS" l
LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
WHERE l."RECORDSTATUS" = 1
