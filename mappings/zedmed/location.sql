{{/* Location: one row per live BRANCH, managed by the practice (the select list is locationCols). */ -}}
FROM {{t "BRANCH"}} l
LEFT JOIN {{t "PRACTICE"}} pr ON {{c "pr" "PRACTICE.PRACTICE_ID"}} = {{c "l" "BRANCH.PRACTICE_ID"}} AND {{live "pr" "PRACTICE"}}
WHERE {{live "l" "BRANCH"}}
