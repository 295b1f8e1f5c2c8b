{{/* Schedule: one row per doctor and branch with live session templates, both still on file. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    sc.DOCTOR_ID AS "doctor_id",
    sc.BRANCH_ID AS "location_id",
    {{c "d" "DOCTOR.TITLE"}} AS "doctor_title",
    {{c "d" "DOCTOR.FIRST_NAME"}} AS "doctor_first",
    {{c "d" "DOCTOR.SURNAME"}} AS "doctor_family",
    {{c "l" "BRANCH.BRANCH_NAME"}} AS "location_name",
    CASE WHEN {{scheduleActive}} THEN 1 ELSE 0 END AS "active"{{.Keys}}{{end}}
FROM (SELECT DISTINCT {{c "s" "SESSION_TEMPLATE.DOCTOR_ID"}} AS DOCTOR_ID, {{c "s" "SESSION_TEMPLATE.BRANCH_ID"}} AS BRANCH_ID
      FROM {{t "SESSION_TEMPLATE"}} s WHERE {{live "s" "SESSION_TEMPLATE"}}) sc
JOIN {{t "DOCTOR"}} d ON {{c "d" "DOCTOR.DOCTOR_ID"}} = sc.DOCTOR_ID AND {{practitioner "d"}}
JOIN {{t "BRANCH"}} l ON {{c "l" "BRANCH.BRANCH_ID"}} = sc.BRANCH_ID AND {{live "l" "BRANCH"}}
WHERE 1 = 1{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
