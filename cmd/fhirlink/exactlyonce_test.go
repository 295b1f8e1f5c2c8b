//go:build linux

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/waittest"
	"fhirlink/mappings/bppremier/bpsynth"
	"fhirlink/mappings/bppremier/bpsynth/synthtest"
	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
)

// bookSlot is a free quarter hour of a practitioner's book, and the patient to book in it.
type bookSlot struct {
	user, patient int
	day           string // YYYY-MM-DD
	secs          int    // seconds after midnight
	length        int    // seconds
}

// booking is one way of booking a slot through fhirlink, as the fault tests send and retry
// it: the request for a slot (its method, path under the site and body) and the appointment
// id its answer names (0 for none).
type booking struct {
	name    string
	request func(s bookSlot) (method, path string, body []byte)
	booked  func(t *testing.T, status int, body []byte) int
}

// bookings are the ways of booking the fault tests prove exactly once.
var bookings = []booking{
	{"passthrough storedProcedure BP_AddAppointment", passthroughBooking, passthroughBooked},
	{"FHIR POST Appointment", fhirBooking, fhirBooked},
}

// fhirBooking is the FHIR booking of s: an Appointment of s's patient with s's practitioner in
// the slot, at the practice's wall-clock time (the agent's default zone).
func fhirBooking(s bookSlot) (string, string, []byte) {
	zone, _ := time.LoadLocation("Australia/Sydney")
	day, _ := time.ParseInLocation(time.DateOnly, s.day, zone)
	start := day.Add(time.Duration(s.secs) * time.Second)
	body, _ := json.Marshal(map[string]any{"resourceType": "Appointment", "status": "booked",
		"start": start.Format(time.RFC3339), "end": start.Add(time.Duration(s.length) * time.Second).Format(time.RFC3339),
		"participant": []map[string]any{
			{"actor": map[string]string{"reference": fmt.Sprintf("Practitioner/%d", s.user)}, "status": "accepted"},
			{"actor": map[string]string{"reference": fmt.Sprintf("Patient/%d", s.patient)}, "status": "accepted"}}})
	return http.MethodPost, "/fhir/R4/Appointment", body
}

func fhirBooked(t *testing.T, status int, body []byte) int {
	t.Helper()
	var a struct{ ResourceType, ID string }
	if err := json.Unmarshal(body, &a); err != nil || status != http.StatusCreated || a.ResourceType != "Appointment" {
		t.Fatalf("booking answered %d %s", status, body)
	}
	checkResources(t, body)
	n, _ := strconv.Atoi(a.ID)
	return n
}

// passthroughBooking is the practice's own procedure called through the passthrough API, the
// call the FHIR POST Appointment makes on Bp Premier.
func passthroughBooking(s bookSlot) (string, string, []byte) {
	param := func(name, typ string, v any) map[string]any {
		return map[string]any{"name": "@" + name, "type": typ, "value": fmt.Sprint(v)}
	}
	body, _ := json.Marshal(map[string]any{"command": map[string]any{"text": "BP_AddAppointment", "type": "storedProcedure",
		"parameters": []map[string]any{param("aptdate", "Date", s.day), param("apttime", "Int", s.secs), param("aptlen", "Int", s.length),
			param("practitionerid", "Int", s.user), param("patientid", "Int", s.patient), param("loginid", "Int", 1)}}})
	return http.MethodPost, "/queries/immediate", body
}

func passthroughBooked(t *testing.T, status int, body []byte) int {
	t.Helper()
	var q fhirlinktest.QueryObject
	if err := json.Unmarshal(body, &q); err != nil || status != http.StatusOK || q.Result == nil {
		t.Fatalf("booking answered %d %s", status, body)
	}
	q.Raw = body
	rows := q.Rows(t)
	if len(rows) != 1 {
		t.Fatalf("booking answered %d rows: %s", len(rows), body)
	}
	n, _ := strconv.Atoi(fmt.Sprint(rows[0]["RECORDID"]))
	return n
}

// bookingPractice is a generated Bp Premier practice on PostgreSQL, with its procedures.
type bookingPractice struct {
	dsn           string
	db            *sql.DB
	user, patient int
	used          map[string]bool // the slots handed out, by day and time
}

func newBookingPractice(t *testing.T) *bookingPractice {
	t.Helper()
	dsn, db := synthtest.PostgresPractice(t)
	b := &bookingPractice{dsn: dsn, db: db, used: map[string]bool{}}
	if err := db.QueryRow(`SELECT min("USERID") FROM "USERS" WHERE "RECORDSTATUS" = 1`).Scan(&b.user); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT min("INTERNALID") FROM "PATIENTS" WHERE "RECORDSTATUS" = 1`).Scan(&b.patient); err != nil {
		t.Fatal(err)
	}
	return b
}

// slot hands out a free slot of the practitioner's sessions (BP_GetFreeAppointments, which
// the FHIR Slots agree with) on a day past the generated book, none handed out twice.
func (b *bookingPractice) slot(t *testing.T) bookSlot {
	t.Helper()
	for d := 90; d < 120; d++ {
		day := bpsynth.DefaultToday.AddDate(0, 0, d).Format(time.DateOnly)
		rows, err := b.db.Query(`SELECT "AppointmentTime", "AppointmentLength" FROM BP_GetFreeAppointments($1, $2::date)`, b.user, day)
		if err != nil {
			continue // a day away
		}
		for rows.Next() {
			s := bookSlot{user: b.user, patient: b.patient, day: day}
			if err := rows.Scan(&s.secs, &s.length); err != nil {
				t.Fatal(err)
			}
			if key := fmt.Sprint(day, s.secs); !b.used[key] {
				b.used[key] = true
				rows.Close()
				return s
			}
		}
		rows.Close()
	}
	t.Fatalf("no free slot of practitioner %d in the 30 days past the generated book", b.user)
	return bookSlot{}
}

// appointments are the ids of the live appointments at s.
func (b *bookingPractice) appointments(t *testing.T, s bookSlot) []int {
	t.Helper()
	rows, err := b.db.Query(`SELECT "RECORDID" FROM "APPOINTMENTS" WHERE "USERID" = $1 AND "APPOINTMENTDATE" = $2::date
		AND "APPOINTMENTTIME" = $3 AND "RECORDSTATUS" = 1 ORDER BY "RECORDID"`, s.user, s.day, s.secs)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

// hold takes the practitioner's book lock that every booking procedure waits for
// (bp_book_lock), so that a booking stops in the database until release.
func (b *bookingPractice) hold(t *testing.T, user int) (release func()) {
	t.Helper()
	tx, err := b.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`SELECT pg_advisory_xact_lock(1112492107, $1)`, user); err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			tx.Rollback()
		}
	}
	t.Cleanup(release)
	return release
}

// waiting reports whether a booking (BP_AddAppointment or BP_AddAppointmentEx) waits for the
// book lock in the database.
func (b *bookingPractice) waiting() bool {
	var n int
	b.db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT * FROM BP_AddAppointment%'`).Scan(&n)
	return n > 0
}

// journalRunning counts the writes the agent's journal records as running: none once
// every outcome is recorded.
func (p *procs) journalRunning() int {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(p.dir, "agent", "executions.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return -1
	}
	defer db.Close()
	n := -1
	db.QueryRow("SELECT count(*) FROM executions WHERE state = 'running'").Scan(&n)
	return n
}

// answer is an HTTP answer, or the error that stood in for it.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// send sends a booking's request with an Idempotency-Key, as a client does.
func (p *procs) send(ctx context.Context, method, path string, body []byte, key string) answer {
	req, _ := http.NewRequestWithContext(ctx, method, "http://"+p.listen+"/integrator/sites/"+p.siteID+path, bytes.NewReader(body))
	req.Header.Set(api.KeyHeader, p.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(api.IdempotencyKeyHeader, key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// TestBookingExactlyOnce is issue 12 item 3: a booking retried with its Idempotency-Key
// after the agent died before its answer reached the server, after the server died once it
// had sent the write, and after the answer was lost to the client, books the slot once, and
// every retry answers the first booking's appointment. Separate processes on loopback, a
// generated Bp Premier practice on PostgreSQL, through the real tunnel.
func TestBookingExactlyOnce(t *testing.T) {
	practice := newBookingPractice(t)
	p := startProcs(t, "postgres", practice.dsn)
	for _, bk := range bookings {
		t.Run(bk.name, func(t *testing.T) { exactlyOnce(t, p, practice, bk) })
	}
}

// exactlyOnce runs the faults against one way of booking.
func exactlyOnce(t *testing.T, p *procs, practice *bookingPractice, bk booking) {
	// begin sends a booking of a fresh slot under a fresh key and returns once it waits for
	// the book lock in the database; first delivers the client's answer.
	type attempt struct {
		slot         bookSlot
		method, path string
		body         []byte
		key          string
		release      func()
		cancel       func()
		first        chan answer
	}
	begin := func(t *testing.T) *attempt {
		p.t = t
		p.waitOnline()
		a := &attempt{slot: practice.slot(t), key: uuid.NewString(), first: make(chan answer, 1)}
		a.method, a.path, a.body = bk.request(a.slot)
		a.release = practice.hold(t, a.slot.user)
		ctx, cancel := context.WithCancel(context.Background())
		a.cancel = cancel
		t.Cleanup(cancel)
		go func() { a.first <- p.send(ctx, a.method, a.path, a.body, a.key) }()
		waittest.For(t, 30*time.Second, "the booking waiting in the database", practice.waiting)
		return a
	}
	committed := func(t *testing.T, a *attempt) {
		t.Helper()
		waittest.For(t, 30*time.Second, "the booking committed and its outcome in the agent's journal", func() bool {
			return len(practice.appointments(t, a.slot)) == 1 && p.journalRunning() == 0
		})
	}
	// once retries the booking and checks it booked once, answered with the first booking's
	// appointment, and that a further retry replays that answer exactly.
	once := func(t *testing.T, a *attempt) {
		t.Helper()
		var retry answer
		waittest.For(t, 30*time.Second, "a retry answered by the server", func() bool {
			retry = p.send(context.Background(), a.method, a.path, a.body, a.key)
			return retry.err == nil && retry.status/100 != 5
		})
		ids := practice.appointments(t, a.slot)
		if len(ids) != 1 {
			t.Fatalf("%d appointments at the slot after the retry (%v), want 1", len(ids), ids)
		}
		if got := bk.booked(t, retry.status, retry.body); got != ids[0] {
			t.Fatalf("the retry names appointment %d, want the first booking's %d: %s", got, ids[0], retry.body)
		}
		again := p.send(context.Background(), a.method, a.path, a.body, a.key)
		if again.status != retry.status || !bytes.Equal(again.body, retry.body) || again.header.Get(api.IdempotentReplayedHeader) != "true" {
			t.Fatalf("a further retry: %d %s (replayed %q)\nwant %d %s replayed", again.status, again.body,
				again.header.Get(api.IdempotentReplayedHeader), retry.status, retry.body)
		}
		if ids := practice.appointments(t, a.slot); len(ids) != 1 {
			t.Fatalf("%d appointments at the slot after the retries, want 1", len(ids))
		}
	}

	t.Run("agent killed before its answer reached the server", func(t *testing.T) {
		a := begin(t)
		p.proxy.Freeze()
		a.release()
		committed(t, a)
		p.kill(p.agent)
		p.proxy.Cut() // what the agent wrote before it died never arrives
		p.proxy.Thaw()
		if first := <-a.first; first.err == nil && first.status == http.StatusOK {
			t.Fatalf("the first attempt succeeded without its agent's answer: %s", first.body)
		}
		p.startAgent()
		p.waitOnline()
		once(t, a)
	})

	t.Run("server restarted after sending the write", func(t *testing.T) {
		a := begin(t)
		p.server.Process.Signal(syscall.SIGSTOP)
		a.release()
		committed(t, a)
		p.kill(p.server)
		<-a.first // the connection died with the server
		p.startServer()
		p.waitOnline()
		once(t, a)
	})

	t.Run("answer lost to the client", func(t *testing.T) {
		a := begin(t)
		a.cancel() // the client gives up: the write goes on, its answer is kept for the retry
		<-a.first
		a.release()
		committed(t, a)
		once(t, a)
	})
}
