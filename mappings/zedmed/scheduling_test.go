package zedmed

import (
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"fhirlink/fhir"
	"fhirlink/mappings/mappingstest"
)

type apptRec struct {
	id, patient, doctor, branch, secs, length, status, deleted int
	day                                                        time.Time
}

func loadAppointments(t testing.TB, db *sql.DB) []apptRec {
	t.Helper()
	rows, err := db.Query(`SELECT APPT_ID, COALESCE(PATIENT_ID, 0), DOCTOR_ID, BRANCH_ID, START_SECS, DURATION_SECS, STATUS, DELETED, APPT_DATE FROM APPOINTMENT`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []apptRec
	for rows.Next() {
		var a apptRec
		var day any
		if err := rows.Scan(&a.id, &a.patient, &a.doctor, &a.branch, &a.secs, &a.length, &a.status, &a.deleted, &day); err != nil {
			t.Fatal(err)
		}
		a.day = asTime(t, day)
		out = append(out, a)
	}
	return out
}

func apptsWhere(all []apptRec, f func(apptRec) bool) []int {
	var out []int
	for _, a := range all {
		if a.deleted == 0 && a.patient != 0 && a.status != apptBlocked && f(a) {
			out = append(out, a.id)
		}
	}
	return out
}

func testAppointment(t *testing.T, p *practice) {
	all := loadAppointments(t, p.db)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	// the appointments of a day
	today := day(2026, 6, 15)
	p.expect(t, Appointment, "date=2026-06-15", apptsWhere(all, func(a apptRec) bool { return a.day.Equal(today) }))
	p.expect(t, Appointment, "date=2026-06-15&practitioner=1", apptsWhere(all, func(a apptRec) bool { return a.day.Equal(today) && a.doctor == 1 }))
	// across the end of daylight saving (Sunday 5 April 2026, 03:00 back to 02:00 in Sydney)
	rows := p.expect(t, Appointment, "date=ge2026-04-04&date=lt2026-04-07", apptsWhere(all, func(a apptRec) bool {
		return !a.day.Before(day(2026, 4, 4)) && a.day.Before(day(2026, 4, 7))
	}))
	offsets := map[string]bool{}
	for _, r := range rows {
		var ap struct{ Start string }
		if err := json.Unmarshal(r.Resource, &ap); err != nil {
			t.Fatal(err)
		}
		want := "+10:00"
		if strings.HasPrefix(ap.Start, "2026-04-04") {
			want = "+11:00"
		}
		if !strings.HasSuffix(ap.Start, want) {
			t.Errorf("start %s, want offset %s", ap.Start, want)
		}
		offsets[ap.Start[len(ap.Start)-6:]] = true
	}
	if len(offsets) != 2 {
		t.Errorf("offsets %v: the range should cross the change", offsets)
	}
	// a moment within an appointment
	var one apptRec
	for _, a := range all {
		if a.deleted == 0 && a.patient != 0 && a.status != apptBlocked && a.day.Equal(today) {
			one = a
			break
		}
	}
	// date is Appointment.start (R4's expression for the parameter): a moment a minute into
	// an appointment is no appointment's start of that doctor but those starting then.
	mid := today.Add(time.Duration(one.secs+60) * time.Second).Format("2006-01-02T15:04:05")
	if within := apptsWhere(all, func(a apptRec) bool { return a.day.Equal(today) && a.doctor == one.doctor && a.secs == one.secs+60 }); len(within) > 0 {
		p.expect(t, Appointment, "date=le"+mid+"&date=ge"+mid+"&practitioner="+strconv.Itoa(one.doctor), within)
	} else {
		p.expectNone(t, Appointment, "date=le"+mid+"&date=ge"+mid+"&practitioner="+strconv.Itoa(one.doctor))
	}
	// Every prefix, against values around the appointment's start given in UTC, to the
	// second and the minute, and its day (the doctor's appointments only, to stay quick);
	// expectations by FHIR's rules for a point, from the raw rows.
	startUTC := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, one.secs, 0, sydney).UTC()
	for _, v := range []string{startUTC.Format("2006-01-02T15:04:05Z"), startUTC.Add(time.Minute).Format("2006-01-02T15:04:05Z"),
		startUTC.Add(-time.Second).Format("2006-01-02T15:04:05Z"), startUTC.Format("2006-01-02T15:04Z"), "2026-06-15"} {
		for _, prefix := range []string{"", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"} {
			q := "date=" + prefix + v
			val := parse(t, Appointment, q).Clauses[0].Values[0]
			want := apptsWhere(all, func(a apptRec) bool {
				return a.doctor == one.doctor && a.day.Equal(today) &&
					startMatches(val.Prefix, a.day.Add(time.Duration(a.secs)*time.Second), wallClock(val.Lo), wallClock(val.Hi))
			})
			q += "&date=2026-06-15&practitioner=" + strconv.Itoa(one.doctor)
			if len(want) == 0 {
				p.expectNone(t, Appointment, q)
			} else {
				p.expect(t, Appointment, q, want)
			}
		}
	}
	id := strconv.Itoa(one.id)
	for q, want := range map[string]bool{
		"date=eq" + startUTC.Format("2006-01-02T15:04:05Z"):                  true,
		"date=ge" + startUTC.Add(time.Minute).Format("2006-01-02T15:04:05Z"): false,
		"date=lt" + startUTC.Add(time.Second).Format("2006-01-02T15:04:05Z"): true,
	} {
		if got := len(p.search(t, Appointment, q+"&_id="+id, 0)) == 1; got != want {
			t.Errorf("Appointment %s (start %s) found by %s: %v, want %v", id, startUTC, q, got, want)
		}
	}
	// statuses, patient, chained patient identifier
	for s, codes := range map[string][]int{"booked": {apptBooked}, "cancelled": {apptCancelled}, "fulfilled": {apptCompleted},
		"noshow": {apptDNA}, "arrived": {apptArrived, apptInConsult}} {
		p.expect(t, Appointment, "status="+s+"&date=ge2026-06-01&date=lt2026-06-22", apptsWhere(all, func(a apptRec) bool {
			in := false
			for _, c := range codes {
				in = in || a.status == c
			}
			return in && !a.day.Before(day(2026, 6, 1)) && a.day.Before(day(2026, 6, 22))
		}))
	}
	p.badRequest(t, Appointment, "status=done")
	pt := p.snap.patient(one.patient)
	p.expect(t, Appointment, "patient="+strconv.Itoa(pt.id), apptsWhere(all, func(a apptRec) bool { return a.patient == pt.id }))
	if pt.ihi != "" {
		p.expect(t, Appointment, "patient.identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0|"+pt.ihi,
			apptsWhere(all, func(a apptRec) bool { return a.patient == pt.id }))
	}
	// sorted by date, in pages of 7: non-decreasing starts
	rows = p.search(t, Appointment, "date=2026-06-16&_sort=date", 7)
	prev := ""
	for _, r := range rows {
		var ap struct{ Start string }
		_ = json.Unmarshal(r.Resource, &ap)
		if ap.Start < prev {
			t.Errorf("_sort=date: %s after %s", ap.Start, prev)
		}
		prev = ap.Start
	}
	// blocked slots are not appointments
	for _, a := range all {
		if a.status == apptBlocked {
			p.expectNone(t, Appointment, "_id="+strconv.Itoa(a.id))
			break
		}
	}
}

func testSchedule(t *testing.T, p *practice) {
	rows := p.search(t, Schedule, "", 3)
	got := map[string]bool{}
	for _, r := range rows {
		got[mappingstest.ResourceID(t, r.Resource)] = true
	}
	for _, id := range []string{"1-1", "2-1", "2-2", "3-2", "4-1", "5-1", "6-1", "7-2"} {
		if !got[id] {
			t.Errorf("schedule %s missing: %v", id, got)
		}
	}
	if len(got) != 8 {
		t.Errorf("%d schedules, want 8: %v", len(got), got)
	}
	act := p.search(t, Schedule, "active=false", 0)
	if len(act) != 1 || mappingstest.ResourceID(t, act[0].Resource) != "4-1" {
		t.Errorf("inactive schedules: %d", len(act))
	}
	if n := len(p.search(t, Schedule, "actor=Location/2", 0)); n != 3 {
		t.Errorf("schedules at branch 2: %d, want 3", n)
	}
	if n := len(p.search(t, Schedule, "_id=2-2", 0)); n != 1 {
		t.Errorf("_id=2-2: %d", n)
	}
}

// wallClock is t's wall clock in its own zone, as UTC (how the raw rows are read).
func wallClock(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// startMatches is FHIR's rule for a moment at against a search value's range [lo, hi).
func startMatches(prefix fhir.Prefix, at, lo, hi time.Time) bool {
	in := !at.Before(lo) && at.Before(hi)
	switch prefix {
	case fhir.PrefixEq, "", fhir.PrefixAp:
		return in
	case fhir.PrefixNe:
		return !in
	case fhir.PrefixGe:
		return !at.Before(lo)
	case fhir.PrefixGt, fhir.PrefixSa:
		return !at.Before(hi)
	case fhir.PrefixLe:
		return at.Before(hi)
	case fhir.PrefixLt, fhir.PrefixEb:
		return at.Before(lo)
	}
	panic(prefix)
}
