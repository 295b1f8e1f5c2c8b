-- Appointment?date=ap2026-06-15
-- @p1 DateTime2 = '2026-06-15T00:00:00'
-- @p2 Int = '0'
-- @p3 DateTime2 = '2026-06-16T00:00:00'
-- @p4 Int = '0'
-- @p5 Int = '51'
SELECT TOP (@p5)
    a."RECORDID" AS "id",
    a."RECORDSTATUS" AS "record",
    a."APPOINTMENTCODE" AS "status",
    a."APPOINTMENTDATE" AS "date",
    a."APPOINTMENTTIME" AS "time",
    a."APPOINTMENTLENGTH" AS "length",
    a."APPOINTMENTTYPE" AS "type",
    t."DESCRIPTION" AS "type_text",
    a."URGENT" AS "urgent",
    a."REASON" AS "reason",
    a."COMMENT" AS "comment",
    (SELECT MIN(ca."REASON") FROM "CANCELLEDAPPOINTMENTS" ca WHERE ca."APPOINTMENTID" = a."RECORDID") AS "cancel_reason",
    p."INTERNALID" AS "patient_id",
    p."FIRSTNAME" AS "patient_first",
    p."SURNAME" AS "patient_family",
    u."USERID" AS "practitioner_id",
    ut."TITLE" AS "practitioner_title",
    u."FIRSTNAME" AS "practitioner_first",
    u."SURNAME" AS "practitioner_family",
    l."LOCATIONID" AS "location_id",
    l."LOCATIONNAME" AS "location_name",
    a."CREATED" AS "created",
    a."UPDATED" AS "updated",
    a."RECORDID" AS "_k0"
FROM "APPOINTMENTS" a
LEFT JOIN "APPOINTMENTTYPES" t ON t."APPOINTMENTCODE" = a."APPOINTMENTTYPE" AND t."RECORDSTATUS" = 1
LEFT JOIN "PATIENTS" p ON p."INTERNALID" = a."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "USERS" u ON u."USERID" = a."USERID" AND (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
LEFT JOIN "LOCATIONS" l ON l."LOCATIONID" = a."LOCATIONID" AND l."RECORDSTATUS" = 1
WHERE a."INTERNALID" <> 0
  AND (a."RECORDSTATUS" = 1 OR EXISTS (SELECT 1 FROM "CANCELLATIONS" c WHERE c."APPOINTMENTID" = a."RECORDID" AND c."RECORDSTATUS" = 1))
  AND ((a."APPOINTMENTDATE" > @p1 OR (a."APPOINTMENTDATE" = @p1 AND a."APPOINTMENTTIME" >= @p2)) AND (a."APPOINTMENTDATE" < @p3 OR (a."APPOINTMENTDATE" = @p3 AND a."APPOINTMENTTIME" < @p4)))
ORDER BY a."RECORDID" ASC
