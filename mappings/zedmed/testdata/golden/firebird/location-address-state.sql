-- Location?address-state=New South
-- @p1 Int = '21'
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
  AND (l.POSTCODE BETWEEN '1000' AND '1999' OR l.POSTCODE BETWEEN '2000' AND '2599' OR l.POSTCODE BETWEEN '2619' AND '2899' OR l.POSTCODE BETWEEN '2921' AND '2999')
ORDER BY l.BRANCH_ID ASC
FETCH FIRST @p1 ROWS ONLY
