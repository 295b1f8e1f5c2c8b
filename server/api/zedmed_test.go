package api_test

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"

	_ "github.com/nakagami/firebirdsql" // the Zedmed practice database, checked behind the agent's back

	"fhirlink/agent/fbtest"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/mappings/zedmed/zedsynth"
	"fhirlink/server/fhirlinktest"
)

// zedFirebird is a Firebird database of the test's own holding the small
// synthetic Zedmed practice.
func zedFirebird(t *testing.T) (string, *sql.DB) {
	t.Helper()
	dsn := fbtest.DSN(t)
	db, err := sql.Open("firebirdsql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := zedsynth.Apply(ctx, db, zedsynth.EngineFirebird); err != nil {
		t.Fatal(err)
	}
	if err := zedsynth.Generate(ctx, db, zedsynth.EngineFirebird, zedsynth.Small()); err != nil {
		t.Fatal(err)
	}
	return dsn, db
}

// TestZedmedOnFirebirdEndToEnd runs a Zedmed practice on a real Firebird 3
// through the whole path: the agent's firebird engine behind the tunnel,
// the Zedmed mapping on the server, FHIR and passthrough.
func TestZedmedOnFirebirdEndToEnd(t *testing.T) {
	dsn, db := zedFirebird(t)
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "firebird", DSN: dsn, PMSType: "Zedmed", Catalogue: zedsynth.CatalogueMain})

	want := dbIDs(t, db, `SELECT CAST(PATIENT_ID AS VARCHAR(12)) FROM PATIENT WHERE DELETED = 0 AND UPPER(SURNAME) STARTING WITH 'S'`)
	got := walk(t, env, "Patient?family=s&_count=7")
	if len(want) == 0 || !sameSet(got, want) {
		t.Fatalf("Zedmed Patient?family=s gave %v, the database %v", got, want)
	}
	status, _, body := env.FHIR(http.MethodGet, "Patient/"+want[0], "")
	if status != http.StatusOK {
		t.Fatalf("read: %d %s", status, body)
	}
	fhirvalidate.Resources(t, body)
	for _, path := range []string{"Practitioner", "Location", "Appointment?date=2026-06-15&_include=Appointment:patient", "Observation?patient=" + want[0]} {
		search(t, env, path)
	}
	// Encounter and MedicationRequest by patient (AU Core SHALL), with includes and from
	// the patient's side.
	var pt string
	if err := db.QueryRow(`SELECT FIRST 1 CAST(s.PATIENT_ID AS VARCHAR(12)) FROM SCRIPT s JOIN PATIENT p ON p.PATIENT_ID = s.PATIENT_ID AND p.DELETED = 0 AND p.STATUS = 1
		WHERE s.DELETED = 0 AND s.CONSULT_ID IS NOT NULL ORDER BY s.SCRIPT_ID`).Scan(&pt); err != nil {
		t.Fatal(err)
	}
	for typ, q := range map[string]string{
		"Encounter":         `SELECT CAST(CONSULT_ID AS VARCHAR(12)) FROM CONSULT WHERE DELETED = 0 AND PATIENT_ID = ?`,
		"MedicationRequest": `SELECT CAST(SCRIPT_ID AS VARCHAR(12)) FROM SCRIPT WHERE DELETED = 0 AND PATIENT_ID = ?`,
	} {
		want := dbIDs(t, db, q, pt)
		if got := walk(t, env, typ+"?patient="+pt+"&_count=10"); len(want) == 0 || !sameSet(got, want) {
			t.Errorf("%s?patient=%s gave %v, the database %v", typ, pt, got, want)
		}
		b := search(t, env, "Patient?_id="+pt+"&_revinclude="+typ+":patient")
		if got := b.ids(t, "include"); !sameSet(got, want) {
			t.Errorf("Patient?_revinclude=%s:patient included %v, the database %v", typ, got, want)
		}
	}
	b := search(t, env, "MedicationRequest?patient="+pt+"&_include=MedicationRequest:requester&_include=MedicationRequest:patient")
	if len(b.ids(t, "include")) < 2 {
		t.Errorf("MedicationRequest includes: %v", b.ids(t, "include"))
	}
	// Deleted rows are not served: a read answers 404.
	for typ, q := range map[string]string{
		"AllergyIntolerance": `SELECT CAST(MIN(ALLERGY_ID) AS VARCHAR(12)) FROM ALLERGY WHERE DELETED <> 0`,
		"Observation":        `SELECT CAST(MIN(MEASUREMENT_ID) AS VARCHAR(12)) FROM MEASUREMENT WHERE DELETED <> 0`,
		"Appointment":        `SELECT CAST(MIN(APPT_ID) AS VARCHAR(12)) FROM APPOINTMENT WHERE DELETED <> 0 AND PATIENT_ID IS NOT NULL`,
	} {
		ids := dbIDs(t, db, q)
		if len(ids) != 1 || ids[0] == "" {
			t.Fatalf("no deleted %s", typ)
		}
		if status, _, body := env.FHIR(http.MethodGet, typ+"/"+ids[0], ""); status != http.StatusNotFound {
			t.Errorf("%s/%s (deleted): %d %s", typ, ids[0], status, body)
		}
	}
	// Respiratory rate and oxygen saturation are vital signs too.
	for code, typ := range map[string]string{"http://loinc.org|9279-1": "RR", "http://loinc.org|2708-6": "SPO2"} {
		want := dbIDs(t, db, `SELECT CAST(m.MEASUREMENT_ID AS VARCHAR(12)) FROM MEASUREMENT m JOIN PATIENT p ON p.PATIENT_ID = m.PATIENT_ID
			AND p.DELETED = 0 WHERE m.DELETED = 0 AND m.MEAS_TYPE = ?`, typ)
		if got := walk(t, env, "Observation?category=vital-signs&code="+code+"&_count=50"); len(want) == 0 || !sameSet(got, want) {
			t.Errorf("Observation?code=%s gave %d, the database %d", code, len(got), len(want))
		}
	}

	// Passthrough: rows from Firebird, and its errors named fbsql.
	status, q := env.Immediate(fhirlinktest.Command("SELECT COUNT(*) AS N FROM PATIENT"))
	if status != http.StatusOK || len(q.Rows(t)) != 1 {
		t.Fatalf("passthrough: %d %s", status, q.Raw)
	}
	status, q = env.Immediate(fhirlinktest.Command("SELECT * FROM NO_SUCH_TABLE"))
	if status != http.StatusBadRequest || q.ErrorDetails == nil || q.ErrorDetails.ErrorType != "fbsql" || !strings.Contains(q.ErrorDetails.ErrorMessage, "NO_SUCH_TABLE") {
		t.Fatalf("database error: %d %s", status, q.Raw)
	}
}
