-- Stored procedures of the synthetic Bp Premier database, as PL/pgSQL functions (package bpsynth).
--
-- Bp Premier's own procedures are not public: the names and parameters below are those third
-- parties call (see the reference notes on Bp Premier); what each does is this package's reading
-- of them, written against the tables of schema.postgres.sql so that what they write reads back
-- through the FHIR mapping (appointment.sql, slot.sql) like the generated rows.
--
-- Functions, not procedures: the agent calls a PostgreSQL "stored procedure" as
-- SELECT * FROM name(param => value, ...), which returns a function's rows (here one row of its
-- OUT parameters). Names are unquoted, so BP_AddAppointment, as integrators spell it for SQL
-- Server, finds bp_addappointment; parameters are the SQL Server names without '@'.
--
-- Concurrency: every function that puts an appointment on a practitioner's book first takes a
-- transaction-scoped advisory lock on that practitioner (class bookLock, key USERID), then
-- checks the book and writes. Two concurrent bookings of one slot are therefore serialised: the
-- second sees the first's row and answers 0. The lock ends with the statement's transaction;
-- nothing is added to the practice's tables.
--
-- Each statement ends with a line "$$;" (see ProcedureStatements).

-- bp_book_lock serialises changes to one practitioner's appointment book.
CREATE FUNCTION bp_book_lock(userid integer) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(1112492107, userid) -- the class: 'BPAK' as an int4
$$;

-- bp_slot_taken: whether a live appointment (booked or a blocked slot) of the practitioner
-- overlaps [apttime, apttime + aptlen) on aptdate, other than the appointment skip.
CREATE FUNCTION bp_slot_taken(userid integer, aptdate date, apttime integer, aptlen integer, skip integer DEFAULT 0)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM "APPOINTMENTS" a
        WHERE a."USERID" = userid AND a."APPOINTMENTDATE" = aptdate AND a."RECORDSTATUS" = 1
          AND a."RECORDID" <> skip
          AND a."APPOINTMENTTIME" < apttime + aptlen AND a."APPOINTMENTTIME" + a."APPOINTMENTLENGTH" > apttime)
$$;

-- BP_AddAppointmentEx books a patient with a practitioner: RECORDID is the new APPOINTMENTS row,
-- or 0 when the time overlaps another live appointment of the practitioner (the slot is taken).
-- An unknown practitioner, patient or type, and a time outside the day, are errors. locationid 0
-- takes the location of the practitioner's session at that time, else the practitioner's own;
-- appointmenttype 0 the practice's first type. The row is booked (APPOINTMENTCODE 1), made by
-- loginid.
CREATE FUNCTION BP_AddAppointmentEx(aptdate date, apttime integer, appointmenttype integer, aptlen integer,
    practitionerid integer, patientid integer, reason varchar, loginid integer, locationid integer,
    videourl varchar DEFAULT NULL, OUT "RECORDID" integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    loc integer := coalesce(locationid, 0);
    typ integer := coalesce(appointmenttype, 0);
    newid integer;
BEGIN
    IF aptdate IS NULL OR apttime IS NULL OR aptlen IS NULL OR apttime < 0 OR aptlen <= 0 OR apttime + aptlen > 86400 THEN
        RAISE EXCEPTION 'BP_AddAppointment: the time must lie within the day (apttime % s, aptlen % s on %)', apttime, aptlen, aptdate
            USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM "PATIENTS" p WHERE p."INTERNALID" = patientid AND p."RECORDSTATUS" = 1) THEN
        RAISE EXCEPTION 'BP_AddAppointment: no patient %', patientid USING ERRCODE = '22023';
    END IF;
    PERFORM bp_book_lock(practitionerid);
    IF NOT EXISTS (SELECT 1 FROM "USERS" u WHERE u."USERID" = practitionerid AND u."RECORDSTATUS" = 1) THEN
        RAISE EXCEPTION 'BP_AddAppointment: no practitioner %', practitionerid USING ERRCODE = '22023';
    END IF;
    IF typ = 0 THEN
        SELECT t."APPOINTMENTCODE" INTO typ FROM "APPOINTMENTTYPES" t WHERE t."RECORDSTATUS" = 1
        ORDER BY t."LISTORDER", t."APPOINTMENTCODE" LIMIT 1;
    ELSIF NOT EXISTS (SELECT 1 FROM "APPOINTMENTTYPES" t WHERE t."APPOINTMENTCODE" = typ AND t."RECORDSTATUS" = 1) THEN
        RAISE EXCEPTION 'BP_AddAppointment: no appointment type %', typ USING ERRCODE = '22023';
    END IF;
    IF loc = 0 THEN
        SELECT coalesce(
            (SELECT s."LOCATIONID" FROM "SESSIONS" s
              WHERE s."USERID" = practitionerid AND s."RECORDSTATUS" = 1 AND s."DAYOFWEEK" = extract(dow FROM aptdate) + 1
                AND (s."STARTDATE" IS NULL OR s."STARTDATE" <= aptdate) AND (s."ENDDATE" IS NULL OR s."ENDDATE" >= aptdate)
                AND s."STARTTIME" <= apttime AND s."ENDTIME" > apttime
              UNION ALL
             SELECT e."LOCATIONID" FROM "EXTRASESSIONS" e
              WHERE e."USERID" = practitionerid AND e."RECORDSTATUS" = 1 AND e."SESSIONDATE" = aptdate
                AND e."STARTTIME" <= apttime AND e."ENDTIME" > apttime
              LIMIT 1),
            (SELECT u."LOCATIONID" FROM "USERS" u WHERE u."USERID" = practitionerid)) INTO loc;
    END IF;
    IF bp_slot_taken(practitionerid, aptdate, apttime, aptlen) THEN
        "RECORDID" := 0;
        RETURN;
    END IF;
    INSERT INTO "APPOINTMENTS" ("INTERNALID", "RECORDSTATUS", "USERID", "LOCATIONID", "VISITID", "APPOINTMENTDATE",
        "APPOINTMENTTIME", "APPOINTMENTLENGTH", "APPOINTMENTCODE", "APPOINTMENTTYPE", "URGENT", "REASON", "ARRIVALTIME",
        "CONSULTATIONTIME", "VISITLENGTH", "ROOMID", "OPERATIONID", "BOOKEDBY", "ACCOUNTTYPE", "NNAC", "PATIENTS",
        "ITEMLIST", "COMMENT", "CREATED", "CREATEDBY", "FOLLOWUP", "VIDEOURL")
    VALUES (patientid, 1, practitionerid, loc, 0, aptdate, apttime, aptlen, 1, typ, 0, coalesce(reason, ''), 0,
        0, 0, 0, 0, coalesce(loginid, 0), 0, 0, 1, '', '', localtimestamp(3), coalesce(loginid, 0), 0, nullif(videourl, ''))
    RETURNING "RECORDID" INTO newid;
    "RECORDID" := newid;
END
$$;

-- BP_AddAppointment is BP_AddAppointmentEx with the practice's first appointment type, no reason
-- and no video link.
CREATE FUNCTION BP_AddAppointment(aptdate date, apttime integer, aptlen integer, practitionerid integer,
    patientid integer, loginid integer DEFAULT 0, locationid integer DEFAULT 0, OUT "RECORDID" integer)
LANGUAGE sql AS $$
    SELECT BP_AddAppointmentEx(aptdate, apttime, 0, aptlen, practitionerid, patientid, '', loginid, locationid)
$$;

-- BP_IsAppointmentBooked: Booked is 1 when a live appointment of the practitioner (with a patient,
-- or a blocked slot) covers apttime on aptdate, else 0.
CREATE FUNCTION BP_IsAppointmentBooked(userid integer, aptdate date, apttime integer, OUT "Booked" integer)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN bp_slot_taken(userid, aptdate, apttime, 1) THEN 1 ELSE 0 END
$$;

-- BP_MoveAppointment moves a live appointment to another day, time, practitioner or location,
-- keeping its length: RECORDID is aptid, or 0 when the new time overlaps another live
-- appointment of that practitioner (nothing changes then). An appointment that is not live is
-- an error. locationid 0 keeps the appointment's location.
CREATE FUNCTION BP_MoveAppointment(aptid integer, aptdate date, apttime integer, practitionerid integer,
    locationid integer DEFAULT 0, OUT "RECORDID" integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    len integer;
BEGIN
    PERFORM bp_book_lock(practitionerid);
    SELECT a."APPOINTMENTLENGTH" INTO len FROM "APPOINTMENTS" a
    WHERE a."RECORDID" = aptid AND a."RECORDSTATUS" = 1 AND a."INTERNALID" <> 0 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'BP_MoveAppointment: no live appointment %', aptid USING ERRCODE = '22023';
    END IF;
    IF apttime IS NULL OR apttime < 0 OR apttime + len > 86400 OR aptdate IS NULL THEN
        RAISE EXCEPTION 'BP_MoveAppointment: the time must lie within the day (apttime % s on %)', apttime, aptdate USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM "USERS" u WHERE u."USERID" = practitionerid AND u."RECORDSTATUS" = 1) THEN
        RAISE EXCEPTION 'BP_MoveAppointment: no practitioner %', practitionerid USING ERRCODE = '22023';
    END IF;
    IF bp_slot_taken(practitionerid, aptdate, apttime, len, aptid) THEN
        "RECORDID" := 0;
        RETURN;
    END IF;
    UPDATE "APPOINTMENTS" a SET "APPOINTMENTDATE" = aptdate, "APPOINTMENTTIME" = apttime, "USERID" = practitionerid,
        "LOCATIONID" = CASE WHEN coalesce(locationid, 0) = 0 THEN a."LOCATIONID" ELSE locationid END,
        "UPDATED" = localtimestamp(3)
    WHERE a."RECORDID" = aptid;
    "RECORDID" := aptid;
END
$$;

-- BP_CancelAppointment cancels a live appointment as the generated data records cancellations:
-- the row stays, not live, with a CANCELLATIONS and a CANCELLEDAPPOINTMENTS record by loginid,
-- and its time is free again. RECORDID is aptid, or 0 when the appointment was already cancelled
-- (nothing is recorded twice); an unknown appointment is an error.
CREATE FUNCTION BP_CancelAppointment(aptid integer, loginid integer DEFAULT 0, OUT "RECORDID" integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    patient integer;
    userid integer;
    status integer;
    stamp timestamp(3) := localtimestamp(3);
BEGIN
    SELECT a."INTERNALID", a."USERID", a."RECORDSTATUS" INTO patient, userid, status FROM "APPOINTMENTS" a
    WHERE a."RECORDID" = aptid AND a."INTERNALID" <> 0 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'BP_CancelAppointment: no appointment %', aptid USING ERRCODE = '22023';
    END IF;
    IF status <> 1 THEN
        "RECORDID" := 0;
        RETURN;
    END IF;
    UPDATE "APPOINTMENTS" a SET "RECORDSTATUS" = 0, "UPDATED" = stamp, "UPDATEDBY" = coalesce(loginid, 0)
    WHERE a."RECORDID" = aptid;
    INSERT INTO "CANCELLATIONS" ("RECORDSTATUS", "INTERNALID", "USERID", "APPOINTMENTID", "CREATED", "CREATEDBY")
    VALUES (1, patient, userid, aptid, stamp, coalesce(loginid, 0));
    INSERT INTO "CANCELLEDAPPOINTMENTS" ("APPOINTMENTID", "CANCELLEDBY", "CANCELLEDDATE", "CANCELLEDTIME", "REASON")
    VALUES (aptid, coalesce(loginid, 0), date_trunc('day', stamp), floor(extract(epoch FROM stamp::time))::integer, NULL);
    "RECORDID" := aptid;
END
$$;

-- BP_AddPatient registers a patient: INTERNALID is the new PATIENTS row. Text left out is blank,
-- as Bp writes it; the patient is live and active (PATIENTSTATUS 1). gendercode and pronouncode
-- are accepted for later releases' callers; this (2019) schema has no columns for them. It does
-- not look for an existing patient: a caller that must not duplicate one searches first.
CREATE FUNCTION BP_AddPatient(titlecode integer, firstname varchar, middlename varchar, surname varchar,
    preferredname varchar, address1 varchar, address2 varchar, city varchar, postcode varchar,
    postaladdress varchar, postalcity varchar, postalpostcode varchar, dob date, sexcode integer,
    homephone varchar, workphone varchar, mobilephone varchar, medicareno varchar, medicarelineno varchar,
    medicareexpiry varchar, pensioncode integer, pensionno varchar, pensionexpiry date, dvacode integer,
    dvano varchar, recordno varchar, externalid varchar, email varchar,
    headoffamilyid integer DEFAULT 0, ethniccode integer DEFAULT 0, consentsmsreminder integer DEFAULT 0,
    nextofkinid integer DEFAULT 0, gendercode integer DEFAULT 0, pronouncode integer DEFAULT 0,
    OUT "INTERNALID" integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    newid integer;
BEGIN
    IF coalesce(trim(surname), '') = '' THEN
        RAISE EXCEPTION 'BP_AddPatient: a surname is required' USING ERRCODE = '22023';
    END IF;
    INSERT INTO "PATIENTS" ("RECORDSTATUS", "EXTERNALID", "IHISTATUS", "IHIRECORDSTATUS", "IHISOURCE", "ORIGIN",
        "PATIENTSTATUS", "TITLECODE", "FIRSTNAME", "MIDDLENAME", "SURNAME", "PREFERREDNAME", "ADDRESS1", "ADDRESS2",
        "CITY", "POSTCODE", "POSTALADDRESS", "POSTALCITY", "POSTALPOSTCODE", "DOB", "SEXCODE", "ETHNICCODE",
        "HOMEPHONE", "WORKPHONE", "MOBILEPHONE", "MEDICARENO", "MEDICARELINENO", "MEDICAREEXPIRY", "PENSIONCODE",
        "PENSIONNO", "PENSIONEXPIRY", "DVACODE", "DVANO", "RECORDNO", "HEALTHFUNDID", "ACCOUNTCODE", "USERID",
        "DENYACCESS", "NOREMINDERS", "CONTACTMETHOD", "HEADOFFAMILYID", "NEXTOFKINID", "EMERGENCYID", "REFERRALCODE",
        "ERX", "DISPENSE", "MEDVIEW", "PHARMACYID", "CTG", "CONSENTSMSREMINDER", "CREATED", "CREATEDBY",
        "DEFAULTVISITTYPE", "HCHTIER", "PublicFunding", "FinDependant", "CSCHolder", "HUCHolder", "IWI",
        "ETHNIC1CODE", "ETHNIC2CODE", "EMAIL")
    VALUES (1, coalesce(externalid, ''), 0, 0, 0, 0,
        1, coalesce(titlecode, 0), coalesce(firstname, ''), coalesce(middlename, ''), surname, coalesce(preferredname, ''),
        coalesce(address1, ''), coalesce(address2, ''), coalesce(city, ''), coalesce(postcode, ''),
        coalesce(postaladdress, ''), coalesce(postalcity, ''), coalesce(postalpostcode, ''), dob, coalesce(sexcode, 0),
        coalesce(ethniccode, 0), coalesce(homephone, ''), coalesce(workphone, ''), coalesce(mobilephone, ''),
        coalesce(medicareno, ''), coalesce(medicarelineno, ''), coalesce(medicareexpiry, ''), coalesce(pensioncode, 0),
        coalesce(pensionno, ''), pensionexpiry, coalesce(dvacode, 0), coalesce(dvano, ''), coalesce(recordno, ''), 0, 0, 0,
        0, 0, 0, coalesce(headoffamilyid, 0), coalesce(nextofkinid, 0), 0, 0,
        0, 0, 0, 0, 0, coalesce(consentsmsreminder, 0), localtimestamp(3), 0,
        0, 0, 0, 0, 0, 0, 0,
        0, 0, nullif(email, ''))
    RETURNING "INTERNALID" INTO newid;
    "INTERNALID" := newid;
END
$$;

-- BP_GetFreeAppointments: the free slots of a practitioner's sessions on aptdate (weekly
-- SESSIONS and one-off EXTRASESSIONS, cut into slots of their LENGTH, as slot.sql lays them
-- out) that no live appointment or blocked slot overlaps, in time order. A day the practitioner
-- is away (DAYSAWAY) is an error, as in Bp.
CREATE FUNCTION BP_GetFreeAppointments(userid integer, aptdate date)
RETURNS TABLE ("AppointmentTime" integer, "AppointmentLength" integer)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    IF EXISTS (SELECT 1 FROM "DAYSAWAY" w WHERE w."RECORDSTATUS" = 1 AND w."USERID" = userid
               AND w."STARTDATE" <= aptdate AND w."FINISHDATE" >= aptdate) THEN
        RAISE EXCEPTION 'BP_GetFreeAppointments: the practitioner is away that date (%)', aptdate USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT g.secs, min(g.len)::integer
    FROM (SELECT gs AS secs, s."LENGTH" AS len
            FROM "SESSIONS" s, generate_series(s."STARTTIME", s."ENDTIME" - s."LENGTH", s."LENGTH") gs
           WHERE s."USERID" = userid AND s."RECORDSTATUS" = 1 AND s."LENGTH" > 0
             AND s."DAYOFWEEK" = extract(dow FROM aptdate) + 1
             AND (s."STARTDATE" IS NULL OR s."STARTDATE" <= aptdate) AND (s."ENDDATE" IS NULL OR s."ENDDATE" >= aptdate)
          UNION ALL
          SELECT gs, e."LENGTH"
            FROM "EXTRASESSIONS" e, generate_series(e."STARTTIME", e."ENDTIME" - e."LENGTH", e."LENGTH") gs
           WHERE e."USERID" = userid AND e."RECORDSTATUS" = 1 AND e."LENGTH" > 0 AND e."SESSIONDATE" = aptdate) g
    GROUP BY g.secs
    HAVING NOT bp_slot_taken(userid, aptdate, g.secs, min(g.len)::integer)
    ORDER BY g.secs;
END
$$;
