package zedsynth

import (
	"time"
)

// book writes the appointment book: every session of the templates from DaysBack before Today
// to DaysAhead after it, except days on leave, cut into slots, each booked, blocked or free.
func (g *gen) book(r *rng) {
	today := g.opt.Today
	tmpls := g.templates()
	leaves := g.leaves()
	var active []*patient
	for _, p := range g.patients {
		if p.status == PatientActive {
			active = append(active, p)
		}
	}
	if len(active) == 0 {
		active = g.patients
	}
	for d := -g.opt.DaysBack; d <= g.opt.DaysAhead; d++ {
		day := today.AddDate(0, 0, d)
		for _, t := range tmpls {
			if t.dow != isoWeekday(day) || day.Before(t.from) || (!t.to.IsZero() && day.After(t.to)) {
				continue
			}
			away := false
			for _, l := range leaves {
				away = away || (l.doctor == t.doctor && !day.Before(l.from) && !day.After(l.to))
			}
			if away {
				continue
			}
			pBook := 0.7
			if d > 0 {
				pBook = 0.6 - 0.5*float64(d)/float64(g.opt.DaysAhead)
			}
			for s := t.start; s+t.slot <= t.end; s += t.slot {
				if r.chance(0.03) {
					g.appointment(r, t, day, s, t.slot, nil, ApptBlocked)
					continue
				}
				if !r.chance(pBook) {
					continue
				}
				typ := 1
				switch x := r.IntN(100); {
				case x < 10 && s+2*t.slot <= t.end:
					typ = 2
				case x < 15:
					typ = 3
				case x < 20:
					typ = 4
				}
				length := t.slot
				if typ == 2 {
					length = 2 * t.slot
				}
				p := active[r.IntN(len(active))]
				status := g.status(r, d, s)
				g.appointment(r, t, day, s, length, p, status, typ)
				if status == ApptCancelled && r.chance(0.5) {
					g.appointment(r, t, day, s, length, active[r.IntN(len(active))], g.status(r, d, s), 1)
				}
				if length > t.slot {
					s += length - t.slot
				}
			}
		}
	}
}

// status is an appointment's status by its day (relative to Today) and time.
func (g *gen) status(r *rng, d, secs int) int {
	x := r.IntN(100)
	switch {
	case d < 0 || (d == 0 && secs+1800 <= NowSeconds):
		switch {
		case x < 5:
			return ApptCancelled
		case x < 9:
			return ApptDNA
		}
		return ApptCompleted
	case d == 0 && secs < NowSeconds:
		if x < 50 {
			return ApptInConsult
		}
		return ApptArrived
	}
	if x < 7 {
		return ApptCancelled
	}
	return ApptBooked
}

func (g *gen) appointment(r *rng, t template, day time.Time, secs, length int, p *patient, status int, typ ...int) {
	rc := rec{"APPT_ID": g.next("APPOINTMENT"), "DOCTOR_ID": t.doctor, "BRANCH_ID": t.branch, "APPT_DATE": day,
		"START_SECS": secs, "DURATION_SECS": length, "STATUS": status}
	created := day.AddDate(0, 0, -r.between(0, 28)).Add(time.Duration(8*3600+r.IntN(9*3600)) * time.Second)
	if limit := at(g.opt.Today, NowSeconds); created.After(limit) {
		created = limit.Add(-time.Duration(r.IntN(7200)) * time.Second)
	}
	updated := time.Time{}
	if p == nil {
		rc["NOTES"] = "Blocked"
	} else {
		rc["PATIENT_ID"] = p.id
		if len(typ) > 0 {
			rc["APPT_TYPE_ID"] = typ[0]
		}
		if r.chance(0.7) {
			rc["REASON"] = r.pick(apptReasons)
		}
		if r.chance(0.05) {
			rc["URGENT"] = 1
		}
		if status == ApptCancelled {
			rc["CANCEL_REASON"] = r.pick(cancelReasons)
		}
		if status == ApptCompleted || status == ApptInConsult {
			v := visit{appt: rc["APPT_ID"].(int), patient: p.id, doctor: t.doctor, branch: t.branch, status: status,
				start: at(day, secs), length: length}
			if len(typ) > 0 {
				v.typ = typ[0]
			}
			if reason, ok := rc["REASON"].(string); ok {
				v.reason = reason
			}
			g.seen = append(g.seen, v)
		}
		if status != ApptBooked {
			updated = created.Add(time.Hour)
			if u := at(day, secs+length); status != ApptCancelled && u.Before(at(g.opt.Today, NowSeconds)) {
				updated = u
			}
			if updated.After(at(g.opt.Today, NowSeconds)) {
				updated = time.Time{}
			}
		}
	}
	g.w.insert("APPOINTMENT", g.audit(rc, created, updated))
}
