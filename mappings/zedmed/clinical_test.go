package zedmed

import (
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

}

// sqlTime is a wall-clock time as the engine's driver binds it for a raw query.
func sqlTime(p *practice, s string) any {
	if p.engine == "sqlite" {
		return s
	}
	w := asTime(nil, s)
	return w
}
