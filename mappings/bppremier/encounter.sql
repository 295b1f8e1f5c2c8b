{{/* Encounter: the live VISITS of live patients, with the visit type, the reasons recorded in
    VISITREASON (joined into one text, separated by the unit separator, character 31), the
    location and the practice; the select list is encounterCols. */ -}}
FROM "VISITS" v
JOIN "PATIENTS" p ON p."INTERNALID" = v."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "VISITTYPE" vt ON vt."VISITCODE" = v."VISITCODE"
LEFT JOIN "USERS" u ON u."USERID" = v."USERID" AND {{clinical "u"}}
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
LEFT JOIN "LOCATIONS" l ON l."LOCATIONID" = v."LOCATION" AND l."RECORDSTATUS" = 1
LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
WHERE v."RECORDSTATUS" = 1 AND v."VISITDATE" IS NOT NULL
