-- AllergyIntolerance?patient=12&clinical-status=active
-- @p1 Int = '12'
-- @p2 Int = '51'
SELECT TOP (@p2)
    a."k" AS "k",
    a."src" AS "src",
    a."rid" AS "id",
    a."patient" AS "patient",
    p."FIRSTNAME" AS "patient_first",
    p."SURNAME" AS "patient_family",
    a."status" AS "status",
    a."item" AS "substance",
    a."reaction" AS "reaction",
    a."severity" AS "severity",
    a."comment" AS "comment",
    u."USERID" AS "practitioner_id",
    ut."TITLE" AS "practitioner_title",
    u."FIRSTNAME" AS "practitioner_first",
    u."SURNAME" AS "practitioner_family",
    a."created" AS "created",
    a."updated" AS "updated",
    a."k" AS "_k0"
FROM (
    SELECT r."RECORDID" AS "k", 1 AS "src", r."RECORDID" AS "rid", r."INTERNALID" AS "patient", r."RECORDSTATUS" AS "status",
        r."ITEMNAME" AS "item", r."REACTION" AS "reaction", r."SEVERITY" AS "severity", r."COMMENT" AS "comment",
        r."USERID" AS "user_id", r."CREATED" AS "created", r."UPDATED" AS "updated"
    FROM "REACTIONS" r
    WHERE r."RECORDSTATUS" = 1
    UNION ALL
    SELECT -c."INTERNALID", 2, c."INTERNALID", c."INTERNALID", 1, '', '', 0, '', c."CREATEDBY", c."CREATED", c."UPDATED"
    FROM "CLINICAL" c
    WHERE c."KNOWNALLERGIES" = 1
      AND NOT EXISTS (SELECT 1 FROM "REACTIONS" x WHERE x."INTERNALID" = c."INTERNALID" AND x."RECORDSTATUS" = 1)
) a
JOIN "PATIENTS" p ON p."INTERNALID" = a."patient" AND p."RECORDSTATUS" = 1
LEFT JOIN "USERS" u ON u."USERID" = a."user_id" AND (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
WHERE 1 = 1
  AND 1 = 1
  AND a."patient" = @p1
ORDER BY a."k" ASC
