-- Slot?_id=1-1-20260615090000
-- @p1 DateTime2 = '2026-06-15T00:00:00'
-- @p2 Int = '1'
-- @p3 Int = '1'
-- @p4 Int = '1'
-- @p5 Int = '1'
-- @p6 Int = '1'
-- @p7 DateTime2 = '2026-06-15T00:00:00'
-- @p8 Int = '32400'
-- @p9 Int = '101'
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
      AND (s.DOCTOR_ID = @p3 AND s.BRANCH_ID = @p4)
),
"slots" AS (
    SELECT g."practitioner_id", g."location_id", g."day", g."secs", MIN(g."length") AS "length"
    FROM "grid" g
    JOIN DOCTOR d ON d.DOCTOR_ID = g."practitioner_id" AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
    JOIN BRANCH l ON l.BRANCH_ID = g."location_id" AND l.DELETED = 0
    WHERE NOT EXISTS (SELECT 1 FROM DOCTOR_LEAVE w
        WHERE w.DELETED = 0 AND w.DOCTOR_ID = g."practitioner_id"
          AND w.START_DATE <= g."day" AND w.END_DATE >= g."day")
      AND ((g."practitioner_id" = @p5 AND g."location_id" = @p6 AND g."day" = @p7 AND g."secs" = @p8))
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
ORDER BY t."practitioner_id", t."location_id", t."day", t."secs"
FETCH FIRST @p9 ROWS ONLY
