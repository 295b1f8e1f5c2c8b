-- Patient?identifier=8003608166690503
-- @p1 VarChar = '8003608166690503'
-- @p2 VarChar = '8003608166690503'
-- @p3 VarChar = '8003608166690503'
-- @p4 Int = '21'
SELECT
    p.PATIENT_ID AS "id",
    p.STATUS AS "status",
    p.TITLE AS "title",
    p.FIRST_NAME AS "first",
    p.MIDDLE_NAME AS "middle",
    p.SURNAME AS "family",
    p.PREFERRED_NAME AS "preferred",
    p.ADDRESS_1 AS "address1",
    p.ADDRESS_2 AS "address2",
    p.SUBURB AS "city",
    p.POSTCODE AS "postcode",
    p.POSTAL_ADDRESS AS "postal_address",
    p.POSTAL_SUBURB AS "postal_city",
    p.POSTAL_POSTCODE AS "postal_postcode",
    p.DOB AS "dob",
    p.DOD AS "dod",
    p.SEX AS "sex",
    p.ATSI AS "indigenous_status",
    p.HOME_PHONE AS "home_phone",
    p.WORK_PHONE AS "work_phone",
    p.MOBILE_PHONE AS "mobile_phone",
    p.EMAIL AS "email",
    p.IHI AS "ihi",
    p.MEDICARE_NO AS "medicare",
    p.MEDICARE_IRN AS "medicare_irn",
    p.MEDICARE_EXPIRY AS "medicare_expiry",
    p.DVA_NO AS "dva",
    p.DVA_CARD AS "dva_card",
    p.CHART_NO AS "record_no",
    d.DOCTOR_ID AS "gp_id",
    d.TITLE AS "gp_title",
    d.FIRST_NAME AS "gp_first",
    d.SURNAME AS "gp_family",
    pr.PRACTICE_ID AS "org_id",
    pr.PRACTICE_NAME AS "org_name",
    pr.HPIO AS "org_hpio",
    pr.ABN AS "org_abn",
    p.CREATED_AT AS "created",
    p.UPDATED_AT AS "updated",
    p.PATIENT_ID AS "_k0"
FROM PATIENT p
LEFT JOIN DOCTOR d ON d.DOCTOR_ID = p.USUAL_DOCTOR_ID AND (d.DELETED = 0 AND (d.DOCTOR_TYPE IN (1, 2, 3, 4) OR COALESCE(d.AHPRA_NO, '') <> ''))
LEFT JOIN PRACTICE pr ON pr.PRACTICE_ID = (SELECT MIN(x.PRACTICE_ID) FROM PRACTICE x WHERE x.DELETED = 0)
WHERE p.DELETED = 0
  AND (UPPER(p.IHI) = UPPER(CAST(@p1 AS VARCHAR(4096))) OR UPPER(p.DVA_NO) = UPPER(CAST(@p2 AS VARCHAR(4096))) OR UPPER(p.CHART_NO) = UPPER(CAST(@p3 AS VARCHAR(4096))))
ORDER BY p.PATIENT_ID ASC
FETCH FIRST @p4 ROWS ONLY
