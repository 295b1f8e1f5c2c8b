package zedmed

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"fhirlink/mappings"
)

// rowIDs runs a query of ids on the raw tables.
func rowIDs(t *testing.T, p *practice, q string, args ...any) []int {
	t.Helper()
	rows, err := p.db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

// busiestPatient is the live patient with the most rows in table (live rows).
func busiestPatient(t *testing.T, p *practice, table string) int {
	t.Helper()
	ids := rowIDs(t, p, `SELECT x.PATIENT_ID FROM `+table+` x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID AND p.DELETED = 0
		WHERE x.DELETED = 0 GROUP BY x.PATIENT_ID ORDER BY COUNT(*) DESC, x.PATIENT_ID`)
	if len(ids) == 0 {
		t.Fatalf("%s is empty", table)
	}
	return ids[0]
}

func testClinical(t *testing.T, p *practice) {
	t.Run("Condition", func(t *testing.T) {
		pt := busiestPatient(t, p, "PROBLEM")
		id := strconv.Itoa(pt)
		p.expect(t, Condition, "patient="+id, rowIDs(t, p, `SELECT PROBLEM_ID FROM PROBLEM WHERE DELETED = 0 AND PATIENT_ID = ?`, pt))
		p.expect(t, Condition, "patient=Patient/"+id+"&category=problem-list-item&clinical-status=active",
			rowIDs(t, p, `SELECT PROBLEM_ID FROM PROBLEM WHERE DELETED = 0 AND PATIENT_ID = ? AND IS_ACTIVE = 1`, pt))
		p.expect(t, Condition, "code=http://snomed.info/sct|59621000", rowIDs(t, p,
			`SELECT x.PROBLEM_ID FROM PROBLEM x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID AND p.DELETED = 0 WHERE x.DELETED = 0 AND x.SNOMED_CODE = '59621000'`))
		p.expect(t, Condition, "clinical-status=resolved", rowIDs(t, p,
			`SELECT x.PROBLEM_ID FROM PROBLEM x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID AND p.DELETED = 0 WHERE x.DELETED = 0 AND x.IS_ACTIVE = 0 AND x.RESOLVED_DATE IS NOT NULL`))
		if ihi := p.snap.patient(pt).ihi; ihi != "" {
			p.expect(t, Condition, "patient.identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0|"+ihi,
				rowIDs(t, p, `SELECT PROBLEM_ID FROM PROBLEM WHERE DELETED = 0 AND PATIENT_ID = ?`, pt))
		}
		p.badRequest(t, Condition, "clinical-status=sleeping")
		for _, d := range rowIDs(t, p, `SELECT PROBLEM_ID FROM PROBLEM WHERE DELETED <> 0`) {
			p.expectNone(t, Condition, "_id="+strconv.Itoa(d))
		}
	})
	t.Run("Observation", func(t *testing.T) {
		// Every measurement type the practice records is a vital sign: the busiest patient
		// among those with a respiratory rate, so that each type is there.
		ids := rowIDs(t, p, `SELECT x.PATIENT_ID FROM MEASUREMENT x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID AND p.DELETED = 0
			WHERE x.DELETED = 0 AND x.MEAS_TYPE = 'RR' GROUP BY x.PATIENT_ID ORDER BY COUNT(*) DESC, x.PATIENT_ID`)
		if len(ids) == 0 {
			t.Fatal("no respiratory rate measured")
		}
		pt := ids[0]
		id := strconv.Itoa(pt)
		p.expect(t, Observation, "patient="+id+"&category=vital-signs", rowIDs(t, p,
			`SELECT MEASUREMENT_ID FROM MEASUREMENT WHERE DELETED = 0 AND PATIENT_ID = ? AND VALUE_1 IS NOT NULL`, pt))
		p.expect(t, Observation, "patient="+id+"&code=http://loinc.org|85354-9", rowIDs(t, p,
			`SELECT MEASUREMENT_ID FROM MEASUREMENT WHERE DELETED = 0 AND PATIENT_ID = ? AND MEAS_TYPE = 'BP'`, pt))
		p.expect(t, Observation, "patient="+id+"&code=8480-6,29463-7", rowIDs(t, p,
			`SELECT MEASUREMENT_ID FROM MEASUREMENT WHERE DELETED = 0 AND PATIENT_ID = ? AND MEAS_TYPE IN ('BP', 'WT')`, pt))
		p.expect(t, Observation, "patient="+id+"&date=ge2020-01-01&_sort=-date", rowIDs(t, p,
			`SELECT MEASUREMENT_ID FROM MEASUREMENT WHERE DELETED = 0 AND PATIENT_ID = ? AND MEASURED_AT >= ? AND VALUE_1 IS NOT NULL`,
			pt, sqlTime(p, "2020-01-01 00:00:00")))
		rr := rowIDs(t, p, `SELECT MEASUREMENT_ID FROM MEASUREMENT WHERE DELETED = 0 AND PATIENT_ID = ? AND MEAS_TYPE = 'RR'`, pt)
		spo2 := rowIDs(t, p, `SELECT MEASUREMENT_ID FROM MEASUREMENT WHERE DELETED = 0 AND PATIENT_ID = ? AND MEAS_TYPE = 'SPO2'`, pt)
		p.expect(t, Observation, "patient="+id+"&code=http://loinc.org|9279-1", rr)
		p.expect(t, Observation, "patient="+id+"&code=2708-6", spo2)
		p.expect(t, Observation, "patient="+id+"&category=vital-signs&code=http://loinc.org|59408-5", spo2)
		p.expectNone(t, Observation, "patient="+id+"&category=laboratory")
		// Codes outside FHIR's category and status value sets, as on Bp Premier.
		p.badRequest(t, Observation, "category=vitals")
		p.badRequest(t, Observation, "status=done")
		p.expectNone(t, Observation, "patient="+id+"&status=preliminary")
		// Read each: the LOINC codes, the profile and the UCUM unit of the value.
		for _, c := range []struct {
			ids     []int
			codes   string
			profile string
			ucum    string
		}{
			{rr, `"coding":[{"system":"http://loinc.org","code":"9279-1","display":"Respiratory rate"}]`, mappings.ProfileRespirationRate, "/min"},
			{spo2, `"coding":[{"system":"http://loinc.org","code":"2708-6","display":"Oxygen saturation in Arterial blood"},` +
				`{"system":"http://loinc.org","code":"59408-5","display":"Oxygen saturation in Arterial blood by Pulse oximetry"}]`,
				mappings.ProfileOxygenSaturation, "%"},
		} {
			if len(c.ids) == 0 {
				t.Fatalf("patient %d: no %s", pt, c.profile)
			}
			rows := p.expect(t, Observation, "_id="+strconv.Itoa(c.ids[0]), c.ids[:1])
			if len(rows) != 1 {
				continue
			}
			res := string(rows[0].Resource)
			for _, want := range []string{c.codes, `"profile":["` + c.profile + `"]`, `"code":"vital-signs"`,
				`"system":"http://unitsofmeasure.org","code":"` + c.ucum + `"}`} {
				if !strings.Contains(res, want) {
					t.Errorf("observation %d lacks %s: %s", c.ids[0], want, res)
				}
			}
		}
	})
	t.Run("AllergyIntolerance", func(t *testing.T) {
		pt := busiestPatient(t, p, "ALLERGY")
		p.expect(t, AllergyIntolerance, "patient="+strconv.Itoa(pt)+"&clinical-status=active",
			rowIDs(t, p, `SELECT ALLERGY_ID FROM ALLERGY WHERE DELETED = 0 AND PATIENT_ID = ?`, pt))
		p.expect(t, AllergyIntolerance, "clinical-status=active", rowIDs(t, p,
			`SELECT x.ALLERGY_ID FROM ALLERGY x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID AND p.DELETED = 0 WHERE x.DELETED = 0`))
		p.expectNone(t, AllergyIntolerance, "patient="+strconv.Itoa(pt)+"&clinical-status=resolved")
	})
	t.Run("Immunization", func(t *testing.T) {
		pt := busiestPatient(t, p, "IMMUNISATION")
		id := strconv.Itoa(pt)
		p.expect(t, Immunization, "patient="+id+"&status=completed",
			rowIDs(t, p, `SELECT IMMUNISATION_ID FROM IMMUNISATION WHERE DELETED = 0 AND PATIENT_ID = ?`, pt))
		p.expect(t, Immunization, "vaccine-code=http://snomed.info/sct|1290641000168106", rowIDs(t, p,
			`SELECT x.IMMUNISATION_ID FROM IMMUNISATION x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID AND p.DELETED = 0 WHERE x.DELETED = 0 AND x.AMT_CODE = '1290641000168106'`))
		p.expect(t, Immunization, "patient="+id+"&date=ge2000", rowIDs(t, p,
			`SELECT IMMUNISATION_ID FROM IMMUNISATION WHERE DELETED = 0 AND PATIENT_ID = ? AND GIVEN_DATE >= ?`, pt, sqlTime(p, "2000-01-01 00:00:00")))
		// Outside FHIR's event-status value set, as on Bp Premier.
		p.badRequest(t, Immunization, "status=given")
	})
	t.Run("MedicationStatement", func(t *testing.T) {
		pt := busiestPatient(t, p, "MEDICATION")
		id := strconv.Itoa(pt)
		p.expect(t, MedicationStatement, "patient="+id,
			rowIDs(t, p, `SELECT MEDICATION_ID FROM MEDICATION WHERE DELETED = 0 AND PATIENT_ID = ?`, pt))
		p.expect(t, MedicationStatement, "status=completed", rowIDs(t, p,
			`SELECT x.MEDICATION_ID FROM MEDICATION x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID AND p.DELETED = 0 WHERE x.DELETED = 0 AND x.IS_CURRENT = 0`))
		p.badRequest(t, MedicationStatement, "status=finished")
	})
	t.Run("MedicationRequest", func(t *testing.T) { testMedicationRequest(t, p) })
	t.Run("Encounter", func(t *testing.T) { testEncounter(t, p) })
}

// liveScripts are the live scripts of live patients, and cond more (on SCRIPT x).
const liveScripts = `SELECT x.SCRIPT_ID FROM SCRIPT x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID AND p.DELETED = 0 WHERE x.DELETED = 0`

func testMedicationRequest(t *testing.T, p *practice) {
	pt := busiestPatient(t, p, "SCRIPT")
	id := strconv.Itoa(pt)
	all := rowIDs(t, p, liveScripts+` AND x.PATIENT_ID = ?`, pt)
	p.expect(t, MedicationRequest, "patient="+id, all)
	p.expect(t, MedicationRequest, "subject=Patient/"+id+"&intent=order", all)
	p.expectNone(t, MedicationRequest, "patient="+id+"&intent=plan")
	for status, code := range map[string]int{"active": 1, "completed": 2, "stopped": 3, "cancelled": 4} {
		p.expect(t, MedicationRequest, "status="+status, rowIDs(t, p, liveScripts+` AND x.STATUS = ?`, code))
	}
	p.expect(t, MedicationRequest, "patient="+id+"&status=active,completed", rowIDs(t, p, liveScripts+` AND x.PATIENT_ID = ? AND x.STATUS IN (1, 2)`, pt))
	p.expect(t, MedicationRequest, "patient="+id+"&authoredon=ge2026-01-01", rowIDs(t, p,
		liveScripts+` AND x.PATIENT_ID = ? AND x.SCRIPT_DATE >= ?`, pt, sqlTime(p, "2026-01-01 00:00:00")))
	p.expect(t, MedicationRequest, "requester=Practitioner/2", rowIDs(t, p, liveScripts+` AND x.DOCTOR_ID = 2`))
	if ihi := p.snap.patient(pt).ihi; ihi != "" {
		p.expect(t, MedicationRequest, "patient.identifier="+mappings.SystemIHI+"|"+ihi, all)
	}
	// A script written at a consultation refers to it, and is found by it.
	atConsult := rowIDs(t, p, liveScripts+` AND EXISTS (SELECT 1 FROM CONSULT c WHERE c.CONSULT_ID = x.CONSULT_ID AND c.DELETED = 0) ORDER BY x.SCRIPT_ID`)
	if len(atConsult) == 0 {
		t.Fatal("no script written at a live consultation")
	}
	consult := rowIDs(t, p, `SELECT CONSULT_ID FROM SCRIPT WHERE SCRIPT_ID = ?`, atConsult[0])[0]
	rows := p.expect(t, MedicationRequest, "encounter=Encounter/"+strconv.Itoa(consult), rowIDs(t, p,
		liveScripts+` AND x.CONSULT_ID = ?`, consult))
	for _, want := range []string{`"intent":"order"`, `"encounter":{"reference":"Encounter/` + strconv.Itoa(consult) + `"}`,
		`"requester":{"reference":"Practitioner/`, `"medicationCodeableConcept":{"coding":[{"system":"http://snomed.info/sct"`, `"numberOfRepeatsAllowed":`} {
		if !strings.Contains(string(rows[0].Resource), want) {
			t.Errorf("MedicationRequest lacks %s: %s", want, rows[0].Resource)
		}
	}
	cancelled := rowIDs(t, p, liveScripts+` AND x.STATUS = 4 AND x.CANCEL_REASON IS NOT NULL ORDER BY x.SCRIPT_ID`)
	rows = p.expect(t, MedicationRequest, "_id="+strconv.Itoa(cancelled[0]), cancelled[:1])
	if !strings.Contains(string(rows[0].Resource), `"status":"cancelled","statusReason":{"text":`) {
		t.Errorf("a cancelled script without its reason: %s", rows[0].Resource)
	}
	// Deleted scripts, and the scripts of deleted patients, are never served.
	for _, d := range rowIDs(t, p, `SELECT x.SCRIPT_ID FROM SCRIPT x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID WHERE x.DELETED <> 0 OR p.DELETED <> 0`) {
		p.expectNone(t, MedicationRequest, "_id="+strconv.Itoa(d))
	}
	p.badRequest(t, MedicationRequest, "status=done")
	p.badRequest(t, MedicationRequest, "intent=orders")
}

// liveConsults are the live consultations of live patients (on CONSULT x).
const liveConsults = `SELECT x.CONSULT_ID FROM CONSULT x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID AND p.DELETED = 0 WHERE x.DELETED = 0`

func testEncounter(t *testing.T, p *practice) {
	pt := busiestPatient(t, p, "CONSULT")
	id := strconv.Itoa(pt)
	all := rowIDs(t, p, liveConsults+` AND x.PATIENT_ID = ?`, pt)
	p.expect(t, Encounter, "patient="+id, all)
	p.expect(t, Encounter, "subject=Patient/"+id+"&status=finished", rowIDs(t, p, liveConsults+` AND x.PATIENT_ID = ? AND x.END_AT IS NOT NULL`, pt))
	p.expect(t, Encounter, "status=in-progress", rowIDs(t, p, liveConsults+` AND x.END_AT IS NULL`))
	p.expect(t, Encounter, "class=VR", rowIDs(t, p, liveConsults+` AND x.CONSULT_TYPE IN (2, 3)`))
	p.expect(t, Encounter, "class=HH", rowIDs(t, p, liveConsults+` AND x.CONSULT_TYPE IN (4, 5)`))
	p.expect(t, Encounter, "patient="+id+"&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|AMB", rowIDs(t, p,
		liveConsults+` AND x.PATIENT_ID = ? AND x.CONSULT_TYPE NOT IN (2, 3, 4, 5)`, pt))
	p.expect(t, Encounter, "patient="+id+"&location=Location/1", rowIDs(t, p, liveConsults+` AND x.PATIENT_ID = ? AND x.BRANCH_ID = 1`, pt))
	p.expect(t, Encounter, "practitioner=Practitioner/3&date=ge2026-06-01", rowIDs(t, p,
		liveConsults+` AND x.DOCTOR_ID = 3 AND x.START_AT >= ?`, sqlTime(p, "2026-06-01 00:00:00")))
	p.expect(t, Encounter, "patient="+id+"&date=2026-06", rowIDs(t, p,
		liveConsults+` AND x.PATIENT_ID = ? AND x.START_AT >= ? AND x.START_AT < ?`, pt, sqlTime(p, "2026-06-01 00:00:00"), sqlTime(p, "2026-07-01 00:00:00")))
	if ihi := p.snap.patient(pt).ihi; ihi != "" {
		p.expect(t, Encounter, "patient.identifier="+mappings.SystemIHI+"|"+ihi, all)
	}
	// A consultation from an appointment refers to it; one under way has no end.
	fromAppt := rowIDs(t, p, liveConsults+` AND x.APPT_ID IS NOT NULL AND x.END_AT IS NOT NULL ORDER BY x.CONSULT_ID`)
	rows := p.expect(t, Encounter, "_id="+strconv.Itoa(fromAppt[0]), fromAppt[:1])
	for _, want := range []string{`"status":"finished"`, `"appointment":[{"reference":"Appointment/`, `"participant":[{"type":`,
		`"serviceProvider":{"reference":"Organization/1"`, `"end":"`} {
		if !strings.Contains(string(rows[0].Resource), want) {
			t.Errorf("Encounter lacks %s: %s", want, rows[0].Resource)
		}
	}
	open := rowIDs(t, p, liveConsults+` AND x.END_AT IS NULL ORDER BY x.CONSULT_ID`)
	rows = p.expect(t, Encounter, "_id="+strconv.Itoa(open[0]), open[:1])
	if r := string(rows[0].Resource); !strings.Contains(r, `"status":"in-progress"`) || strings.Contains(r, `"end":`) {
		t.Errorf("a consultation under way: %s", r)
	}
	// Sorted by date, newest first, in pages: every consultation once, in order.
	sorted := ids(t, p.search(t, Encounter, "patient="+id+"&_sort=-date", 4))
	want := rowIDs(t, p, liveConsults+` AND x.PATIENT_ID = ? ORDER BY x.START_AT DESC, x.CONSULT_ID`, pt)
	if !slices.Equal(sorted, want) {
		t.Errorf("_sort=-date: %v, want %v", sorted, want)
	}
	for _, d := range rowIDs(t, p, `SELECT x.CONSULT_ID FROM CONSULT x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID WHERE x.DELETED <> 0 OR p.DELETED <> 0`) {
		p.expectNone(t, Encounter, "_id="+strconv.Itoa(d))
	}
	p.badRequest(t, Encounter, "status=done")
}

// sqlTime is a wall-clock time as the engine's driver binds it for a raw query.
func sqlTime(p *practice, s string) any {
	if p.engine == "sqlite" {
		return s
	}
	w := asTime(nil, s)
	return w
}
