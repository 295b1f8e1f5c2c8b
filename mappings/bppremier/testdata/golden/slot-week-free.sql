-- Slot?schedule=Schedule/3-1&start=ge2026-06-15&start=lt2026-06-22&status=free&_include=Slot:schedule
-- @p1 DateTime2 = '2026-06-15T00:00:00'
-- @p2 Int = '2'
-- @p3 DateTime2 = '2026-06-16T00:00:00'
-- @p4 Int = '3'
-- @p5 DateTime2 = '2026-06-17T00:00:00'
-- @p6 Int = '4'
-- @p7 DateTime2 = '2026-06-18T00:00:00'
-- @p8 Int = '5'
-- @p9 DateTime2 = '2026-06-19T00:00:00'
-- @p10 Int = '6'
-- @p11 DateTime2 = '2026-06-20T00:00:00'
-- @p12 Int = '7'
-- @p13 DateTime2 = '2026-06-21T00:00:00'
-- @p14 Int = '1'
-- @p15 Int = '3'
-- @p16 Int = '1'
-- @p17 DateTime2 = '2026-06-15T00:00:00'
-- @p18 Int = '0'
-- @p19 DateTime2 = '2026-06-22T00:00:00'
-- @p20 Int = '0'
-- @p21 VarChar = 'free'
-- @p22 Int = '101'
WITH "digits" AS (
    SELECT 0 AS "n" UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
    UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9
),
"numbers" AS (
    SELECT n1."n" + 10 * n2."n" + 100 * n3."n" AS "n"
    FROM "digits" n1 CROSS JOIN "digits" n2 CROSS JOIN "digits" n3
),
"days" AS (
    SELECT CAST(@p1 AS datetime2) AS "day", CAST(@p2 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p3 AS datetime2) AS "day", CAST(@p4 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p5 AS datetime2) AS "day", CAST(@p6 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p7 AS datetime2) AS "day", CAST(@p8 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p9 AS datetime2) AS "day", CAST(@p10 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p11 AS datetime2) AS "day", CAST(@p12 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p13 AS datetime2) AS "day", CAST(@p14 AS INTEGER) AS "dow"
),
"grid" AS (
    SELECT s."USERID" AS "practitioner_id", s."LOCATIONID" AS "location_id", d."day" AS "day",
        s."STARTTIME" + k."n" * s."LENGTH" AS "secs", s."LENGTH" AS "length"
    FROM "SESSIONS" s
    JOIN "days" d ON d."dow" = s."DAYOFWEEK"
    JOIN "numbers" k ON s."STARTTIME" + (k."n" + 1) * s."LENGTH" <= s."ENDTIME"
    WHERE s."RECORDSTATUS" = 1 AND s."LENGTH" > 0
      AND (s."STARTDATE" IS NULL OR s."STARTDATE" <= d."day")
      AND (s."ENDDATE" IS NULL OR s."ENDDATE" >= d."day")
      AND (s."USERID" = @p15 AND s."LOCATIONID" = @p16)
    UNION ALL
    SELECT e."USERID", e."LOCATIONID", d."day",
        e."STARTTIME" + k."n" * e."LENGTH", e."LENGTH"
    FROM "EXTRASESSIONS" e
    JOIN "days" d ON d."day" = e."SESSIONDATE"
    JOIN "numbers" k ON e."STARTTIME" + (k."n" + 1) * e."LENGTH" <= e."ENDTIME"
    WHERE e."RECORDSTATUS" = 1 AND e."LENGTH" > 0
      AND (e."USERID" = @p15 AND e."LOCATIONID" = @p16)
),
"slots" AS (
    SELECT g."practitioner_id", g."location_id", g."day", g."secs", MIN(g."length") AS "length"
    FROM "grid" g
    JOIN "USERS" u ON u."USERID" = g."practitioner_id" AND (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
    JOIN "LOCATIONS" l ON l."LOCATIONID" = g."location_id" AND l."RECORDSTATUS" = 1
    WHERE NOT EXISTS (SELECT 1 FROM "DAYSAWAY" w
        WHERE w."RECORDSTATUS" = 1 AND w."USERID" = g."practitioner_id" AND w."STARTDATE" <= g."day" AND w."FINISHDATE" >= g."day")
      AND (g."day" > @p17 OR (g."day" = @p17 AND g."secs" >= @p18))
      AND (g."day" < @p19 OR (g."day" = @p19 AND g."secs" < @p20))
    GROUP BY g."practitioner_id", g."location_id", g."day", g."secs"
),
"slot" AS (
    SELECT x."practitioner_id", x."location_id", x."day", x."secs", x."length",
        CASE WHEN EXISTS (SELECT 1 FROM "APPOINTMENTS" a
                WHERE a."USERID" = x."practitioner_id" AND a."APPOINTMENTDATE" = x."day" AND a."RECORDSTATUS" = 1 AND a."INTERNALID" <> 0
                  AND a."APPOINTMENTTIME" < x."secs" + x."length" AND a."APPOINTMENTTIME" + a."APPOINTMENTLENGTH" > x."secs") THEN 'busy'
            WHEN EXISTS (SELECT 1 FROM "APPOINTMENTS" a
                WHERE a."USERID" = x."practitioner_id" AND a."APPOINTMENTDATE" = x."day" AND a."RECORDSTATUS" = 1 AND a."INTERNALID" = 0
                  AND a."APPOINTMENTTIME" < x."secs" + x."length" AND a."APPOINTMENTTIME" + a."APPOINTMENTLENGTH" > x."secs") THEN 'busy-unavailable'
            ELSE 'free' END AS "status"
    FROM "slots" x
)
SELECT TOP (@p22)
    t."practitioner_id" AS "practitioner_id",
    t."location_id" AS "location_id",
    t."day" AS "day",
    t."secs" AS "secs",
    t."length" AS "length",
    t."status" AS "status"
FROM "slot" t
WHERE 1 = 1
  AND t."status" IN (@p21)
ORDER BY t."practitioner_id", t."location_id", t."day", t."secs"
