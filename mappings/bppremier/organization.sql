{{/* Organization: the live PRACTICE row(s); address and contacts from the practice's main (first live) location (the select list is organizationCols). */ -}}
FROM "PRACTICE" pr
LEFT JOIN "LOCATIONS" l ON l."LOCATIONID" = (SELECT MIN(x."LOCATIONID") FROM "LOCATIONS" x WHERE x."RECORDSTATUS" = 1)
WHERE pr."RECORDSTATUS" = 1
