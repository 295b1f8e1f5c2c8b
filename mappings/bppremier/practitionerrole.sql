{{/* PractitionerRole: one row per live PROVIDER_LOCATION record of a practitioner at a live location (the select list is practitionerRoleCols). */ -}}
FROM "PROVIDER_LOCATION" pl
JOIN "USERS" u ON u."USERID" = pl."USERID" AND {{clinical "u"}}
JOIN "LOCATIONS" l ON l."LOCATIONID" = pl."LOCATIONID" AND l."RECORDSTATUS" = 1
LEFT JOIN "TITLES" t ON t."TITLECODE" = u."TITLECODE"
LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
WHERE pl."RECORDSTATUS" = 1
