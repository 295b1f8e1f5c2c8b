{{/* Location: one row per live BRANCH, managed by the practice. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    {{c "l" "BRANCH.BRANCH_ID"}} AS "id",
    {{c "l" "BRANCH.BRANCH_NAME"}} AS "name",
    {{c "l" "BRANCH.ADDRESS_1"}} AS "address1",
    {{c "l" "BRANCH.ADDRESS_2"}} AS "address2",
    {{c "l" "BRANCH.SUBURB"}} AS "city",
    {{c "l" "BRANCH.POSTCODE"}} AS "postcode",
    {{c "l" "BRANCH.HPIO"}} AS "hpio",
    {{c "l" "BRANCH.PHONE"}} AS "phone",
    {{c "l" "BRANCH.FAX"}} AS "fax",
    {{c "l" "BRANCH.EMAIL"}} AS "email",
    {{c "pr" "PRACTICE.PRACTICE_ID"}} AS "org_id",
    {{c "pr" "PRACTICE.PRACTICE_NAME"}} AS "org_name",
    {{c "pr" "PRACTICE.HPIO"}} AS "org_hpio",
    {{c "pr" "PRACTICE.ABN"}} AS "org_abn",
    {{c "l" "BRANCH.CREATED_AT"}} AS "created",
    {{c "l" "BRANCH.UPDATED_AT"}} AS "updated"{{.Keys}}{{end}}
FROM {{t "BRANCH"}} l
LEFT JOIN {{t "PRACTICE"}} pr ON {{c "pr" "PRACTICE.PRACTICE_ID"}} = {{c "l" "BRANCH.PRACTICE_ID"}} AND {{live "pr" "PRACTICE"}}
WHERE {{live "l" "BRANCH"}}{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
