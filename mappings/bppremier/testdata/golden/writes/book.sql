-- text nonQuery, answer column RECORDID
-- @aptdate Date = '2026-06-16'
-- @apttime Int = '32400'
-- @appointmenttype Int = '0'
-- @aptlen Int = '900'
-- @practitionerid Int = '3'
-- @patientid Int = '12'
-- @reason VarChar = 'Booked online; it''s ''urgent'''
-- @loginid Int = '0'
-- @locationid Int = '1'
-- @videourl VarChar = NULL
SET NOCOUNT ON;
SET XACT_ABORT ON;
DECLARE @made TABLE ("RECORDID" int);
DECLARE @book nvarchar(64) = N'fhirlink:appointment-book:' + CAST(@practitionerid AS nvarchar(12));
BEGIN TRANSACTION;
DECLARE @locked int;
EXEC @locked = sp_getapplock @Resource = @book, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 10000;
IF @locked < 0 THROW 50000, 'the appointment book stayed busy; retry', 1;
DECLARE @booked TABLE ("Booked" int);
INSERT INTO @booked EXEC BP_IsAppointmentBooked @userid = @practitionerid, @aptdate = @aptdate, @apttime = @apttime;
IF NOT EXISTS (SELECT 1 FROM @booked WHERE "Booked" <> 0)
    INSERT INTO @made EXEC BP_AddAppointmentEx @aptdate = @aptdate, @apttime = @apttime, @appointmenttype = @appointmenttype,
        @aptlen = @aptlen, @practitionerid = @practitionerid, @patientid = @patientid, @reason = @reason, @loginid = @loginid,
        @locationid = @locationid, @videourl = @videourl;
COMMIT TRANSACTION;
DELETE FROM @made OUTPUT deleted."RECORDID";
