{{/* Condition: one row per live PASTHISTORY item of a live patient, with the SNOMED CT code
    BPS_History shows for it (Bp takes it from its reference data); the select list is conditionCols. */ -}}
FROM "PASTHISTORY" h
JOIN "PATIENTS" p ON p."INTERNALID" = h."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "BPS_History" bh ON bh."RECORDID" = h."RECORDID"
LEFT JOIN "USERS" u ON u."USERID" = h."USERID" AND {{clinical "u"}}
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
WHERE h."RECORDSTATUS" = 1
