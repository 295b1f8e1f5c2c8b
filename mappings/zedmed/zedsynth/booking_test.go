package zedsynth_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/nakagami/firebirdsql"

	"fhirlink/agent/executor"
	"fhirlink/agent/fbtest"
	"fhirlink/agent/wire"
	"fhirlink/fhir"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/mappings"
	"fhirlink/mappings/zedmed"
	"fhirlink/mappings/zedmed/zedsynth"
)

type collect [][]byte

func (c *collect) Header(wire.Header) error { return nil }
func (c *collect) Row(b []byte) error       { *c = append(*c, bytes.Clone(b)); return nil }

// practice is the Firebird replica served by the agent's executor with writes allowed.
type practice struct {
	exec *executor.Executor
	db   *sql.DB
	site mappings.Site
}

func (p *practice) resources(t *testing.T, typ, query string) []map[string]any {
	t.Helper()
	r, _ := zedmed.Mapping.Resource(typ)
	q, _ := url.ParseQuery(query)
	s, err := fhir.ParseSearch(r.Decl(), q, fhir.ParseOptions{Strict: true, Location: p.site.Location})
	if err != nil {
		t.Fatalf("%s?%s: %v", typ, query, err)
	}
	d, _ := mappings.DialectFor(mappings.EngineFirebird)
	sq, err := r.Search(d, s)
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

// call runs a booking procedure as a storedProcedure command and returns its RESULT_ID.
func (p *practice) call(proc string, params ...wire.Param) (int, error) {
	var raw collect
	_, err := p.exec.Run(context.Background(), wire.QueryRequest{Text: proc, Type: wire.CommandStoredProcedure, Params: params, TimeoutMS: 60000}, &raw)
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

func param(name, typ string, v any) wire.Param {
	if v == nil {
		return wire.Param{Name: "@" + name, Type: typ}
	}
	s := fmt.Sprint(v)
	return wire.Param{Name: "@" + name, Type: typ, Value: &s}
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
	p := &practice{exec: e, db: db, site: mappings.Site{Location: zone, Base: "https://fhirlink.test/fhir/R4"}}

	var doctor, branch, patient, other int
	if err := db.QueryRow(`SELECT FIRST 1 s.DOCTOR_ID, s.BRANCH_ID FROM SESSION_TEMPLATE s JOIN DOCTOR d ON d.DOCTOR_ID = s.DOCTOR_ID
		WHERE s.DELETED = 0 AND s.VALID_TO IS NULL AND d.DELETED = 0 AND d.IS_ACTIVE = 1 AND d.DOCTOR_TYPE <> 9 ORDER BY s.TEMPLATE_ID`).Scan(&doctor, &branch); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT MIN(PATIENT_ID), MAX(PATIENT_ID) FROM PATIENT WHERE DELETED = 0`).Scan(&patient, &other); err != nil {
		t.Fatal(err)
	}
	today := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	free := p.resources(t, "Slot", fmt.Sprintf("schedule=Schedule/%d-%d&start=ge%s&start=lt%s&status=free&_count=3",
		doctor, branch, today.AddDate(0, 0, 1).Format("2006-01-02"), today.AddDate(0, 0, 8).Format("2006-01-02")))
	if len(free) < 3 {
		t.Fatalf("%d free slots", len(free))
	}
	first, second, third := parseSlot(t, fmt.Sprint(free[0]["id"])), parseSlot(t, fmt.Sprint(free[1]["id"])), parseSlot(t, fmt.Sprint(free[2]["id"]))
	book := func(s slot, who int) []wire.Param {
		return []wire.Param{param("doctor_id", "Int", s.doctor), param("branch_id", "Int", s.loc), param("appt_date", "Date", s.day),
			param("start_secs", "Int", s.secs), param("duration_secs", "Int", 900), param("patient_id", "Int", who)}
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
	const n = 6
	ids := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ids[i], errs[i] = p.call("ZM_BOOK_APPOINTMENT", book(first, patient)...) })
	}
	deadline := time.Now().Add(30 * time.Second)
	for waiting := 0; waiting < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d bookings waiting after 30 s", waiting, n)
		}
		time.Sleep(10 * time.Millisecond)
		waiting = executing(t, db, "ZM_BOOK_APPOINTMENT")
	}
	if err := hold.Commit(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	var id, booked int
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
	db.QueryRow(`SELECT COUNT(*) FROM APPOINTMENT WHERE DOCTOR_ID = ? AND APPT_DATE = ? AND START_SECS = ? AND DELETED = 0 AND STATUS <> 5`,
		first.doctor, first.day, first.secs).Scan(&live)
	if booked != 1 || live != 1 {
		t.Fatalf("%d of %d concurrent bookings succeeded (%v), %d live rows there; want exactly 1", booked, n, ids, live)
	}

	start := func(s slot) string {
		day, _ := time.ParseInLocation("2006-01-02", s.day, zone)
		return day.Add(time.Duration(s.secs) * time.Second).Format(time.RFC3339)
	}
	appt := func() map[string]any {
		got := p.resources(t, "Appointment", "_id="+strconv.Itoa(id))
		if len(got) != 1 {
			t.Fatalf("Appointment/%d: %d resources", id, len(got))
		}
		return got[0]
	}
	slotStatus := func(s slot) string {
		got := p.resources(t, "Slot", "_id="+s.id)
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
		n, err := p.call("ZM_MOVE_APPOINTMENT", param("appt_id", "Int", id), param("appt_date", "Date", to.day),
			param("start_secs", "Int", to.secs), param("doctor_id", "Int", to.doctor), param("branch_id", "Int", to.loc))
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
		n, err := p.call("ZM_CANCEL_APPOINTMENT", param("appt_id", "Int", id), param("cancel_reason", "VarChar", "Patient unwell"))
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
		{append(book(second, patient)[:0:0], param("doctor_id", "Int", -5), param("branch_id", "Int", branch), param("appt_date", "Date", second.day),
			param("start_secs", "Int", second.secs), param("duration_secs", "Int", 900), param("patient_id", "Int", patient)), "no doctor -5"},
	} {
		if _, err := p.call("ZM_BOOK_APPOINTMENT", c.params...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("refused booking: %v, want %q", err, c.want)
		}
	}
}

// executing counts the statements other connections are running whose text contains marker.
// Each look is a transaction of its own: the monitoring tables are a snapshot per transaction.
func executing(t *testing.T, db *sql.DB, marker string) int {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM MON$STATEMENTS WHERE MON$STATE <> 0 AND MON$ATTACHMENT_ID <> CURRENT_CONNECTION
		AND MON$SQL_TEXT CONTAINING ?`, marker).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
