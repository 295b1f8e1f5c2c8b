-- Location?address-state:contains=wales
-- @p1 Int = '21'
SELECT TOP (@p1)
    l."LOCATIONID" AS "id",
    l."LOCATIONNAME" AS "name",
    l."ADDRESS1" AS "address1",
    l."ADDRESS2" AS "address2",
    l."CITY" AS "city",
    l."POSTCODE" AS "postcode",
    l."HPIO" AS "hpio",
    l."PHONE" AS "phone",
    l."FAX" AS "fax",
    l."EMAIL" AS "email",
    pr."PRACTICEID" AS "org_id",
    pr."PRACTICENAME" AS "org_name",
    pr."HPIO" AS "org_hpio",
    pr."ABN" AS "org_abn",
    l."CREATED" AS "created",
    l."UPDATED" AS "updated",
    l."LOCATIONID" AS "_k0"
FROM "LOCATIONS" l
LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
WHERE l."RECORDSTATUS" = 1
  AND (l."POSTCODE" BETWEEN '1000' AND '1999' OR l."POSTCODE" BETWEEN '2000' AND '2599' OR l."POSTCODE" BETWEEN '2619' AND '2899' OR l."POSTCODE" BETWEEN '2921' AND '2999')
ORDER BY l."LOCATIONID" ASC
