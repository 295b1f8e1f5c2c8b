package zedmed

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"fhirlink/mappings"
)

type tmplRec struct {
	doctor, branch, dow, start, end, slot int
	from, to                              time.Time
}

type leaveRec struct {
	doctor   int
	from, to time.Time
}

// expectedSlots computes, in Go, the slots of a schedule on [from, to) with their statuses.
func expectedSlots(t *testing.T, p *practice, doctor, branch int, from, to time.Time) map[string]string {
	t.Helper()
	var tmpls []tmplRec
	rows, err := p.db.Query(`SELECT DOCTOR_ID, BRANCH_ID, DAY_OF_WEEK, START_SECS, END_SECS, SLOT_SECS, VALID_FROM, VALID_TO FROM SESSION_TEMPLATE WHERE DELETED = 0`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r tmplRec
		var f, u any
		if err := rows.Scan(&r.doctor, &r.branch, &r.dow, &r.start, &r.end, &r.slot, &f, &u); err != nil {
			t.Fatal(err)
		}
		r.from, r.to = asTime(t, f), asTime(t, u)
		tmpls = append(tmpls, r)
	}
	rows.Close()
	var leaves []leaveRec
	rows, err = p.db.Query(`SELECT DOCTOR_ID, START_DATE, END_DATE FROM DOCTOR_LEAVE WHERE DELETED = 0`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var l leaveRec
		var f, u any
		if err := rows.Scan(&l.doctor, &f, &u); err != nil {
			t.Fatal(err)
		}
		l.from, l.to = asTime(t, f), asTime(t, u)
		leaves = append(leaves, l)
	}
	rows.Close()
	appts := loadAppointments(t, p.db)
	out := map[string]string{}
	for day := from; day.Before(to); day = day.AddDate(0, 0, 1) {
		away := slices.ContainsFunc(leaves, func(l leaveRec) bool { return l.doctor == doctor && !day.Before(l.from) && !day.After(l.to) })
		if away {
			continue
		}
		for _, tm := range tmpls {
			if tm.doctor != doctor || tm.branch != branch || tm.dow != isoDOW(day) || (!tm.from.IsZero() && tm.from.After(day)) || (!tm.to.IsZero() && tm.to.Before(day)) {
				continue
			}
			for s := tm.start; s+tm.slot <= tm.end; s += tm.slot {
				status := "free"
				for _, a := range appts {
					if a.deleted != 0 || a.doctor != doctor || !a.day.Equal(day) || a.secs >= s+tm.slot || a.secs+a.length <= s {
						continue
					}
					if a.patient != 0 && a.status != apptCancelled && a.status != apptBlocked {
						status = "busy"
					} else if a.status == apptBlocked && status == "free" {
						status = "busy-unavailable"
					}
				}
				out[mappings.SlotKey{Owner: doctor, Loc: branch, Day: day, Secs: s}.ID()] = status
			}
		}
	}
	return out
}

func testSlot(t *testing.T, p *practice) {
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
	check := func(query string, want map[string]string) {
		t.Helper()
		rows := p.search(t, Slot, query, 40)
		got := map[string]string{}
		for _, r := range rows {
			var sl struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			}
			if err := json.Unmarshal(r.Resource, &sl); err != nil {
				t.Fatal(err)
			}
			got[sl.ID] = sl.Status
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d slots, want %d", query, len(got), len(want))
		}
		for id, s := range want {
			if got[id] != s {
				t.Errorf("%s: slot %s is %q, want %q", query, id, got[id], s)
			}
		}
		if len(want) == 0 {
			t.Errorf("%s: no slot expected: the case proves nothing", query)
		}
	}
	// a week of doctor 1's book, and the free slots alone
	week := expectedSlots(t, p, 1, 1, day(6, 15), day(6, 22))
	check("schedule=Schedule/1-1&start=ge2026-06-15&start=lt2026-06-22", week)
	free := map[string]string{}
	for id, s := range week {
		if s == "free" {
			free[id] = s
		}
	}
	check("schedule=Schedule/1-1&start=ge2026-06-15&start=lt2026-06-22&status=free", free)
	// across leave (doctor 1 away 16-20 May) and across the end of daylight saving
	check("schedule=Schedule/1-1&start=ge2026-05-14&start=lt2026-05-22", expectedSlots(t, p, 1, 1, day(5, 14), day(5, 22)))
	check("schedule=Schedule/1-1&start=ge2026-04-03&start=lt2026-04-07", expectedSlots(t, p, 1, 1, day(4, 3), day(4, 7)))
	// read by id
	for id, s := range week {
		check("_id="+id, map[string]string{id: s})
		break
	}
	if n := p.count(t, Slot, "schedule=Schedule/2-2&start=ge2026-06-15&start=lt2026-06-22"); n != len(expectedSlots(t, p, 2, 2, day(6, 15), day(6, 22))) {
		t.Errorf("count %d", n)
	}
	p.badRequest(t, Slot, "start=ge2026-06-15&start=lt2026-06-22")
	p.badRequest(t, Slot, "schedule=Schedule/1-1&start=ge2026-06-15&start=lt2026-08-22")
	p.badRequest(t, Slot, "schedule=Schedule/1-1&start=ge2026-06-15&start=lt2026-06-22&status=maybe")
}
