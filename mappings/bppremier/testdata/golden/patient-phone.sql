-- Patient?phone=%2B61 412 345 678
-- @p1 VarChar = '0412345678'
-- @p2 Int = '21'
SELECT TOP (@p2)
    p."INTERNALID" AS "id",
    p."PATIENTSTATUS" AS "status",
    t."TITLE" AS "title",
    p."FIRSTNAME" AS "first",
    p."MIDDLENAME" AS "middle",
    p."SURNAME" AS "family",
    p."PREFERREDNAME" AS "preferred",
    p."ADDRESS1" AS "address1",
    p."ADDRESS2" AS "address2",
    p."CITY" AS "city",
    p."POSTCODE" AS "postcode",
    p."POSTALADDRESS" AS "postal_address",
    p."POSTALCITY" AS "postal_city",
    p."POSTALPOSTCODE" AS "postal_postcode",
    p."DOB" AS "dob",
    p."DATEOFDEATH" AS "dod",
    sx."SEX" AS "sex",
    e."ETHNICTYPE" AS "indigenous_status",
    p."HOMEPHONE" AS "home_phone",
    p."WORKPHONE" AS "work_phone",
    p."MOBILEPHONE" AS "mobile_phone",
    p."EMAIL" AS "email",
    p."IHI" AS "ihi",
    p."MEDICARENO" AS "medicare",
    p."MEDICARELINENO" AS "medicare_irn",
    p."MEDICAREEXPIRY" AS "medicare_expiry",
    p."DVANO" AS "dva",
    dv."DVATYPE" AS "dva_card",
    p."RECORDNO" AS "record_no",
    u."USERID" AS "gp_id",
    ut."TITLE" AS "gp_title",
    u."FIRSTNAME" AS "gp_first",
    u."SURNAME" AS "gp_family",
    pr."PRACTICEID" AS "org_id",
    pr."PRACTICENAME" AS "org_name",
    pr."HPIO" AS "org_hpio",
    pr."ABN" AS "org_abn",
    p."CREATED" AS "created",
    p."UPDATED" AS "updated",
    p."INTERNALID" AS "_k0"
FROM "PATIENTS" p
LEFT JOIN "TITLES" t ON t."TITLECODE" = p."TITLECODE"
LEFT JOIN "SEX" sx ON sx."SEXCODE" = p."SEXCODE"
LEFT JOIN "ETHNICITY" e ON e."ETHNICCODE" = p."ETHNICCODE"
LEFT JOIN "DVATYPE" dv ON dv."DVACODE" = p."DVACODE"
LEFT JOIN "USERS" u ON u."USERID" = p."USERID" AND (u."RECORDSTATUS" = 1 AND u."USERSTATUS" <> 999 AND (u."GROUPCODE" IN (1, 2, 3, 4) OR RTRIM(u."REGISTRATIONNO") <> ''))
LEFT JOIN "TITLES" ut ON ut."TITLECODE" = u."TITLECODE"
LEFT JOIN "PRACTICE" pr ON pr."PRACTICEID" = (SELECT MIN(x."PRACTICEID") FROM "PRACTICE" x WHERE x."RECORDSTATUS" = 1)
WHERE p."RECORDSTATUS" = 1
  AND (REPLACE(REPLACE(REPLACE(REPLACE(p."HOMEPHONE", ' ', ''), '-', ''), '(', ''), ')', '') = @p1 OR REPLACE(REPLACE(REPLACE(REPLACE(p."WORKPHONE", ' ', ''), '-', ''), '(', ''), ')', '') = @p1 OR REPLACE(REPLACE(REPLACE(REPLACE(p."MOBILEPHONE", ' ', ''), '-', ''), '(', ''), ')', '') = @p1)
ORDER BY p."INTERNALID" ASC
