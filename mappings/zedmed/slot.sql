{{/* Slot: the slot grid of the doctors' weekly SESSION_TEMPLATE rows (DAY_OF_WEEK, between VALID_FROM and VALID_TO) on the searched days, each session cut into SLOT_SECS slots; DOCTOR_LEAVE days have none. A slot overlapping a live, not cancelled appointment with a patient is busy, one overlapping a blocked slot busy-unavailable, any other free. Read-only. */ -}}
WITH "digits" AS (
    SELECT 0 AS "n"{{one}} UNION ALL SELECT 1{{one}} UNION ALL SELECT 2{{one}} UNION ALL SELECT 3{{one}} UNION ALL SELECT 4{{one}}
    UNION ALL SELECT 5{{one}} UNION ALL SELECT 6{{one}} UNION ALL SELECT 7{{one}} UNION ALL SELECT 8{{one}} UNION ALL SELECT 9{{one}}
),
"numbers" AS (
    SELECT n1."n" + 10 * n2."n" + 100 * n3."n" AS "n"
    FROM "digits" n1 CROSS JOIN "digits" n2 CROSS JOIN "digits" n3
),
"days" AS (
{{.Days}}
),
"grid" AS (
    SELECT {{c "s" "SESSION_TEMPLATE.DOCTOR_ID"}} AS "practitioner_id", {{c "s" "SESSION_TEMPLATE.BRANCH_ID"}} AS "location_id", dd."day" AS "day",
        {{c "s" "SESSION_TEMPLATE.START_SECS"}} + k."n" * {{c "s" "SESSION_TEMPLATE.SLOT_SECS"}} AS "secs", {{c "s" "SESSION_TEMPLATE.SLOT_SECS"}} AS "length"
    FROM {{t "SESSION_TEMPLATE"}} s
    JOIN "days" dd ON dd."dow" = {{c "s" "SESSION_TEMPLATE.DAY_OF_WEEK"}}
    JOIN "numbers" k ON {{c "s" "SESSION_TEMPLATE.START_SECS"}} + (k."n" + 1) * {{c "s" "SESSION_TEMPLATE.SLOT_SECS"}} <= {{c "s" "SESSION_TEMPLATE.END_SECS"}}
    WHERE {{live "s" "SESSION_TEMPLATE"}} AND {{c "s" "SESSION_TEMPLATE.SLOT_SECS"}} > 0
      AND ({{c "s" "SESSION_TEMPLATE.VALID_FROM"}} IS NULL OR {{c "s" "SESSION_TEMPLATE.VALID_FROM"}} <= dd."day")
      AND ({{c "s" "SESSION_TEMPLATE.VALID_TO"}} IS NULL OR {{c "s" "SESSION_TEMPLATE.VALID_TO"}} >= dd."day"){{.Sessions}}
),
"slots" AS (
    SELECT g."practitioner_id", g."location_id", g."day", g."secs", MIN(g."length") AS "length"
    FROM "grid" g
    JOIN {{t "DOCTOR"}} d ON {{c "d" "DOCTOR.DOCTOR_ID"}} = g."practitioner_id" AND {{practitioner "d"}}
    JOIN {{t "BRANCH"}} l ON {{c "l" "BRANCH.BRANCH_ID"}} = g."location_id" AND {{live "l" "BRANCH"}}
    WHERE NOT EXISTS (SELECT 1 FROM {{t "DOCTOR_LEAVE"}} w
        WHERE {{live "w" "DOCTOR_LEAVE"}} AND {{c "w" "DOCTOR_LEAVE.DOCTOR_ID"}} = g."practitioner_id"
          AND {{c "w" "DOCTOR_LEAVE.START_DATE"}} <= g."day" AND {{c "w" "DOCTOR_LEAVE.END_DATE"}} >= g."day"){{.Grid}}
    GROUP BY g."practitioner_id", g."location_id", g."day", g."secs"
),
"slot" AS (
    SELECT x."practitioner_id", x."location_id", x."day", x."secs", x."length",
        CASE WHEN EXISTS (SELECT 1 FROM {{t "APPOINTMENT"}} a
                WHERE {{c "a" "APPOINTMENT.DOCTOR_ID"}} = x."practitioner_id" AND {{c "a" "APPOINTMENT.APPT_DATE"}} = x."day" AND {{live "a" "APPOINTMENT"}}
                  AND {{c "a" "APPOINTMENT.PATIENT_ID"}} IS NOT NULL AND {{c "a" "APPOINTMENT.STATUS"}} NOT IN ({{cancelled}}, {{blocked}})
                  AND {{c "a" "APPOINTMENT.START_SECS"}} < x."secs" + x."length" AND {{c "a" "APPOINTMENT.START_SECS"}} + {{c "a" "APPOINTMENT.DURATION_SECS"}} > x."secs") THEN 'busy'
            WHEN EXISTS (SELECT 1 FROM {{t "APPOINTMENT"}} a
                WHERE {{c "a" "APPOINTMENT.DOCTOR_ID"}} = x."practitioner_id" AND {{c "a" "APPOINTMENT.APPT_DATE"}} = x."day" AND {{live "a" "APPOINTMENT"}}
                  AND {{c "a" "APPOINTMENT.STATUS"}} = {{blocked}}
                  AND {{c "a" "APPOINTMENT.START_SECS"}} < x."secs" + x."length" AND {{c "a" "APPOINTMENT.START_SECS"}} + {{c "a" "APPOINTMENT.DURATION_SECS"}} > x."secs") THEN 'busy-unavailable'
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
