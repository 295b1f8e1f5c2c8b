package zedsynth

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"fhirlink/mappings/bppremier/bpsynth"
)

func openSQLite(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "zed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func load(t testing.TB, opt Options) *sql.DB {
	t.Helper()
	db := openSQLite(t)
	ctx := context.Background()
	if err := Apply(ctx, db, EngineSQLite); err != nil {
		t.Fatal(err)
	}
	if err := Generate(ctx, db, EngineSQLite, opt); err != nil {
		t.Fatal(err)
	}
	return db
}

func count(t testing.TB, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestGenerateSmall(t *testing.T) {
	db := load(t, Small())
	if n := count(t, db, `SELECT COUNT(*) FROM PATIENT WHERE DELETED = 0`); n != 200 {
		t.Errorf("%d live patients, want 200", n)
	}
	for _, tb := range []string{"BRANCH", "DOCTOR", "DOCTOR_BRANCH", "APPT_TYPE", "SESSION_TEMPLATE", "DOCTOR_LEAVE",
		"APPOINTMENT", "ALLERGY", "PROBLEM", "MEDICATION", "IMMUNISATION", "MEASUREMENT", "CONSULT", "SCRIPT"} {
		if n := count(t, db, "SELECT COUNT(*) FROM "+tb); n == 0 {
			t.Errorf("%s is empty", tb)
		}
	}
	for _, q := range []string{
		`SELECT COUNT(*) FROM PATIENT WHERE SURNAME LIKE '%''%'`,
		`SELECT COUNT(*) FROM APPOINTMENT WHERE STATUS = 5`,
		`SELECT COUNT(*) FROM APPOINTMENT WHERE STATUS = 6 AND PATIENT_ID IS NULL`,
		`SELECT COUNT(*) FROM PATIENT WHERE STATUS = 3 AND DOD IS NOT NULL`,
		`SELECT COUNT(*) FROM PATIENT WHERE DVA_NO IS NOT NULL`,
		`SELECT COUNT(*) FROM PATIENT p WHERE EXISTS (SELECT 1 FROM PATIENT q WHERE q.MEDICARE_NO = p.MEDICARE_NO AND q.PATIENT_ID <> p.PATIENT_ID)`,
		// a consultation under way, one per attended appointment, and contacts without one
		`SELECT COUNT(*) FROM CONSULT WHERE END_AT IS NULL`,
		`SELECT COUNT(*) FROM CONSULT c JOIN APPOINTMENT a ON a.APPT_ID = c.APPT_ID AND a.PATIENT_ID = c.PATIENT_ID AND a.STATUS IN (2, 3)`,
		`SELECT COUNT(*) FROM CONSULT WHERE APPT_ID IS NULL AND CONSULT_TYPE IN (3, 4)`,
		`SELECT COUNT(*) FROM CONSULT WHERE CONSULT_TYPE = 2`,
		`SELECT COUNT(*) FROM CONSULT WHERE DELETED = 1`,
		// scripts of every status, written at a consultation or not
		`SELECT COUNT(*) FROM SCRIPT WHERE STATUS = 1`,
		`SELECT COUNT(*) FROM SCRIPT WHERE STATUS = 2`,
		`SELECT COUNT(*) FROM SCRIPT WHERE STATUS = 3`,
		`SELECT COUNT(*) FROM SCRIPT WHERE STATUS = 4 AND CANCEL_REASON IS NOT NULL`,
		`SELECT COUNT(*) FROM SCRIPT WHERE DELETED = 1`,
		`SELECT COUNT(*) FROM SCRIPT s JOIN CONSULT c ON c.CONSULT_ID = s.CONSULT_ID AND c.PATIENT_ID = s.PATIENT_ID`,
		`SELECT COUNT(*) FROM SCRIPT WHERE CONSULT_ID IS NULL`,
	} {
		if n := count(t, db, q); n == 0 {
			t.Errorf("none: %s", q)
		} else {
			t.Logf("%d: %s", n, q)
		}
	}
	// Nothing happens after "now", and no script is of a medicine of another patient.
	for _, q := range []string{
		`SELECT COUNT(*) FROM CONSULT WHERE START_AT > '2026-06-15 11:00:00' OR END_AT > '2026-06-15 11:00:00' OR END_AT < START_AT`,
		`SELECT COUNT(*) FROM SCRIPT WHERE SCRIPT_DATE > '2026-06-15 11:00:00'`,
		`SELECT COUNT(*) FROM SCRIPT s JOIN MEDICATION m ON m.MEDICATION_ID = s.MEDICATION_ID WHERE m.PATIENT_ID <> s.PATIENT_ID`,
	} {
		if n := count(t, db, q); n != 0 {
			t.Errorf("%d: %s", n, q)
		}
	}
}

func TestIdentifiersValid(t *testing.T) {
	db := load(t, Small())
	check := func(q string, valid func(string) bool) {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			n++
			if !valid(v) {
				t.Errorf("%s: %q is not valid", q, v)
			}
		}
		if n == 0 {
			t.Errorf("%s: no values", q)
		}
	}
	check(`SELECT IHI FROM PATIENT WHERE IHI IS NOT NULL`, bpsynth.ValidIHI)
	check(`SELECT MEDICARE_NO || MEDICARE_IRN FROM PATIENT WHERE MEDICARE_NO IS NOT NULL`, bpsynth.ValidMedicare)
	check(`SELECT HPII FROM DOCTOR WHERE HPII IS NOT NULL`, bpsynth.ValidHPII)
	check(`SELECT AHPRA_NO FROM DOCTOR WHERE AHPRA_NO IS NOT NULL`, bpsynth.ValidAHPRA)
	check(`SELECT HPIO FROM PRACTICE`, bpsynth.ValidHPIO)
	check(`SELECT ABN FROM PRACTICE`, bpsynth.ValidABN)
	check(`SELECT PROVIDER_NO FROM DOCTOR_BRANCH WHERE PROVIDER_NO IS NOT NULL`, bpsynth.ValidProviderNumber)
	check(`SELECT POSTCODE FROM PATIENT WHERE POSTCODE IS NOT NULL`, func(s string) bool { return bpsynth.StateOfPostcode(s) != "" })
}

func TestDeterministic(t *testing.T) {
	a, b := load(t, Small()), load(t, Small())
	for tb, cols := range Tables() {
		q := "SELECT COUNT(*), COALESCE(SUM(LENGTH(" + joinConcat(cols) + ")), 0) FROM " + tb
		var n1, s1, n2, s2 int
		if err := a.QueryRow(q).Scan(&n1, &s1); err != nil {
			t.Fatal(err)
		}
		if err := b.QueryRow(q).Scan(&n2, &s2); err != nil {
			t.Fatal(err)
		}
		if n1 != n2 || s1 != s2 {
			t.Errorf("%s differs between runs: %d/%d rows", tb, n1, n2)
		}
	}
}

func joinConcat(cols []string) string {
	out := ""
	for i, c := range cols {
		if i > 0 {
			out += " || '|' || "
		}
		out += "COALESCE(" + c + ", '')"
	}
	return out
}

func TestSchemaEngines(t *testing.T) {
	for _, e := range []string{EngineFirebird, EngineSQLite} {
		if _, err := Schema(e); err != nil {
			t.Error(err)
		}
	}
	if _, err := Schema("postgres"); err == nil {
		t.Error("postgres accepted")
	}
	fb, _ := Schema(EngineFirebird)
	for _, s := range fb {
		for _, f := range strings.Fields(s) {
			if name := strings.Trim(f, "(),"); strings.HasPrefix(name, "IX_") || strings.HasPrefix(name, "PK_") {
				if len(name) > 31 {
					t.Errorf("%s is longer than Firebird 3's 31 characters", name)
				}
			}
		}
	}
}

func TestGenerateRefusesPopulated(t *testing.T) {
	db := load(t, Options{Seed: 2, Patients: 5})
	if err := Generate(context.Background(), db, EngineSQLite, Options{Seed: 2, Patients: 5}); err == nil {
		t.Error("second Generate accepted")
	}
}

func TestGenerateBilling(t *testing.T) {
	db := load(t, Small())
	bill := openSQLite(t)
	ctx := context.Background()
	if err := ApplyBilling(ctx, bill, EngineSQLite); err != nil {
		t.Fatal(err)
	}
	if err := GenerateBilling(ctx, db, bill, EngineSQLite); err != nil {
		t.Fatal(err)
	}
	want := count(t, db, `SELECT COUNT(*) FROM APPOINTMENT WHERE DELETED = 0 AND STATUS = 3 AND PATIENT_ID IS NOT NULL`)
	if n := count(t, bill, `SELECT COUNT(*) FROM INVOICE`); n != want || n == 0 {
		t.Errorf("%d invoices, want %d", n, want)
	}
}

func TestCreateSQLite(t *testing.T) {
	dir := t.TempDir()
	mainPath, billPath := filepath.Join(dir, "zedmed.db"), filepath.Join(dir, "zedbill.db")
	if err := CreateSQLite(context.Background(), mainPath, billPath, Options{Seed: 3, Patients: 30}); err != nil {
		t.Fatal(err)
	}
	if err := CreateSQLite(context.Background(), mainPath, "", Small()); err == nil {
		t.Error("an existing file was overwritten")
	}
}
