-- Slot?schedule=Schedule/1-1&start=ge2026-06-15&start=lt2026-06-22&status=free
-- @p1 DateTime2 = '2026-06-15T00:00:00'
-- @p2 Int = '1'
-- @p3 DateTime2 = '2026-06-16T00:00:00'
-- @p4 Int = '2'
-- @p5 DateTime2 = '2026-06-17T00:00:00'
-- @p6 Int = '3'
-- @p7 DateTime2 = '2026-06-18T00:00:00'
-- @p8 Int = '4'
-- @p9 DateTime2 = '2026-06-19T00:00:00'
-- @p10 Int = '5'
-- @p11 DateTime2 = '2026-06-20T00:00:00'
-- @p12 Int = '6'
-- @p13 DateTime2 = '2026-06-21T00:00:00'
-- @p14 Int = '7'
-- @p15 Int = '1'
-- @p16 Int = '1'
-- @p17 DateTime2 = '2026-06-15T00:00:00'
-- @p18 Int = '0'
-- @p19 DateTime2 = '2026-06-22T00:00:00'
-- @p20 Int = '0'
-- @p21 Int = '101'
WITH "digits" AS (
    SELECT 0 AS "n" FROM RDB$DATABASE UNION ALL SELECT 1 FROM RDB$DATABASE UNION ALL SELECT 2 FROM RDB$DATABASE UNION ALL SELECT 3 FROM RDB$DATABASE UNION ALL SELECT 4 FROM RDB$DATABASE
    UNION ALL SELECT 5 FROM RDB$DATABASE UNION ALL SELECT 6 FROM RDB$DATABASE UNION ALL SELECT 7 FROM RDB$DATABASE UNION ALL SELECT 8 FROM RDB$DATABASE UNION ALL SELECT 9 FROM RDB$DATABASE
),
"numbers" AS (
    SELECT n1."n" + 10 * n2."n" + 100 * n3."n" AS "n"
    FROM "digits" n1 CROSS JOIN "digits" n2 CROSS JOIN "digits" n3
),
"days" AS (
    SELECT CAST(@p1 AS TIMESTAMP) AS "day", CAST(@p2 AS INTEGER) AS "dow" FROM RDB$DATABASE
    UNION ALL
    SELECT CAST(@p3 AS TIMESTAMP) AS "day", CAST(@p4 AS INTEGER) AS "dow" FROM RDB$DATABASE
    UNION ALL
    SELECT CAST(@p5 AS TIMESTAMP) AS "day", CAST(@p6 AS INTEGER) AS "dow" FROM RDB$DATABASE
    UNION ALL
    SELECT CAST(@p7 AS TIMESTAMP) AS "day", CAST(@p8 AS INTEGER) AS "dow" FROM RDB$DATABASE
    UNION ALL
    SELECT CAST(@p9 AS TIMESTAMP) AS "day", CAST(@p10 AS INTEGER) AS "dow" FROM RDB$DATABASE
    UNION ALL
    SELECT CAST(@p11 AS TIMESTAMP) AS "day", CAST(@p12 AS INTEGER) AS "dow" FROM RDB$DATABASE
    UNION ALL
    SELECT CAST(@p13 AS TIMESTAMP) AS "day", CAST(@p14 AS INTEGER) AS "dow" FROM RDB$DATABASE
),
"grid" AS (
    SELECT s.DOCTOR_ID AS "practitioner_id", s.BRANCH_ID AS "location_id", dd."day" AS "day",
        s.START_SECS + k."n" * s.SLOT_SECS AS "secs", s.SLOT_SECS AS "length"
    FROM SESSION_TEMPLATE s
    JOIN "days" dd ON dd."dow" = s.DAY_OF_WEEK
    JOIN "numbers" k ON s.START_SECS + (k."n" + 1) * s.SLOT_SECS <= s.END_SECS
    WHERE s.DELETED = 0 AND s.SLOT_SECS > 0
      AND (s.VALID_FROM IS NULL OR s.VALID_FROM <= dd."day")
      AND (s.VALID_TO IS NULL OR s.VALID_TO >= dd."day")
      AND (s.DOCTOR_ID = @p15 AND s.BRANCH_ID = @p16)
),
"slots" AS (
    SELECT g."practitioner_id", g."location_id", g."day", g."secs", MIN(g."length") AS "length"
    FROM "grid" g
    JOIN DOCTOR d ON d.DOCTOR_ID = g."practitioner_id" AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
    JOIN BRANCH l ON l.BRANCH_ID = g."location_id" AND l.DELETED = 0
    WHERE NOT EXISTS (SELECT 1 FROM DOCTOR_LEAVE w
        WHERE w.DELETED = 0 AND w.DOCTOR_ID = g."practitioner_id"
          AND w.START_DATE <= g."day" AND w.END_DATE >= g."day")
      AND (g."day" > @p17 OR (g."day" = @p17 AND g."secs" >= @p18))
      AND (g."day" < @p19 OR (g."day" = @p19 AND g."secs" < @p20))
    GROUP BY g."practitioner_id", g."location_id", g."day", g."secs"
),
"slot" AS (
    SELECT x."practitioner_id", x."location_id", x."day", x."secs", x."length",
        CASE WHEN EXISTS (SELECT 1 FROM APPOINTMENT a
                WHERE a.DOCTOR_ID = x."practitioner_id" AND a.APPT_DATE = x."day" AND a.DELETED = 0
                  AND a.PATIENT_ID IS NOT NULL AND a.STATUS NOT IN (5, 6)
                  AND a.START_SECS < x."secs" + x."length" AND a.START_SECS + a.DURATION_SECS > x."secs") THEN 'busy'
            WHEN EXISTS (SELECT 1 FROM APPOINTMENT a
                WHERE a.DOCTOR_ID = x."practitioner_id" AND a.APPT_DATE = x."day" AND a.DELETED = 0
                  AND a.STATUS = 6
                  AND a.START_SECS < x."secs" + x."length" AND a.START_SECS + a.DURATION_SECS > x."secs") THEN 'busy-unavailable'
            ELSE 'free' END AS "status"
    FROM "slots" x
)
SELECT
    t."practitioner_id" AS "practitioner_id",
    t."location_id" AS "location_id",
    t."day" AS "day",
    t."secs" AS "secs",
    t."length" AS "length",
    t."status" AS "status"
FROM "slot" t
WHERE 1 = 1
  AND t."status" IN ('free')
ORDER BY t."practitioner_id", t."location_id", t."day", t."secs"
FETCH FIRST @p21 ROWS ONLY
