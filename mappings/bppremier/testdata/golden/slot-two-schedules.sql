-- Slot?schedule=Schedule/3-1,Schedule/4-2&start=ge2026-06-15T12:00&start=le2026-06-16&status=busy,busy-unavailable
-- @p1 DateTime2 = '2026-06-15T00:00:00'
-- @p2 Int = '2'
-- @p3 DateTime2 = '2026-06-16T00:00:00'
-- @p4 Int = '3'
-- @p5 Int = '3'
-- @p6 Int = '1'
-- @p7 Int = '4'
-- @p8 Int = '2'
-- @p9 DateTime2 = '2026-06-15T00:00:00'
-- @p10 Int = '43200'
-- @p11 DateTime2 = '2026-06-17T00:00:00'
-- @p12 Int = '0'
-- @p13 VarChar = 'busy'
-- @p14 VarChar = 'busy-unavailable'
-- @p15 Int = '101'
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
      AND ((s."USERID" = @p5 AND s."LOCATIONID" = @p6) OR (s."USERID" = @p7 AND s."LOCATIONID" = @p8))
    UNION ALL
    SELECT e."USERID", e."LOCATIONID", d."day",
        e."STARTTIME" + k."n" * e."LENGTH", e."LENGTH"
    FROM "EXTRASESSIONS" e
    JOIN "days" d ON d."day" = e."SESSIONDATE"
    JOIN "numbers" k ON e."STARTTIME" + (k."n" + 1) * e."LENGTH" <= e."ENDTIME"
    WHERE e."RECORDSTATUS" = 1 AND e."LENGTH" > 0
      AND ((e."USERID" = @p5 AND e."LOCATIONID" = @p6) OR (e."USERID" = @p7 AND e."LOCATIONID" = @p8))
),
"slots" AS (
    SELECT g."practitioner_id", g."location_id", g."day", g."secs", MIN(g."length") AS "length"
    FROM "grid" g
    JOIN "USERS" u ON u."USERID" = g."practitioner_id" AND (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
    JOIN "LOCATIONS" l ON l."LOCATIONID" = g."location_id" AND l."RECORDSTATUS" = 1
    WHERE NOT EXISTS (SELECT 1 FROM "DAYSAWAY" w
        WHERE w."RECORDSTATUS" = 1 AND w."USERID" = g."practitioner_id" AND w."STARTDATE" <= g."day" AND w."FINISHDATE" >= g."day")
      AND (g."day" > @p9 OR (g."day" = @p9 AND g."secs" >= @p10))
      AND (g."day" < @p11 OR (g."day" = @p11 AND g."secs" < @p12))
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
SELECT TOP (@p15)
    t."practitioner_id" AS "practitioner_id",
    t."location_id" AS "location_id",
    t."day" AS "day",
    t."secs" AS "secs",
    t."length" AS "length",
    t."status" AS "status"
FROM "slot" t
WHERE 1 = 1
  AND t."status" IN (@p13, @p14)
ORDER BY t."practitioner_id", t."location_id", t."day", t."secs"
