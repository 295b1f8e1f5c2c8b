// Package zedsynth builds a synthetic Zedmed practice for tests and the demo: an ASSUMED
// schema of a Firebird general-practice system and a deterministic generator of realistic
// Australian data.
//
// # The schema is assumed
//
// Zedmed's schema is not public. Every table, column, type and code value here is this
// package's design of what such a system plausibly holds; none is Zedmed's. The mapping
// (mappings/zedmed) reads the schema only through its names.go, where each table and column
// it uses is named once: pointing it at a real Zedmed database means editing that file (and
// codes.go for the code values), not the SQL.
//
// # A pair of databases
//
// Zedmed keeps its data in two Firebird databases, and the agent's passthrough "catalogue"
// picks one. Here they are:
//
//   - ZEDMED (CatalogueMain, the site's default catalogue): the practice and its branches, the
//     doctors, the patients, the appointment book (types, weekly session templates, leave,
//     appointments) and the clinical record (PROBLEM, ALLERGY, MEDICATION, IMMUNISATION,
//     MEASUREMENT, CONSULT, SCRIPT). Every FHIR search runs here, in one catalogue.
//   - ZEDBILL (CatalogueBilling): INVOICE and INVOICE_ITEM. FHIR reads nothing from it; it is
//     there for passthrough queries (a "catalogue": "ZEDBILL" request).
//
// Putting the appointment book with the patients rather than with billing is the choice that
// lets each FHIR query (an appointment with its patient's name) stay within one database.
//
// # Use
//
//	db, _ := sql.Open("sqlite", path)  // or "firebirdsql" with a Firebird DSN
//	err := zedsynth.Apply(ctx, db, zedsynth.EngineSQLite)
//	err = zedsynth.Generate(ctx, db, zedsynth.EngineSQLite, zedsynth.Small())
//	// the billing database, optional:
//	err = zedsynth.ApplyBilling(ctx, billDB, zedsynth.EngineSQLite)
//	err = zedsynth.GenerateBilling(ctx, db, billDB, zedsynth.EngineSQLite)
//
// or, for the demo, both SQLite files at once:
//
//	err := zedsynth.CreateSQLite(ctx, "zedmed.db", "zedbill.db", zedsynth.Small())
//
// A site then has two catalogues: ZEDMED (the default, mainPath) and ZEDBILL.
//
// On Firebird, Apply also creates booking procedures of the assumed schema (booking.go):
// ZM_BOOK_APPOINTMENT, ZM_MOVE_APPOINTMENT and ZM_CANCEL_APPOINTMENT, which a storedProcedure
// command calls, each safe against concurrent bookings of one doctor's book, and
// ZM_ADD_PATIENT, which registers a patient (the FHIR mapping's Patient create). On SQLite,
// which has no procedures, a single statement stands for each (booking_sqlite.go).
//
// Small() is a 200-patient practice, Benchmark() a 50,000-patient one. The same Options give
// the same rows on every engine. Nothing depends on the wall clock: dates lie around
// Options.Today (default 2026-06-15, "now" 11:00 that day).
//
// # Conventions
//
//   - Identifiers are upper case and unquoted (Firebird stores them so; SQLite ignores case).
//     The DDL for both engines is generated from one description (schema.go), so the two
//     cannot drift apart.
//   - Every table has an INTEGER key, CREATED_AT, UPDATED_AT (NULL until a change) and
//     DELETED (0 live, 1 deleted; deleted rows must never reach FHIR).
//   - Text is VARCHAR (no char(n) padding); absent text is NULL.
//   - TIMESTAMP holds the practice's wall clock without a zone; on SQLite it is text
//     "YYYY-MM-DD HH:MM:SS". Dates (DOB, APPT_DATE, START_DATE, ...) are that day at
//     midnight. Appointment and session times of day are INTEGER seconds after midnight,
//     lengths INTEGER seconds.
//   - Code values are in codes.go: DOCTOR_TYPE, PATIENT.STATUS, SEX (M, F, X, U), ATSI (METeOR
//     1-4, 9), DVA_CARD (G, W, O), APPOINTMENT.STATUS, ALLERGY.SEVERITY/CATEGORY, MEAS_TYPE.
//   - Family members share a Medicare card (MEDICARE_IRN is each one's IRN), an address and a
//     home phone; FAMILY_ID is the first member.
//   - A blocked slot is an APPOINTMENT with STATUS 6 and no PATIENT_ID. A cancelled
//     appointment keeps its row (STATUS 5, CANCEL_REASON); its slot may be booked again.
//   - A session template repeats weekly on DAY_OF_WEEK (1 Monday .. 7 Sunday) between
//     VALID_FROM and VALID_TO (NULL: open), cut into SLOT_SECS slots; DOCTOR_LEAVE days (START_DATE
//     to END_DATE inclusive) have no sessions.
//   - A measurement is one row per reading; blood pressure has systolic in VALUE_1 and
//     diastolic in VALUE_2.
//   - CONSULT (assumed, like every table here) is a consultation or other contact: the
//     patient, the doctor, CONSULT_TYPE (1 at the branch, 2 telehealth video, 3 telephone,
//     4 home visit, 5 aged-care visit), START_AT and END_AT (NULL while under way), the
//     BRANCH_ID (none for a visit out of the surgery) and the APPT_ID of the appointment it
//     came from, if any. Every attended appointment (completed or in consultation) has one;
//     some active patients also have telephone calls and visits without an appointment.
//   - SCRIPT (assumed) is a prescription written at the practice, one medicine per row: the
//     medicine as prescribed (DRUG_NAME, STRENGTH, AMT_CODE, DOSE_TEXT, PRN), QUANTITY and
//     REPEATS, SCRIPT_DATE, the prescriber, the CONSULT_ID it was written at (NULL for a repeat
//     script written between consultations) and the MEDICATION_ID of the medicines-list entry.
//     STATUS: 1 active (the latest script of a current medicine), 2 completed (earlier ones,
//     and a course), 3 ceased (the last script of a stopped medicine), 4 cancelled (voided,
//     with CANCEL_REASON).
//
// # The data
//
// Names include O'Brien, D'Souza, Smith-Jones, Van Der Berg, Ng and Le; suburbs and postcodes are
// real pairs; phone numbers are in ranges reserved for fiction; e-mail domains are example.*.
// IHI, HPI-I, HPI-O, Medicare, ABN and provider numbers pass the check-digit rules, which are
// bpsynth's (this package calls its exported validators). The staff: three current GPs, a GP
// who left (IS_ACTIVE 0, sessions ended), a registrar, two nurses, a physiotherapist, a
// receptionist (not a practitioner) and a deleted GP. One deleted patient record exists, and
// every table the FHIR mapping reads has deleted rows: every n-th row of the clinical tables
// and appointments (deletedEvery), a deleted branch, practice entity, doctor-branch link,
// appointment type, session template and leave (gen.deleted).
package zedsynth
