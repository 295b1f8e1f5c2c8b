{{/* Observation: vital signs from live OBSERVATIONS rows (a blood pressure is one panel: the
    systolic row with the diastolic row taken at the same date and time, or a diastolic row
    alone), pathology results from live REPORTVALUES rows (of a report not deleted) and the smoking status recorded in
    CLINICAL, of live patients. "src" is the source (1 vital signs, 2 pathology, 3 smoking);
    "k" the unique key: OBSERVATIONS.RECORDID, minus REPORTVALUES.RECORDID, or minus 2^30 minus
    the patient's INTERNALID (pathology record ids and patient ids stay below 2^30); the select list is observationCols. */ -}}
FROM (
    SELECT -r."RECORDID" AS "k", 2 AS "src", r."RECORDID" AS "rid", r."INTERNALID" AS "patient", 0 AS "datacode",
        r."LOINCCODE" AS "loinc", r."RESULTNAME" AS "name", r."RESULTVALUE" AS "value", '' AS "value2", r."UNITS" AS "units",
        r."RANGE" AS "range", r."ABNORMALFLAG" AS "flag",
        CASE WHEN i."COMPLETIONFLAG" = 0 THEN 'preliminary' ELSE 'final' END AS "status",
        COALESCE(i."COLLECTIONDATE", r."REPORTDATE") AS "effective",
        {{addSeconds .Dialect "i.\"REPORTDATE\"" "i.\"REPORTTIME\""}} AS "issued",
        r."REPORTID" AS "report_id", i."PROVIDERNAME" AS "lab", 0 AS "user_id", r."CREATED" AS "created", r."UPDATED" AS "updated"
    FROM "REPORTVALUES" r
    LEFT JOIN "INVESTIGATIONS" i ON i."REPORTID" = r."REPORTID" AND i."RECORDSTATUS" = 1
    WHERE r."RECORDSTATUS" = 1 AND COALESCE(i."COLLECTIONDATE", r."REPORTDATE") IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM "INVESTIGATIONS" x WHERE x."REPORTID" = r."REPORTID" AND x."RECORDSTATUS" <> 1)
    UNION ALL
    SELECT v."RECORDID", 1, v."RECORDID", v."INTERNALID", v."DATACODE", '', v."DATANAME", v."DATAVALUE", d."DATAVALUE",
        '', '', '', 'final', {{addSeconds .Dialect "v.\"OBSDATE\"" "v.\"OBSTIME\""}}, NULL, 0, '', v."USERID",
        v."CREATED", v."UPDATED"
    FROM "OBSERVATIONS" v
    LEFT JOIN "OBSERVATIONS" d ON v."DATACODE" = {{systolic}} AND d."RECORDID" = (SELECT MIN(x."RECORDID") FROM "OBSERVATIONS" x
        WHERE x."INTERNALID" = v."INTERNALID" AND x."OBSDATE" = v."OBSDATE" AND x."OBSTIME" = v."OBSTIME"
          AND x."DATACODE" = {{diastolic}} AND x."RECORDSTATUS" = 1)
    WHERE v."RECORDSTATUS" = 1 AND v."OBSDATE" IS NOT NULL AND v."DATACODE" IN ({{vitalCodes}})
    UNION ALL
    SELECT {{smokingKey}} - c."INTERNALID", 3, c."INTERNALID", c."INTERNALID", c."SMOKINGSTATUS", '', '', '', '', '', '', '',
        'final', COALESCE(c."UPDATED", c."CREATED"), NULL, 0, '', 0, c."CREATED", c."UPDATED"
    FROM "CLINICAL" c
    WHERE c."SMOKINGSTATUS" IN ({{smokingCodes}})
    UNION ALL
    SELECT v."RECORDID", 1, v."RECORDID", v."INTERNALID", v."DATACODE", '', v."DATANAME", '', v."DATAVALUE", '', '', '',
        'final', {{addSeconds .Dialect "v.\"OBSDATE\"" "v.\"OBSTIME\""}}, NULL, 0, '', v."USERID", v."CREATED", v."UPDATED"
    FROM "OBSERVATIONS" v
    WHERE v."RECORDSTATUS" = 1 AND v."OBSDATE" IS NOT NULL AND v."DATACODE" = {{diastolic}}
      AND NOT EXISTS (SELECT 1 FROM "OBSERVATIONS" x WHERE x."INTERNALID" = v."INTERNALID" AND x."OBSDATE" = v."OBSDATE"
          AND x."OBSTIME" = v."OBSTIME" AND x."DATACODE" = {{systolic}} AND x."RECORDSTATUS" = 1)
) o
JOIN "PATIENTS" p ON p."INTERNALID" = o."patient" AND p."RECORDSTATUS" = 1
LEFT JOIN "USERS" u ON u."USERID" = o."user_id" AND {{clinical "u"}}
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
WHERE 1 = 1
