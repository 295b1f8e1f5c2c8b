{{/* MedicationStatement: the current medicines (CURRENTRX) of live patients: live rows, and
    rows taken off the list (not live, with a DELETIONDATE). The dose-frequency, food and
    other-detail texts come from BPS_CurrentRx (Bp keeps them in its reference data). */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    r."RECORDID" AS "id",
    r."INTERNALID" AS "patient",
    {{patient "first"}} AS "patient_first",
    {{patient "family"}} AS "patient_family",
    r."RECORDSTATUS" AS "record_status",
    r."DRUGNAME" AS "drug",
    r."RXSTATUS" AS "rx_status",
    r."DOSE" AS "dose",
    bc."Frequency" AS "frequency",
    bc."Food" AS "food",
    bc."OtherDetail" AS "other",
    r."PRN" AS "prn",
    r."INSTRUCTIONS" AS "instructions",
    r."QUANTITY" AS "quantity",
    r."PRODUCTUNIT" AS "unit",
    r."REPEATS" AS "repeats",
    r."INDICATION" AS "indication",
    r."FIRSTDATE" AS "first_date",
    r."LASTDATE" AS "last_date",
    r."DELETIONDATE" AS "deleted",
    r."DELETIONREASON" AS "deletion_reason",
    r."COMMENT" AS "comment",
    r."CREATED" AS "created",
    r."UPDATED" AS "updated"{{.Keys}}{{end}}
FROM "CURRENTRX" r
JOIN "PATIENTS" p ON p."INTERNALID" = r."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "BPS_CurrentRx" bc ON bc."RECORDID" = r."RECORDID"
WHERE (r."RECORDSTATUS" = 1 OR r."DELETIONDATE" IS NOT NULL){{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
