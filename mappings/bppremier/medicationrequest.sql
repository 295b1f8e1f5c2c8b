{{/* MedicationRequest: one row per live SCRIPTITEMS item of a prescription (PRESCRIPTIONS)
    written for a live patient: live scripts, and scripts deleted with a DELETIONDATE. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    i."RECORDID" AS "id",
    s."INTERNALID" AS "patient",
    {{patient "first"}} AS "patient_first",
    {{patient "family"}} AS "patient_family",
    s."SCRIPTID" AS "script_id",
    s."RECORDSTATUS" AS "record_status",
    CASE WHEN {{active}} THEN 1 ELSE 0 END AS "active",
    s."SCRIPTDATE" AS "authored",
    s."DELETIONREASON" AS "deletion_reason",
    i."PRODUCTNAME" AS "product",
    i."STRENGTH" AS "strength",
    i."PRODUCTDESCRIPTION" AS "description",
    i."DOSE" AS "dose",
    i."PRN" AS "prn",
    i."INSTRUCTIONS" AS "instructions",
    i."QUANTITY" AS "quantity",
    i."PRODUCTUNIT" AS "unit",
    i."REPEATS" AS "repeats",
    v."VISITID" AS "visit_id",
    u."USERID" AS "user_id",
    ut."TITLE" AS "user_title",
    u."FIRSTNAME" AS "user_first",
    u."SURNAME" AS "user_family",
    i."CREATED" AS "created",
    i."UPDATED" AS "updated"{{.Keys}}{{end}}
FROM "SCRIPTITEMS" i
JOIN "PRESCRIPTIONS" s ON s."SCRIPTID" = i."SCRIPTID" AND (s."RECORDSTATUS" = 1 OR s."DELETIONDATE" IS NOT NULL)
JOIN "PATIENTS" p ON p."INTERNALID" = s."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "VISITS" v ON v."VISITID" = s."VisitId" AND v."RECORDSTATUS" = 1 AND v."VISITDATE" IS NOT NULL
LEFT JOIN "USERS" u ON u."USERID" = s."USERID" AND {{clinical "u"}}
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
WHERE i."RECORDSTATUS" = 1{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
