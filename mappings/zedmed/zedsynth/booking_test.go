package zedsynth_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/nakagami/firebirdsql"

	"fhirlink/agent/executor"
	"fhirlink/agent/fbtest"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/mappings"
	"fhirlink/mappings/bppremier/bpsynth/synthtest"
	"fhirlink/mappings/zedmed"
	"fhirlink/mappings/zedmed/zedsynth"
)

// practice is the Firebird replica served by the agent's executor with writes allowed.
type practice struct {
	synthtest.Reader
	db *sql.DB
}

// call runs a booking procedure as a storedProcedure command and returns its RESULT_ID.
func (p *practice) call(proc string, params ...wire.Param) (int, error) {
	var raw synthtest.Rows
	_, err := p.Exec.Run(context.Background(), wire.QueryRequest{Text: proc, Type: wire.CommandStoredProcedure, Params: params, TimeoutMS: 60000}, &raw)
	if err != nil {
		return 0, err
	}
	if len(raw) != 1 {
		return 0, fmt.Errorf("%s answered %d rows", proc, len(raw))
	}
	var r struct{ RESULT_ID int }
	if err := json.Unmarshal(raw[0], &r); err != nil {
		return 0, err
	}
	return r.RESULT_ID, nil
}

type slot struct {
	id          string
	doctor, loc int
	day         string
	secs        int
}

func parseSlot(t *testing.T, id string) slot {
	t.Helper()
	parts := strings.Split(id, "-")
	ts, err := time.Parse("20060102150405", parts[len(parts)-1])
	if len(parts) != 3 || err != nil {
		t.Fatalf("slot id %q", id)
	}
	s := slot{id: id, day: ts.Format("2006-01-02"), secs: ts.Hour()*3600 + ts.Minute()*60}
	s.doctor, _ = strconv.Atoi(parts[0])
	s.loc, _ = strconv.Atoi(parts[1])
	return s
}

// TestBookingProcedures books, moves and cancels through the PSQL procedures on a real
// Firebird server: what they write reads back through the FHIR mapping, and of concurrent
// bookings of one slot that meet on the doctor's lock exactly one succeeds.
func TestBookingProcedures(t *testing.T) {
	ctx := context.Background()
	dsn := fbtest.DSN(t)
	db, err := sql.Open("firebirdsql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := zedsynth.Apply(ctx, db, zedsynth.EngineFirebird); err != nil {
		t.Fatal(err)
	}
	if err := zedsynth.Generate(ctx, db, zedsynth.EngineFirebird, zedsynth.Small()); err != nil {
		t.Fatal(err)
	}
	e, err := executor.Open(ctx, executor.Config{Engine: "firebird", AllowWrites: true,
		Catalogues: []executor.Catalogue{{Name: zedsynth.CatalogueMain, DSN: dsn}}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	zone, _ := time.LoadLocation(zedsynth.Small().TimeZone())
	d, _ := mappings.DialectFor(mappings.EngineFirebird)
	p := &practice{db: db, Reader: synthtest.Reader{Exec: e, Mapping: zedmed.Mapping, Dialect: d,
		Site: mappings.Site{Location: zone, Base: "https://fhirlink.test/fhir/R4"}}}

	var doctor, branch, patient, other int
	if err := db.QueryRow(`SELECT FIRST 1 s.DOCTOR_ID, s.BRANCH_ID FROM SESSION_TEMPLATE s JOIN DOCTOR d ON d.DOCTOR_ID = s.DOCTOR_ID
		WHERE s.DELETED = 0 AND s.VALID_TO IS NULL AND d.DELETED = 0 AND d.IS_ACTIVE = 1 AND d.DOCTOR_TYPE <> 9 ORDER BY s.TEMPLATE_ID`).Scan(&doctor, &branch); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT MIN(PATIENT_ID), MAX(PATIENT_ID) FROM PATIENT WHERE DELETED = 0`).Scan(&patient, &other); err != nil {
		t.Fatal(err)
	}
	today := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	free := p.Resources(t, "Slot", fmt.Sprintf("schedule=Schedule/%d-%d&start=ge%s&start=lt%s&status=free&_count=3",
		doctor, branch, today.AddDate(0, 0, 1).Format("2006-01-02"), today.AddDate(0, 0, 8).Format("2006-01-02")))
	if len(free) < 3 {
		t.Fatalf("%d free slots", len(free))
	}
	first, second, third := parseSlot(t, fmt.Sprint(free[0]["id"])), parseSlot(t, fmt.Sprint(free[1]["id"])), parseSlot(t, fmt.Sprint(free[2]["id"]))
	book := func(s slot, who int) []wire.Param {
		return []wire.Param{synthtest.Param("doctor_id", "Int", s.doctor), synthtest.Param("branch_id", "Int", s.loc), synthtest.Param("appt_date", "Date", s.day),
			synthtest.Param("start_secs", "Int", s.secs), synthtest.Param("duration_secs", "Int", 900), synthtest.Param("patient_id", "Int", who)}
	}

	// The test holds the doctor's row locked, so that every booking waits for it, and lets
	// go once all of them wait: each then meets the others' conflicts.
	hold, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.Exec(`UPDATE DOCTOR SET IS_ACTIVE = IS_ACTIVE WHERE DOCTOR_ID = ?`, doctor); err != nil {
		t.Fatal(err)
	}
	id := synthtest.Race(t, 6, func() {
		waittest.For(t, 30*time.Second, "every booking waiting for the doctor's lock", func() bool {
			return fbtest.Running(t, db, "ZM_BOOK_APPOINTMENT") == 6
		})
		if err := hold.Commit(); err != nil {
			t.Fatal(err)
		}
	}, func() (int, error) { return p.call("ZM_BOOK_APPOINTMENT", book(first, patient)...) })
	var live int
	db.QueryRow(`SELECT COUNT(*) FROM APPOINTMENT WHERE DOCTOR_ID = ? AND APPT_DATE = ? AND START_SECS = ? AND DELETED = 0 AND STATUS <> 5`,
		first.doctor, first.day, first.secs).Scan(&live)
	if live != 1 {
		t.Fatalf("%d live rows at the slot after the concurrent bookings; want 1", live)
	}

	start := func(s slot) string {
		day, _ := time.ParseInLocation("2006-01-02", s.day, zone)
		return day.Add(time.Duration(s.secs) * time.Second).Format(time.RFC3339)
	}
	appt := func() map[string]any {
		got := p.Resources(t, "Appointment", "_id="+strconv.Itoa(id))
		if len(got) != 1 {
			t.Fatalf("Appointment/%d: %d resources", id, len(got))
		}
		return got[0]
	}
	slotStatus := func(s slot) string {
		got := p.Resources(t, "Slot", "_id="+s.id)
		if len(got) != 1 {
			t.Fatalf("Slot/%s: %d", s.id, len(got))
		}
		return fmt.Sprint(got[0]["status"])
	}
	if a := appt(); a["status"] != "booked" || a["start"] != start(first) {
		t.Fatalf("booked appointment reads %v", a)
	}
	if st := slotStatus(first); st != "busy" {
		t.Errorf("the booked slot is %s", st)
	}

	move := func(to slot) int {
		n, err := p.call("ZM_MOVE_APPOINTMENT", synthtest.Param("appt_id", "Int", id), synthtest.Param("appt_date", "Date", to.day),
			synthtest.Param("start_secs", "Int", to.secs), synthtest.Param("doctor_id", "Int", to.doctor), synthtest.Param("branch_id", "Int", to.loc))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := move(second); got != id {
		t.Fatalf("move answered %d", got)
	}
	if a := appt(); a["start"] != start(second) || slotStatus(first) != "free" || slotStatus(second) != "busy" {
		t.Errorf("after the move: %v, slots %s and %s", a["start"], slotStatus(first), slotStatus(second))
	}
	if b, err := p.call("ZM_BOOK_APPOINTMENT", book(third, other)...); err != nil || b == 0 {
		t.Fatalf("booking the third slot: %d %v", b, err)
	}
	if got := move(third); got != 0 {
		t.Errorf("a move onto a taken slot answered %d", got)
	}

	cancel := func() int {
		n, err := p.call("ZM_CANCEL_APPOINTMENT", synthtest.Param("appt_id", "Int", id), synthtest.Param("cancel_reason", "VarChar", "Patient unwell"))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := cancel(); got != id {
		t.Errorf("cancel answered %d", got)
	}
	if a := appt(); a["status"] != "cancelled" || !strings.Contains(fmt.Sprint(a["cancelationReason"]), "Patient unwell") {
		t.Errorf("cancelled appointment reads %v", a)
	}
	if st := slotStatus(second); st != "free" {
		t.Errorf("the cancelled slot is %s", st)
	}
	if got := cancel(); got != 0 {
		t.Errorf("a second cancel answered %d", got)
	}
	for _, c := range []struct {
		params []wire.Param
		want   string
	}{
		{book(second, -1), "no patient -1"},
		{append(book(second, patient)[:0:0], synthtest.Param("doctor_id", "Int", -5), synthtest.Param("branch_id", "Int", branch), synthtest.Param("appt_date", "Date", second.day),
			synthtest.Param("start_secs", "Int", second.secs), synthtest.Param("duration_secs", "Int", 900), synthtest.Param("patient_id", "Int", patient)), "no doctor -5"},
	} {
		if _, err := p.call("ZM_BOOK_APPOINTMENT", c.params...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("refused booking: %v, want %q", err, c.want)
		}
	}
}
