{{/* Appointment: one row per live APPOINTMENT with a patient (a blocked slot has none, STATUS 6), cancelled ones (STATUS 5) included. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    {{c "a" "APPOINTMENT.APPT_ID"}} AS "id",
    {{c "a" "APPOINTMENT.STATUS"}} AS "status",
    {{c "a" "APPOINTMENT.APPT_DATE"}} AS "date",
    {{c "a" "APPOINTMENT.START_SECS"}} AS "time",
    {{c "a" "APPOINTMENT.DURATION_SECS"}} AS "length",
    {{c "a" "APPOINTMENT.APPT_TYPE_ID"}} AS "type",
    {{c "ty" "APPT_TYPE.DESCRIPTION"}} AS "type_text",
    {{c "a" "APPOINTMENT.URGENT"}} AS "urgent",
    {{c "a" "APPOINTMENT.REASON"}} AS "reason",
    {{c "a" "APPOINTMENT.NOTES"}} AS "comment",
    {{c "a" "APPOINTMENT.CANCEL_REASON"}} AS "cancel_reason",
    {{c "p" "PATIENT.PATIENT_ID"}} AS "patient_id",
    {{c "p" "PATIENT.FIRST_NAME"}} AS "patient_first",
    {{c "p" "PATIENT.SURNAME"}} AS "patient_family",
    {{c "d" "DOCTOR.DOCTOR_ID"}} AS "doctor_id",
    {{c "d" "DOCTOR.TITLE"}} AS "doctor_title",
    {{c "d" "DOCTOR.FIRST_NAME"}} AS "doctor_first",
    {{c "d" "DOCTOR.SURNAME"}} AS "doctor_family",
    {{c "l" "BRANCH.BRANCH_ID"}} AS "location_id",
    {{c "l" "BRANCH.BRANCH_NAME"}} AS "location_name",
    {{c "a" "APPOINTMENT.CREATED_AT"}} AS "created",
    {{c "a" "APPOINTMENT.UPDATED_AT"}} AS "updated"{{.Keys}}{{end}}
FROM {{t "APPOINTMENT"}} a
LEFT JOIN {{t "APPT_TYPE"}} ty ON {{c "ty" "APPT_TYPE.APPT_TYPE_ID"}} = {{c "a" "APPOINTMENT.APPT_TYPE_ID"}} AND {{live "ty" "APPT_TYPE"}}
LEFT JOIN {{t "PATIENT"}} p ON {{c "p" "PATIENT.PATIENT_ID"}} = {{c "a" "APPOINTMENT.PATIENT_ID"}} AND {{live "p" "PATIENT"}}
LEFT JOIN {{t "DOCTOR"}} d ON {{c "d" "DOCTOR.DOCTOR_ID"}} = {{c "a" "APPOINTMENT.DOCTOR_ID"}} AND {{practitioner "d"}}
LEFT JOIN {{t "BRANCH"}} l ON {{c "l" "BRANCH.BRANCH_ID"}} = {{c "a" "APPOINTMENT.BRANCH_ID"}} AND {{live "l" "BRANCH"}}
WHERE {{live "a" "APPOINTMENT"}} AND {{c "a" "APPOINTMENT.PATIENT_ID"}} IS NOT NULL AND {{c "a" "APPOINTMENT.STATUS"}} <> {{blocked}}{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
