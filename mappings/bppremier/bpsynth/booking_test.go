package bpsynth_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"fhirlink/agent/executor"
	"fhirlink/agent/pgtest"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/mappings"
	"fhirlink/mappings/bppremier"
	"fhirlink/mappings/bppremier/bpsynth"
	"fhirlink/mappings/bppremier/bpsynth/synthtest"
)

// replica is a generated practice served by the agent's executor, with writes allowed, and
// a direct connection for checking.
type replica struct {
	synthtest.Reader
	engine string
	db     *sql.DB
}

func newReplica(t *testing.T, engine string) *replica {
	t.Helper()
	ctx := context.Background()
	var driver, dsn string
	switch engine {
	case bpsynth.EnginePostgres:
		driver, dsn = "pgx", pgtest.DSN(t)
	case bpsynth.EngineSQLite:
		driver, dsn = "sqlite", filepath.Join(t.TempDir(), "practice.db")
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := bpsynth.Apply(ctx, db, engine); err != nil {
		t.Fatal(err)
	}
	if err := bpsynth.Generate(ctx, db, engine, bpsynth.Small()); err != nil {
		t.Fatal(err)
	}
	e, err := executor.Open(ctx, executor.Config{Engine: engine, AllowWrites: true,
		Catalogues: []executor.Catalogue{{Name: "BPSPatients", DSN: dsn}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	d, err := mappings.DialectFor(engine)
	if err != nil {
		t.Fatal(err)
	}
	zone, err := time.LoadLocation(bpsynth.Small().TimeZone())
	if err != nil {
		t.Fatal(err)
	}
	return &replica{engine: engine, db: db, Reader: synthtest.Reader{Exec: e, Mapping: bppremier.Mapping, Dialect: d,
		Site: mappings.Site{Location: zone, Base: "https://fhirlink.test/fhir/R4"}}}
}

// sql is a check's query for the replica's driver: $n placeholders are ?n on SQLite.
func (p *replica) sql(q string) string {
	if p.engine == bpsynth.EngineSQLite {
		return strings.ReplaceAll(q, "$", "?")
	}
	return q
}

// rows is a Sink keeping rows as decoded objects.
type rows struct{ got []map[string]any }

func (r *rows) Header(wire.Header) error { return nil }
func (r *rows) Row(b []byte) error {
	m := map[string]any{}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return err
	}
	r.got = append(r.got, m)
	return nil
}

func (p *replica) run(t *testing.T, req wire.QueryRequest) ([]map[string]any, wire.Trailer, error) {
	t.Helper()
	req.TimeoutMS = 30000
	var r rows
	tr, err := p.Exec.Run(context.Background(), req, &r)
	return r.got, tr, err
}

// sqliteCalls are the SQLite statements standing in for the procedures, and their modes.
var sqliteCalls = map[string]struct {
	text *string
	mode wire.Mode
}{
	"BP_AddAppointmentEx":    {&bpsynth.SQLiteAddAppointment, wire.ModeNonQuery},
	"BP_IsAppointmentBooked": {&bpsynth.SQLiteIsAppointmentBooked, wire.ModeReader},
	"BP_MoveAppointment":     {&bpsynth.SQLiteMoveAppointment, wire.ModeNonQuery},
	"BP_CancelAppointment":   {&bpsynth.SQLiteCancelAppointment, wire.ModeNonQuery},
	"BP_AddPatient":          {&bpsynth.SQLiteAddPatient, wire.ModeNonQuery},
}

// call runs a procedure as an integrator would: a storedProcedure command on PostgreSQL, the
// equivalent statement of booking.go on SQLite. It returns the one value of its one row (0
// for no row: SQLite's "nothing done").
func (p *replica) call(t *testing.T, proc, column string, params ...wire.Param) (int, error) {
	t.Helper()
	req := wire.QueryRequest{Text: proc, Type: wire.CommandStoredProcedure, Params: params}
	if p.engine == bpsynth.EngineSQLite {
		c := sqliteCalls[proc]
		req = wire.QueryRequest{Text: *c.text, Mode: c.mode, Params: params}
	}
	got, _, err := p.run(t, req)
	if err != nil {
		return 0, err
	}
	switch {
	case len(got) == 0 && p.engine == bpsynth.EngineSQLite:
		return 0, nil
	case len(got) != 1:
		return 0, fmt.Errorf("%s answered %d rows", proc, len(got))
	}
	n, err := strconv.Atoi(fmt.Sprint(got[0][column]))
	if err != nil {
		return 0, fmt.Errorf("%s answered %v", proc, got[0])
	}
	return n, nil
}

// slot is a Slot of the mapping: its practitioner, location, day and time.
type slot struct {
	id        string
	user, loc int
	day       string // YYYY-MM-DD
	secs      int
}

func parseSlot(t *testing.T, id string) slot {
	t.Helper()
	parts := strings.Split(id, "-")
	if len(parts) != 3 || len(parts[2]) != 14 {
		t.Fatalf("slot id %q", id)
	}
	s := slot{id: id}
	s.user, _ = strconv.Atoi(parts[0])
	s.loc, _ = strconv.Atoi(parts[1])
	ts, err := time.Parse("20060102150405", parts[2])
	if err != nil {
		t.Fatal(err)
	}
	s.day = ts.Format("2006-01-02")
	s.secs = ts.Hour()*3600 + ts.Minute()*60 + ts.Second()
	return s
}

func (p *replica) slotStatus(t *testing.T, s slot) string {
	t.Helper()
	got := p.Resources(t, "Slot", "_id="+s.id)
	if len(got) != 1 {
		t.Fatalf("Slot/%s: %d resources", s.id, len(got))
	}
	return fmt.Sprint(got[0]["status"])
}

func (p *replica) appointment(t *testing.T, id int) map[string]any {
	t.Helper()
	got := p.Resources(t, "Appointment", "_id="+strconv.Itoa(id))
	if len(got) != 1 {
		t.Fatalf("Appointment/%d: %d resources", id, len(got))
	}
	return got[0]
}

// TestBooking books, moves and cancels through the practice's procedures, and registers a
// patient, on the PostgreSQL replica (PL/pgSQL functions called as stored procedures) and on
// the SQLite one (the statements of booking.go): what they write reads back through the FHIR
// mapping, and of concurrent bookings of one slot exactly one succeeds.
func TestBooking(t *testing.T) {
	for _, engine := range []string{bpsynth.EnginePostgres, bpsynth.EngineSQLite} {
		t.Run(engine, func(t *testing.T) {
			p := newReplica(t, engine)
			var user, loc int
			if err := p.db.QueryRow(`SELECT s."USERID", s."LOCATIONID" FROM "SESSIONS" s JOIN "USERS" u ON u."USERID" = s."USERID"
				WHERE s."RECORDSTATUS" = 1 AND s."ENDDATE" IS NULL AND u."RECORDSTATUS" = 1 ORDER BY s."SESSIONID" LIMIT 1`).Scan(&user, &loc); err != nil {
				t.Fatal(err)
			}
			today := bpsynth.DefaultToday
			free := p.Resources(t, "Slot", fmt.Sprintf("schedule=Schedule/%d-%d&start=ge%s&start=lt%s&status=free&_count=3",
				user, loc, today.AddDate(0, 0, 1).Format("2006-01-02"), today.AddDate(0, 0, 8).Format("2006-01-02")))
			if len(free) < 3 {
				t.Fatalf("%d free slots", len(free))
			}
			first, second, third := parseSlot(t, fmt.Sprint(free[0]["id"])), parseSlot(t, fmt.Sprint(free[1]["id"])), parseSlot(t, fmt.Sprint(free[2]["id"]))
			var patient, other int
			if err := p.db.QueryRow(`SELECT min("INTERNALID"), max("INTERNALID") FROM "PATIENTS" WHERE "RECORDSTATUS" = 1 AND "PATIENTSTATUS" = 1`).Scan(&patient, &other); err != nil {
				t.Fatal(err)
			}
			book := func(s slot, who int) []wire.Param {
				ps := []wire.Param{synthtest.Param("aptdate", "Date", s.day), synthtest.Param("apttime", "Int", s.secs), synthtest.Param("aptlen", "Int", 900),
					synthtest.Param("practitionerid", "Int", s.user), synthtest.Param("patientid", "Int", who), synthtest.Param("loginid", "Int", 1),
					synthtest.Param("locationid", "Int", s.loc)}
				if engine == bpsynth.EngineSQLite { // BP_AddAppointmentEx's others, as NULL
					ps = append(ps, synthtest.Param("appointmenttype", "Int", nil), synthtest.Param("reason", "VarChar", nil), synthtest.Param("videourl", "VarChar", nil))
				}
				return ps
			}
			addAppointment := "BP_AddAppointment"
			if engine == bpsynth.EngineSQLite {
				addAppointment = "BP_AddAppointmentEx"
			}

			// Concurrent bookings of one slot: exactly one succeeds. On PostgreSQL they are
			// made to meet: the test holds a lock that every INSERT into APPOINTMENTS waits
			// for (reading it does not), and lets go once all of them wait, so that each has
			// looked at the slot before any could book it, unless the function serialises them.
			var meet func()
			if engine == bpsynth.EnginePostgres {
				tx, err := p.db.Begin()
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				if _, err := tx.Exec(`LOCK TABLE "APPOINTMENTS" IN SHARE MODE`); err != nil {
					t.Fatal(err)
				}
				meet = func() {
					waittest.For(t, 30*time.Second, "every booking waiting for a lock", func() bool {
						var waiting int
						p.db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
							AND query LIKE 'SELECT * FROM BP_AddAppointment(%'`).Scan(&waiting)
						return waiting == 8
					})
					tx.Commit()
				}
			}
			id := synthtest.Race(t, 8, meet, func() (int, error) { return p.call(t, addAppointment, "RECORDID", book(first, patient)...) })
			var live int
			p.db.QueryRow(p.sql(`SELECT count(*) FROM "APPOINTMENTS" WHERE "USERID" = $1 AND "APPOINTMENTTIME" = $2 AND "RECORDSTATUS" = 1
				AND "APPOINTMENTDATE" >= $3 AND "APPOINTMENTDATE" < $4`), first.user, first.secs, first.day, first.day+" 23:59:59").Scan(&live)
			if live != 1 {
				t.Fatalf("%d live rows at the slot after the concurrent bookings; want 1", live)
			}

			// It reads back as a booked Appointment, and its time is no longer free.
			a := p.appointment(t, id)
			wantStart := func(s slot) string {
				day, _ := time.ParseInLocation("2006-01-02", s.day, p.Site.Location)
				return day.Add(time.Duration(s.secs) * time.Second).Format(time.RFC3339)
			}
			if a["status"] != "booked" || a["start"] != wantStart(first) {
				t.Fatalf("booked appointment reads %v", a)
			}
			if !strings.Contains(fmt.Sprint(a["participant"]), "Patient/"+strconv.Itoa(patient)) {
				t.Errorf("participants %v", a["participant"])
			}
			if st := p.slotStatus(t, first); st != "busy" {
				t.Errorf("the booked slot is %s", st)
			}
			isBooked := func(s slot) int {
				n, err := p.call(t, "BP_IsAppointmentBooked", "Booked",
					synthtest.Param("userid", "Int", s.user), synthtest.Param("aptdate", "Date", s.day), synthtest.Param("apttime", "Int", s.secs+60))
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if engine == bpsynth.EnginePostgres {
				// BP_GetFreeAppointments agrees with the free Slots, and refuses a day away.
				got, _, err := p.run(t, wire.QueryRequest{Text: "BP_GetFreeAppointments", Type: wire.CommandStoredProcedure,
					Params: []wire.Param{synthtest.Param("userid", "Int", user), synthtest.Param("aptdate", "Date", first.day)}})
				if err != nil {
					t.Fatal(err)
				}
				times := map[string]bool{}
				for _, r := range got {
					times[fmt.Sprint(r["AppointmentTime"])] = true
				}
				if times[strconv.Itoa(first.secs)] || (second.day == first.day && !times[strconv.Itoa(second.secs)]) || len(got) == 0 {
					t.Errorf("BP_GetFreeAppointments on %s: %v", first.day, got)
				}
				var away int
				var awayDay string
				if err := p.db.QueryRow(`SELECT "USERID", to_char("STARTDATE", 'YYYY-MM-DD') FROM "DAYSAWAY" WHERE "RECORDSTATUS" = 1 LIMIT 1`).Scan(&away, &awayDay); err != nil {
					t.Fatal(err)
				}
				_, _, err = p.run(t, wire.QueryRequest{Text: "BP_GetFreeAppointments", Type: wire.CommandStoredProcedure,
					Params: []wire.Param{synthtest.Param("userid", "Int", away), synthtest.Param("aptdate", "Date", awayDay)}})
				if err == nil || !strings.Contains(err.Error(), "away that date") {
					t.Errorf("BP_GetFreeAppointments on a day away: %v", err)
				}
			}
			if isBooked(first) != 1 || isBooked(second) != 0 {
				t.Errorf("BP_IsAppointmentBooked: %d for the booked slot, %d for a free one", isBooked(first), isBooked(second))
			}

			// A move to a free slot frees the old one; a move onto a taken one does nothing.
			move := func(to slot) int {
				n, err := p.call(t, "BP_MoveAppointment", "RECORDID", synthtest.Param("aptid", "Int", id), synthtest.Param("aptdate", "Date", to.day),
					synthtest.Param("apttime", "Int", to.secs), synthtest.Param("practitionerid", "Int", to.user), synthtest.Param("locationid", "Int", to.loc))
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if got := move(second); got != id {
				t.Fatalf("move answered %d, want %d", got, id)
			}
			if a := p.appointment(t, id); a["start"] != wantStart(second) || a["status"] != "booked" {
				t.Errorf("moved appointment reads %v", a)
			}
			if p.slotStatus(t, first) != "free" || p.slotStatus(t, second) != "busy" {
				t.Errorf("after the move: first slot %s, second %s", p.slotStatus(t, first), p.slotStatus(t, second))
			}
			blocker, err := p.call(t, addAppointment, "RECORDID", book(third, other)...)
			if err != nil || blocker == 0 {
				t.Fatalf("booking the third slot: %d %v", blocker, err)
			}
			if got := move(third); got != 0 {
				t.Errorf("a move onto a taken slot answered %d", got)
			}
			if a := p.appointment(t, id); a["start"] != wantStart(second) {
				t.Errorf("after a refused move the appointment reads %v", a)
			}

			// A cancellation reads back as cancelled and frees the time, once.
			cancel := func() int {
				n, err := p.call(t, "BP_CancelAppointment", "RECORDID", synthtest.Param("aptid", "Int", id), synthtest.Param("loginid", "Int", 1))
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if got := cancel(); engine == bpsynth.EnginePostgres && got != id {
				t.Errorf("cancel answered %d", got)
			}
			if a := p.appointment(t, id); a["status"] != "cancelled" {
				t.Errorf("cancelled appointment reads %v", a)
			}
			if st := p.slotStatus(t, second); st != "free" {
				t.Errorf("the cancelled slot is %s", st)
			}
			if got := cancel(); got != 0 {
				t.Errorf("a second cancel answered %d", got)
			}
			var records int
			p.db.QueryRow(p.sql(`SELECT (SELECT count(*) FROM "CANCELLATIONS" WHERE "APPOINTMENTID" = $1) +
				(SELECT count(*) FROM "CANCELLEDAPPOINTMENTS" WHERE "APPOINTMENTID" = $1)`), id).Scan(&records)
			if records != 2 {
				t.Errorf("%d cancellation records, want one of each", records)
			}

			// A new patient reads back through the mapping.
			ps := []wire.Param{synthtest.Param("titlecode", "Int", 1), synthtest.Param("firstname", "NVarChar", "Ngaio"), synthtest.Param("middlename", "NVarChar", nil),
				synthtest.Param("surname", "NVarChar", "O'Connell-Test"), synthtest.Param("preferredname", "NVarChar", nil), synthtest.Param("address1", "NVarChar", "1 Harbour St"),
				synthtest.Param("address2", "NVarChar", nil), synthtest.Param("city", "NVarChar", "SYDNEY"), synthtest.Param("postcode", "VarChar", "2000"),
				synthtest.Param("postaladdress", "NVarChar", nil), synthtest.Param("postalcity", "NVarChar", nil), synthtest.Param("postalpostcode", "VarChar", nil),
				synthtest.Param("dob", "Date", "1984-02-29"), synthtest.Param("sexcode", "Int", 2), synthtest.Param("homephone", "VarChar", nil),
				synthtest.Param("workphone", "VarChar", nil), synthtest.Param("mobilephone", "VarChar", "0491 570 006"), synthtest.Param("medicareno", "VarChar", nil),
				synthtest.Param("medicarelineno", "VarChar", nil), synthtest.Param("medicareexpiry", "VarChar", nil), synthtest.Param("pensioncode", "Int", 0),
				synthtest.Param("pensionno", "VarChar", nil), synthtest.Param("pensionexpiry", "Date", nil), synthtest.Param("dvacode", "Int", 0), synthtest.Param("dvano", "VarChar", nil),
				synthtest.Param("recordno", "VarChar", nil), synthtest.Param("externalid", "VarChar", nil), synthtest.Param("email", "VarChar", "ngaio@example.com"),
				synthtest.Param("headoffamilyid", "Int", nil), synthtest.Param("ethniccode", "Int", nil), synthtest.Param("consentsmsreminder", "Int", 1), synthtest.Param("nextofkinid", "Int", nil)}
			pid, err := p.call(t, "BP_AddPatient", "INTERNALID", ps...)
			if err != nil || pid == 0 {
				t.Fatalf("BP_AddPatient: %d %v", pid, err)
			}
			got := p.Resources(t, "Patient", "_id="+strconv.Itoa(pid))
			if len(got) != 1 || got[0]["birthDate"] != "1984-02-29" || !strings.Contains(fmt.Sprint(got[0]["name"]), "O'Connell-Test") ||
				got[0]["gender"] != "female" {
				t.Errorf("new patient reads %v", got)
			}
		})
	}
}
