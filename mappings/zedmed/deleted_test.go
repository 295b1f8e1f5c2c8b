package zedmed

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fhirlink/mappings"
	"fhirlink/mappings/mappingstest"
)

// Deleted rows (DELETED not 0) never appear: not read, not found by a search, never
// referenced (so never included) from another resource, whichever table the row comes from
// or is joined to. zedsynth writes deleted rows into every table the mapping reads
// (deletedEvery and gen.deleted); the deleted sets come from the raw tables here.

// goneSQL selects, per resource type, the id and the patient (0: none) of every row that must
// not appear: deleted itself, of a deleted patient, or joined to a deleted row it needs.
var goneSQL = map[string]string{
	"Patient":      `SELECT PATIENT_ID, 0 FROM PATIENT WHERE DELETED <> 0`,
	"Practitioner": `SELECT DOCTOR_ID, 0 FROM DOCTOR WHERE DELETED <> 0`,
	"PractitionerRole": `SELECT db.DOCTOR_BRANCH_ID, 0 FROM DOCTOR_BRANCH db LEFT JOIN DOCTOR d ON d.DOCTOR_ID = db.DOCTOR_ID
		LEFT JOIN BRANCH l ON l.BRANCH_ID = db.BRANCH_ID WHERE db.DELETED <> 0 OR d.DELETED <> 0 OR l.DELETED <> 0`,
	"Location":     `SELECT BRANCH_ID, 0 FROM BRANCH WHERE DELETED <> 0`,
	"Organization": `SELECT PRACTICE_ID, 0 FROM PRACTICE WHERE DELETED <> 0`,
	"Appointment": `SELECT a.APPT_ID, a.PATIENT_ID FROM APPOINTMENT a JOIN PATIENT p ON p.PATIENT_ID = a.PATIENT_ID
		WHERE a.DELETED <> 0`,
	"Condition": `SELECT x.PROBLEM_ID, x.PATIENT_ID FROM PROBLEM x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID
		WHERE x.DELETED <> 0 OR p.DELETED <> 0`,
	"AllergyIntolerance": `SELECT x.ALLERGY_ID, x.PATIENT_ID FROM ALLERGY x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID
		WHERE x.DELETED <> 0 OR p.DELETED <> 0`,
	"MedicationStatement": `SELECT x.MEDICATION_ID, x.PATIENT_ID FROM MEDICATION x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID
		WHERE x.DELETED <> 0 OR p.DELETED <> 0`,
	"Immunization": `SELECT x.IMMUNISATION_ID, x.PATIENT_ID FROM IMMUNISATION x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID
		WHERE x.DELETED <> 0 OR p.DELETED <> 0`,
	"Observation": `SELECT x.MEASUREMENT_ID, x.PATIENT_ID FROM MEASUREMENT x JOIN PATIENT p ON p.PATIENT_ID = x.PATIENT_ID
		WHERE x.DELETED <> 0 OR p.DELETED <> 0`,
}

// references finds the references of a resource.
var references = regexp.MustCompile(`"reference":"(Patient|Practitioner|PractitionerRole|Location|Organization|Schedule)/([^"]+)"`)

type goneRows struct {
	ids      []string
	patients []int
}

func testDeleted(t *testing.T, p *practice) {
	deleted := map[string]*goneRows{}
	livePatient := map[int]bool{}
	for _, pt := range p.snap.patients {
		livePatient[pt.id] = pt.deleted == 0
	}
	for typ, q := range goneSQL {
		g := &goneRows{}
		rows, err := p.db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var id, pt int
			if err := rows.Scan(&id, &pt); err != nil {
				t.Fatal(err)
			}
			g.ids = append(g.ids, strconv.Itoa(id))
			if pt != 0 && livePatient[pt] && !slices.Contains(g.patients, pt) {
				g.patients = append(g.patients, pt)
			}
		}
		rows.Close()
		if len(g.ids) == 0 {
			t.Fatalf("%s: the practice has no deleted rows to test with", typ)
		}
		deleted[typ] = g
	}
	// Schedules are doctor-branch pairs: none whose every template is deleted or whose doctor
	// or branch is.
	var sched []string
	rows, err := p.db.Query(`SELECT DISTINCT s.DOCTOR_ID, s.BRANCH_ID FROM SESSION_TEMPLATE s WHERE NOT EXISTS (
		SELECT 1 FROM SESSION_TEMPLATE x JOIN DOCTOR d ON d.DOCTOR_ID = x.DOCTOR_ID JOIN BRANCH l ON l.BRANCH_ID = x.BRANCH_ID
		WHERE x.DOCTOR_ID = s.DOCTOR_ID AND x.BRANCH_ID = s.BRANCH_ID AND x.DELETED = 0 AND d.DELETED = 0 AND l.DELETED = 0)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d, b int
		if err := rows.Scan(&d, &b); err != nil {
			t.Fatal(err)
		}
		sched = append(sched, mappings.ScheduleID(d, b))
	}
	rows.Close()
	if len(sched) == 0 {
		t.Fatal("no schedule made only of deleted rows")
	}
	deleted["Schedule"] = &goneRows{ids: sched}

	refTypes := map[string]string{"patient": "Patient", "practitioner": "Practitioner", "performer": "Practitioner",
		"recorder": "Practitioner", "asserter": "Practitioner", "general-practitioner": "Practitioner", "location": "Location",
		"organization": "Organization", "schedule": "Schedule"}
	check := func(t *testing.T, what, typ string, rows []mappings.Row) {
		t.Helper()
		for _, r := range rows {
			res := string(r.Resource)
			id := mappingstest.ResourceID(t, r.Resource)
			if slices.Contains(deleted[typ].ids, id) {
				t.Errorf("%s: deleted %s/%s served: %s", what, typ, id, res)
			}
			for _, m := range references.FindAllStringSubmatch(res, -1) {
				if d := deleted[m[1]]; d != nil && slices.Contains(d.ids, m[2]) {
					t.Errorf("%s: %s/%s references the deleted %s/%s", what, typ, id, m[1], m[2])
				}
			}
			for param, refs := range r.Refs {
				if d := deleted[refTypes[param]]; d != nil {
					for _, ref := range refs {
						if slices.Contains(d.ids, ref) {
							t.Errorf("%s: %s/%s includes the deleted %s %s", what, typ, id, param, ref)
						}
					}
				}
			}
			// the texts of deleted lookup rows (appointment type, practice) are not shown either
			for _, text := range []string{"Retired type", "former entity"} {
				if strings.Contains(res, text) {
					t.Errorf("%s: %s/%s shows the deleted %q: %s", what, typ, id, text, res)
				}
			}
		}
	}
	for _, typ := range []string{"Patient", "Practitioner", "PractitionerRole", "Location", "Organization", "Appointment", "Schedule",
		"Observation", "Condition", "AllergyIntolerance", "MedicationStatement", "Immunization"} {
		t.Run(typ, func(t *testing.T) {
			r, ok := Mapping.Resource(typ)
			if !ok {
				t.Fatalf("no %s", typ)
			}
			d := deleted[typ]
			reads := d.ids
			if len(reads) > 12 {
				reads = append(slices.Clone(reads[:6]), reads[len(reads)-6:]...)
			}
			for _, id := range reads {
				if rows := p.search(t, r, "_id="+id, 0); len(rows) != 0 {
					t.Errorf("%s/%s is deleted, read answered %s", typ, id, rows[0].Resource)
				}
			}
			switch typ {
			case "Patient", "Practitioner", "PractitionerRole", "Location", "Organization", "Schedule":
				check(t, typ+" (all)", typ, p.search(t, r, "", 50))
			case "Appointment":
				for _, pt := range d.patients[:min(3, len(d.patients))] {
					check(t, "patient "+strconv.Itoa(pt), typ, p.search(t, r, "patient="+strconv.Itoa(pt), 50))
				}
				// the week with the appointment of the retired type
				check(t, "practitioner 1 from today", typ, p.search(t, r, "practitioner=1&date=ge2026-06-15&date=lt2026-06-23", 50))
			default:
				if len(d.patients) == 0 {
					t.Fatalf("no live patient owns a deleted %s", typ)
				}
				for _, pt := range d.patients[:min(4, len(d.patients))] {
					check(t, "patient "+strconv.Itoa(pt), typ, p.search(t, r, "patient="+strconv.Itoa(pt), 50))
				}
			}
		})
	}
}
