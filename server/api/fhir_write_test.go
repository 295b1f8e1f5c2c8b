package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fhirlink/fhir/fhirvalidate"
	"fhirlink/mappings/bppremier/bpsynth"
	"fhirlink/mappings/zedmed/zedsynth"
	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
)

// The FHIR write path end to end: a booking integrator's POST, $book,
// PATCH and PUT through the real tunnel into the practice's booking
// procedures, each result checked in the database and every resource
// through the validators.

// bookBook is a practice under a writes test, and how to look at its
// appointments behind the agent's back.
type bookBook struct {
	env *fhirlinktest.Env
	// total counts the appointment rows; state is one appointment's state
	// as "live DATE SECS" or "cancelled".
	total func(t *testing.T) int
	state func(t *testing.T, id string) string
}

func bpWriteEnv(t *testing.T, allowWrites bool) (*bookBook, *sql.DB) {
	t.Helper()
	dsn, db := ownBpPractice(t)
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "postgres", DSN: dsn, AllowWrites: allowWrites})
	return &bookBook{env: env,
		total: func(t *testing.T) int { return count(t, db, `SELECT count(*) FROM "APPOINTMENTS"`) },
		state: func(t *testing.T, id string) string {
			var live int
			var day string
			var secs int
			if err := db.QueryRow(`SELECT "RECORDSTATUS", to_char("APPOINTMENTDATE", 'YYYY-MM-DD'), "APPOINTMENTTIME" FROM "APPOINTMENTS" WHERE "RECORDID" = $1`, id).Scan(&live, &day, &secs); err != nil {
				t.Fatalf("appointment %s: %v", id, err)
			}
			if live != 1 {
				return "cancelled"
			}
			return fmt.Sprintf("live %s %d", day, secs)
		}}, db
}

func count(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fhirSend sends a FHIR request with a JSON body of the given type.
func fhirSend(t *testing.T, env *fhirlinktest.Env, method, path, contentType, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	status, h, resp, err := env.Do(context.Background(), method, env.SiteURL()+"/fhir/R4/"+path, env.Key, []byte(body),
		append([]string{"Content-Type", contentType}, header...)...)
	if err != nil {
		t.Fatal(err)
	}
	return status, h, resp
}

// freeSlot is a free Slot of the practice's book.
type freeSlot struct {
	ID, Start, End string
	Practitioner   string
}

// freeSlots are free slots of one schedule in the week of 2026-06-15 (the
// synthetic practice's reference week).
func freeSlots(t *testing.T, env *fhirlinktest.Env) []freeSlot {
	t.Helper()
	schedules := search(t, env, "Schedule?active=true").ids(t, "match")
	if len(schedules) == 0 {
		t.Fatal("no active schedule")
	}
	for _, sched := range schedules {
		b := search(t, env, "Slot?schedule=Schedule/"+sched+"&start=ge2026-06-16&start=lt2026-06-23&status=free&_count=50")
		var out []freeSlot
		for _, e := range b.Entry {
			var s struct{ ID, Start, End string }
			json.Unmarshal(e.Resource, &s)
			out = append(out, freeSlot{ID: s.ID, Start: s.Start, End: s.End, Practitioner: strings.Split(sched, "-")[0]})
		}
		if len(out) >= 8 {
			return out
		}
	}
	t.Fatal("no schedule with 8 free slots in the week")
	return nil
}

func appointmentJSON(s freeSlot, patient string) string {
	return `{"resourceType":"Appointment","status":"booked","start":"` + s.Start + `","end":"` + s.End + `","description":"Booked online",
		"participant":[{"actor":{"reference":"Practitioner/` + s.Practitioner + `"},"status":"accepted"},
		{"actor":{"reference":"Patient/` + patient + `"},"status":"accepted"}]}`
}

// written checks a write's answer: the status, an Appointment (valid
// FHIR) and, for a create, its Location; it returns the appointment.
func written(t *testing.T, env *fhirlinktest.Env, status int, h http.Header, body []byte, want int) map[string]any {
	t.Helper()
	if status != want {
		t.Fatalf("status %d, want %d: %s", status, want, body)
	}
	fhirvalidate.Resources(t, body)
	var a map[string]any
	if err := json.Unmarshal(body, &a); err != nil || a["resourceType"] != "Appointment" {
		t.Fatalf("not an Appointment: %s", body)
	}
	if want == http.StatusCreated && h.Get("Location") != env.SiteURL()+"/fhir/R4/Appointment/"+a["id"].(string) {
		t.Fatalf("Location %q for appointment %v", h.Get("Location"), a["id"])
	}
	if h.Get("ETag") == "" {
		t.Errorf("no ETag")
	}
	return a
}

// refused checks a refusal: the status and an OperationOutcome whose
// diagnostics contain what.
func refused(t *testing.T, status int, body []byte, want int, what string) {
	t.Helper()
	if status != want || !strings.Contains(string(body), `"OperationOutcome"`) || !strings.Contains(string(body), what) {
		t.Fatalf("status %d %s; want %d with an OperationOutcome saying %q", status, body, want, what)
	}
	fhirvalidate.Resources(t, body)
}

func TestFHIRBookMoveCancelOnBpPostgres(t *testing.T) {
	bk, _ := bpWriteEnv(t, true)
	bookingScenario(t, bk)
}

func TestFHIRWritesOnZedmedFirebird(t *testing.T) {
	dsn, db := zedFirebird(t)
	zedWrites(t, fhirlinktest.Start(t, fhirlinktest.Options{Engine: "firebird", DSN: dsn, PMSType: "Zedmed", Catalogue: zedsynth.CatalogueMain, AllowWrites: true}),
		db, `CAST(APPT_DATE AS VARCHAR(24))`)
}

// The demo's Zedmed engine: the replica's statements for the procedures.
func TestFHIRWritesOnZedmedSQLite(t *testing.T) {
	path, db := zedPractice(t)
	zedWrites(t, fhirlinktest.Start(t, fhirlinktest.Options{Engine: "sqlite", DSN: path, PMSType: "Zedmed", Catalogue: zedsynth.CatalogueMain, AllowWrites: true}),
		db, `APPT_DATE`)
}

// zedWrites runs the booking and patient scenarios on a Zedmed practice;
// dayText is the SQL of an appointment's date as text.
func zedWrites(t *testing.T, env *fhirlinktest.Env, db *sql.DB, dayText string) {
	bookingScenario(t, &bookBook{env: env,
		total: func(t *testing.T) int { return count(t, db, `SELECT count(*) FROM APPOINTMENT`) },
		state: func(t *testing.T, id string) string {
			var status, secs int
			var day string
			if err := db.QueryRow(`SELECT STATUS, `+dayText+`, START_SECS FROM APPOINTMENT WHERE APPT_ID = ?`, id).Scan(&status, &day, &secs); err != nil {
				t.Fatalf("appointment %s: %v", id, err)
			}
			if status == 5 {
				return "cancelled"
			}
			return fmt.Sprintf("live %s %d", day, secs)
		}})
	patientScenario(t, env, func(t *testing.T) int { return count(t, db, `SELECT count(*) FROM PATIENT`) })
}

// bookingScenario books, refuses, races, moves and cancels appointments
// on bk's practice, checking each step in its database.
func bookingScenario(t *testing.T, bk *bookBook) {
	env := bk.env
	slots := freeSlots(t, env)
	patients := search(t, env, "Patient?_count=2").ids(t, "match")
	before := bk.total(t)

	// The CapabilityStatement advertises the writes.
	_, _, meta := env.FHIR(http.MethodGet, "metadata", "")
	if !strings.Contains(string(meta), `"type":"Appointment"`) || !strings.Contains(string(meta), `{"code":"create"}`) ||
		!strings.Contains(string(meta), `{"code":"patch"}`) || !strings.Contains(string(meta), `"name":"book"`) {
		t.Errorf("metadata does not advertise Appointment writes: %.300s", meta)
	}
	fhirvalidate.Resources(t, meta)

	// Bad input is refused and changes nothing.
	bad := []struct {
		body   string
		status int
		what   string
	}{
		{`{"resourceType":"Appointment",`, http.StatusBadRequest, "not JSON"},
		{`{"resourceType":"Patient"}`, http.StatusBadRequest, "must be an Appointment"},
		{strings.Replace(appointmentJSON(slots[0], patients[0]), `"booked"`, `"proposed"`, 1), http.StatusUnprocessableEntity, "Appointment.status"},
		{strings.Replace(appointmentJSON(slots[0], patients[0]), `"Patient/`+patients[0], `"Patient/99999999`, 1), http.StatusUnprocessableEntity, "Patient/99999999 is not known"},
		{strings.Replace(appointmentJSON(slots[0], patients[0]), `"Patient/`+patients[0], `"Group/1`, 1), http.StatusUnprocessableEntity, "Appointment.participant[1].actor"},
		{strings.Replace(appointmentJSON(slots[0], patients[0]), `"end":"`+slots[0].End, `"end":"`+slots[0].Start, 1), http.StatusUnprocessableEntity, "Appointment.end"},
		{strings.Replace(appointmentJSON(slots[0], patients[0]), `"start":"`+slots[0].Start, `"start":"`+slots[0].Start[:14]+"07"+slots[0].Start[16:], 1), http.StatusUnprocessableEntity, "is not a run of Slots"},
		{strings.Replace(appointmentJSON(slots[0], patients[0]), slots[0].Start, "2026-06-16T09:00:00", 1), http.StatusBadRequest, "Appointment.start"},
	}
	for _, c := range bad {
		status, _, body := fhirSend(t, env, http.MethodPost, "Appointment", "application/fhir+json", c.body)
		refused(t, status, body, c.status, c.what)
	}
	status, body := postCutShort(t, env, "/fhir/R4/Appointment", "application/fhir+json")
	refused(t, status, body, http.StatusBadRequest, "could not be read")
	if n := bk.total(t); n != before {
		t.Fatalf("bad input changed the book: %d appointments, %d before", n, before)
	}

	// A booking into a free slot, read back; the same slot again is a 409.
	status, h, body := fhirSend(t, env, http.MethodPost, "Appointment", "application/fhir+json", appointmentJSON(slots[0], patients[0]))
	a := written(t, env, status, h, body, http.StatusCreated)
	id := a["id"].(string)
	if a["status"] != "booked" || a["start"] != slots[0].Start || a["end"] != slots[0].End {
		t.Fatalf("booked %s", body)
	}
	if st := bk.state(t, id); !strings.HasPrefix(st, "live ") {
		t.Fatalf("appointment %s in the database: %s", id, st)
	}
	status, _, body = fhirSend(t, env, http.MethodPost, "Appointment", "application/fhir+json", appointmentJSON(slots[0], patients[1]))
	refused(t, status, body, http.StatusConflict, "already booked")
	if n := bk.total(t); n != before+1 {
		t.Fatalf("%d appointments after one booking and one refused, %d before", n, before)
	}

	// Concurrent bookings of one slot: exactly one succeeds.
	const racers = 6
	var wg sync.WaitGroup
	statuses := make([]int, racers)
	bodies := make([][]byte, racers)
	for i := range racers {
		wg.Go(func() {
			statuses[i], _, bodies[i] = fhirSend(t, env, http.MethodPost, "Appointment", "application/fhir+json", appointmentJSON(slots[1], patients[i%2]))
		})
	}
	wg.Wait()
	won := 0
	for i, st := range statuses {
		switch st {
		case http.StatusCreated:
			won++
			fhirvalidate.Resources(t, bodies[i])
		case http.StatusConflict:
			fhirvalidate.Resources(t, bodies[i])
		default:
			t.Fatalf("racer %d: %d %s", i, st, bodies[i])
		}
	}
	if won != 1 || bk.total(t) != before+2 {
		t.Fatalf("%d of %d concurrent bookings of one slot succeeded; %d appointments, %d before", won, racers, bk.total(t), before)
	}

	// $book with a Slot and a Patient.
	params := `{"resourceType":"Parameters","parameter":[{"name":"slot","valueReference":{"reference":"Slot/` + slots[2].ID + `"}},
		{"name":"patient","valueReference":{"reference":"Patient/` + patients[1] + `"}}]}`
	status, h, body = fhirSend(t, env, http.MethodPost, "Appointment/$book", "application/fhir+json", params)
	booked := written(t, env, status, h, body, http.StatusCreated)
	bookedID := booked["id"].(string)
	if booked["start"] != slots[2].Start {
		t.Fatalf("$book booked %s, want the slot's start %s", body, slots[2].Start)
	}
	status, _, body = fhirSend(t, env, http.MethodPost, "Appointment/$book", "application/fhir+json", params)
	refused(t, status, body, http.StatusConflict, "already booked")

	// A move (PUT with new start and end) to a free slot of the same
	// length; one to a taken slot is a 409 and moves nothing.
	target := slots[3]
	for _, s := range slots[3:] {
		if slotLen(t, s) == slotLen(t, slots[2]) {
			target = s
			break
		}
	}
	stateBefore := bk.state(t, bookedID)
	booked["start"], booked["end"] = slots[0].Start, slots[0].End
	put, _ := json.Marshal(booked)
	status, _, body = fhirSend(t, env, http.MethodPut, "Appointment/"+bookedID, "application/fhir+json", string(put))
	if slotLen(t, slots[0]) == slotLen(t, slots[2]) {
		refused(t, status, body, http.StatusConflict, "already booked")
	}
	if st := bk.state(t, bookedID); st != stateBefore {
		t.Fatalf("a refused move changed the appointment: %s, was %s", st, stateBefore)
	}
	booked["start"], booked["end"] = target.Start, target.End
	put, _ = json.Marshal(booked)
	status, h, body = fhirSend(t, env, http.MethodPut, "Appointment/"+bookedID, "application/fhir+json", string(put))
	moved := written(t, env, status, h, body, http.StatusOK)
	if moved["start"] != target.Start || bk.state(t, bookedID) == stateBefore {
		t.Fatalf("moved to %v, want %s; database %s (was %s)", moved["start"], target.Start, bk.state(t, bookedID), stateBefore)
	}

	// What cannot be changed is named, and changes nothing.
	stateBefore = bk.state(t, id)
	status, _, body = fhirSend(t, env, http.MethodPatch, "Appointment/"+id, "application/json-patch+json", `[{"op":"add","path":"/comment","value":"x"}]`)
	refused(t, status, body, http.StatusUnprocessableEntity, "Appointment.comment cannot be changed")
	status, _, body = fhirSend(t, env, http.MethodPatch, "Appointment/"+id, "application/json-patch+json", `[{"op":"replace","path":"/status","value":"arrived"}]`)
	refused(t, status, body, http.StatusUnprocessableEntity, "Appointment.status")
	status, _, body = fhirSend(t, env, http.MethodPatch, "Appointment/"+id, "application/json-patch+json", `[{"op":"replace","path":"/status","value":"cancelled"}]`,
		"If-Match", `W/"1999-01-01T00:00:00+10:00"`)
	refused(t, status, body, http.StatusPreconditionFailed, "If-Match")
	if st := bk.state(t, id); st != stateBefore {
		t.Fatalf("refused patches changed the appointment: %s, was %s", st, stateBefore)
	}

	// A cancellation by JSON Patch, with the ETag of the current version.
	var cur struct{ Meta struct{ LastUpdated string } }
	json.Unmarshal(readBody(t, env, "Appointment/"+id), &cur)
	etag := `W/"` + cur.Meta.LastUpdated + `"`
	status, h, body = fhirSend(t, env, http.MethodPatch, "Appointment/"+id, "application/json-patch+json",
		`[{"op":"replace","path":"/status","value":"cancelled"},{"op":"add","path":"/cancelationReason","value":{"text":"Patient unwell"}}]`, "If-Match", etag)
	cancelled := written(t, env, status, h, body, http.StatusOK)
	if cancelled["status"] != "cancelled" || bk.state(t, id) != "cancelled" {
		t.Fatalf("cancelled %s; database %s", body, bk.state(t, id))
	}
	// The race's winner, cancelled by a FHIRPath Patch.
	var winner string
	for i, st := range statuses {
		if st == http.StatusCreated {
			var w struct{ ID string }
			json.Unmarshal(bodies[i], &w)
			winner = w.ID
		}
	}
	status, h, body = fhirSend(t, env, http.MethodPatch, "Appointment/"+winner, "application/fhir+json", `{"resourceType":"Parameters","parameter":[
		{"name":"operation","part":[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Appointment.status"},{"name":"value","valueCode":"cancelled"}]}]}`)
	if a := written(t, env, status, h, body, http.StatusOK); a["status"] != "cancelled" || bk.state(t, winner) != "cancelled" {
		t.Fatalf("FHIRPath Patch cancel: %s; database %s", body, bk.state(t, winner))
	}

	// Its slot is free again: it can be booked.
	status, h, body = fhirSend(t, env, http.MethodPost, "Appointment", "application/fhir+json", appointmentJSON(slots[0], patients[1]))
	written(t, env, status, h, body, http.StatusCreated)

	// Exactly once under an Idempotency-Key: a repeat is the first answer
	// from the state store; and a retry whose stored answer is gone (the
	// server died before it kept it, so the handler runs again) reaches
	// the agent under the same execution id, which answers the first
	// booking's outcome: the same appointment, not a second one, and not
	// a 409 for the slot the first run took.
	last := slots[len(slots)-1]
	if last == target || len(slots) < 5 {
		t.Fatalf("want a free slot beyond the ones used, of %d", len(slots))
	}
	total := bk.total(t)
	keyed := appointmentJSON(last, patients[0])
	status, h, body = fhirSend(t, env, http.MethodPost, "Appointment", "application/fhir+json", keyed, api.IdempotencyKeyHeader, "booking-"+last.ID)
	first := written(t, env, status, h, body, http.StatusCreated)
	status, h, again := fhirSend(t, env, http.MethodPost, "Appointment", "application/fhir+json", keyed, api.IdempotencyKeyHeader, "booking-"+last.ID)
	if status != http.StatusCreated || h.Get(api.IdempotentReplayedHeader) != "true" || string(again) != string(body) {
		t.Fatalf("repeat under the key: %d replayed=%q %s; want the first answer %s", status, h.Get(api.IdempotentReplayedHeader), again, body)
	}
	if _, err := env.Store.PurgeIdempotencyKeys(context.Background(), time.Now().Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	status, h, body = fhirSend(t, env, http.MethodPost, "Appointment", "application/fhir+json", keyed, api.IdempotencyKeyHeader, "booking-"+last.ID)
	if rerun := written(t, env, status, h, body, http.StatusCreated); rerun["id"] != first["id"] || h.Get(api.IdempotentReplayedHeader) == "true" {
		t.Fatalf("retry run again under the key: %s (replayed=%q); want Appointment/%v again from the agent", body, h.Get(api.IdempotentReplayedHeader), first["id"])
	}
	if n := bk.total(t); n != total+1 {
		t.Fatalf("%d appointments after one booking sent three times under one key, %d before", n, total)
	}
}

func readBody(t *testing.T, env *fhirlinktest.Env, path string) []byte {
	t.Helper()
	status, _, body := env.FHIR(http.MethodGet, path, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	return body
}

func slotLen(t *testing.T, s freeSlot) time.Duration {
	t.Helper()
	start, err1 := time.Parse(time.RFC3339, s.Start)
	end, err2 := time.Parse(time.RFC3339, s.End)
	if err1 != nil || err2 != nil {
		t.Fatalf("slot %+v", s)
	}
	return end.Sub(start)
}

// At a read-only site writes are refused before the agent is asked, and
// the CapabilityStatement advertises none.
func TestFHIRWritesRefusedAtReadOnlySite(t *testing.T) {
	bk, _ := bpWriteEnv(t, false)
	env := bk.env
	before := bk.total(t)
	_, _, meta := env.FHIR(http.MethodGet, "metadata", "")
	if strings.Contains(string(meta), `{"code":"create"}`) || strings.Contains(string(meta), `"name":"book"`) {
		t.Errorf("a read-only site advertises writes")
	}
	status, _, body := fhirSend(t, env, http.MethodPost, "Appointment", "application/fhir+json", `{"resourceType":"Appointment"}`)
	refused(t, status, body, http.StatusForbidden, "read-only")
	if bk.total(t) != before {
		t.Fatal("a refused write changed the book")
	}
}

func TestFHIRWritesOnBpSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "practice.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := bpsynth.Apply(ctx, db, "sqlite"); err != nil {
		t.Fatal(err)
	}
	if err := bpsynth.Generate(ctx, db, "sqlite", bpsynth.Small()); err != nil {
		t.Fatal(err)
	}
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "sqlite", DSN: path, AllowWrites: true})
	bookingScenario(t, &bookBook{env: env,
		total: func(t *testing.T) int { return count(t, db, `SELECT count(*) FROM "APPOINTMENTS"`) },
		state: func(t *testing.T, id string) string {
			var live, secs int
			var day string
			if err := db.QueryRow(`SELECT "RECORDSTATUS", substr("APPOINTMENTDATE", 1, 10), "APPOINTMENTTIME" FROM "APPOINTMENTS" WHERE "RECORDID" = ?`, id).Scan(&live, &day, &secs); err != nil {
				t.Fatalf("appointment %s: %v", id, err)
			}
			if live != 1 {
				return "cancelled"
			}
			return fmt.Sprintf("live %s %d", day, secs)
		}})
	patientScenario(t, env, func(t *testing.T) int { return count(t, db, `SELECT count(*) FROM "PATIENTS"`) })
}

// patientScenario registers a patient with a conditional create, retries
// it (no duplicate), and refuses bad input and ambiguous criteria, each
// checked by countPatients in the practice's database.
func patientScenario(t *testing.T, env *fhirlinktest.Env, countPatients func(t *testing.T) int) {
	before := countPatients(t)
	_, _, meta := env.FHIR(http.MethodGet, "metadata", "")
	var cs struct {
		Rest []struct {
			Resource []struct {
				Type              string
				Interaction       []struct{ Code string }
				ConditionalCreate bool
			}
		}
	}
	json.Unmarshal(meta, &cs)
	for _, r := range cs.Rest[0].Resource {
		if r.Type == "Patient" && (!strings.Contains(fmt.Sprint(r.Interaction), "create") || !r.ConditionalCreate) {
			t.Errorf("metadata does not advertise Patient create: %v", r.Interaction)
		}
	}
	patient := `{"resourceType":"Patient","name":[{"family":"Quayle-Ng","given":["Harriet","May"]}],"gender":"female","birthDate":"1984-02-29",
		"identifier":[{"system":"http://ns.electronichealth.net.au/id/medicare-number","value":"29501012011"}],
		"telecom":[{"system":"phone","value":"0412 345 678","use":"mobile"},{"system":"email","value":"harriet@example.com"}],
		"address":[{"line":["12 Wattle St"],"city":"Eastwood","postalCode":"2122"}]}`
	cond := "If-None-Exist"
	criteria := "identifier=http://ns.electronichealth.net.au/id/medicare-number|29501012011"

	for _, c := range []struct {
		body, what string
		status     int
	}{
		{`{"resourceType":"Patient"`, "not JSON", http.StatusBadRequest},
		{`{"resourceType":"Patient","name":[{"given":["A"]}]}`, "Patient.name.family", http.StatusUnprocessableEntity},
		{strings.Replace(patient, `"1984-02-29"`, `"1984-02"`, 1), "Patient.birthDate", http.StatusUnprocessableEntity},
		{strings.Replace(patient, `"2122"`, `"21220"`, 1), "Patient.address.postalCode", http.StatusUnprocessableEntity},
		{strings.Replace(patient, `"29501012011"`, `"123"`, 1), "Patient.identifier[0]", http.StatusUnprocessableEntity},
		{strings.Replace(patient, `"29501012011"`, `"29501012341"`, 1), "Patient.identifier[0]", http.StatusUnprocessableEntity}, // check digit
		{strings.Replace(patient, `"female"`, `"woman"`, 1), "not valid FHIR", http.StatusBadRequest},
	} {
		status, _, body := fhirSend(t, env, http.MethodPost, "Patient", "application/fhir+json", c.body)
		refused(t, status, body, c.status, c.what)
	}
	if n := countPatients(t); n != before {
		t.Fatalf("bad input registered patients: %d, %d before", n, before)
	}

	status, h, body := fhirSend(t, env, http.MethodPost, "Patient", "application/fhir+json", patient, cond, criteria)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	fhirvalidate.Resources(t, body)
	var p struct {
		ID   string
		Name []struct{ Family string }
	}
	json.Unmarshal(body, &p)
	if h.Get("Location") != env.SiteURL()+"/fhir/R4/Patient/"+p.ID || len(p.Name) == 0 || p.Name[0].Family != "Quayle-Ng" {
		t.Fatalf("Location %q for %s", h.Get("Location"), body)
	}
	if n := countPatients(t); n != before+1 {
		t.Fatalf("%d patients after a create, %d before", n, before)
	}
	// The retry finds it and registers nothing; by name and birth date too.
	for _, crit := range []string{criteria, "family=Quayle-Ng&given=Harriet&birthdate=1984-02-29"} {
		status, _, again := fhirSend(t, env, http.MethodPost, "Patient", "application/fhir+json", patient, cond, crit)
		if status != http.StatusOK || !strings.Contains(string(again), `"id":"`+p.ID+`"`) {
			t.Fatalf("retry with %s: %d %s; want 200 with Patient/%s", crit, status, again, p.ID)
		}
		fhirvalidate.Resources(t, again)
	}
	// Criteria matching several patients register nothing.
	status, _, body = fhirSend(t, env, http.MethodPost, "Patient", "application/fhir+json", patient, cond, "gender=female")
	refused(t, status, body, http.StatusPreconditionFailed, "more than one patient")
	status, _, body = fhirSend(t, env, http.MethodPost, "Patient", "application/fhir+json", patient, cond, "shoe-size=9")
	refused(t, status, body, http.StatusBadRequest, "If-None-Exist")
	if n := countPatients(t); n != before+1 {
		t.Fatalf("%d patients after retries and refusals, %d before", n, before+1)
	}
}

func TestFHIRPatientCreateOnBpPostgres(t *testing.T) {
	bk, db := bpWriteEnv(t, true)
	patientScenario(t, bk.env, func(t *testing.T) int { return count(t, db, `SELECT count(*) FROM "PATIENTS"`) })
}

// Writes need the scope of their type and interaction: .c to create, .u
// to change (v1 .write gives both); a token without it is refused with 403
// naming the scope, and nothing is written.
func TestFHIRWriteScopes(t *testing.T) {
	bk, _ := bpWriteEnv(t, true)
	env := bk.env
	s := &smart{Env: env, t: t}
	k := newKey(t, "ES384")
	client := s.client(env.IntegratorID, "system/*.rs system/Appointment.c system/Patient.write", jwks(t, k), "")
	slots := freeSlots(t, env)
	patient := search(t, env, "Patient?_count=1").ids(t, "match")[0]
	as := func(scope, method, path, ctype, body string) (int, []byte) {
		t.Helper()
		tok := s.mustToken(k, client, scope).AccessToken
		status, _, resp, err := env.Do(context.Background(), method, env.SiteURL()+"/fhir/R4/"+path, "", []byte(body),
			"Content-Type", ctype, "Authorization", "Bearer "+tok)
		if err != nil {
			t.Fatal(err)
		}
		return status, resp
	}
	before := bk.total(t)
	status, body := as("system/Appointment.rs", http.MethodPost, "Appointment", "application/fhir+json", appointmentJSON(slots[0], patient))
	refused(t, status, body, http.StatusForbidden, "system/Appointment.c")
	if bk.total(t) != before {
		t.Fatal("a refused booking booked")
	}
	status, body = as("system/Appointment.c", http.MethodPost, "Appointment", "application/fhir+json", appointmentJSON(slots[0], patient))
	if status != http.StatusCreated {
		t.Fatalf("booking with system/Appointment.c: %d %s", status, body)
	}
	fhirvalidate.Resources(t, body)
	var a struct{ ID string }
	json.Unmarshal(body, &a)
	status, body = as("system/Appointment.c", http.MethodPatch, "Appointment/"+a.ID, "application/json-patch+json", `[{"op":"replace","path":"/status","value":"cancelled"}]`)
	refused(t, status, body, http.StatusForbidden, "system/Appointment.u")
	if st := bk.state(t, a.ID); st == "cancelled" {
		t.Fatal("a refused cancellation cancelled")
	}
	status, body = as("system/Patient.write", http.MethodPost, "Patient", "application/fhir+json", `{"resourceType":"Patient","name":[{"family":"Scope","given":["Tess"]}]}`)
	if status != http.StatusCreated {
		t.Fatalf("Patient create with system/Patient.write: %d %s", status, body)
	}
	fhirvalidate.Resources(t, body)
}
