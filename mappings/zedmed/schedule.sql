{{/* Schedule: one row per doctor and branch with live session templates, both still on file; the select list is scheduleCols. */ -}}
FROM (SELECT DISTINCT {{c "s" "SESSION_TEMPLATE.DOCTOR_ID"}} AS DOCTOR_ID, {{c "s" "SESSION_TEMPLATE.BRANCH_ID"}} AS BRANCH_ID
      FROM {{t "SESSION_TEMPLATE"}} s WHERE {{live "s" "SESSION_TEMPLATE"}}) sc
JOIN {{t "DOCTOR"}} d ON {{c "d" "DOCTOR.DOCTOR_ID"}} = sc.DOCTOR_ID AND {{practitioner "d"}}
JOIN {{t "BRANCH"}} l ON {{c "l" "BRANCH.BRANCH_ID"}} = sc.BRANCH_ID AND {{live "l" "BRANCH"}}
WHERE 1 = 1
