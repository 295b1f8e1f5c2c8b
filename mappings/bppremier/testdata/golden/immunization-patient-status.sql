-- Immunization?patient=12&status=completed
-- @p1 Int = '12'
-- @p2 Int = '51'
SELECT TOP (@p2)
    m."RECORDID" AS "id",
    m."INTERNALID" AS "patient",
    p."FIRSTNAME" AS "patient_first",
    p."SURNAME" AS "patient_family",
    m."GIVENDATE" AS "given",
    m."NOTGIVENHERE" AS "elsewhere",
    m."VACCINENAME" AS "vaccine",
    m."BATCHNUMBER" AS "batch",
    m."EXPIRYDATE" AS "expiry",
    m."SEQUENCE" AS "dose",
    m."COMMENT" AS "comment",
    v."VISITID" AS "visit_id",
    u."USERID" AS "practitioner_id",
    ut."TITLE" AS "practitioner_title",
    u."FIRSTNAME" AS "practitioner_first",
    u."SURNAME" AS "practitioner_family",
    l."LOCATIONID" AS "location_id",
    l."LOCATIONNAME" AS "location_name",
    m."CREATED" AS "created",
    m."UPDATED" AS "updated",
    m."RECORDID" AS "_k0"
FROM "IMMUNISATIONS" m
JOIN "PATIENTS" p ON p."INTERNALID" = m."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "USERS" u ON u."USERID" = m."ADMINISTEREDBY" AND m."NOTGIVENHERE" = 0 AND (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
LEFT JOIN "VISITS" v ON v."VISITID" = m."VisitId" AND v."RECORDSTATUS" = 1 AND v."VISITDATE" IS NOT NULL
LEFT JOIN "LOCATIONS" l ON l."LOCATIONID" = m."ADMINISTEREDBYLOCATIONID" AND m."NOTGIVENHERE" = 0 AND l."RECORDSTATUS" = 1
WHERE m."RECORDSTATUS" = 1
  AND m."INTERNALID" = @p1
  AND 1 = 1
ORDER BY m."RECORDID" ASC
