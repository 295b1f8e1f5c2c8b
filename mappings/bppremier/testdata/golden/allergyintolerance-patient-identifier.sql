-- AllergyIntolerance?patient.identifier=http://ns.electronichealth.net.au/id/medicare-number|29501012341
-- @p1 VarChar = '2950101234'
-- @p2 VarChar = '1'
-- @p3 Int = '51'
SELECT TOP (@p3)
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
  AND a."patient" IN (SELECT p."INTERNALID"
    FROM "PATIENTS" p
    LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
    WHERE p."RECORDSTATUS" = 1
      AND (REPLACE(p."MEDICARENO", ' ', '') = @p1 AND p."MEDICARELINENO" = @p2))
ORDER BY a."k" ASC
