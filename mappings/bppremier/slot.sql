{{/* Slot: the slot grid of the practitioners' sessions on the searched days (weekly SESSIONS by DAYOFWEEK between STARTDATE and ENDDATE, and one-off EXTRASESSIONS), each session cut into slots of its LENGTH; days away (DAYSAWAY) have none. A slot overlapping a live appointment with a patient is busy, one overlapping a blocked slot (INTERNALID 0) busy-unavailable, any other free. Read-only: nothing is written. */ -}}
WITH "digits" AS (
    SELECT 0 AS "n" UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
    UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9
),
"numbers" AS (
    SELECT n1."n" + 10 * n2."n" + 100 * n3."n" AS "n"
    FROM "digits" n1 CROSS JOIN "digits" n2 CROSS JOIN "digits" n3
),
"days" AS (
{{.Days}}
),
"grid" AS (
    SELECT s."USERID" AS "practitioner_id", s."LOCATIONID" AS "location_id", d."day" AS "day",
        s."STARTTIME" + k."n" * s."LENGTH" AS "secs", s."LENGTH" AS "length"
    FROM "SESSIONS" s
    JOIN "days" d ON d."dow" = s."DAYOFWEEK"
    JOIN "numbers" k ON s."STARTTIME" + (k."n" + 1) * s."LENGTH" <= s."ENDTIME"
    WHERE s."RECORDSTATUS" = 1 AND s."LENGTH" > 0
      AND (s."STARTDATE" IS NULL OR s."STARTDATE" <= d."day")
      AND (s."ENDDATE" IS NULL OR s."ENDDATE" >= d."day"){{call .Sessions "s"}}
    UNION ALL
    SELECT e."USERID", e."LOCATIONID", d."day",
        e."STARTTIME" + k."n" * e."LENGTH", e."LENGTH"
    FROM "EXTRASESSIONS" e
    JOIN "days" d ON d."day" = e."SESSIONDATE"
    JOIN "numbers" k ON e."STARTTIME" + (k."n" + 1) * e."LENGTH" <= e."ENDTIME"
    WHERE e."RECORDSTATUS" = 1 AND e."LENGTH" > 0{{call .Sessions "e"}}
),
"slots" AS (
    SELECT g."practitioner_id", g."location_id", g."day", g."secs", MIN(g."length") AS "length"
    FROM "grid" g
    JOIN "USERS" u ON u."USERID" = g."practitioner_id" AND {{clinical "u"}}
    JOIN "LOCATIONS" l ON l."LOCATIONID" = g."location_id" AND l."RECORDSTATUS" = 1
    WHERE NOT EXISTS (SELECT 1 FROM "DAYSAWAY" w
        WHERE w."RECORDSTATUS" = 1 AND w."USERID" = g."practitioner_id" AND w."STARTDATE" <= g."day" AND w."FINISHDATE" >= g."day"){{.Grid}}
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
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    t."practitioner_id" AS "practitioner_id",
    t."location_id" AS "location_id",
    t."day" AS "day",
    t."secs" AS "secs",
    t."length" AS "length",
    t."status" AS "status"{{end}}
FROM "slot" t
WHERE 1 = 1{{.Where}}{{if not .Count}}
ORDER BY t."practitioner_id", t."location_id", t."day", t."secs"{{end}}{{.Limit}}
