-- Organization?address=nsw
-- @p1 VarChar = 'nsw%'
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
  AND (l."ADDRESS1" LIKE @p1 ESCAPE '\' OR l."ADDRESS2" LIKE @p1 ESCAPE '\' OR l."CITY" LIKE @p1 ESCAPE '\' OR l."POSTCODE" LIKE @p1 ESCAPE '\' OR (l."POSTCODE" BETWEEN '1000' AND '1999' OR l."POSTCODE" BETWEEN '2000' AND '2599' OR l."POSTCODE" BETWEEN '2619' AND '2899' OR l."POSTCODE" BETWEEN '2921' AND '2999'))
ORDER BY pr."PRACTICEID" ASC
