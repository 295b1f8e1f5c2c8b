-- Slot?schedule=Schedule/3-1&start=2026-06&_summary=count
-- count
-- @p1 DateTime2 = '2026-06-01T00:00:00'
-- @p2 Int = '2'
-- @p3 DateTime2 = '2026-06-02T00:00:00'
-- @p4 Int = '3'
-- @p5 DateTime2 = '2026-06-03T00:00:00'
-- @p6 Int = '4'
-- @p7 DateTime2 = '2026-06-04T00:00:00'
-- @p8 Int = '5'
-- @p9 DateTime2 = '2026-06-05T00:00:00'
-- @p10 Int = '6'
-- @p11 DateTime2 = '2026-06-06T00:00:00'
-- @p12 Int = '7'
-- @p13 DateTime2 = '2026-06-07T00:00:00'
-- @p14 Int = '1'
-- @p15 DateTime2 = '2026-06-08T00:00:00'
-- @p16 Int = '2'
-- @p17 DateTime2 = '2026-06-09T00:00:00'
-- @p18 Int = '3'
-- @p19 DateTime2 = '2026-06-10T00:00:00'
-- @p20 Int = '4'
-- @p21 DateTime2 = '2026-06-11T00:00:00'
-- @p22 Int = '5'
-- @p23 DateTime2 = '2026-06-12T00:00:00'
-- @p24 Int = '6'
-- @p25 DateTime2 = '2026-06-13T00:00:00'
-- @p26 Int = '7'
-- @p27 DateTime2 = '2026-06-14T00:00:00'
-- @p28 Int = '1'
-- @p29 DateTime2 = '2026-06-15T00:00:00'
-- @p30 Int = '2'
-- @p31 DateTime2 = '2026-06-16T00:00:00'
-- @p32 Int = '3'
-- @p33 DateTime2 = '2026-06-17T00:00:00'
-- @p34 Int = '4'
-- @p35 DateTime2 = '2026-06-18T00:00:00'
-- @p36 Int = '5'
-- @p37 DateTime2 = '2026-06-19T00:00:00'
-- @p38 Int = '6'
-- @p39 DateTime2 = '2026-06-20T00:00:00'
-- @p40 Int = '7'
-- @p41 DateTime2 = '2026-06-21T00:00:00'
-- @p42 Int = '1'
-- @p43 DateTime2 = '2026-06-22T00:00:00'
-- @p44 Int = '2'
-- @p45 DateTime2 = '2026-06-23T00:00:00'
-- @p46 Int = '3'
-- @p47 DateTime2 = '2026-06-24T00:00:00'
-- @p48 Int = '4'
-- @p49 DateTime2 = '2026-06-25T00:00:00'
-- @p50 Int = '5'
-- @p51 DateTime2 = '2026-06-26T00:00:00'
-- @p52 Int = '6'
-- @p53 DateTime2 = '2026-06-27T00:00:00'
-- @p54 Int = '7'
-- @p55 DateTime2 = '2026-06-28T00:00:00'
-- @p56 Int = '1'
-- @p57 DateTime2 = '2026-06-29T00:00:00'
-- @p58 Int = '2'
-- @p59 DateTime2 = '2026-06-30T00:00:00'
-- @p60 Int = '3'
-- @p61 Int = '3'
-- @p62 Int = '1'
-- @p63 DateTime2 = '2026-06-01T00:00:00'
-- @p64 Int = '0'
-- @p65 DateTime2 = '2026-07-01T00:00:00'
-- @p66 Int = '0'
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
    UNION ALL
    SELECT CAST(@p15 AS datetime2) AS "day", CAST(@p16 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p17 AS datetime2) AS "day", CAST(@p18 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p19 AS datetime2) AS "day", CAST(@p20 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p21 AS datetime2) AS "day", CAST(@p22 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p23 AS datetime2) AS "day", CAST(@p24 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p25 AS datetime2) AS "day", CAST(@p26 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p27 AS datetime2) AS "day", CAST(@p28 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p29 AS datetime2) AS "day", CAST(@p30 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p31 AS datetime2) AS "day", CAST(@p32 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p33 AS datetime2) AS "day", CAST(@p34 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p35 AS datetime2) AS "day", CAST(@p36 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p37 AS datetime2) AS "day", CAST(@p38 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p39 AS datetime2) AS "day", CAST(@p40 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p41 AS datetime2) AS "day", CAST(@p42 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p43 AS datetime2) AS "day", CAST(@p44 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p45 AS datetime2) AS "day", CAST(@p46 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p47 AS datetime2) AS "day", CAST(@p48 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p49 AS datetime2) AS "day", CAST(@p50 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p51 AS datetime2) AS "day", CAST(@p52 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p53 AS datetime2) AS "day", CAST(@p54 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p55 AS datetime2) AS "day", CAST(@p56 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p57 AS datetime2) AS "day", CAST(@p58 AS INTEGER) AS "dow"
    UNION ALL
    SELECT CAST(@p59 AS datetime2) AS "day", CAST(@p60 AS INTEGER) AS "dow"
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
      AND (s."USERID" = @p61 AND s."LOCATIONID" = @p62)
    UNION ALL
    SELECT e."USERID", e."LOCATIONID", d."day",
        e."STARTTIME" + k."n" * e."LENGTH", e."LENGTH"
    FROM "EXTRASESSIONS" e
    JOIN "days" d ON d."day" = e."SESSIONDATE"
    JOIN "numbers" k ON e."STARTTIME" + (k."n" + 1) * e."LENGTH" <= e."ENDTIME"
    WHERE e."RECORDSTATUS" = 1 AND e."LENGTH" > 0
      AND (e."USERID" = @p61 AND e."LOCATIONID" = @p62)
),
"slots" AS (
    SELECT g."practitioner_id", g."location_id", g."day", g."secs", MIN(g."length") AS "length"
    FROM "grid" g
    JOIN "USERS" u ON u."USERID" = g."practitioner_id" AND (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
    JOIN "LOCATIONS" l ON l."LOCATIONID" = g."location_id" AND l."RECORDSTATUS" = 1
    WHERE NOT EXISTS (SELECT 1 FROM "DAYSAWAY" w
        WHERE w."RECORDSTATUS" = 1 AND w."USERID" = g."practitioner_id" AND w."STARTDATE" <= g."day" AND w."FINISHDATE" >= g."day")
      AND ((g."day" > @p63 OR (g."day" = @p63 AND g."secs" >= @p64)) AND (g."day" < @p65 OR (g."day" = @p65 AND g."secs" < @p66)))
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
SELECT COUNT(*) AS "total"
FROM "slot" t
WHERE 1 = 1
