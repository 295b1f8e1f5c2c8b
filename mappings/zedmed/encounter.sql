{{/* Encounter: one row per live CONSULT of a live patient, with the doctor seen, the live branch, the
    live appointment it came from and the practice; the select list is encounterCols. */ -}}
FROM {{t "CONSULT"}} e
{{clinicalJoins "e" "CONSULT"}}
LEFT JOIN {{t "BRANCH"}} l ON {{c "l" "BRANCH.BRANCH_ID"}} = {{c "e" "CONSULT.BRANCH_ID"}} AND {{live "l" "BRANCH"}}
LEFT JOIN {{t "APPOINTMENT"}} ap ON {{c "ap" "APPOINTMENT.APPT_ID"}} = {{c "e" "CONSULT.APPT_ID"}} AND {{live "ap" "APPOINTMENT"}}
{{practice}}
WHERE {{live "e" "CONSULT"}} AND {{c "e" "CONSULT.START_AT"}} IS NOT NULL
