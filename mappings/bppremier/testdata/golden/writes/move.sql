-- text nonQuery, answer column RECORDID
-- @aptid Int = '563'
-- @aptdate Date = '2026-06-17'
-- @apttime Int = '36900'
-- @practitionerid Int = '3'
-- @locationid Int = '1'
SET NOCOUNT ON;
SET XACT_ABORT ON;
DECLARE @made TABLE ("RECORDID" int);
DECLARE @book nvarchar(64) = N'fhirlink:appointment-book:' + CAST(@practitionerid AS nvarchar(12));
BEGIN TRANSACTION;
DECLARE @locked int;
EXEC @locked = sp_getapplock @Resource = @book, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 10000;
IF @locked < 0 THROW 50000, 'the appointment book stayed busy; retry', 1;
INSERT INTO @made EXEC BP_MoveAppointment @aptid = @aptid, @aptdate = @aptdate, @apttime = @apttime,
    @practitionerid = @practitionerid, @locationid = @locationid;
COMMIT TRANSACTION;
DELETE FROM @made OUTPUT deleted."RECORDID";
