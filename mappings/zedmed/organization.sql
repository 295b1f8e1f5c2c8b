{{/* Organization: the live PRACTICE row(s); address and contacts from the first live BRANCH (the select list is organizationCols). */ -}}
FROM {{t "PRACTICE"}} pr
LEFT JOIN {{t "BRANCH"}} l ON {{c "l" "BRANCH.BRANCH_ID"}} = (SELECT MIN({{c "x" "BRANCH.BRANCH_ID"}}) FROM {{t "BRANCH"}} x
    WHERE {{c "x" "BRANCH.PRACTICE_ID"}} = {{c "pr" "PRACTICE.PRACTICE_ID"}} AND {{live "x" "BRANCH"}})
WHERE {{live "pr" "PRACTICE"}}
