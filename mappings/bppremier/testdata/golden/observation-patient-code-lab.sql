-- Observation?patient=12&code=4548-4
-- @p1 VarChar = '4548-4'
-- @p2 Int = '12'
-- @p3 Int = '51'
SELECT TOP (@p3)
    o."k" AS "k",
    o."src" AS "src",
    o."rid" AS "id",
    o."patient" AS "patient",
    p."FIRSTNAME" AS "patient_first",
    p."SURNAME" AS "patient_family",
    o."datacode" AS "type",
    o."loinc" AS "loinc",
    o."name" AS "name",
    o."value" AS "value",
    o."value2" AS "value2",
    o."units" AS "units",
    o."range" AS "range",
    o."flag" AS "flag",
    o."status" AS "status",
    o."effective" AS "effective",
    o."issued" AS "issued",
    o."report_id" AS "report_id",
    o."lab" AS "lab",
    u."USERID" AS "practitioner_id",
    ut."TITLE" AS "practitioner_title",
    u."FIRSTNAME" AS "practitioner_first",
    u."SURNAME" AS "practitioner_family",
    o."created" AS "created",
    o."updated" AS "updated",
    o."k" AS "_k0"
FROM (
    SELECT -r."RECORDID" AS "k", 2 AS "src", r."RECORDID" AS "rid", r."INTERNALID" AS "patient", 0 AS "datacode",
        r."LOINCCODE" AS "loinc", r."RESULTNAME" AS "name", r."RESULTVALUE" AS "value", '' AS "value2", r."UNITS" AS "units",
        r."RANGE" AS "range", r."ABNORMALFLAG" AS "flag",
        CASE WHEN i."COMPLETIONFLAG" = 0 THEN 'preliminary' ELSE 'final' END AS "status",
        COALESCE(i."COLLECTIONDATE", r."REPORTDATE") AS "effective",
        DATEADD(second, i."REPORTTIME", i."REPORTDATE") AS "issued",
        r."REPORTID" AS "report_id", i."PROVIDERNAME" AS "lab", 0 AS "user_id", r."CREATED" AS "created", r."UPDATED" AS "updated"
    FROM "REPORTVALUES" r
    LEFT JOIN "INVESTIGATIONS" i ON i."REPORTID" = r."REPORTID" AND i."RECORDSTATUS" = 1
    WHERE r."RECORDSTATUS" = 1 AND COALESCE(i."COLLECTIONDATE", r."REPORTDATE") IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM "INVESTIGATIONS" x WHERE x."REPORTID" = r."REPORTID" AND x."RECORDSTATUS" <> 1)
    UNION ALL
    SELECT v."RECORDID", 1, v."RECORDID", v."INTERNALID", v."DATACODE", '', v."DATANAME", v."DATAVALUE", d."DATAVALUE",
        '', '', '', 'final', DATEADD(second, v."OBSTIME", v."OBSDATE"), NULL, 0, '', v."USERID",
        v."CREATED", v."UPDATED"
    FROM "OBSERVATIONS" v
    LEFT JOIN "OBSERVATIONS" d ON v."DATACODE" = 3 AND d."RECORDID" = (SELECT MIN(x."RECORDID") FROM "OBSERVATIONS" x
        WHERE x."INTERNALID" = v."INTERNALID" AND x."OBSDATE" = v."OBSDATE" AND x."OBSTIME" = v."OBSTIME"
          AND x."DATACODE" = 4 AND x."RECORDSTATUS" = 1)
    WHERE v."RECORDSTATUS" = 1 AND v."OBSDATE" IS NOT NULL AND v."DATACODE" IN (1, 2, 3, 7, 8, 9, 10, 17)
    UNION ALL
    SELECT -1073741824 - c."INTERNALID", 3, c."INTERNALID", c."INTERNALID", c."SMOKINGSTATUS", '', '', '', '', '', '', '',
        'final', COALESCE(c."UPDATED", c."CREATED"), NULL, 0, '', 0, c."CREATED", c."UPDATED"
    FROM "CLINICAL" c
    WHERE c."SMOKINGSTATUS" IN (1, 2, 3)
    UNION ALL
    SELECT v."RECORDID", 1, v."RECORDID", v."INTERNALID", v."DATACODE", '', v."DATANAME", '', v."DATAVALUE", '', '', '',
        'final', DATEADD(second, v."OBSTIME", v."OBSDATE"), NULL, 0, '', v."USERID", v."CREATED", v."UPDATED"
    FROM "OBSERVATIONS" v
    WHERE v."RECORDSTATUS" = 1 AND v."OBSDATE" IS NOT NULL AND v."DATACODE" = 4
      AND NOT EXISTS (SELECT 1 FROM "OBSERVATIONS" x WHERE x."INTERNALID" = v."INTERNALID" AND x."OBSDATE" = v."OBSDATE"
          AND x."OBSTIME" = v."OBSTIME" AND x."DATACODE" = 3 AND x."RECORDSTATUS" = 1)
) o
JOIN "PATIENTS" p ON p."INTERNALID" = o."patient" AND p."RECORDSTATUS" = 1
LEFT JOIN "USERS" u ON u."USERID" = o."user_id" AND (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
WHERE 1 = 1
  AND o."loinc" = @p1
  AND o."patient" = @p2
ORDER BY o."k" ASC
