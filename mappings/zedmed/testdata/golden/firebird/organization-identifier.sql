-- Organization?identifier=http://hl7.org.au/id/abn|51824753556
-- @p1 VarChar = '51824753556'
-- @p2 Int = '21'
SELECT
    pr.PRACTICE_ID AS "id",
    pr.PRACTICE_NAME AS "name",
    pr.HPIO AS "hpio",
    pr.ABN AS "abn",
    l.ADDRESS_1 AS "address1",
    l.ADDRESS_2 AS "address2",
    l.SUBURB AS "city",
    l.POSTCODE AS "postcode",
    l.PHONE AS "phone",
    l.FAX AS "fax",
    l.EMAIL AS "email",
    pr.CREATED_AT AS "created",
    pr.UPDATED_AT AS "updated",
    pr.PRACTICE_ID AS "_k0"
FROM PRACTICE pr
LEFT JOIN BRANCH l ON l.BRANCH_ID = (SELECT MIN(x.BRANCH_ID) FROM BRANCH x
    WHERE x.PRACTICE_ID = pr.PRACTICE_ID AND x.DELETED = 0)
WHERE pr.DELETED = 0
  AND UPPER(REPLACE(pr.ABN, ' ', '')) = UPPER(CAST(@p1 AS VARCHAR(4096)))
ORDER BY pr.PRACTICE_ID ASC
FETCH FIRST @p2 ROWS ONLY
