{{/* Organization: the live PRACTICE row(s); address and contacts from the first live BRANCH. */ -}}
{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}
    {{c "pr" "PRACTICE.PRACTICE_ID"}} AS "id",
    {{c "pr" "PRACTICE.PRACTICE_NAME"}} AS "name",
    {{c "pr" "PRACTICE.HPIO"}} AS "hpio",
    {{c "pr" "PRACTICE.ABN"}} AS "abn",
    {{c "l" "BRANCH.ADDRESS_1"}} AS "address1",
    {{c "l" "BRANCH.ADDRESS_2"}} AS "address2",
    {{c "l" "BRANCH.SUBURB"}} AS "city",
    {{c "l" "BRANCH.POSTCODE"}} AS "postcode",
    {{c "l" "BRANCH.PHONE"}} AS "phone",
    {{c "l" "BRANCH.FAX"}} AS "fax",
    {{c "l" "BRANCH.EMAIL"}} AS "email",
    {{c "pr" "PRACTICE.CREATED_AT"}} AS "created",
    {{c "pr" "PRACTICE.UPDATED_AT"}} AS "updated"{{.Keys}}{{end}}
FROM {{t "PRACTICE"}} pr
LEFT JOIN {{t "BRANCH"}} l ON {{c "l" "BRANCH.BRANCH_ID"}} = (SELECT MIN({{c "x" "BRANCH.BRANCH_ID"}}) FROM {{t "BRANCH"}} x
    WHERE {{c "x" "BRANCH.PRACTICE_ID"}} = {{c "pr" "PRACTICE.PRACTICE_ID"}} AND {{live "x" "BRANCH"}})
WHERE {{live "pr" "PRACTICE"}}{{.Where}}{{if not .Count}}
ORDER BY {{.OrderBy}}{{end}}{{.Limit}}
