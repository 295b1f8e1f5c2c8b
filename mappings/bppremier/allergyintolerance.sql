{{/* AllergyIntolerance: the live REACTIONS (RECORDSTATUS 1; any other value is a deleted
    record, never shown) of live patients, and for a patient whose CLINICAL row says "nil
    known" and who has no live reaction, one "no known allergy" record. "k" is the unique key: REACTIONS.RECORDID, or
    minus the patient's INTERNALID; the select list is allergyCols. */ -}}
FROM (
    SELECT r."RECORDID" AS "k", 1 AS "src", r."RECORDID" AS "rid", r."INTERNALID" AS "patient", r."RECORDSTATUS" AS "status",
        r."ITEMNAME" AS "item", r."REACTION" AS "reaction", r."SEVERITY" AS "severity", r."COMMENT" AS "comment",
        r."USERID" AS "user_id", r."CREATED" AS "created", r."UPDATED" AS "updated"
    FROM "REACTIONS" r
    WHERE r."RECORDSTATUS" = 1
    UNION ALL
    SELECT -c."INTERNALID", 2, c."INTERNALID", c."INTERNALID", 1, '', '', 0, '', c."CREATEDBY", c."CREATED", c."UPDATED"
    FROM "CLINICAL" c
    WHERE c."KNOWNALLERGIES" = {{nilKnown}}
      AND NOT EXISTS (SELECT 1 FROM "REACTIONS" x WHERE x."INTERNALID" = c."INTERNALID" AND x."RECORDSTATUS" = 1)
) a
JOIN "PATIENTS" p ON p."INTERNALID" = a."patient" AND p."RECORDSTATUS" = 1
LEFT JOIN "USERS" u ON u."USERID" = a."user_id" AND {{clinical "u"}}
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
WHERE 1 = 1
