-- MedicationRequest?patient=12&intent=order&authoredon=ge2025-07-01
-- @p1 DateTime2 = '2025-07-01T00:00:00'
-- @p2 Int = '12'
-- @p3 Int = '51'
SELECT TOP (@p3)
    i."RECORDID" AS "id",
    s."INTERNALID" AS "patient",
    p."FIRSTNAME" AS "patient_first",
    p."SURNAME" AS "patient_family",
    s."SCRIPTID" AS "script_id",
    s."RECORDSTATUS" AS "status",
    CASE WHEN (s."RECORDSTATUS" = 1 AND EXISTS (SELECT 1 FROM "CURRENTRX" c WHERE c."INTERNALID" = s."INTERNALID" AND c."PRODUCTID" = i."PRODUCTID" AND c."RECORDSTATUS" = 1 AND (c."LASTDATE" IS NULL OR c."LASTDATE" <= s."SCRIPTDATE"))) THEN 1 ELSE 0 END AS "active",
    s."SCRIPTDATE" AS "authored",
    s."DELETIONREASON" AS "cancel_reason",
    i."PRODUCTNAME" AS "drug",
    i."STRENGTH" AS "strength",
    i."PRODUCTDESCRIPTION" AS "description",
    i."DOSE" AS "dose",
    i."PRN" AS "prn",
    i."INSTRUCTIONS" AS "instructions",
    i."QUANTITY" AS "quantity",
    i."PRODUCTUNIT" AS "unit",
    i."REPEATS" AS "repeats",
    v."VISITID" AS "encounter_id",
    u."USERID" AS "practitioner_id",
    ut."TITLE" AS "practitioner_title",
    u."FIRSTNAME" AS "practitioner_first",
    u."SURNAME" AS "practitioner_family",
    i."CREATED" AS "created",
    i."UPDATED" AS "updated",
    i."RECORDID" AS "_k0"
FROM "SCRIPTITEMS" i
JOIN "PRESCRIPTIONS" s ON s."SCRIPTID" = i."SCRIPTID" AND (s."RECORDSTATUS" = 1 OR s."DELETIONDATE" IS NOT NULL)
JOIN "PATIENTS" p ON p."INTERNALID" = s."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "VISITS" v ON v."VISITID" = s."VisitId" AND v."RECORDSTATUS" = 1 AND v."VISITDATE" IS NOT NULL
LEFT JOIN "USERS" u ON u."USERID" = s."USERID" AND (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
WHERE i."RECORDSTATUS" = 1
  AND s."SCRIPTDATE" >= @p1
  AND 1 = 1
  AND s."INTERNALID" = @p2
ORDER BY i."RECORDID" ASC
