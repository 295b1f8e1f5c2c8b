{{/* Patient: one row per live PATIENT record, with the usual doctor it names and the practice (the select list is patientCols). */ -}}
FROM {{t "PATIENT"}} p
LEFT JOIN {{t "DOCTOR"}} d ON {{c "d" "DOCTOR.DOCTOR_ID"}} = {{c "p" "PATIENT.USUAL_DOCTOR_ID"}} AND {{practitioner "d"}}
{{practice}}
WHERE {{live "p" "PATIENT"}}
