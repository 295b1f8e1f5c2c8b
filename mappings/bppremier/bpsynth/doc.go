// Package bpsynth builds a synthetic Bp Premier practice database ("BPSPatients") for tests
// and the demo: the schema of the tables and BPS_* views fhirlink reads, and a deterministic
// generator of realistic Australian general-practice data.
//
// # Use
//
//	db, _ := sql.Open("sqlite", path)               // or "pgx" with a PostgreSQL DSN
//	err := bpsynth.Apply(ctx, db, bpsynth.EngineSQLite)
//	err = bpsynth.Generate(ctx, db, bpsynth.EngineSQLite, bpsynth.Small())
//
// Small() is a 200-patient demo practice, Benchmark() a 50,000-patient one. The same Options
// (Seed, Patients, Today, ...) always give the same rows, on SQLite and PostgreSQL alike (a
// test compares every table across the two engines). Nothing depends on the wall clock: dates
// are laid out around Options.Today (default 2026-06-15, "now" being 11:00 that day). The
// practice is in Options.State (default NSW); its times are wall-clock times of that state's
// zone (Options.TimeZone, Australia/Sydney by default), the zone an agent serving it runs in.
//
// # Files
//
//   - schema.mssql.sql, schema.postgres.sql, schema.sqlite.sql: the same tables, indexes and
//     views in three dialects (embedded; see Schema). The T-SQL file is the shape of the real
//     database and is reference only: there is no SQL Server in the test environment.
//   - procedures.postgres.sql: the practice's stored procedures that third parties call
//     (BP_AddAppointment, BP_AddAppointmentEx, BP_IsAppointmentBooked, BP_MoveAppointment,
//     BP_CancelAppointment, BP_AddPatient, BP_GetFreeAppointments) as PL/pgSQL functions, which
//     Apply creates on PostgreSQL; booking.go holds the same as single SQLite statements.
//   - schema.go (Apply, the DDL parser), writer.go (batched INSERTs with bound parameters).
//   - codes.go (every code number, in one place), names.go (people and places),
//     clinicaldata.go (conditions, medicines, vaccines, pathology), identifiers.go (check
//     digits, validators, identifier generators).
//   - generate.go (Options, Generate), gen_practice.go, gen_patients.go, gen_schedule.go,
//     gen_clinical.go (one file per table group).
//
// # Quoting: one rule for every engine
//
// Names keep Bp's spelling: upper-case base tables and columns ("PATIENTS"."SURNAME"), mixed
// case views and view columns ("BPS_Patients"."InternalID"). PostgreSQL folds unquoted names to
// lower case, so SQL for this database must double-quote every table, view and column name,
// exactly as spelled here. Double quotes work on SQLite too and on SQL Server (with the default
// QUOTED_IDENTIFIER ON); brackets are the T-SQL alternative. Only SQL Server has the dbo
// schema: the dialect layer adds "dbo." there and nothing on PostgreSQL and SQLite.
//
// # Data conventions that mappings must handle
//
//   - char(n) values are space-padded to n on every engine (SQLite stores them padded). Trim
//     them. On PostgreSQL and SQL Server, comparisons of char values ignore trailing spaces;
//     on SQLite they do not, so compare RTRIM(col) there (e.g. RTRIM("IHI") is not the empty string).
//   - Absent text is usually blank (all spaces) rather than NULL, as Bp's own stored
//     procedures write it; absent dates are NULL.
//   - DATETIME on SQLite is text "YYYY-MM-DD HH:MM:SS": bind and compare in that format.
//     PostgreSQL uses timestamp(3) without time zone. Times of day are int seconds after
//     midnight, practice local time.
//   - A live row has RECORDSTATUS = 1; a live patient also has PATIENTSTATUS = 1. The BPS_*
//     views show live rows only (BPS_Patients shows every PATIENTSTATUS). Every table the FHIR
//     mapping reads has deleted rows (RECORDSTATUS 0): every n-th row of the big tables
//     (deletedEvery in writer.go) and a few placed in the small ones (writeDeleted).
//   - APPOINTMENTS with INTERNALID = 0 are blocked slots (status Unavailable).
//   - Cancelled appointments keep their APPOINTMENTS row with RECORDSTATUS = 0, plus a
//     CANCELLATIONS and a CANCELLEDAPPOINTMENTS row; the slot may be booked again.
//   - Family members share a Medicare card number (MEDICARELINENO is each one's IRN), a home
//     phone and an address; HEADOFFAMILYID points at the first member.
//   - INVESTIGATIONS and REPORTVALUES rows have a negative CREATEDBY (results imported on a
//     user's behalf): use ABS(CREATEDBY).
//   - ABNs are stored formatted ("51 824 753 556"), which fills Bp's char(14) ABN columns.
//   - Telephone landlines are in the ranges reserved for fiction ((0x) 5550 xxxx, 7010 xxxx),
//     e-mail addresses use example.com/.net/.org.
//
// # Assumptions about Bp Premier
//
// The reference model gives table, view and column names and types, but not code numbers,
// view definitions or defaults. Everything below is an assumption of this package; the code
// numbers are all in codes.go.
//
//   - PATIENTS.EMAIL varchar(250) exists (BPS_Patients.Email does; the 2019 model has no
//     column for it). The usual doctor is PATIENTS.USERID (there is no USUALDOCTOR column).
//   - Code numbers: APPOINTMENTCODES 0-9 in the unofficial list's order; SEX 0 Not stated,
//     1 Male, 2 Female, 3 Other; PATIENTSTATUS 1 Active, 2 Inactive, 3 Deceased; deleted rows
//     RECORDSTATUS 0; TITLES, USERGROUPS, MARITALSTATUS, SEXUALITY, DVATYPE, PENSIONTYPE,
//     ETHNICITY numbering and texts; DAYOFWEEK 1 = Sunday; VISITTYPE numbers other than
//     1 Surgery and 12 Non Visit; SEVERITYCODES 0 blank, 1-3 Mild/Moderate/Severe; YESNOUNKNOWN
//     2 Unknown; SMOKINGSTATUS/ALCOHOLSTATUS texts; PASTHISTORY STATUSCODE (1 Active,
//     2 Inactive) and LOCATIONCODE (1 Left, 2 Right, 3 Bilateral); CLINICAL.RH (1 +, 2 -);
//     ROUTE codes; immunisation SITECODE/ROUTE/Status; OBSERVATIONS.DATANAME texts.
//   - View definitions (joins, filters, display-name formats "Dr Jane Citizen" and "Jane
//     Citizen") are reconstructed from the column lists. CASE-derived texts (History Status and
//     Side, Clinical KnownAllergies/AccomodationText/LivesWithText, Patients HCHTier,
//     Investigations Notation/Action) are guesses. BPS_History.SNOMED and the medication
//     Frequency/Food/OtherDetail texts come from SYN_* stand-in tables that do not exist in Bp
//     (Bp keeps such reference data in BPSDrugs).
//   - PATIENTSTATUS, SMOKINGSTATUS, ALCOHOLSTATUS, YESNOUNKNOWN and CANCELLEDAPPOINTMENTS are
//     views or keyless objects in Bp; here they are tables.
//   - Code-list keys are not identity columns; record keys are. Indexes (IX_*) are invented.
//   - MEDICAREEXPIRY is "MM/YYYY"; DVA file numbers look like "NX123456"; PENSIONNO is a CRN
//     (9 digits and a letter); PRESCRIBERNO is 7 random digits (no check digit known);
//     REGISTRATIONNO is an AHPRA number (MED... for doctors, NMW... for nurses).
//   - Sessions repeat every week (WEEKS = 1, CYCLEWEEK = 0); VISITS.DURATION is in seconds;
//     VISITS.VISITDATE is the date at midnight; PRESCRIPTIONS.SCRIPTDATE carries the time.
//   - Appointment statuses by time: past attended ones are Completed, Paid or Invoiced,
//     today's move through Waiting, With doctor and At billing, future ones are Booked.
package bpsynth
