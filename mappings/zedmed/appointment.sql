{{/* Appointment: one row per live APPOINTMENT with a patient (a blocked slot has none, STATUS 6), cancelled ones (STATUS 5) included; the select list is appointmentCols. */ -}}
FROM {{t "APPOINTMENT"}} a
LEFT JOIN {{t "APPT_TYPE"}} ty ON {{c "ty" "APPT_TYPE.APPT_TYPE_ID"}} = {{c "a" "APPOINTMENT.APPT_TYPE_ID"}} AND {{live "ty" "APPT_TYPE"}}
LEFT JOIN {{t "PATIENT"}} p ON {{c "p" "PATIENT.PATIENT_ID"}} = {{c "a" "APPOINTMENT.PATIENT_ID"}} AND {{live "p" "PATIENT"}}
LEFT JOIN {{t "DOCTOR"}} d ON {{c "d" "DOCTOR.DOCTOR_ID"}} = {{c "a" "APPOINTMENT.DOCTOR_ID"}} AND {{practitioner "d"}}
LEFT JOIN {{t "BRANCH"}} l ON {{c "l" "BRANCH.BRANCH_ID"}} = {{c "a" "APPOINTMENT.BRANCH_ID"}} AND {{live "l" "BRANCH"}}
WHERE {{live "a" "APPOINTMENT"}} AND {{c "a" "APPOINTMENT.PATIENT_ID"}} IS NOT NULL AND {{c "a" "APPOINTMENT.STATUS"}} <> {{blocked}}
