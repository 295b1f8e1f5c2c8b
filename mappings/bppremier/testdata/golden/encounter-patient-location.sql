-- Encounter?patient=12&location=Location/1
-- @p1 Int = '1'
-- @p2 Int = '12'
-- @p3 Int = '51'
SELECT TOP (@p3)
    v."VISITID" AS "id",
    v."INTERNALID" AS "patient",
    p."FIRSTNAME" AS "patient_first",
    p."SURNAME" AS "patient_family",
    v."VISITCODE" AS "type",
    vt."VISITTYPE" AS "type_text",
    v."VISITDATE" AS "visit_date",
    v."STARTTIME" AS "start_time",
    v."ENDTIME" AS "end_time",
    DATEADD(second, v."STARTTIME", v."VISITDATE") AS "start",
    DATEADD(second, v."ENDTIME", v."VISITDATE") AS "end",
    (SELECT STRING_AGG(RTRIM(vr."REASON"), CHAR(31)) WITHIN GROUP (ORDER BY vr."RECORDID") FROM "VISITREASON" vr WHERE vr."VISITID" = v."VISITID" AND vr."RECORDSTATUS" = 1 AND RTRIM(vr."REASON") <> '') AS "reasons",
    u."USERID" AS "practitioner_id",
    ut."TITLE" AS "practitioner_title",
    u."FIRSTNAME" AS "practitioner_first",
    u."SURNAME" AS "practitioner_family",
    l."LOCATIONID" AS "location_id",
    l."LOCATIONNAME" AS "location_name",
    pr."PRACTICEID" AS "org_id",
    pr."PRACTICENAME" AS "org_name",
    v."CREATED" AS "created",
    v."UPDATED" AS "updated",
    v."VISITID" AS "_k0"
FROM "VISITS" v
JOIN "PATIENTS" p ON p."INTERNALID" = v."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "VISITTYPE" vt ON vt."VISITCODE" = v."VISITCODE"
LEFT JOIN "USERS" u ON u."USERID" = v."USERID" AND (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
LEFT JOIN "LOCATIONS" l ON l."LOCATIONID" = v."LOCATION" AND l."RECORDSTATUS" = 1
LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
WHERE v."RECORDSTATUS" = 1 AND v."VISITDATE" IS NOT NULL
  AND v."LOCATION" = @p1
  AND v."INTERNALID" = @p2
ORDER BY v."VISITID" ASC
