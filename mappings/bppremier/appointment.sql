{{/* Appointment: one row per booked APPOINTMENTS record (not a blocked slot, INTERNALID 0), live or cancelled (RECORDSTATUS not live with a live cancellation record; without one it is deleted); the select list is appointmentCols. */ -}}
FROM "APPOINTMENTS" a
LEFT JOIN "APPOINTMENTTYPES" t ON t."APPOINTMENTCODE" = a."APPOINTMENTTYPE" AND t."RECORDSTATUS" = 1
LEFT JOIN "PATIENTS" p ON p."INTERNALID" = a."INTERNALID" AND p."RECORDSTATUS" = 1
LEFT JOIN "USERS" u ON u."USERID" = a."USERID" AND {{clinical "u"}}
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
LEFT JOIN "LOCATIONS" l ON l."LOCATIONID" = a."LOCATIONID" AND l."RECORDSTATUS" = 1
WHERE a."INTERNALID" <> 0
  AND (a."RECORDSTATUS" = 1 OR EXISTS (SELECT 1 FROM "CANCELLATIONS" c WHERE c."APPOINTMENTID" = a."RECORDID" AND c."RECORDSTATUS" = 1))
