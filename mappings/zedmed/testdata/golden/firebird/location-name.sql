-- Location?name=parkside
-- @p1 VarChar = 'parkside%'
-- @p2 Int = '21'
SELECT
    l.BRANCH_ID AS "id",
    l.BRANCH_NAME AS "name",
    l.ADDRESS_1 AS "address1",
    l.ADDRESS_2 AS "address2",
    l.SUBURB AS "city",
    l.POSTCODE AS "postcode",
    l.HPIO AS "hpio",
    l.PHONE AS "phone",
    l.FAX AS "fax",
    l.EMAIL AS "email",
    pr.PRACTICE_ID AS "org_id",
    pr.PRACTICE_NAME AS "org_name",
    pr.HPIO AS "org_hpio",
    pr.ABN AS "org_abn",
    l.CREATED_AT AS "created",
    l.UPDATED_AT AS "updated",
    l.BRANCH_ID AS "_k0"
FROM BRANCH l
LEFT JOIN PRACTICE pr ON pr.PRACTICE_ID = l.PRACTICE_ID AND pr.DELETED = 0
WHERE l.DELETED = 0
  AND UPPER(l.BRANCH_NAME) LIKE UPPER(CAST(@p1 AS VARCHAR(4096))) ESCAPE '\'
ORDER BY l.BRANCH_ID ASC
FETCH FIRST @p2 ROWS ONLY
