package bppremier

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/mappings/mappingstest"
)

// The scheduling resources on the loaded practices, against expectations
// computed here from the raw tables: the appointment book, the session grid
// minus days away and appointments, and the practitioners' schedules.

type apptRec struct {
	id, patient, record, user, loc int
	day                            time.Time // wall clock, UTC
	secs, length, code, typ        int
	cancelled                      bool // has a live cancellation record (without one, a record not live is deleted)
}

// start and end are the appointment's wall clock.
func (a apptRec) start() time.Time { return a.day.Add(time.Duration(a.secs) * time.Second) }
func (a apptRec) end() time.Time   { return a.day.Add(time.Duration(a.secs+a.length) * time.Second) }

// visible: a booking with a patient, live or cancelled.
func (a apptRec) visible() bool { return a.patient != 0 && (a.record == 1 || a.cancelled) }

// status is written independently of the mapping's tables.
func (a apptRec) status() string {
	if a.record != 1 {
		return "cancelled"
	}
	switch a.code {
	case 2, 3:
		return "arrived"
	case 4, 5, 8, 9:
		return "fulfilled"
	case 6:
		return "noshow"
	}
	return "booked"
}

type sessionRec struct {
	user, loc, dow, start, end, length int
	from, until                        time.Time // zero when NULL
	date                               time.Time // an extra session's day; zero for weekly ones
}

type awayRec struct {
	user     int
	from, to time.Time
}

type book struct {
	appts    []apptRec
	sessions []sessionRec
	away     []awayRec
}

func (p *practice) loadBook(t *testing.T) *book {
	bk := &book{}
	cancelled := map[int]bool{}
	p.rows(t, `SELECT "APPOINTMENTID" FROM "CANCELLATIONS" WHERE "RECORDSTATUS" = 1`, func(v []any) { cancelled[num(v[0])] = true })
	p.rows(t, `SELECT "RECORDID", "INTERNALID", "RECORDSTATUS", "USERID", "LOCATIONID", "APPOINTMENTDATE", "APPOINTMENTTIME",
		"APPOINTMENTLENGTH", "APPOINTMENTCODE", "APPOINTMENTTYPE" FROM "APPOINTMENTS"`, func(v []any) {
		a := apptRec{id: num(v[0]), patient: num(v[1]), record: num(v[2]), user: num(v[3]), loc: num(v[4]), day: when(v[5]),
			secs: num(v[6]), length: num(v[7]), code: num(v[8]), typ: num(v[9])}
		a.cancelled = cancelled[a.id]
		bk.appts = append(bk.appts, a)
	})
	p.rows(t, `SELECT "USERID", "LOCATIONID", "DAYOFWEEK", "STARTTIME", "ENDTIME", "LENGTH", "STARTDATE", "ENDDATE"
		FROM "SESSIONS" WHERE "RECORDSTATUS" = 1`, func(v []any) {
		bk.sessions = append(bk.sessions, sessionRec{user: num(v[0]), loc: num(v[1]), dow: num(v[2]), start: num(v[3]), end: num(v[4]),
			length: num(v[5]), from: when(v[6]), until: when(v[7])})
	})
	p.rows(t, `SELECT "USERID", "LOCATIONID", "SESSIONDATE", "STARTTIME", "ENDTIME", "LENGTH" FROM "EXTRASESSIONS" WHERE "RECORDSTATUS" = 1`, func(v []any) {
		bk.sessions = append(bk.sessions, sessionRec{user: num(v[0]), loc: num(v[1]), date: when(v[2]), start: num(v[3]), end: num(v[4]), length: num(v[5])})
	})
	p.rows(t, `SELECT "USERID", "STARTDATE", "FINISHDATE" FROM "DAYSAWAY" WHERE "RECORDSTATUS" = 1`, func(v []any) {
		bk.away = append(bk.away, awayRec{user: num(v[0]), from: when(v[1]), to: when(v[2])})
	})
	if len(bk.appts) == 0 || len(bk.sessions) == 0 || len(bk.away) == 0 {
		t.Fatalf("the practice has no appointment book: %d appointments, %d sessions, %d days away", len(bk.appts), len(bk.sessions), len(bk.away))
	}
	return bk
}

func (bk *book) appointments(f func(apptRec) bool) []int {
	var out []int
	for _, a := range bk.appts {
		if a.visible() && f(a) {
			out = append(out, a.id)
		}
	}
	return out
}

// schedules are the practitioner-location pairs with sessions, as
// "user-location", of clinical users at live locations.
func (bk *book) schedules(s *snapshot) []string {
	var out []string
	for _, x := range bk.sessions {
		id := fmt.Sprintf("%d-%d", x.user, x.loc)
		if s.user(x.user).clinical() && liveLocation(s, x.loc) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func liveLocation(s *snapshot, id int) bool {
	for _, l := range s.locations {
		if l.id == id {
			return l.record == 1
		}
	}
	return false
}

// slot is an expected slot: its id and status.
type slot struct{ id, status string }

// slots computes a schedule's slots on the days [from, to) from the raw
// tables: the session grid, less days away, with appointments making slots
// busy and blocked slots busy-unavailable.
func (bk *book) slots(user, loc int, from, to time.Time) []slot {
	var out []slot
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		away := slices.ContainsFunc(bk.away, func(w awayRec) bool { return w.user == user && !d.Before(w.from) && !d.After(w.to) })
		if away {
			continue
		}
		starts := map[int]int{} // start → length
		for _, x := range bk.sessions {
			if x.user != user || x.loc != loc || x.length <= 0 {
				continue
			}
			if x.date.IsZero() {
				if x.dow != int(d.Weekday())+1 || (!x.from.IsZero() && x.from.After(d)) || (!x.until.IsZero() && x.until.Before(d)) {
					continue
				}
			} else if !x.date.Equal(d) {
				continue
			}
			for s := x.start; s+x.length <= x.end; s += x.length {
				if l, ok := starts[s]; !ok || x.length < l {
					starts[s] = x.length
				}
			}
		}
		keys := make([]int, 0, len(starts))
		for s := range starts {
			keys = append(keys, s)
		}
		slices.Sort(keys)
		for _, s := range keys {
			status := "free"
			for _, a := range bk.appts {
				if a.user == user && a.day.Equal(d) && a.record == 1 && a.secs < s+starts[s] && a.secs+a.length > s {
					if a.patient != 0 {
						status = "busy"
						break
					}
					status = "busy-unavailable"
				}
			}
			id := fmt.Sprintf("%d-%d-%s", user, loc, d.Add(time.Duration(s)*time.Second).Format("20060102150405"))
			out = append(out, slot{id, status})
		}
	}
	return out
}

func testScheduling(t *testing.T, p *practice) {
	bk := p.loadBook(t)
	t.Run("Appointment", func(t *testing.T) { testAppointment(t, p, bk) })
	t.Run("AppointmentDST", func(t *testing.T) { testAppointmentDST(t, p, bk) })
	t.Run("Schedule", func(t *testing.T) { testSchedule(t, p, bk) })
	t.Run("Slot", func(t *testing.T) { testSlot(t, p, bk) })
	t.Run("SlotDST", func(t *testing.T) { testSlotDST(t, p, bk) })
	t.Run("BadInput", func(t *testing.T) { testSchedulingBadInput(t, p) })
}

var today = time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)

func testAppointment(t *testing.T, p *practice, bk *book) {
	// date is Appointment.start (R4's expression for the parameter): a moment, in the value's
	// range by FHIR's rules for a point, worked out here from the raw rows.
	starting := func(query string) []int {
		pre, lo, hi := searchRange(t, Appointment, query)
		return bk.appointments(func(a apptRec) bool { return rangeMatches(pre, a.start(), a.start().Add(time.Nanosecond), lo, hi) })
	}
	day := func(d time.Time) func(apptRec) bool {
		return func(a apptRec) bool { return !a.start().Before(d) && a.start().Before(d.AddDate(0, 0, 1)) }
	}
	p.expect(t, Appointment, "date=2026-06-15", bk.appointments(day(today)))
	p.expect(t, Appointment, "date=2026-06-15&_sort=date", bk.appointments(day(today)))
	p.expect(t, Appointment, "date=2026-06-12", bk.appointments(day(today.AddDate(0, 0, -3))))
	// _sort=date across pages: every June appointment once, in start order.
	june := bk.appointments(func(a apptRec) bool { return a.day.Year() == 2026 && a.day.Month() == time.June })
	paged := p.search(t, Appointment, "date=2026-06&_sort=date", 7)
	if got := ids(t, paged); !slices.Equal(got, sortedInts(june)) {
		t.Errorf("date=2026-06&_sort=date in pages of 7: %d ids, want %d", len(got), len(june))
	}
	var prev time.Time
	for _, r := range paged {
		var a struct{ Start string }
		if err := json.Unmarshal(r.Resource, &a); err != nil {
			t.Fatal(err)
		}
		start, err := time.Parse(time.RFC3339, a.Start)
		if err != nil || start.Before(prev) {
			t.Errorf("_sort=date: %s after %s (%v)", a.Start, prev, err)
		}
		prev = start
	}
	// An appointment of today starting on the hour, longer than a minute: eq its start
	// (given in UTC, to the second) finds it, ge a minute later does not.
	var onHour apptRec
	for _, a := range bk.appts {
		if a.visible() && a.day.Equal(today) && a.secs%3600 == 0 && a.length > 60 {
			onHour = a
			break
		}
	}
	if onHour.id == 0 {
		t.Fatal("no appointment today starts on the hour")
	}
	startUTC := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, onHour.secs, 0, sydney).UTC()
	values := []string{"2026-06-15", "2026-06", "2026", "2026-06-15T09:00", "2026-06-15T12:00:00",
		startUTC.Format("2006-01-02T15:04:05Z"), startUTC.Add(time.Minute).Format("2006-01-02T15:04:05Z"),
		startUTC.Add(time.Minute).Format("2006-01-02T15:04Z"), startUTC.Add(-time.Second).Format("2006-01-02T15:04:05Z")}
	for _, v := range values {
		for _, prefix := range datePrefixes {
			q := "date=" + prefix + v
			p.expect(t, Appointment, q, starting(q))
		}
	}
	id := strconv.Itoa(onHour.id)
	for q, want := range map[string]bool{
		"date=eq" + startUTC.Format("2006-01-02T15:04:05Z"):                   true,
		"date=" + startUTC.Format("2006-01-02T15:04Z"):                        true,
		"date=ge" + startUTC.Add(time.Minute).Format("2006-01-02T15:04:05Z"):  false,
		"date=gt" + startUTC.Add(-time.Second).Format("2006-01-02T15:04:05Z"): true,
		"date=lt" + startUTC.Add(time.Second).Format("2006-01-02T15:04:05Z"):  true,
	} {
		if got := slices.Contains(ids(t, p.search(t, Appointment, q+"&_id="+id, 0)), onHour.id); got != want {
			t.Errorf("Appointment %s (start %s) found by %s: %v, want %v", id, startUTC, q, got, want)
		}
	}
	p.expect(t, Appointment, "date=ge2026-06-15T09:00&date=lt2026-06-15T12:00", bk.appointments(func(a apptRec) bool {
		return !a.start().Before(today.Add(9*time.Hour)) && a.start().Before(today.Add(12*time.Hour))
	}))
	p.expect(t, Appointment, "date=ne2026-06&date=ge2026-05-25&date=lt2026-07-05", bk.appointments(func(a apptRec) bool {
		jun, jul := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
		return (a.start().Before(jun) || !a.start().Before(jul)) && !a.start().Before(time.Date(2026, 5, 25, 0, 0, 0, 0, time.UTC)) &&
			a.start().Before(time.Date(2026, 7, 5, 0, 0, 0, 0, time.UTC))
	}))
	// A zoned value is the practice's wall clock: 2026-06-14T23:00Z is 09:00 on the 15th in Sydney.
	p.expect(t, Appointment, "date=ge2026-06-14T23:00:00Z&date=lt2026-06-15T00:00:00Z", bk.appointments(func(a apptRec) bool {
		return !a.start().Before(today.Add(9*time.Hour)) && a.start().Before(today.Add(10*time.Hour))
	}))

	var sample apptRec
	for _, a := range bk.appts {
		if a.visible() && a.record == 1 && a.day.Equal(today) && p.snap.user(a.user).clinical() {
			sample = a
			break
		}
	}
	if sample.id == 0 {
		t.Fatal("no appointment today")
	}
	pr := strconv.Itoa(sample.patient)
	p.expect(t, Appointment, "patient=Patient/"+pr, bk.appointments(func(a apptRec) bool { return a.patient == sample.patient }))
	p.expect(t, Appointment, "actor=Patient/"+pr, bk.appointments(func(a apptRec) bool { return a.patient == sample.patient }))
	doc := strconv.Itoa(sample.user)
	p.expect(t, Appointment, "practitioner="+doc+"&date=2026-06-15", bk.appointments(func(a apptRec) bool { return a.user == sample.user && day(today)(a) }))
	p.expect(t, Appointment, "actor:Practitioner="+doc+"&date=2026-06", bk.appointments(func(a apptRec) bool {
		return a.user == sample.user && a.day.Month() == time.June
	}))
	p.expect(t, Appointment, "location=Location/"+strconv.Itoa(sample.loc)+"&date=2026-06-15", bk.appointments(func(a apptRec) bool { return a.loc == sample.loc && day(today)(a) }))
	p.expect(t, Appointment, "actor="+doc+"&date=2026-06-15", bk.appointments(func(a apptRec) bool {
		return (a.user == sample.user || a.patient == sample.user || a.loc == sample.user) && day(today)(a)
	}))
	seen := map[string]int{}
	for _, st := range []string{"booked", "arrived", "fulfilled", "noshow", "cancelled"} {
		want := bk.appointments(func(a apptRec) bool { return a.status() == st })
		seen[st] = len(want)
		p.expect(t, Appointment, "status="+st+"&date=ge2026-06-01&date=lt2026-06-20", bk.appointments(func(a apptRec) bool {
			return a.status() == st && a.end().After(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) && a.start().Before(time.Date(2026, 6, 20, 0, 0, 0, 0, time.UTC))
		}))
	}
	for st, n := range seen {
		if n == 0 {
			t.Errorf("the practice has no %s appointment", st)
		}
	}
	p.expect(t, Appointment, "status=proposed", nil)
	p.expect(t, Appointment, "status:not=cancelled&date=2026-06-15", bk.appointments(func(a apptRec) bool { return a.status() != "cancelled" && day(today)(a) }))
	blocked := slices.IndexFunc(bk.appts, func(a apptRec) bool { return a.patient == 0 })
	if blocked < 0 {
		t.Fatal("the practice has no blocked slot")
	}
	p.expect(t, Appointment, "_id="+strconv.Itoa(bk.appts[blocked].id), nil)

	// The resource itself, and its references for _include.
	rows := p.search(t, Appointment, "_id="+strconv.Itoa(sample.id), 0)
	if len(rows) != 1 {
		t.Fatalf("appointment %d: %d rows", sample.id, len(rows))
	}
	var got struct {
		Status, Start, End string
		MinutesDuration    int
		AppointmentType    struct{ Text string }
		Participant        []struct {
			Actor  struct{ Reference string }
			Status string
		}
	}
	if err := json.Unmarshal(rows[0].Resource, &got); err != nil {
		t.Fatal(err)
	}
	wantStart := sample.start().Format("2006-01-02T15:04:05") + "+10:00" // June: AEST
	wantEnd := sample.end().Format("2006-01-02T15:04:05") + "+10:00"
	if got.Status != sample.status() || got.Start != wantStart || got.End != wantEnd || got.MinutesDuration != sample.length/60 || got.AppointmentType.Text == "" {
		t.Errorf("appointment %d: got %+v, want status %s, %s to %s", sample.id, got, sample.status(), wantStart, wantEnd)
	}
	var actors []string
	for _, pa := range got.Participant {
		actors = append(actors, pa.Actor.Reference)
		if pa.Status != "accepted" {
			t.Errorf("participant status %q", pa.Status)
		}
	}
	wantActors := []string{"Patient/" + pr, "Practitioner/" + doc, "Location/" + strconv.Itoa(sample.loc)}
	if !slices.Equal(actors, wantActors) {
		t.Errorf("participants %v, want %v", actors, wantActors)
	}
	wantRefs := map[string][]string{"patient": {pr}, "practitioner": {doc}, "location": {strconv.Itoa(sample.loc)}}
	if fmt.Sprint(rows[0].Refs) != fmt.Sprint(wantRefs) {
		t.Errorf("refs %v, want %v", rows[0].Refs, wantRefs)
	}

	// A cancelled one carries its reason.
	for _, a := range bk.appts {
		if a.visible() && a.record != 1 {
			rows := p.search(t, Appointment, "_id="+strconv.Itoa(a.id), 0)
			if len(rows) != 1 || !strings.Contains(string(rows[0].Resource), `"status":"cancelled"`) || !strings.Contains(string(rows[0].Resource), `"cancelationReason"`) {
				t.Errorf("cancelled appointment %d: %s", a.id, rows)
			}
			break
		}
	}
}

func sortedInts(s []int) []int {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// testAppointmentDST checks times across the end of daylight saving in
// Sydney (Sunday 2026-04-05, 03:00 AEDT → 02:00 AEST).
func testAppointmentDST(t *testing.T, p *practice, bk *book) {
	fri, mon := time.Date(2026, 4, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC)
	want := bk.appointments(func(a apptRec) bool { return !a.start().Before(fri) && !a.end().After(mon.AddDate(0, 0, 1)) })
	rows := p.expect(t, Appointment, "date=ge2026-04-03&date=le2026-04-06&_sort=date", want)
	offsets := map[string]bool{}
	last := ""
	for _, r := range rows {
		var a struct{ ID, Start string }
		if err := json.Unmarshal(r.Resource, &a); err != nil {
			t.Fatal(err)
		}
		id, _ := strconv.Atoi(a.ID)
		rec := bk.appts[slices.IndexFunc(bk.appts, func(x apptRec) bool { return x.id == id })]
		offset := "+10:00"
		if rec.day.Before(time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC)) {
			offset = "+11:00"
		}
		if w := rec.start().Format("2006-01-02T15:04:05") + offset; a.Start != w {
			t.Errorf("appointment %d starts %s, want %s", id, a.Start, w)
		}
		offsets[offset] = true
		if a.Start < last && a.Start[:10] == last[:10] {
			t.Errorf("_sort=date: %s after %s", a.Start, last)
		}
		last = a.Start
	}
	if !offsets["+10:00"] || !offsets["+11:00"] {
		t.Errorf("no appointments on both sides of the change: %v", offsets)
	}
}

func testSchedule(t *testing.T, p *practice, bk *book) {
	want := bk.schedules(p.snap)
	if len(want) < 2 {
		t.Fatalf("only %d schedules", len(want))
	}
	got := scheduleIDs(t, p.search(t, Schedule, "", 3))
	if !slices.Equal(got, want) {
		t.Errorf("schedules %v, want %v", got, want)
	}
	if n := p.count(t, Schedule, "_summary=count"); n != len(want) {
		t.Errorf("count %d, want %d", n, len(want))
	}
	user, loc, _ := mappings.ParseScheduleID(want[0])
	var byUser, byLoc []string
	for _, id := range want {
		u, l, _ := mappings.ParseScheduleID(id)
		if u == user {
			byUser = append(byUser, id)
		}
		if l == loc {
			byLoc = append(byLoc, id)
		}
	}
	if got := scheduleIDs(t, p.search(t, Schedule, "actor=Practitioner/"+strconv.Itoa(user), 0)); !slices.Equal(got, byUser) {
		t.Errorf("actor=Practitioner/%d: %v, want %v", user, got, byUser)
	}
	if got := scheduleIDs(t, p.search(t, Schedule, "actor=Location/"+strconv.Itoa(loc), 0)); !slices.Equal(got, byLoc) {
		t.Errorf("actor=Location/%d: %v, want %v", loc, got, byLoc)
	}
	if got := scheduleIDs(t, p.search(t, Schedule, "_id="+want[0], 0)); !slices.Equal(got, want[:1]) {
		t.Errorf("_id=%s: %v", want[0], got)
	}
	for _, id := range []string{"3", "3-", "-1", "03-1", "3-1-2"} {
		if got := p.search(t, Schedule, "_id="+id, 0); len(got) != 0 {
			t.Errorf("_id=%s found %d", id, len(got))
		}
	}
	active := scheduleIDs(t, p.search(t, Schedule, "active=true", 0))
	inactive := scheduleIDs(t, p.search(t, Schedule, "active=false", 0))
	all := slices.Concat(active, inactive)
	slices.Sort(all)
	if !slices.Equal(all, want) || len(active) == 0 {
		t.Errorf("active %v + inactive %v is not every schedule %v", active, inactive, want)
	}
	for _, id := range inactive { // the practitioners who left
		u, _, _ := mappings.ParseScheduleID(id)
		if p.snap.user(u).status == 1 && slices.ContainsFunc(bk.sessions, func(x sessionRec) bool { return x.user == u && x.date.IsZero() && x.until.IsZero() }) {
			t.Errorf("schedule %s is inactive but has an open session", id)
		}
	}
}

func scheduleIDs(t testing.TB, rows []mappings.Row) []string {
	t.Helper()
	var out []string
	for _, r := range rows {
		out = append(out, mappingstest.ResourceID(t, r.Resource))
	}
	slices.Sort(out)
	return out
}

// slotList runs a slot search (all pages, validated) and returns its
// slots in order.
func (p *practice) slotList(t *testing.T, query string, size int) []slot {
	t.Helper()
	var out []slot
	for _, r := range p.search(t, Slot, query, size) {
		var s struct{ ID, Status string }
		if err := json.Unmarshal(r.Resource, &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, slot{s.ID, s.Status})
	}
	return out
}

func testSlot(t *testing.T, p *practice, bk *book) {
	from, to := today, today.AddDate(0, 0, 7)
	var free, busy, blocked, awayDays int
	for _, id := range bk.schedules(p.snap) {
		user, loc, _ := mappings.ParseScheduleID(id)
		want := bk.slots(user, loc, from, to)
		q := "schedule=Schedule/" + id + "&start=ge2026-06-15&start=lt2026-06-22"
		got := p.slotList(t, q, 37)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %d slots, want %d\n got %v\nwant %v", q, len(got), len(want), got, want)
		}
		if n := p.count(t, Slot, q); n != len(want) {
			t.Errorf("%s: count %d, want %d", q, n, len(want))
		}
		wantFree := slices.DeleteFunc(slices.Clone(want), func(s slot) bool { return s.status != "free" })
		if got := p.slotList(t, q+"&status=free", 50); !slices.Equal(got, wantFree) {
			t.Errorf("%s&status=free: got %d, want %d", q, len(got), len(wantFree))
		}
		for _, s := range want {
			switch s.status {
			case "free":
				free++
			case "busy":
				busy++
			default:
				blocked++
			}
		}
		for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
			if slices.ContainsFunc(bk.away, func(w awayRec) bool { return w.user == user && !d.Before(w.from) && !d.After(w.to) }) {
				awayDays++
			}
		}
	}
	if free == 0 || busy == 0 {
		t.Errorf("the week has %d free and %d busy slots", free, busy)
	}
	t.Logf("week of 2026-06-15: %d free, %d busy, %d blocked slots; %d practitioner days away", free, busy, blocked, awayDays)

	// Around days away and Saturday extra sessions over the whole book.
	var awayChecked, extraChecked bool
	for _, w := range bk.away {
		for _, x := range bk.sessions {
			if x.user != w.user || awayChecked {
				continue
			}
			id := fmt.Sprintf("%d-%d", x.user, x.loc)
			if !slices.Contains(bk.schedules(p.snap), id) {
				continue
			}
			from := w.from.AddDate(0, 0, -3)
			to := w.to.AddDate(0, 0, 4)
			if to.Sub(from) > 31*24*time.Hour {
				to = from.AddDate(0, 0, 31)
			}
			q := "schedule=" + id + "&start=ge" + from.Format(time.DateOnly) + "&start=lt" + to.Format(time.DateOnly)
			want := bk.slots(x.user, x.loc, from, to)
			if got := p.slotList(t, q, 0); !slices.Equal(got, want) {
				t.Errorf("%s (around days away %s to %s): got %d, want %d", q, w.from.Format(time.DateOnly), w.to.Format(time.DateOnly), len(got), len(want))
			}
			awayChecked = true
		}
	}
	for _, x := range bk.sessions {
		if x.date.IsZero() || extraChecked {
			continue
		}
		id := fmt.Sprintf("%d-%d", x.user, x.loc)
		want := bk.slots(x.user, x.loc, x.date, x.date.AddDate(0, 0, 1))
		if len(want) == 0 {
			continue // a day away
		}
		q := "schedule=" + id + "&start=" + x.date.Format(time.DateOnly)
		if got := p.slotList(t, q, 0); !slices.Equal(got, want) {
			t.Errorf("%s (extra session): got %v, want %v", q, got, want)
		}
		extraChecked = true
	}
	if !awayChecked || !extraChecked {
		t.Errorf("checked days away %v, extra sessions %v", awayChecked, extraChecked)
	}

	// Reads by id, and a partial-day range.
	id := bk.schedules(p.snap)[0]
	user, loc, _ := mappings.ParseScheduleID(id)
	week := bk.slots(user, loc, from, to)
	if len(week) == 0 {
		t.Fatalf("schedule %s has no slots in the week", id)
	}
	if got := p.slotList(t, "_id="+week[0].id, 0); !slices.Equal(got, week[:1]) {
		t.Errorf("_id=%s: %v", week[0].id, got)
	}
	if got := p.slotList(t, "_id="+week[0].id+"&schedule=Schedule/999-999", 0); len(got) != 0 {
		t.Errorf("_id with another schedule: %v", got)
	}
	for _, bad := range []string{"3-1", "3-1-2026061509000", "x-1-20260615090000"} {
		if got := p.slotList(t, "_id="+bad, 0); len(got) != 0 {
			t.Errorf("_id=%s: %v", bad, got)
		}
	}
	var afternoon []slot
	for _, s := range week {
		if s.id[len(s.id)-14:len(s.id)-6] == "20260615" && s.id[len(s.id)-6:] >= "130000" {
			afternoon = append(afternoon, s)
		}
	}
	if got := p.slotList(t, "schedule="+id+"&start=ge2026-06-15T13:00&start=lt2026-06-16", 0); !slices.Equal(got, afternoon) {
		t.Errorf("afternoon of 2026-06-15: %v, want %v", got, afternoon)
	}
	if got := p.slotList(t, "schedule=Schedule/"+id+"&start=ge2026-06-15&start=lt2026-06-22&status=busy,busy-unavailable", 0); !slices.Equal(got,
		slices.DeleteFunc(slices.Clone(week), func(s slot) bool { return s.status == "free" })) {
		t.Errorf("busy slots: %v", got)
	}
}

// testSlotDST: a 09:00 slot is 09:00 in Sydney on both sides of the end of
// daylight saving, with the offset of its day.
func testSlotDST(t *testing.T, p *practice, bk *book) {
	from, to := time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 9, 0, 0, 0, 0, time.UTC)
	offsets := map[string]int{}
	for _, id := range bk.schedules(p.snap) {
		user, loc, _ := mappings.ParseScheduleID(id)
		want := bk.slots(user, loc, from, to)
		rows := p.search(t, Slot, "schedule="+id+"&start=ge2026-04-02&start=lt2026-04-09", 0)
		if len(rows) != len(want) {
			t.Errorf("schedule %s: %d slots, want %d", id, len(rows), len(want))
			continue
		}
		for i, r := range rows {
			var s struct{ ID, Start, End string }
			if err := json.Unmarshal(r.Resource, &s); err != nil {
				t.Fatal(err)
			}
			wall, _ := time.Parse("20060102150405", want[i].id[len(want[i].id)-14:])
			offset := "+10:00"
			if wall.Before(time.Date(2026, 4, 5, 3, 0, 0, 0, time.UTC)) {
				offset = "+11:00"
			}
			if w := wall.Format("2006-01-02T15:04:05") + offset; s.ID != want[i].id || s.Start != w {
				t.Errorf("slot %s starts %s, want %s %s", s.ID, s.Start, want[i].id, w)
			}
			start, err1 := time.Parse(time.RFC3339, s.Start)
			end, err2 := time.Parse(time.RFC3339, s.End)
			if err1 != nil || err2 != nil || !end.After(start) || end.Sub(start) > 2*time.Hour {
				t.Errorf("slot %s: %s to %s", s.ID, s.Start, s.End)
			}
			offsets[offset]++
		}
	}
	if offsets["+10:00"] == 0 || offsets["+11:00"] == 0 {
		t.Errorf("slots on each side of the change: %v", offsets)
	}
}

func testSchedulingBadInput(t *testing.T, p *practice) {
	bad := func(r mappings.Resource, query, want string) {
		t.Helper()
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		s, err := fhir.ParseSearch(r.Decl(), q, fhir.ParseOptions{Strict: true, Location: sydney, Now: testNow})
		if err == nil {
			_, err = r.Search(p.Dialect, s)
		}
		var br *mappings.BadRequestError
		var fe *fhir.Error
		if err == nil || (!errors.As(err, &br) && !(errors.As(err, &fe) && fe.Status == 400)) {
			t.Errorf("%s?%s: %v (%T), want a bad request", r.Decl().Type, query, err, err)
			return
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s?%s: %q does not say %q", r.Decl().Type, query, err, want)
		}
	}
	bad(Slot, "start=ge2026-06-15&start=lt2026-06-22", "schedule")
	bad(Slot, "schedule=3-1&start=ge2026-01-01&start=lt2027-01-01", "31 days")
	bad(Slot, "schedule=3-1&start=2026", "31 days")
	bad(Slot, "schedule=3-1&start=ge2026-06-15", "31 days")
	bad(Slot, "schedule=3-1", "31 days")
	bad(Slot, "schedule=3-1&start=ge2026-06-15,lt2026-06-20", "one value")
	bad(Slot, "schedule=3-1&start=2026-06-15&status=open", "slot status")
	bad(Appointment, "status=bogus", "bogus")
	bad(Appointment, "date=xx2026-06-15", "")
	bad(Appointment, "date:exact=2026-06-15", "")
	// Exactly the maximum is fine.
	if _, err := Slot.Search(p.Dialect, parse(t, Slot, "schedule=3-1&start=ge2026-06-01&start=lt2026-07-02")); err != nil {
		t.Errorf("31 days: %v", err)
	}
}
