{{/* MedicationStatement: the current medicines (CURRENTRX) of live patients: live rows, and
    rows taken off the list (not live, with a DELETIONDATE). The dose-frequency, food and
    other-detail texts come from BPS_CurrentRx (Bp keeps them in its reference data); the select list is medicationStatementCols. */ -}}
FROM "CURRENTRX" r
JOIN "PATIENTS" p ON p."INTERNALID" = r."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "BPS_CurrentRx" bc ON bc."RECORDID" = r."RECORDID"
WHERE (r."RECORDSTATUS" = 1 OR r."DELETIONDATE" IS NOT NULL)
