-- MedicationStatement?patient=12&effective=ge2024-01-01
-- @p1 DateTime2 = '2024-01-01T00:00:00'
-- @p2 Int = '12'
-- @p3 Int = '51'
SELECT TOP (@p3)
    r."RECORDID" AS "id",
    r."INTERNALID" AS "patient",
    p."FIRSTNAME" AS "patient_first",
    p."SURNAME" AS "patient_family",
    r."RECORDSTATUS" AS "status",
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
    r."FIRSTDATE" AS "start",
    r."LASTDATE" AS "last_date",
    r."DELETIONDATE" AS "stop",
    r."DELETIONREASON" AS "stop_reason",
    r."COMMENT" AS "comment",
    r."CREATED" AS "created",
    r."UPDATED" AS "updated",
    r."RECORDID" AS "_k0"
FROM "CURRENTRX" r
JOIN "PATIENTS" p ON p."INTERNALID" = r."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "BPS_CurrentRx" bc ON bc."RECORDID" = r."RECORDID"
WHERE (r."RECORDSTATUS" = 1 OR r."DELETIONDATE" IS NOT NULL)
  AND r."FIRSTDATE" >= @p1
  AND r."INTERNALID" = @p2
ORDER BY r."RECORDID" ASC
