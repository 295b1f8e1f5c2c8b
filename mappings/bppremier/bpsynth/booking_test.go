package bpsynth_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"fhirlink/agent/executor"
	"fhirlink/agent/pgtest"
	"fhirlink/agent/wire"
	"fhirlink/fhir"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/mappings"
	"fhirlink/mappings/bppremier"
	"fhirlink/mappings/bppremier/bpsynth"
)

// replica is a generated practice served by the agent's executor, with writes allowed, and
// a direct connection for checking.
type replica struct {
	engine  string
	exec    *executor.Executor
	db      *sql.DB
	dialect mappings.Dialect
	site    mappings.Site
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
	return &replica{engine: engine, exec: e, db: db, dialect: d, site: mappings.Site{Location: zone, Base: "https://fhirlink.test/fhir/R4"}}
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
	tr, err := p.exec.Run(context.Background(), req, &r)
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

func param(name, typ string, v any) wire.Param {
	if v == nil {
		return wire.Param{Name: "@" + name, Type: typ}
	}
	s := fmt.Sprint(v)
	return wire.Param{Name: "@" + name, Type: typ, Value: &s}
}

// resources searches the FHIR mapping and returns the resources, validated.
func (p *replica) resources(t *testing.T, typ, query string) []map[string]any {
	t.Helper()
	r, ok := bppremier.Mapping.Resource(typ)
	if !ok {
		t.Fatalf("no %s in the mapping", typ)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fhir.ParseSearch(r.Decl(), q, fhir.ParseOptions{Strict: true, Location: p.site.Location})
	if err != nil {
		t.Fatalf("%s?%s: %v", typ, query, err)
	}
	sq, err := r.Search(p.dialect, s)
	if err != nil {
		t.Fatal(err)
	}
	var raw collect
	if _, err := p.exec.Run(context.Background(), wire.QueryRequest{Text: sq.SQL, Params: sq.Params, TimeoutMS: 30000}, &raw); err != nil {
		t.Fatalf("%s?%s: %v", typ, query, err)
	}
	var out []map[string]any
	var all []json.RawMessage
	for _, row := range raw {
		res, err := r.Row(row, p.site)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res.Resource)
		m := map[string]any{}
		json.Unmarshal(res.Resource, &m)
		out = append(out, m)
	}
	if len(all) > 0 {
		fhirvalidate.Resources(t, all...)
	}
	return out
}

type collect [][]byte

func (c *collect) Header(wire.Header) error { return nil }
func (c *collect) Row(b []byte) error       { *c = append(*c, bytes.Clone(b)); return nil }

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
	got := p.resources(t, "Slot", "_id="+s.id)
	if len(got) != 1 {
		t.Fatalf("Slot/%s: %d resources", s.id, len(got))
	}
	return fmt.Sprint(got[0]["status"])
}

func (p *replica) appointment(t *testing.T, id int) map[string]any {
	t.Helper()
	got := p.resources(t, "Appointment", "_id="+strconv.Itoa(id))
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
			free := p.resources(t, "Slot", fmt.Sprintf("schedule=Schedule/%d-%d&start=ge%s&start=lt%s&status=free&_count=3",
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
				ps := []wire.Param{param("aptdate", "Date", s.day), param("apttime", "Int", s.secs), param("aptlen", "Int", 900),
					param("practitionerid", "Int", s.user), param("patientid", "Int", who), param("loginid", "Int", 1),
					param("locationid", "Int", s.loc)}
				if engine == bpsynth.EngineSQLite { // BP_AddAppointmentEx's others, as NULL
					ps = append(ps, param("appointmenttype", "Int", nil), param("reason", "VarChar", nil), param("videourl", "VarChar", nil))
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
			const n = 8
			ids := make([]int, n)
			errs := make([]error, n)
			var release func()
			if engine == bpsynth.EnginePostgres {
				tx, err := p.db.Begin()
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				if _, err := tx.Exec(`LOCK TABLE "APPOINTMENTS" IN SHARE MODE`); err != nil {
					t.Fatal(err)
				}
				release = func() { tx.Commit() }
			}
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-gate
					ids[i], errs[i] = p.call(t, addAppointment, "RECORDID", book(first, patient)...)
				})
			}
			close(gate)
			if release != nil {
				deadline := time.Now().Add(30 * time.Second)
				for waiting := 0; waiting < n; {
					if time.Now().After(deadline) {
						t.Fatalf("%d of %d bookings wait for a lock after 30 s", waiting, n)
					}
					time.Sleep(10 * time.Millisecond)
					p.db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
						AND query LIKE 'SELECT * FROM BP_AddAppointment(%'`).Scan(&waiting)
				}
				release()
			}
			wg.Wait()
			booked := 0
			var id int
			for i := range n {
				if errs[i] != nil {
					t.Errorf("booking %d: %v", i, errs[i])
				}
				if ids[i] != 0 {
					booked++
					id = ids[i]
				}
			}
			var live int
			p.db.QueryRow(p.sql(`SELECT count(*) FROM "APPOINTMENTS" WHERE "USERID" = $1 AND "APPOINTMENTTIME" = $2 AND "RECORDSTATUS" = 1
				AND "APPOINTMENTDATE" >= $3 AND "APPOINTMENTDATE" < $4`), first.user, first.secs, first.day, first.day+" 23:59:59").Scan(&live)
			if booked != 1 || live != 1 {
				t.Fatalf("%d of %d concurrent bookings of one slot succeeded (ids %v), %d live rows there; want exactly 1", booked, n, ids, live)
			}

			// It reads back as a booked Appointment, and its time is no longer free.
			a := p.appointment(t, id)
			wantStart := func(s slot) string {
				day, _ := time.ParseInLocation("2006-01-02", s.day, p.site.Location)
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
					param("userid", "Int", s.user), param("aptdate", "Date", s.day), param("apttime", "Int", s.secs+60))
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if engine == bpsynth.EnginePostgres {
				// BP_GetFreeAppointments agrees with the free Slots, and refuses a day away.
				got, _, err := p.run(t, wire.QueryRequest{Text: "BP_GetFreeAppointments", Type: wire.CommandStoredProcedure,
					Params: []wire.Param{param("userid", "Int", user), param("aptdate", "Date", first.day)}})
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
					Params: []wire.Param{param("userid", "Int", away), param("aptdate", "Date", awayDay)}})
				if err == nil || !strings.Contains(err.Error(), "away that date") {
					t.Errorf("BP_GetFreeAppointments on a day away: %v", err)
				}
			}
			if isBooked(first) != 1 || isBooked(second) != 0 {
				t.Errorf("BP_IsAppointmentBooked: %d for the booked slot, %d for a free one", isBooked(first), isBooked(second))
			}

			// A move to a free slot frees the old one; a move onto a taken one does nothing.
			move := func(to slot) int {
				n, err := p.call(t, "BP_MoveAppointment", "RECORDID", param("aptid", "Int", id), param("aptdate", "Date", to.day),
					param("apttime", "Int", to.secs), param("practitionerid", "Int", to.user), param("locationid", "Int", to.loc))
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
				n, err := p.call(t, "BP_CancelAppointment", "RECORDID", param("aptid", "Int", id), param("loginid", "Int", 1))
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
			ps := []wire.Param{param("titlecode", "Int", 1), param("firstname", "NVarChar", "Ngaio"), param("middlename", "NVarChar", nil),
				param("surname", "NVarChar", "O'Connell-Test"), param("preferredname", "NVarChar", nil), param("address1", "NVarChar", "1 Harbour St"),
				param("address2", "NVarChar", nil), param("city", "NVarChar", "SYDNEY"), param("postcode", "VarChar", "2000"),
				param("postaladdress", "NVarChar", nil), param("postalcity", "NVarChar", nil), param("postalpostcode", "VarChar", nil),
				param("dob", "Date", "1984-02-29"), param("sexcode", "Int", 2), param("homephone", "VarChar", nil),
				param("workphone", "VarChar", nil), param("mobilephone", "VarChar", "0491 570 006"), param("medicareno", "VarChar", nil),
				param("medicarelineno", "VarChar", nil), param("medicareexpiry", "VarChar", nil), param("pensioncode", "Int", 0),
				param("pensionno", "VarChar", nil), param("pensionexpiry", "Date", nil), param("dvacode", "Int", 0), param("dvano", "VarChar", nil),
				param("recordno", "VarChar", nil), param("externalid", "VarChar", nil), param("email", "VarChar", "ngaio@example.com"),
				param("headoffamilyid", "Int", nil), param("ethniccode", "Int", nil), param("consentsmsreminder", "Int", 1), param("nextofkinid", "Int", nil)}
			pid, err := p.call(t, "BP_AddPatient", "INTERNALID", ps...)
			if err != nil || pid == 0 {
				t.Fatalf("BP_AddPatient: %d %v", pid, err)
			}
			got := p.resources(t, "Patient", "_id="+strconv.Itoa(pid))
			if len(got) != 1 || got[0]["birthDate"] != "1984-02-29" || !strings.Contains(fmt.Sprint(got[0]["name"]), "O'Connell-Test") ||
				got[0]["gender"] != "female" {
				t.Errorf("new patient reads %v", got)
			}
		})
	}
}
