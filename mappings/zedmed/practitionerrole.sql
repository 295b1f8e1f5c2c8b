{{/* PractitionerRole: one row per live DOCTOR_BRANCH record of a practitioner at a live branch (the select list is practitionerRoleCols). */ -}}
FROM {{t "DOCTOR_BRANCH"}} db
JOIN {{t "DOCTOR"}} d ON {{c "d" "DOCTOR.DOCTOR_ID"}} = {{c "db" "DOCTOR_BRANCH.DOCTOR_ID"}} AND {{practitioner "d"}}
JOIN {{t "BRANCH"}} l ON {{c "l" "BRANCH.BRANCH_ID"}} = {{c "db" "DOCTOR_BRANCH.BRANCH_ID"}} AND {{live "l" "BRANCH"}}
LEFT JOIN {{t "PRACTICE"}} pr ON {{c "pr" "PRACTICE.PRACTICE_ID"}} = {{c "l" "BRANCH.PRACTICE_ID"}} AND {{live "pr" "PRACTICE"}}
WHERE {{live "db" "DOCTOR_BRANCH"}}
