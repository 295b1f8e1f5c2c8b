{{/* MedicationRequest: one row per live SCRIPTITEMS item of a prescription (PRESCRIPTIONS)
    written for a live patient: live scripts, and scripts deleted with a DELETIONDATE; the select list is medicationRequestCols. */ -}}
FROM "SCRIPTITEMS" i
JOIN "PRESCRIPTIONS" s ON s."SCRIPTID" = i."SCRIPTID" AND (s."RECORDSTATUS" = 1 OR s."DELETIONDATE" IS NOT NULL)
JOIN "PATIENTS" p ON p."INTERNALID" = s."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "VISITS" v ON v."VISITID" = s."VisitId" AND v."RECORDSTATUS" = 1 AND v."VISITDATE" IS NOT NULL
LEFT JOIN "USERS" u ON u."USERID" = s."USERID" AND {{clinical "u"}}
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
WHERE i."RECORDSTATUS" = 1
