package bppremier

import (
	"regexp"
	"slices"
	"strconv"
	"testing"

	"fhirlink/mappings"
	"fhirlink/mappings/mappingstest"
)

// Deleted records (RECORDSTATUS not live, USERSTATUS 999) never appear: not read, not found by
// a search, and never referenced (so never included) from another resource, whichever table
// the row comes from or is joined to. The synthetic practice has deleted rows in every table
// a mapping reads (bpsynth's deletedEvery and writeDeleted); the deleted sets come from the
// raw tables here, written apart from the mappings' SQL.

// gone is a resource type's ids that must never appear, and the live patients owning some.
type gone struct {
	ids      []string
	patients []int
}

// goneSQL selects, per resource type, the id (without prefix) and the patient (0: none) of
// every row that must not appear: deleted itself, of a deleted patient, or hidden by a deleted
// row it depends on.
var goneSQL = map[string]struct {
	prefix string
	sql    string
}{
	"Patient":      {"", `SELECT "INTERNALID", 0 FROM "PATIENTS" WHERE "RECORDSTATUS" <> 1`},
	"Practitioner": {"", `SELECT "USERID", 0 FROM "USERS" WHERE "RECORDSTATUS" <> 1 OR "USERSTATUS" = 999`},
	"PractitionerRole": {"", `SELECT pl."RECORDID", 0 FROM "PROVIDER_LOCATION" pl
		LEFT JOIN "USERS" u ON u."USERID" = pl."USERID" LEFT JOIN "LOCATIONS" l ON l."LOCATIONID" = pl."LOCATIONID"
		WHERE pl."RECORDSTATUS" <> 1 OR u."RECORDSTATUS" <> 1 OR u."USERSTATUS" = 999 OR l."RECORDSTATUS" <> 1`},
	"Location":     {"", `SELECT "LOCATIONID", 0 FROM "LOCATIONS" WHERE "RECORDSTATUS" <> 1`},
	"Organization": {"", `SELECT "PRACTICEID", 0 FROM "PRACTICE" WHERE "RECORDSTATUS" <> 1`},
	"Appointment": {"", `SELECT a."RECORDID", a."INTERNALID" FROM "APPOINTMENTS" a WHERE a."INTERNALID" <> 0 AND a."RECORDSTATUS" <> 1
		AND NOT EXISTS (SELECT 1 FROM "CANCELLATIONS" c WHERE c."APPOINTMENTID" = a."RECORDID" AND c."RECORDSTATUS" = 1)`},
	"Condition": {"", `SELECT h."RECORDID", h."INTERNALID" FROM "PASTHISTORY" h JOIN "PATIENTS" p ON p."INTERNALID" = h."INTERNALID"
		WHERE h."RECORDSTATUS" <> 1 OR p."RECORDSTATUS" <> 1`},
	"AllergyIntolerance": {"", `SELECT r."RECORDID", r."INTERNALID" FROM "REACTIONS" r JOIN "PATIENTS" p ON p."INTERNALID" = r."INTERNALID"
		WHERE r."RECORDSTATUS" <> 1 OR p."RECORDSTATUS" <> 1`},
	"Immunization": {"", `SELECT m."RECORDID", m."INTERNALID" FROM "IMMUNISATIONS" m JOIN "PATIENTS" p ON p."INTERNALID" = m."INTERNALID"
		WHERE m."RECORDSTATUS" <> 1 OR p."RECORDSTATUS" <> 1`},
	"Encounter": {"", `SELECT v."VISITID", v."INTERNALID" FROM "VISITS" v JOIN "PATIENTS" p ON p."INTERNALID" = v."INTERNALID"
		WHERE v."RECORDSTATUS" <> 1 OR p."RECORDSTATUS" <> 1`},
	// a medicine taken off the list (a DELETIONDATE) is shown, stopped; one deleted without is gone
	"MedicationStatement": {"", `SELECT r."RECORDID", r."INTERNALID" FROM "CURRENTRX" r JOIN "PATIENTS" p ON p."INTERNALID" = r."INTERNALID"
		WHERE (r."RECORDSTATUS" <> 1 AND r."DELETIONDATE" IS NULL) OR p."RECORDSTATUS" <> 1`},
	"MedicationRequest": {"", `SELECT i."RECORDID", s."INTERNALID" FROM "SCRIPTITEMS" i JOIN "PRESCRIPTIONS" s ON s."SCRIPTID" = i."SCRIPTID"
		JOIN "PATIENTS" p ON p."INTERNALID" = s."INTERNALID"
		WHERE i."RECORDSTATUS" <> 1 OR (s."RECORDSTATUS" <> 1 AND s."DELETIONDATE" IS NULL) OR p."RECORDSTATUS" <> 1`},
	"Observation vital": {"vs-", `SELECT v."RECORDID", v."INTERNALID" FROM "OBSERVATIONS" v JOIN "PATIENTS" p ON p."INTERNALID" = v."INTERNALID"
		WHERE v."RECORDSTATUS" <> 1 OR p."RECORDSTATUS" <> 1`},
	"Observation lab": {"lab-", `SELECT r."RECORDID", r."INTERNALID" FROM "REPORTVALUES" r JOIN "PATIENTS" p ON p."INTERNALID" = r."INTERNALID"
		LEFT JOIN "INVESTIGATIONS" i ON i."REPORTID" = r."REPORTID"
		WHERE r."RECORDSTATUS" <> 1 OR p."RECORDSTATUS" <> 1 OR i."RECORDSTATUS" <> 1`},
}

// namesDeletedVisit finds live patients with a live row naming a deleted visit (bpsynth's
// immunisations name none).
var namesDeletedVisit = map[string]string{
	"MedicationRequest": `SELECT DISTINCT s."INTERNALID" FROM "PRESCRIPTIONS" s JOIN "VISITS" v ON v."VISITID" = s."VisitId"
		JOIN "PATIENTS" p ON p."INTERNALID" = s."INTERNALID" WHERE v."RECORDSTATUS" <> 1 AND s."RECORDSTATUS" = 1 AND p."RECORDSTATUS" = 1
		ORDER BY s."INTERNALID"`,
}

// referencePattern finds the references of a resource.
var referencePattern = regexp.MustCompile(`"reference":"(Patient|Practitioner|PractitionerRole|Location|Organization|Encounter|Schedule)/([^"]+)"`)

func testDeleted(t *testing.T, p *practice) {
	deleted := map[string]*gone{}
	for name, g := range goneSQL {
		d := &gone{}
		owners := map[int]bool{}
		p.rows(t, g.sql, func(v []any) {
			d.ids = append(d.ids, g.prefix+strconv.Itoa(num(v[0])))
			if pt := num(v[1]); pt != 0 && p.snap.patientLive(pt) && !owners[pt] {
				owners[pt] = true
				d.patients = append(d.patients, pt)
			}
		})
		if len(d.ids) == 0 {
			t.Fatalf("%s: the practice has no deleted rows to test with", name)
		}
		typ := name
		if i := len("Observation"); len(name) > i && name[:i] == "Observation" {
			typ = "Observation"
		}
		if prev, ok := deleted[typ]; ok {
			prev.ids = append(prev.ids, d.ids...)
			prev.patients = append(prev.patients, d.patients...)
		} else {
			deleted[typ] = d
		}
	}
	// Schedules are practitioner-location pairs: none of a gone practitioner or location.
	var sched []string
	p.rows(t, `SELECT DISTINCT s."USERID", s."LOCATIONID" FROM "SESSIONS" s LEFT JOIN "USERS" u ON u."USERID" = s."USERID"
		LEFT JOIN "LOCATIONS" l ON l."LOCATIONID" = s."LOCATIONID"
		WHERE u."RECORDSTATUS" <> 1 OR u."USERSTATUS" = 999 OR l."RECORDSTATUS" <> 1`, func(v []any) {
		sched = append(sched, mappings.ScheduleID(num(v[0]), num(v[1])))
	})
	if len(sched) == 0 {
		t.Fatal("no session of a deleted practitioner or location")
	}
	deleted["Schedule"] = &gone{ids: sched}

	// check fails on any resource that is gone or references one that is.
	check := func(t *testing.T, what string, rows []mappings.Row) {
		t.Helper()
		for _, r := range rows {
			res := string(r.Resource)
			typ, id := resourceType(t, r.Resource), mappingstest.ResourceID(t, r.Resource)
			if d := deleted[typ]; d != nil && slices.Contains(d.ids, id) {
				t.Errorf("%s: deleted %s/%s served: %s", what, typ, id, res)
			}
			for _, m := range referencePattern.FindAllStringSubmatch(res, -1) {
				if d := deleted[m[1]]; d != nil && slices.Contains(d.ids, m[2]) {
					t.Errorf("%s: %s/%s references the deleted %s/%s", what, typ, id, m[1], m[2])
				}
			}
			for param, refs := range r.Refs {
				for _, ref := range refs {
					for _, d := range deleted {
						if slices.Contains(d.ids, ref) && isRefOf(param, d, deleted) {
							t.Errorf("%s: %s/%s includes the deleted %s %s", what, typ, id, param, ref)
						}
					}
				}
			}
		}
	}
	for _, typ := range []string{"Patient", "Practitioner", "PractitionerRole", "Location", "Organization", "Appointment", "Schedule",
		"Observation", "Condition", "AllergyIntolerance", "MedicationStatement", "MedicationRequest", "Immunization", "Encounter"} {
		t.Run(typ, func(t *testing.T) {
			r, ok := Mapping.Resource(typ)
			if !ok {
				t.Fatalf("no %s", typ)
			}
			d := deleted[typ]
			// Reads: the first and last few of every kind.
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
				check(t, typ+" (all)", p.search(t, r, "", 50))
			case "Appointment":
				for _, pt := range first(d.patients, 3) {
					check(t, "patient "+strconv.Itoa(pt), p.search(t, r, "patient="+strconv.Itoa(pt), 50))
				}
				check(t, "today", p.search(t, r, "date=2026-06-15", 50))
			default:
				if len(d.patients) == 0 {
					t.Fatalf("no live patient owns a deleted %s", typ)
				}
				// the patients with deleted rows of this type, and those whose live scripts or
				// immunisations name a deleted visit
				pts := first(d.patients, 4)
				if q, ok := namesDeletedVisit[typ]; ok {
					var more []int
					p.rows(t, q, func(v []any) { more = append(more, num(v[0])) })
					if len(more) == 0 {
						t.Fatalf("no live %s names a deleted visit", typ)
					}
					pts = append(pts, first(more, 3)...)
				}
				for _, pt := range pts {
					check(t, "patient "+strconv.Itoa(pt), p.search(t, r, "patient="+strconv.Itoa(pt), 50))
				}
			}
		})
	}
}

// isRefOf reports whether an include parameter's ids are of the type whose deleted set d is.
func isRefOf(param string, d *gone, deleted map[string]*gone) bool {
	types := map[string]string{"patient": "Patient", "subject": "Patient", "practitioner": "Practitioner", "performer": "Practitioner",
		"recorder": "Practitioner", "requester": "Practitioner", "general-practitioner": "Practitioner", "location": "Location",
		"organization": "Organization", "encounter": "Encounter", "schedule": "Schedule"}
	return deleted[types[param]] == d
}

func first(ids []int, n int) []int { return ids[:min(n, len(ids))] }

func resourceType(t testing.TB, raw []byte) string {
	t.Helper()
	m := regexp.MustCompile(`^\{"resourceType":"([A-Za-z]+)"`).FindSubmatch(raw)
	if m == nil {
		t.Fatalf("no resourceType: %s", raw)
	}
	return string(m[1])
}

func (s *snapshot) patientLive(id int) bool {
	for _, p := range s.patients {
		if p.id == id {
			return p.record == 1
		}
	}
	return false
}
