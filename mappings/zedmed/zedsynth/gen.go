package zedsynth

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fhirlink/mappings/bppremier/bpsynth"
)

// Random streams: each phase has its own, and each patient's clinical record its own.
const (
	streamPractice = 1 + iota
	streamPatients
	streamBook
	streamConsults
	streamScripts
	streamDeleted
	streamClinicalBase = 1 << 32
)

type doctor struct {
	id, typ  int
	active   bool
	deleted  bool
	branches []int
}

type patient struct {
	id      int
	dob     time.Time // zero when unknown
	sex     string
	status  int
	created time.Time
}

type gen struct {
	opt          Options
	w            *writer
	setup        time.Time // when the practice started with Zedmed
	doctors      []*doctor
	patients     []*patient
	usedHI       idset
	usedMedicare idset
	ids          map[string]int // last key issued per table
	// seen are the appointments a patient attended (completed or in consultation), and meds
	// the medicines recorded, in the order written: the consultations and scripts follow.
	seen      []visit
	meds      []med
	consultOn map[consultKey]consultRef // a patient's first live consultation of a day
}

// visit is an attended appointment.
type visit struct {
	appt, patient, doctor, branch, typ, status int
	start                                      time.Time
	length                                     int
	reason                                     string
}

// med is a MEDICATION row.
type med struct {
	id, patient, doctor int
	drug                drug
	start, stop         time.Time // stop is zero for a current medicine
}

func (g *gen) next(table string) int {
	g.ids[table]++
	return g.ids[table]
}

func (g *gen) run() {
	g.setup = g.opt.Today.AddDate(-10, 0, 0)
	g.practice(g.rng(streamPractice))
	g.writePatients(g.rng(streamPatients))
	g.book(g.rng(streamBook))
	for i, p := range g.patients {
		g.clinical(g.rng(streamClinicalBase+uint64(i)), p)
	}
	// Later phases on streams of their own, so the earlier tables are what they were before
	// these were added.
	g.consults(g.rng(streamConsults))
	g.scripts(g.rng(streamScripts))
	g.deleted(g.rng(streamDeleted))
}

// deleted adds deleted rows to the small tables the FHIR mapping reads, each placed where it
// would show if the mapping forgot the flag: a former practice entity, a deleted doctor-branch
// link, links of a live doctor to the closed branch, a retired appointment type (named by a
// live appointment), a deleted session template on a doctor's free Sunday, and deleted leave
// on working days. It runs last, so their ids follow the live rows', from a random stream of
// its own.
func (g *gen) deleted(r *rng) {
	g.w.insert("PRACTICE", g.audit(rec{"PRACTICE_ID": 2, "PRACTICE_NAME": "Parkside Medical Services (former entity)",
		"ABN": r.abn(), "HPIO": r.healthID(bpsynth.PrefixHPIO, idset{}), "DELETED": 1}, g.setup, time.Time{}))
	g.w.insert("DOCTOR_BRANCH", g.audit(rec{"DOCTOR_BRANCH_ID": g.next("DOCTOR_BRANCH"), "DOCTOR_ID": 1, "BRANCH_ID": 2, "DELETED": 1},
		g.setup, time.Time{}))
	g.w.insert("DOCTOR_BRANCH", g.audit(rec{"DOCTOR_BRANCH_ID": g.next("DOCTOR_BRANCH"), "DOCTOR_ID": 1, "BRANCH_ID": 3},
		g.setup, time.Time{}))
	g.w.insert("APPT_TYPE", g.audit(rec{"APPT_TYPE_ID": 6, "DESCRIPTION": "Retired type", "DURATION_SECS": 900, "DELETED": 1},
		g.setup, time.Time{}))
	for _, p := range g.patients {
		if p.status == PatientActive {
			// at lunchtime, outside every session: it changes no slot
			g.w.insert("APPOINTMENT", g.audit(rec{"APPT_ID": g.next("APPOINTMENT"), "PATIENT_ID": p.id, "DOCTOR_ID": 1, "BRANCH_ID": 1,
				"APPT_DATE": g.opt.Today.AddDate(0, 0, 7), "START_SECS": 12*3600 + 30*60, "DURATION_SECS": 900, "APPT_TYPE_ID": 6,
				"STATUS": ApptBooked}, at(g.opt.Today, 9*3600), time.Time{}))
			break
		}
	}
	g.w.insert("SESSION_TEMPLATE", g.audit(rec{"TEMPLATE_ID": g.next("SESSION_TEMPLATE"), "DOCTOR_ID": 1, "BRANCH_ID": 2, "DAY_OF_WEEK": 7,
		"START_SECS": 9 * 3600, "END_SECS": 12 * 3600, "SLOT_SECS": 900, "VALID_FROM": g.setup, "DELETED": 1}, g.setup, time.Time{}))
	g.w.insert("DOCTOR_LEAVE", g.audit(rec{"LEAVE_ID": g.next("DOCTOR_LEAVE"), "DOCTOR_ID": 2, "START_DATE": g.opt.Today.AddDate(0, 0, 1),
		"END_DATE": g.opt.Today.AddDate(0, 0, 3), "REASON": "Conference (cancelled)", "DELETED": 1}, g.opt.Today.AddDate(0, -1, 0), time.Time{}))
}

func (g *gen) audit(r rec, created time.Time, updated time.Time) rec {
	r["CREATED_AT"] = created
	if !updated.IsZero() {
		r["UPDATED_AT"] = updated
	}
	return r
}

func (r *rng) phone(mobile bool) string {
	if mobile {
		return "04" + r.digits(2) + " " + r.digits(3) + " " + r.digits(3)
	}
	// ranges reserved for drama: 02 5550 xxxx and 02 7010 xxxx
	return "(02) " + []string{"5550", "7010"}[r.IntN(2)] + " " + r.digits(4)
}

func (g *gen) practice(r *rng) {
	used := idset{}
	hpio := r.healthID(bpsynth.PrefixHPIO, used)
	g.w.insert("PRACTICE", g.audit(rec{"PRACTICE_ID": 1, "PRACTICE_NAME": "Parkside Family Medical", "ABN": r.abn(), "HPIO": hpio}, g.setup, g.setup.AddDate(5, 0, 0)))
	branches := []struct {
		name, addr string
		loc        locality
		deleted    bool
	}{
		{"Parkside Family Medical Parramatta", "120 Church Street", localities[0], false},
		{"Parkside Family Medical Castle Hill", "Shop 4, 2 Old Northern Road", localities[4], false},
		{"Parkside Family Medical Epping (closed)", "7 Station Street", localities[8], true},
	}
	for i, b := range branches {
		rc := rec{"BRANCH_ID": i + 1, "PRACTICE_ID": 1, "BRANCH_NAME": b.name, "ADDRESS_1": b.addr, "SUBURB": b.loc.suburb,
			"STATE": b.loc.state, "POSTCODE": b.loc.postcode, "PHONE": r.phone(false), "FAX": r.phone(false),
			"EMAIL": fmt.Sprintf("reception%d@parkside.example.com", i+1)}
		if i == 0 {
			rc["HPIO"] = hpio
		}
		if b.deleted {
			rc["DELETED"] = 1
		}
		g.w.insert("BRANCH", g.audit(rc, g.setup, time.Time{}))
	}
	// The staff: id, type, active, deleted, branches.
	staff := []doctor{
		{1, DoctorGP, true, false, []int{1}},
		{2, DoctorGP, true, false, []int{1, 2}},
		{3, DoctorGP, true, false, []int{2}},
		{4, DoctorGP, false, false, []int{1}}, // left the practice
		{5, DoctorRegistrar, true, false, []int{1}},
		{6, DoctorNurse, true, false, []int{1}},
		{7, DoctorNurse, true, false, []int{2}},
		{8, DoctorAdmin, true, false, []int{1}},
		{9, DoctorAllied, true, false, []int{1}},
		{10, DoctorGP, true, true, []int{1}}, // deleted
	}
	names := []struct{ first, family string }{{"Margaret", "O'Brien"}, {"Anil", "Sharma"}, {"Thi Lan", "Nguyen"},
		{"Robert", "Fraser"}, {"Emily", "Chen"}, {"Kylie", "Walker"}, {"Fatima", "Hassan"}, {"Debra", "Kelly"},
		{"Tom", "Van Der Berg"}, {"Peter", "Smith-Jones"}}
	usedHPII := idset{}
	for i, d := range staff {
		d := d
		g.doctors = append(g.doctors, &d)
		rc := rec{"DOCTOR_ID": d.id, "TITLE": doctorTitles[d.typ], "FIRST_NAME": names[i].first, "SURNAME": names[i].family,
			"DOCTOR_TYPE": d.typ, "PHONE": r.phone(false), "MOBILE": r.phone(true),
			"EMAIL":     strings.ToLower(strings.NewReplacer("'", "", " ", "").Replace(names[i].first+"."+names[i].family)) + "@parkside.example.com",
			"IS_ACTIVE": map[bool]int{true: 1, false: 0}[d.active]}
		if d.deleted {
			rc["DELETED"] = 1
		}
		switch d.typ {
		case DoctorGP, DoctorRegistrar:
			rc["HPII"], rc["AHPRA_NO"], rc["PRESCRIBER_NO"] = r.healthID(bpsynth.PrefixHPII, usedHPII), r.ahpra("MED"), r.digits(7)
		case DoctorNurse:
			rc["HPII"], rc["AHPRA_NO"] = r.healthID(bpsynth.PrefixHPII, usedHPII), r.ahpra("NMW")
		case DoctorAllied:
			rc["AHPRA_NO"] = r.ahpra("PHY")
		}
		g.w.insert("DOCTOR", g.audit(rc, g.setup.AddDate(0, 0, 30*i), g.setup.AddDate(3, 0, 10*i)))
		stem := strconv.Itoa(2+r.IntN(3)) + r.digits(5)
		for _, b := range d.branches {
			pr := rec{"DOCTOR_BRANCH_ID": g.next("DOCTOR_BRANCH"), "DOCTOR_ID": d.id, "BRANCH_ID": b}
			if d.typ == DoctorGP || d.typ == DoctorRegistrar || d.typ == DoctorAllied {
				pr["PROVIDER_NO"] = providerNumber(stem, "0123456789ABC"[b+9])
			}
			g.w.insert("DOCTOR_BRANCH", g.audit(pr, g.setup.AddDate(0, 0, 30*i), time.Time{}))
		}
	}
	for i, t := range []struct {
		text string
		mins int
	}{{"Standard consultation", 15}, {"Long consultation", 30}, {"Immunisation", 15}, {"Telehealth", 15}, {"Care plan", 30}} {
		g.w.insert("APPT_TYPE", g.audit(rec{"APPT_TYPE_ID": i + 1, "DESCRIPTION": t.text, "DURATION_SECS": t.mins * 60}, g.setup, time.Time{}))
	}
	g.sessions()
}

// template is a weekly session.
type template struct {
	doctor, branch, dow, start, end, slot int
	from, to                              time.Time
}

func (g *gen) templates() []template {
	var out []template
	week := func(doc, branch int, days []int, start, end, slot int, from, to time.Time) {
		for _, d := range days {
			out = append(out, template{doc, branch, d, start, end, slot, from, to})
		}
	}
	weekdays := []int{1, 2, 3, 4, 5}
	h := func(hh, mm int) int { return hh*3600 + mm*60 }
	week(1, 1, weekdays, h(8, 30), h(12, 30), 900, g.setup, time.Time{})
	week(1, 1, []int{1, 3, 5}, h(13, 30), h(17, 0), 900, g.setup, time.Time{})
	week(1, 1, []int{6}, h(9, 0), h(12, 0), 900, g.setup, time.Time{})
	week(2, 1, []int{1, 3, 5}, h(9, 0), h(17, 0), 900, g.setup, time.Time{})
	week(2, 2, []int{2, 4}, h(9, 0), h(17, 0), 900, g.setup, time.Time{})
	week(3, 2, weekdays, h(8, 0), h(13, 0), 900, g.setup, time.Time{})
	week(4, 1, weekdays, h(9, 0), h(17, 0), 900, g.setup, g.opt.Today.AddDate(0, 0, -60)) // left 60 days ago
	week(5, 1, weekdays, h(9, 0), h(16, 0), 1200, g.setup, time.Time{})
	week(6, 1, weekdays, h(8, 30), h(12, 30), 900, g.setup, time.Time{})
	week(7, 2, []int{2, 4}, h(9, 0), h(13, 0), 900, g.setup, time.Time{})
	return out
}

// leave is a doctor's days away.
type leave struct {
	doctor   int
	from, to time.Time
}

func (g *gen) leaves() []leave {
	t := g.opt.Today
	return []leave{{1, t.AddDate(0, 0, -30), t.AddDate(0, 0, -26)}, {3, t.AddDate(0, 0, 7), t.AddDate(0, 0, 11)},
		{2, t.AddDate(0, 0, 21), t.AddDate(0, 0, 21)}}
}

func (g *gen) sessions() {
	for _, t := range g.templates() {
		r := rec{"TEMPLATE_ID": g.next("SESSION_TEMPLATE"), "DOCTOR_ID": t.doctor, "BRANCH_ID": t.branch, "DAY_OF_WEEK": t.dow,
			"START_SECS": t.start, "END_SECS": t.end, "SLOT_SECS": t.slot, "VALID_FROM": t.from}
		if !t.to.IsZero() {
			r["VALID_TO"] = t.to
		}
		g.w.insert("SESSION_TEMPLATE", g.audit(r, g.setup, time.Time{}))
	}
	for i, l := range g.leaves() {
		g.w.insert("DOCTOR_LEAVE", g.audit(rec{"LEAVE_ID": g.next("DOCTOR_LEAVE"), "DOCTOR_ID": l.doctor, "START_DATE": l.from,
			"END_DATE": l.to, "REASON": leaveReasons[i%len(leaveReasons)]}, l.from.AddDate(0, -2, 0), time.Time{}))
	}
}
