package bpsynth

import (
	"math"
	"slices"
	"time"
)

// Scheduling: SESSIONS, EXTRASESSIONS, DAYSAWAY, APPOINTMENTS, CANCELLATIONS,
// CANCELLEDAPPOINTMENTS. Appointments fill the slots of each practitioner's sessions over
// [Today-DaysBack, Today+DaysAhead], skipping days away. Attended appointments become visits
// (their VISITID is allocated here; the visit rows are written with the clinical record).

type session struct {
	user       *userInfo
	loc        int
	dow        int // DAYOFWEEK code, 1 = Sunday
	start, end int // seconds after midnight
	length     int // slot length, seconds
}

// encounter is a visit: from an attended appointment or from the record's earlier history.
type encounter struct {
	date      time.Time
	start     int
	length    int
	user      *userInfo
	loc       int
	visitID   int
	visitCode int
	apptType  int
	acute     int // index into acuteReasons, or -1
	routine   int // index into routineReasons, or -1
}

var unavailableReasons = []string{"Admin time", "Practice meeting", "Nursing home visits", "Hospital rounds", "Teaching"}

// dow returns the DAYOFWEEK code (1 = Sunday) of a date.
func dow(d time.Time) int { return int(d.Weekday()) + 1 }

func (g *gen) writeSchedule(r *rng) {
	var sessions []session
	sessIn := g.w.table("SESSIONS")
	sessionID := 0
	addSession := func(s session, u *userInfo) {
		sessionID++
		sessIn.row().set("SESSIONID", sessionID).set("RECORDSTATUS", RecordLive).set("USERID", u.id).
			set("LOCATIONID", s.loc).set("DAYOFWEEK", s.dow).set("STARTTIME", s.start).set("ENDTIME", s.end).
			set("LENGTH", s.length).set("LABEL", "").set("STARTDATE", dateOnly(u.started)).set("WEEKS", 1).
			set("CREATED", u.started).set("CREATEDBY", 1)
		if !u.active {
			sessIn.set("ENDDATE", dateOnly(u.left))
		}
		sessIn.done()
		if u.active {
			sessions = append(sessions, s)
		}
	}
	for _, u := range g.users {
		if !u.bookable {
			continue
		}
		days := []int{2, 3, 4, 5, 6} // Monday..Friday
		n := 5
		if u.title == TitleDr {
			n = r.between(2, 5)
			r.Shuffle(len(days), func(i, j int) { days[i], days[j] = days[j], days[i] })
		}
		other := 0
		if len(g.locations) > 1 && r.chance(0.3) {
			other = r.IntN(n) // this day is worked at the other location
		}
		for i, d := range days[:n] {
			loc := u.location
			if other > 0 && i == other {
				loc = 3 - u.location
			}
			am := 8*3600 + 1800*r.IntN(2)
			addSession(session{u, loc, d, am, am + 4*3600, u.slot}, u)
			if u.title != TitleDr || r.chance(0.8) {
				pm := 13*3600 + 1800*r.IntN(2)
				addSession(session{u, loc, d, pm, pm + 4*3600 - 1800*r.IntN(2), u.slot}, u)
			}
		}
	}

	first := g.today.AddDate(0, 0, -g.opt.DaysBack)
	last := g.today.AddDate(0, 0, g.opt.DaysAhead)
	windowDays := daysBetween(first, last)

	// days away: about half the practitioners take a block of leave in the window
	away := map[int][][2]time.Time{}
	awayIn := g.w.table("DAYSAWAY")
	awayID := 0
	for i, u := range g.users {
		// the principal doctor (user 1) is always away once, so every practice has a DAYSAWAY row
		if !u.bookable || !u.active || (i > 0 && !r.chance(0.5)) {
			continue
		}
		start := first.AddDate(0, 0, r.IntN(windowDays))
		finish := start.AddDate(0, 0, r.between(2, 11))
		awayID++
		created := minTime(start.AddDate(0, 0, -r.between(14, 90)), g.today)
		awayIn.row().set("RECORDID", awayID).set("RECORDSTATUS", RecordLive).set("USERID", u.id).
			set("STARTDATE", start).set("FINISHDATE", finish).set("AWAYREASON", r.pick(awayReasons)).
			set("CREATED", at(created, r.between(8*3600, 17*3600))).set("CREATEDBY", g.clerkID(r)).done()
		away[u.id] = append(away[u.id], [2]time.Time{start, finish})
	}
	isAway := func(u *userInfo, d time.Time) bool {
		for _, a := range away[u.id] {
			if !d.Before(a[0]) && !d.After(a[1]) {
				return true
			}
		}
		return false
	}

	// extra sessions: Saturday mornings for about a third of the doctors
	extra := map[string][]session{} // date -> sessions
	extraIn := g.w.table("EXTRASESSIONS")
	extraID := 0
	for i, u := range g.doctors {
		// the first doctor always has one, so every practice has an EXTRASESSIONS row
		if i > 0 && !r.chance(0.33) {
			continue
		}
		for range r.between(1, 3) {
			d := first.AddDate(0, 0, r.IntN(windowDays))
			for d.Weekday() != time.Saturday {
				d = d.AddDate(0, 0, 1)
			}
			for tries := 0; (d.After(last) || isAway(u, d)) && tries < 5; tries++ {
				d = d.AddDate(0, 0, -7)
			}
			key := d.Format(time.DateOnly)
			if d.After(last) || d.Before(first) || isAway(u, d) || slices.ContainsFunc(extra[key], func(s session) bool { return s.user == u }) {
				continue
			}
			extraID++
			s := session{u, u.location, dow(d), 8*3600 + 1800, 12 * 3600, u.slot}
			extraIn.row().set("SESSIONID", extraID).set("RECORDSTATUS", RecordLive).set("USERID", u.id).
				set("LOCATIONID", s.loc).set("SESSIONDATE", d).set("STARTTIME", s.start).set("ENDTIME", s.end).
				set("LENGTH", s.length).set("LABEL", "Saturday clinic").
				set("CREATED", at(minTime(d.AddDate(0, 0, -30), g.today), 9*3600)).set("CREATEDBY", 1).done()
			extra[key] = append(extra[key], s)
		}
	}

	var active []int
	for i, p := range g.patients {
		if p.active() {
			active = append(active, i)
		}
	}
	byDow := map[int][]session{}
	for _, s := range sessions {
		byDow[s.dow] = append(byDow[s.dow], s)
	}
	ab := &apptBook{g: g, r: r, in: g.w.table("APPOINTMENTS"), canc: g.w.table("CANCELLATIONS"),
		cancA: g.w.table("CANCELLEDAPPOINTMENTS"), active: active}
	var docSlots, nurseSlots float64 // weekly
	for _, s := range sessions {
		if s.user.title == TitleDr {
			docSlots += float64((s.end - s.start) / s.length)
		} else {
			nurseSlots += float64((s.end - s.start) / s.length)
		}
	}
	ab.doctorFill = clamp(float64(len(active))*5.0/52/math.Max(1, docSlots), 0.05, 0.8)
	ab.nurseFill = clamp(float64(len(active))*1.0/52/math.Max(1, nurseSlots), 0.03, 0.6)
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		day := append(append([]session(nil), byDow[dow(d)]...), extra[d.Format(time.DateOnly)]...)
		for _, s := range day {
			if s.user.started.After(d) || isAway(s.user, d) {
				continue
			}
			ab.fillSession(d, s)
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// apptBook writes the appointments of one run.
type apptBook struct {
	g      *gen
	r      *rng
	in     *inserter
	canc   *inserter
	cancA  *inserter
	active []int
	nextID int
	// past fill rates, sized so that patients visit a doctor about five times a year and a
	// nurse about once (a small practice with few patients per doctor has a quiet book)
	doctorFill, nurseFill float64
	cancID                int
}

// fillRate is the chance that a slot is booked, by days from Today (negative = past), given
// the practitioner's usual past fill rate.
func fillRate(days int, base float64) float64 {
	switch {
	case days < 0:
		return base
	case days == 0:
		return math.Min(0.95, base+0.2)
	}
	return base*0.85/(1+float64(days)/6) + 0.03
}

func (ab *apptBook) fillSession(d time.Time, s session) {
	g, r := ab.g, ab.r
	days := daysBetween(g.today, d)
	nurse := s.user.title != TitleDr
	base := ab.doctorFill
	if nurse {
		base = ab.nurseFill
	}
	for t := s.start; t < s.end; {
		if r.chance(0.01) {
			ab.unavailable(d, s, t)
			t += s.length
			continue
		}
		if !r.chance(fillRate(days, base)) {
			t += s.length
			continue
		}
		typ := ab.chooseType(nurse)
		length := appointmentTypes[typ-1].length
		if length < s.length {
			length = s.length
		}
		length = (length + s.length - 1) / s.length * s.length
		if t+length > s.end {
			length = s.end - t
		}
		pidx := ab.pickPatient(s.user, d)
		if pidx < 0 {
			t += s.length
			continue
		}
		cancelled := r.chance(0.06)
		ab.book(d, s, t, length, typ, pidx, cancelled)
		if cancelled && days < 0 && r.chance(0.4) {
			if again := ab.pickPatient(s.user, d); again >= 0 {
				ab.book(d, s, t, length, typ, again, false) // the slot was re-used
			}
		}
		t += length
	}
}

func (ab *apptBook) chooseType(nurse bool) int {
	if nurse {
		return []int{TypeImmunisation, TypeCarePlan, TypeStandard, TypeHealthAssessment}[ab.r.weighted([]int{45, 25, 20, 10})]
	}
	return []int{TypeStandard, TypeLong, TypeNewPatient, TypeTelehealth, TypeTelephone, TypeProcedure, TypeHealthAssessment}[ab.r.weighted([]int{66, 12, 3, 8, 4, 4, 3})]
}

// pickPatient chooses who books a slot on day d: mostly one of the practitioner's own patients,
// always someone registered (and born) by then; -1 when nobody suitable turns up.
func (ab *apptBook) pickPatient(u *userInfo, d time.Time) int {
	for range 50 {
		i := ab.active[ab.r.IntN(len(ab.active))]
		if len(u.panel) > 0 && ab.r.chance(0.7) {
			i = u.panel[ab.r.IntN(len(u.panel))]
		}
		if p := ab.g.patients[i]; !p.created.After(d) && !p.dob.After(d) {
			return i
		}
	}
	return -1
}

func (ab *apptBook) unavailable(d time.Time, s session, t int) {
	r := ab.r
	ab.nextID++
	ab.in.row().set("RECORDID", ab.nextID).set("INTERNALID", 0).set("RECORDSTATUS", RecordLive).
		set("USERID", s.user.id).set("LOCATIONID", s.loc).set("APPOINTMENTDATE", d).set("APPOINTMENTTIME", t).
		set("APPOINTMENTLENGTH", s.length).set("APPOINTMENTCODE", ApptUnavailable).
		set("REASON", r.pick(unavailableReasons)).set("BOOKEDBY", s.user.id).set("ITEMLIST", "").set("COMMENT", "").
		set("CREATED", ab.bookedAt(d, t)).set("CREATEDBY", s.user.id)
	ab.in.done()
}

// bookedAt returns when an appointment on d at t was made: up to four weeks before, never
// after "now".
func (ab *apptBook) bookedAt(d time.Time, t int) time.Time {
	g, r := ab.g, ab.r
	now := at(g.today, NowSeconds)
	latest := at(d, t).Add(-30 * time.Minute)
	if latest.After(now) {
		latest = now
	}
	earliest := at(d, 8*3600).AddDate(0, 0, -28)
	span := int(latest.Sub(earliest) / time.Minute)
	if span <= 0 {
		return latest
	}
	// favour bookings made a few days ahead
	f := r.Float64()
	return latest.Add(-time.Duration(float64(span)*f*f) * time.Minute).Truncate(time.Minute)
}

func (ab *apptBook) book(d time.Time, s session, t, length, typ, pidx int, cancelled bool) {
	g, r := ab.g, ab.r
	p := g.patients[pidx]
	days := daysBetween(g.today, d)
	ab.nextID++
	id := ab.nextID
	created := ab.bookedAt(d, t)
	bookedBy := g.clerkID(r)
	if r.chance(0.12) {
		bookedBy = s.user.id
	}
	enc := encounter{date: d, start: t, length: length, user: s.user, loc: s.loc, apptType: typ, acute: -1, routine: -1,
		visitCode: VisitSurgery}
	switch typ {
	case TypeTelehealth:
		enc.visitCode = VisitTelehealth
	case TypeTelephone:
		enc.visitCode = VisitTelephone
	}
	age := ageOn(p.dob, d)
	reason := ""
	switch {
	case typ == TypeImmunisation:
		enc.routine = 2
	case typ == TypeCarePlan:
		enc.routine = 3
	case typ == TypeHealthAssessment:
		enc.routine = 4
	case typ == TypeStandard && r.chance(0.55), typ == TypeProcedure:
		enc.acute = pickAcute(r, p.sex, age)
		reason = acuteReasons[enc.acute].apptText
	default:
		enc.routine = []int{0, 1, 5, 6}[r.IntN(4)]
	}
	if enc.routine >= 0 {
		reason = routineReasons[enc.routine].text
	}
	if !r.chance(0.45) {
		reason = ""
	}

	status, arrival, consult := ApptBooked, 0, 0
	attended := false
	now := NowSeconds
	switch {
	case cancelled:
	case days < 0:
		if r.chance(0.04) {
			status = ApptDNA
		} else {
			attended = true
			status = []int{ApptCompleted, ApptPaid, ApptInvoiced}[r.weighted([]int{60, 30, 10})]
		}
	case days == 0:
		switch {
		case t+length <= now-1800:
			attended = true
			status = ApptCompleted
		case t+length <= now:
			attended = true // just seen, paying at the front desk
			status = []int{ApptCompleted, ApptAtBilling}[r.IntN(2)]
		case t <= now:
			status = ApptWithDoctor
		case t-now <= 1800 && r.chance(0.6):
			status = ApptWaiting
		}
	}
	switch status {
	case ApptCompleted, ApptPaid, ApptInvoiced, ApptAtBilling, ApptWithDoctor, ApptWaiting:
		arrival = max(0, t-r.between(0, 900))
		if status != ApptWaiting {
			consult = max(arrival+60, t+r.between(-60, 1200))
		}
		if days == 0 && arrival > now {
			arrival = now - r.between(60, 600)
		}
		if days == 0 && consult > now {
			consult = now - r.between(0, 300)
		}
	}
	rec := RecordLive
	if cancelled {
		rec = RecordDeleted
	}
	visitID := 0
	if attended {
		visitID = g.nextVisitID
		g.nextVisitID++
		enc.visitID = visitID
		enc.start = consult
		g.bookEncounters[pidx] = append(g.bookEncounters[pidx], enc)
	}
	urgent := 0
	if r.chance(0.03) {
		urgent = 1
	}
	ab.in.row().set("RECORDID", id).set("INTERNALID", p.id).set("RECORDSTATUS", rec).set("USERID", s.user.id).
		set("LOCATIONID", s.loc).set("VISITID", visitID).set("APPOINTMENTDATE", d).set("APPOINTMENTTIME", t).
		set("APPOINTMENTLENGTH", length).set("APPOINTMENTCODE", status).set("APPOINTMENTTYPE", typ).
		set("URGENT", urgent).set("REASON", reason).set("ARRIVALTIME", arrival).set("CONSULTATIONTIME", consult).
		set("BOOKEDBY", bookedBy).set("PATIENTS", 1).set("ITEMLIST", "").set("COMMENT", "").
		set("CREATED", created).set("CREATEDBY", bookedBy)
	if attended {
		ab.in.set("VISITLENGTH", max(300, length+r.between(-300, 600)))
	}
	if typ == TypeTelehealth {
		ab.in.set("VIDEOURL", "https://video.example.com/r/"+r.letters(10))
	}
	if days >= 0 && days <= 2 && !cancelled && r.chance(0.7) {
		ab.in.set("REMINDERSENT", 1).set("REMINDERSENTDATE", minTime(at(d.AddDate(0, 0, -1), 10*3600), at(g.today, 9*3600))).
			set("REMINDERSENTUSERID", 1)
	}
	ab.in.done()

	if cancelled {
		// cancelled between booking and the appointment, never after now
		latest := minTime(at(d, t), at(g.today, NowSeconds))
		when := created
		if span := latest.Sub(created); span > 0 {
			when = created.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Minute)
		}
		by := g.clerkID(r)
		ab.cancID++
		ab.canc.row().set("RECORDID", ab.cancID).set("RECORDSTATUS", RecordLive).set("INTERNALID", p.id).
			set("USERID", s.user.id).set("APPOINTMENTID", id).set("CREATED", when).set("CREATEDBY", by).done()
		secs := when.Hour()*3600 + when.Minute()*60
		ab.cancA.row().set("APPOINTMENTID", id).set("CANCELLEDBY", by).set("CANCELLEDDATE", dateOnly(when)).
			set("CANCELLEDTIME", secs).set("REASON", r.pick(cancellationReasons)).done()
	}
}

// pickAcute chooses an acute reason suited to the patient's sex and age.
func pickAcute(r *rng, sex, age int) int {
	weights := make([]int, len(acuteReasons))
	for i, a := range acuteReasons {
		if age < a.minAge {
			continue
		}
		w := 10.0
		if a.femaleP > 0 {
			if sex == SexFemale {
				w *= a.femaleP
			} else {
				w /= a.femaleP
			}
		}
		weights[i] = int(w)
	}
	if slices.Max(weights) == 0 {
		weights[0] = 1 // a newborn: the first reason has no minimum age
	}
	return r.weighted(weights)
}
