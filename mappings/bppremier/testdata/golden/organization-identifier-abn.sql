-- Organization?identifier=http://hl7.org.au/id/abn|51824753556
-- @p1 VarChar = '51824753556'
-- @p2 Int = '21'
SELECT TOP (@p2)
    pr."PRACTICEID" AS "id",
    pr."PRACTICENAME" AS "name",
    pr."HPIO" AS "hpio",
    pr."ABN" AS "abn",
    l."ADDRESS1" AS "address1",
    l."ADDRESS2" AS "address2",
    l."CITY" AS "city",
    l."POSTCODE" AS "postcode",
    l."PHONE" AS "phone",
    l."FAX" AS "fax",
    l."EMAIL" AS "email",
    pr."CREATED" AS "created",
    pr."UPDATED" AS "updated",
    pr."PRACTICEID" AS "_k0"
FROM "PRACTICE" pr
LEFT JOIN "LOCATIONS" l ON l."LOCATIONID" = (SELECT MIN(x."LOCATIONID") FROM "LOCATIONS" x WHERE x."RECORDSTATUS" = 1)
WHERE pr."RECORDSTATUS" = 1
  AND REPLACE(pr."ABN", ' ', '') = @p1
ORDER BY pr."PRACTICEID" ASC
