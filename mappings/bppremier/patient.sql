{{/* Patient: one row per live PATIENTS record, with the lookups and the usual doctor it names (the select list is patientCols). */ -}}
FROM "PATIENTS" p
LEFT JOIN "TITLES" t ON t."TITLECODE" = p."TITLECODE"
LEFT JOIN "SEX" sx ON sx."SEXCODE" = p."SEXCODE"
LEFT JOIN "ETHNICITY" e ON e."ETHNICCODE" = p."ETHNICCODE"
LEFT JOIN "DVATYPE" dv ON dv."DVACODE" = p."DVACODE"
LEFT JOIN "USERS" u ON u."USERID" = p."USERID" AND {{clinical "u"}}
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
WHERE p."RECORDSTATUS" = 1
