package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"fhirlink/fhir/fhirvalidate"
)

// The scheduling resources through the whole path: what online booking
// integrators run. Their answers are checked against the raw tables in
// mappings/bppremier; here the façade's part: includes, validation, errors.

func TestFHIRAppointmentsOfADayWithIncludes(t *testing.T) {
	env, db := fhirEnv(t)
	want := dbIDs(t, db, `SELECT "RECORDID"::text FROM "APPOINTMENTS" WHERE "RECORDSTATUS" = 1 AND "INTERNALID" <> 0 AND "APPOINTMENTDATE" = DATE '2026-06-15'`)
	if len(want) == 0 {
		t.Fatal("the synthetic book has no appointments on the reference day")
	}
	b := search(t, env, "Appointment?date=2026-06-15&_include=Appointment:patient&_include=Appointment:practitioner&_count=200")
	got := b.ids(t, "match")
	// Cancelled appointments of the day are Appointments too (status
	// cancelled): the live ones must all be there.
	for _, id := range want {
		if !strings.Contains(","+strings.Join(got, ",")+",", ","+id+",") {
			t.Fatalf("appointment %s of 2026-06-15 missing from %v", id, got)
		}
	}
	kinds := map[string]int{}
	for _, e := range b.Entry {
		if e.Search.Mode == "include" {
			kinds[strings.Split(e.FullURL[strings.Index(e.FullURL, "/fhir/R4/")+9:], "/")[0]]++
		}
	}
	if kinds["Patient"] == 0 || kinds["Practitioner"] == 0 {
		t.Fatalf("includes by type %v: want patients and practitioners", kinds)
	}
}

func TestFHIRFreeSlotsOfASchedule(t *testing.T) {
	env, _ := fhirEnv(t)
	schedules := search(t, env, "Schedule?active=true")
	ids := schedules.ids(t, "match")
	if len(ids) == 0 {
		t.Fatal("no active schedule")
	}
	b := search(t, env, "Slot?schedule=Schedule/"+ids[0]+"&start=ge2026-06-15&start=lt2026-06-22&status=free&_count=200")
	for _, e := range b.Entry {
		var slot struct{ Status, Start string }
		json.Unmarshal(e.Resource, &slot)
		if e.Search.Mode == "match" && (slot.Status != "free" || slot.Start < "2026-06-15" || slot.Start >= "2026-06-22") {
			t.Fatalf("slot %s outside the search: %+v", e.FullURL, slot)
		}
	}
	if len(b.ids(t, "match")) == 0 {
		t.Fatalf("no free slot in a week of schedule %s", ids[0])
	}
}

func TestFHIRSchedulingBadInput(t *testing.T) {
	env, _ := fhirEnv(t)
	for _, path := range []string{
		"Slot?schedule=Schedule/1-1&start=ge2026-01-01&start=lt2027-01-01", // a year of slots
		"Slot?start=ge2026-06-15&start=lt2026-06-16",                       // no schedule
		"Appointment?status=tentative",                                     // not an appointment status code
		"Appointment?date=xx2026-06-15",                                    // bad prefix
	} {
		status, _, body := env.FHIR(http.MethodGet, path, "")
		if status != http.StatusBadRequest || !strings.Contains(string(body), `"OperationOutcome"`) {
			t.Errorf("%s: %d %s; want 400 with an OperationOutcome", path, status, body)
			continue
		}
		fhirvalidate.Resources(t, body)
	}
	// The CapabilityStatement grows with the mappings.
	_, _, body := env.FHIR(http.MethodGet, "metadata", "")
	for _, typ := range []string{"Appointment", "Schedule", "Slot"} {
		if !strings.Contains(string(body), `"type":"`+typ+`"`) {
			t.Errorf("metadata does not list %s", typ)
		}
	}
}

// TestFHIRAppointmentDateIsStart: R4's Appointment date parameter is
// Appointment.start. An appointment starting on the hour is found by eq its
// start given as a UTC instant, and not by ge a minute later, though it is
// still running then.
func TestFHIRAppointmentDateIsStart(t *testing.T) {
	env, db := fhirEnv(t)
	visible := `"INTERNALID" <> 0 AND ("RECORDSTATUS" = 1 OR EXISTS (SELECT 1 FROM "CANCELLATIONS" c WHERE c."APPOINTMENTID" = a."RECORDID"))`
	var secs int
	if err := db.QueryRow(`SELECT MIN("APPOINTMENTTIME") FROM "APPOINTMENTS" a WHERE ` + visible + ` AND "APPOINTMENTDATE" = DATE '2026-06-15'
		AND "APPOINTMENTTIME" % 3600 = 0 AND "APPOINTMENTLENGTH" > 60`).Scan(&secs); err != nil {
		t.Fatal(err)
	}
	sydney, err := time.LoadLocation("Australia/Sydney") // the test practice's zone
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 6, 15, 0, 0, secs, 0, sydney).UTC()
	day := `SELECT a."RECORDID"::text FROM "APPOINTMENTS" a WHERE ` + visible + ` AND "APPOINTMENTDATE" = DATE '2026-06-15' AND "APPOINTMENTTIME" `
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"date=eq" + start.Format("2006-01-02T15:04:05Z"), dbIDs(t, db, day+`= $1`, secs)},
		{"date=" + start.Format("2006-01-02T15:04Z"), dbIDs(t, db, day+`BETWEEN $1 AND $1 + 59`, secs)},
		{"date=ge" + start.Add(time.Minute).Format("2006-01-02T15:04:05Z") + "&date=lt2026-06-16", dbIDs(t, db, day+`>= $1 + 60`, secs)},
	} {
		got := walk(t, env, "Appointment?"+c.query+"&_count=50")
		if len(c.want) == 0 || !sameSet(got, c.want) {
			t.Errorf("Appointment?%s: %v, the database %v", c.query, got, c.want)
		}
	}
}
