package bpsynth

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The clinical record of each patient: CLINICAL, PASTHISTORY, REACTIONS, VISITS, VISITREASON,
// OBSERVATIONS, CURRENTRX, PRESCRIPTIONS, SCRIPTITEMS, IMMUNISATIONS, INVESTIGATIONS,
// REPORTVALUES. Every patient draws from a random stream of its own.

// clinicalIDs are the running record ids of the clinical tables.
type clinicalIDs struct {
	reaction, history, rx, script, item, imm, obs, reason, report, value int
}

// patientConditions is a condition on one patient's record.
type patientCondition struct {
	c     *condition
	onset time.Time
	side  int
}

// medOnRecord is a long-term or short-term medicine on the record.
type medOnRecord struct {
	m          *medicine
	indication *condition
	first      time.Time
	last       time.Time // last script date (zero: never prescribed here)
	lastQty    int
	lastRpts   int
	short      bool
}

// body holds the measurements a patient's observations vary around.
type body struct {
	heightM   float64
	bmi       float64
	systolic  float64
	diastolic float64
	pulse     float64
}

type clinicalTables struct {
	clinical, history, reactions, visits, reasons, obs, rx, scripts, items, imms, invs, values *inserter
}

func (g *gen) writeClinical() {
	t := clinicalTables{
		clinical: g.w.table("CLINICAL"), history: g.w.table("PASTHISTORY"), reactions: g.w.table("REACTIONS"),
		visits: g.w.table("VISITS"), reasons: g.w.table("VISITREASON"), obs: g.w.table("OBSERVATIONS"),
		rx: g.w.table("CURRENTRX"), scripts: g.w.table("PRESCRIPTIONS"), items: g.w.table("SCRIPTITEMS"),
		imms: g.w.table("IMMUNISATIONS"), invs: g.w.table("INVESTIGATIONS"), values: g.w.table("REPORTVALUES"),
	}
	ids := &clinicalIDs{}
	for i, p := range g.patients {
		if g.w.failed() != nil {
			return
		}
		r := g.rng(streamClinicalBase + uint64(p.id))
		pr := &patientRecord{g: g, r: r, p: p, t: t, ids: ids, encs: g.bookEncounters[i]}
		pr.write()
	}
}

// patientRecord generates one patient's clinical record.
type patientRecord struct {
	g     *gen
	r     *rng
	p     *patientInfo
	t     clinicalTables
	ids   *clinicalIDs
	encs  []encounter
	end   time.Time // today, or the date of death
	age   int       // at end
	conds []patientCondition
	meds  []*medOnRecord
	body  body
}

func (pr *patientRecord) has(key string) bool {
	for _, c := range pr.conds {
		if c.c.key == key {
			return true
		}
	}
	return false
}

func (pr *patientRecord) chronicCount() int {
	n := 0
	for _, c := range pr.conds {
		if c.c.chronic {
			n++
		}
	}
	return n
}

// doctor returns the usual doctor if active, else a random active doctor.
func (pr *patientRecord) doctor() *userInfo {
	if u := pr.p.usual; u != nil && u.active {
		return u
	}
	return pr.g.doctors[pr.r.IntN(len(pr.g.doctors))]
}

func (pr *patientRecord) write() {
	g, p := pr.g, pr.p
	pr.end = g.today
	if !p.dod.IsZero() {
		pr.end = p.dod
	}
	pr.age = ageOn(p.dob, pr.end)
	pr.chooseConditions()
	pr.chooseMedicines()
	pr.chooseBody()
	pr.historicEncounters()
	slices.SortFunc(pr.encs, func(a, b encounter) int {
		if c := a.date.Compare(b.date); c != 0 {
			return c
		}
		return a.start - b.start
	})
	for i := range pr.encs {
		pr.writeVisit(&pr.encs[i])
	}
	pr.writeHistory()
	known := pr.writeReactions()
	pr.writeMedicines()
	pr.writeImmunisations()
	pr.writeInvestigations()
	pr.writeClinicalRow(known)
}

func ageBand(age int) int {
	switch {
	case age < 18:
		return 0
	case age < 45:
		return 1
	case age < 65:
		return 2
	}
	return 3
}

func (pr *patientRecord) chooseConditions() {
	r, p := pr.r, pr.p
	band := ageBand(pr.age)
	for i := range conditionCatalogue {
		c := &conditionCatalogue[i]
		if pr.age < c.minAge {
			continue
		}
		prob := c.prev[band]
		switch p.sex {
		case SexFemale:
			prob *= c.female
		case SexMale:
			prob *= math.Max(0.2, 2-c.female)
		}
		if !r.chance(prob) {
			continue
		}
		if (c.key == "t1dm" && pr.has("t2dm")) || (c.key == "chol" && pr.has("lipids")) {
			continue
		}
		onsetAge := r.between(max(c.minAge, pr.age*2/5), pr.age)
		onset := p.dob.AddDate(onsetAge, r.IntN(12), r.IntN(28))
		if onset.After(pr.end) {
			onset = pr.end.AddDate(0, 0, -r.between(1, 300))
		}
		if onset.Before(p.dob) {
			onset = p.dob
		}
		pc := patientCondition{c: c, onset: dateOnly(onset)}
		if c.side {
			pc.side = []int{SideLeft, SideRight, SideBilateral}[r.weighted([]int{40, 40, 20})]
			if c.fracture {
				pc.side = []int{SideLeft, SideRight}[r.IntN(2)]
			}
		}
		pr.conds = append(pr.conds, pc)
	}
}

func (pr *patientRecord) chooseMedicines() {
	r := pr.r
	seen := map[string]bool{}
	for _, pc := range pr.conds {
		if !pc.c.chronic {
			continue
		}
		for j, key := range pc.c.meds {
			if seen[key] || (j == 0 && !r.chance(0.85)) || (j > 0 && !r.chance(0.35)) {
				continue
			}
			if key == "apixaban" && r.chance(0.15) {
				key = "warfarin"
			}
			seen[key] = true
			first := pc.onset.AddDate(0, 0, r.between(0, 120))
			if first.After(pr.end) {
				first = pr.end
			}
			pr.meds = append(pr.meds, &medOnRecord{m: medicineByKey(key), indication: pc.c, first: first})
		}
	}
}

func (pr *patientRecord) chooseBody() {
	r, p := pr.r, pr.p
	b := body{}
	if p.sex == SexFemale {
		b.heightM = r.normal(1.635, 0.065)
	} else {
		b.heightM = r.normal(1.76, 0.07)
	}
	b.bmi = clamp(r.normal(27, 4.5), 17, 45)
	if pr.has("obesity") {
		b.bmi = clamp(r.normal(35, 3.5), 30.5, 55)
	}
	b.systolic = 112 + 0.45*float64(max(0, pr.age-20)) + r.normal(0, 8)
	if pr.has("htn") {
		b.systolic += 12
	}
	b.diastolic = 70 + 0.15*float64(max(0, pr.age-20)) + r.normal(0, 6)
	b.pulse = r.normal(74, 9)
	pr.body = b
}

// childHeightCm is a rough median height for age (years, fractional).
func childHeightCm(age float64) float64 {
	switch {
	case age < 1:
		return 50 + 25*age
	case age < 2:
		return 75 + 12*(age-1)
	}
	return math.Min(87+6*(age-2), 170)
}

func childWeightKg(age float64) float64 {
	switch {
	case age < 1:
		return 3.4 + 6.6*age
	case age < 2:
		return 10 + 2.3*(age-1)
	}
	return math.Min(12.3+2.6*(age-2), 60)
}

// historicEncounters adds visits in the year before the appointment window.
func (pr *patientRecord) historicEncounters() {
	g, r, p := pr.g, pr.r, pr.p
	windowStart := g.today.AddDate(0, 0, -g.opt.DaysBack)
	from := windowStart.AddDate(-1, 0, 0)
	if c := dateOnly(p.created); c.After(from) {
		from = c
	}
	if p.dob.After(from) {
		from = p.dob.AddDate(0, 0, 14)
	}
	to := windowStart
	if !p.dod.IsZero() && p.dod.Before(to) {
		to = p.dod
	}
	if p.status == PatientInactive {
		to = minTime(to, g.today.AddDate(-1, 0, 0))
	}
	days := daysBetween(from, to)
	if days <= 0 {
		return
	}
	rate := 1.0 + 0.8*float64(pr.chronicCount())
	if pr.age >= 70 {
		rate += 1.5
	}
	if pr.age < 5 {
		rate += 2
	}
	mean := math.Min(rate, 8) * float64(days) / 365
	n := int(math.Round(r.normal(mean, math.Sqrt(mean+0.01))))
	for range max(0, n) {
		d := from.AddDate(0, 0, r.IntN(days))
		switch d.Weekday() {
		case time.Saturday:
			d = d.AddDate(0, 0, 2)
		case time.Sunday:
			d = d.AddDate(0, 0, 1)
		}
		u := p.usual
		if u == nil || (!u.active && d.After(u.left)) || r.chance(0.25) || u.started.After(d) {
			u = g.doctors[r.IntN(len(g.doctors))]
		}
		e := encounter{date: d, start: 8*3600 + 900*r.IntN(36), length: u.slot, user: u, loc: u.location,
			visitID: g.nextVisitID, visitCode: VisitSurgery, acute: -1, routine: -1, apptType: TypeStandard}
		g.nextVisitID++
		switch x := r.IntN(100); {
		case x < 4:
			e.visitCode = VisitTelephone
		case x < 9 && d.Year() >= 2020:
			e.visitCode = VisitTelehealth
		case x < 11 && pr.age >= 80:
			e.visitCode = []int{VisitHome, VisitRACF}[r.IntN(2)]
		}
		if r.chance(0.5) {
			e.acute = pickAcute(r, p.sex, ageOn(p.dob, d))
		} else {
			e.routine = []int{0, 1, 5}[r.IntN(3)]
		}
		pr.encs = append(pr.encs, e)
	}
}

var historyPhrases = []string{"1 day", "2 days", "3 days", "4 days", "5 days", "1 week", "2 weeks"}
var planPhrases = []string{"Review if not improving.", "Return if worse.", "Safety-netting advice given.",
	"Review in 1 week.", "Continue current management.", "Bloods ordered.", "Patient education provided."}

func (pr *patientRecord) writeVisit(e *encounter) {
	g, r, p := pr.g, pr.r, pr.p
	end := e.start + e.length + r.between(-180, 300)
	reasons := []struct {
		text string
		code string
	}{}
	var chronicReviewed *condition
	switch {
	case e.acute >= 0:
		a := acuteReasons[e.acute]
		reasons = append(reasons, struct{ text, code string }{a.text, strconv.Itoa(a.code)})
	default:
		rr := routineReasons[e.routine]
		if (e.routine == 0 || e.routine == 1 || e.routine == 5 || e.routine == 3) && pr.chronicCount() > 0 && r.chance(0.7) {
			var chronic []*condition
			for _, c := range pr.conds {
				if c.c.chronic && !c.onset.After(e.date) {
					chronic = append(chronic, c.c)
				}
			}
			if len(chronic) > 0 {
				chronicReviewed = chronic[r.IntN(len(chronic))]
				reasons = append(reasons, struct{ text, code string }{chronicReviewed.name, strconv.Itoa(chronicReviewed.itemCode)})
			}
		}
		if len(reasons) == 0 || r.chance(0.4) {
			reasons = append(reasons, struct{ text, code string }{rr.text, strconv.Itoa(rr.code)})
		}
	}
	notes := ""
	history := ""
	switch {
	case e.acute >= 0:
		history = fmt.Sprintf("%s, %s history.", acuteReasons[e.acute].text, r.pick(historyPhrases))
	case chronicReviewed != nil:
		history = chronicReviewed.name + " review. Compliant with medication."
	default:
		history = reasons[0].text + "."
	}
	notes = r.pick(planPhrases)
	created := at(e.date, e.start)
	vin := pr.t.visits.row().set("VISITID", e.visitID).set("INTERNALID", p.id).set("USERID", e.user.id).
		set("RECORDSTATUS", RecordLive).set("VISITCODE", e.visitCode).set("DRNAME", e.user.display).
		set("VISITDATE", e.date).set("RECORDEDDATE", at(e.date, min(end, 86399))).set("STARTTIME", e.start).
		set("ENDTIME", min(end, 86399)).set("DURATION", max(60, min(end, 86399)-e.start)).set("LOCATION", e.loc).
		set("HISTORY", history).set("EXAM", "").set("VISITNOTES", notes).set("CREATED", created).set("CREATEDBY", e.user.id)
	if r.chance(0.01) {
		vin.set("CONFIDENTIAL", 1)
	}
	if r.chance(0.15) {
		vin.set("REVIEWDATE", e.date.AddDate(0, r.between(1, 6), 0))
	}
	exam := pr.writeObservations(e)
	vin.set("EXAM", exam)
	vin.done()
	for _, rs := range reasons {
		pr.ids.reason++
		pr.t.reasons.row().set("RECORDID", pr.ids.reason).set("RECORDSTATUS", RecordLive).set("INTERNALID", p.id).
			set("VISITID", e.visitID).set("REASON", rs.text).set("REASONCODE", rs.code).set("CONDITION", rs.text).
			set("CREATED", created).set("CREATEDBY", e.user.id).done()
	}
	// acute problems sometimes need a short course of medicine
	if e.acute >= 0 && e.user.title == TitleDr {
		a := acuteReasons[e.acute]
		if a.med != "" && r.chance(a.medP) && !(a.med == "prednisolone" && pr.age < 3) {
			mr := &medOnRecord{m: medicineByKey(a.med), first: e.date, short: true}
			pr.writeScript(e, []*medOnRecord{mr})
			if daysBetween(e.date, g.today) <= 14 {
				pr.meds = append(pr.meds, mr)
			}
		}
	}
	// long-term medicines are re-prescribed at doctors' visits about twice a year
	if e.user.title == TitleDr && e.visitCode != VisitNonVisit {
		var due []*medOnRecord
		for _, m := range pr.meds {
			if m.short || m.m.otc || m.first.After(e.date) {
				continue
			}
			if m.last.IsZero() || daysBetween(m.last, e.date) >= 170 {
				due = append(due, m)
			}
		}
		for len(due) > 0 {
			n := min(len(due), 3)
			pr.writeScript(e, due[:n])
			due = due[n:]
		}
	}
}

// writeObservations records measurements taken at a face-to-face visit and returns the
// examination note.
func (pr *patientRecord) writeObservations(e *encounter) string {
	r := pr.r
	if e.visitCode == VisitTelephone || e.visitCode == VisitTelehealth {
		return ""
	}
	ageY := float64(e.date.Sub(pr.p.dob).Hours()) / 24 / 365.25
	secs := e.start + r.between(60, 300)
	var notes []string
	add := func(code int, value string) {
		pr.ids.obs++
		pr.t.obs.row().set("RECORDID", pr.ids.obs).set("RECORDSTATUS", RecordLive).set("INTERNALID", pr.p.id).
			set("USERID", e.user.id).set("OBSDATE", e.date).set("OBSTIME", secs).set("DATANAME", observationNames[code]).
			set("DATACODE", code).set("DATAVALUE", value).set("CREATED", at(e.date, secs)).set("CREATEDBY", e.user.id).done()
	}
	fever := e.acute >= 0 && acuteReasons[e.acute].fever
	if fever && r.chance(0.7) {
		t := r.normal(37.4, 0.6)
		add(ObsTemperature, fmtFloat(clamp(t, 35.8, 40.2), 1))
		notes = append(notes, "T "+fmtFloat(clamp(t, 35.8, 40.2), 1))
	}
	if ageY < 18 {
		if (ageY < 2 && r.chance(0.8)) || r.chance(0.3) {
			h := childHeightCm(ageY) * (pr.body.heightM / 1.7)
			w := childWeightKg(ageY) * r.normal(1, 0.08)
			add(ObsHeight, fmtFloat(h, 1))
			add(ObsWeight, fmtFloat(w, 1))
			if ageY < 2 {
				hc := 35 + 12*math.Min(ageY, 2)/2 + r.normal(0, 0.8)
				add(ObsHeadCirc, fmtFloat(hc, 1))
			}
		}
		if len(notes) == 0 {
			return ""
		}
		return strings.Join(notes, ", ")
	}
	bpP := 0.35
	if pr.has("htn") || pr.has("ihd") || pr.has("t2dm") {
		bpP = 0.7
	}
	if r.chance(bpP) {
		sys := int(math.Round(pr.body.systolic + r.normal(0, 7)))
		dia := int(math.Round(pr.body.diastolic + r.normal(0, 5)))
		dia = min(dia, sys-20)
		add(ObsSystolic, strconv.Itoa(sys))
		add(ObsDiastolic, strconv.Itoa(dia))
		notes = append(notes, fmt.Sprintf("BP %d/%d", sys, dia))
		if r.chance(0.6) {
			pulse := int(math.Round(pr.body.pulse + r.normal(0, 6)))
			add(ObsPulse, strconv.Itoa(pulse))
			notes = append(notes, fmt.Sprintf("P %d", pulse))
		}
	}
	if r.chance(0.2) {
		w := pr.body.bmi * pr.body.heightM * pr.body.heightM * r.normal(1, 0.02)
		add(ObsWeight, fmtFloat(w, 1))
		if r.chance(0.3) {
			add(ObsHeight, fmtFloat(pr.body.heightM*100, 0))
			add(ObsBMI, fmtFloat(w/(pr.body.heightM*pr.body.heightM), 1))
		}
		if r.chance(0.25) {
			waist := 70 + (pr.body.bmi-20)*2.4 + r.normal(0, 4)
			if pr.p.sex == SexMale {
				waist += 8
			}
			add(ObsWaist, fmtFloat(waist, 0))
		}
	}
	return strings.Join(notes, ", ")
}

// writeScript writes one PRESCRIPTIONS row with up to three SCRIPTITEMS.
func (pr *patientRecord) writeScript(e *encounter, meds []*medOnRecord) {
	r, p := pr.r, pr.p
	pr.ids.script++
	sid := pr.ids.script
	when := at(e.date, e.start+r.between(300, 900))
	pr.t.scripts.row().set("SCRIPTID", sid).set("INTERNALID", p.id).set("USERID", e.user.id).set("LOCATIONID", e.loc).
		set("RECORDSTATUS", RecordLive).set("SCRIPTDATE", when).set("ALLOWSUBSTITUTION", 1).set("PRINTSTATUS", 1).
		set("PRINTDATE", when).set("AUTHORITYNUMBER", "").set("APPROVALNUMBER", "").set("CTG", "").set("SCID", "").
		set("CREATED", when).set("CREATEDBY", e.user.id).set("VisitId", e.visitID).done()
	for _, mr := range meds {
		m := mr.m
		pr.ids.item++
		prn := 0
		if m.prn {
			prn = 1
		}
		pr.t.items.row().set("RECORDID", pr.ids.item).set("INTERNALID", p.id).set("USERID", e.user.id).set("SCRIPTID", sid).
			set("RECORDSTATUS", RecordLive).set("PRODUCTID", m.productID).set("PACKID", m.productID*10+1).
			set("PRODUCTNAME", m.product).set("PRODUCTDESCRIPTION", m.description).set("COMPANYFORM", m.form).
			set("STRENGTH", m.strength).set("DOSE", m.dose).set("FREQUENCY", m.freq).set("FOOD", m.food).
			set("OTHERDETAIL", m.other).set("PRN", prn).set("ROUTE", m.route).set("INSTRUCTIONS", instructions(m)).
			set("QUANTITY", m.qty).set("PRODUCTUNIT", m.unit).set("REPEATS", m.repeats).set("SAHCNO", "").set("SCID", "").
			set("CREATED", when).set("CREATEDBY", e.user.id).done()
		mr.last, mr.lastQty, mr.lastRpts = e.date, m.qty, m.repeats
	}
}

// instructions composes the directions line, e.g. "Take 1 tablet daily with food".
func instructions(m *medicine) string {
	var b strings.Builder
	switch m.route {
	case RouteInhaled:
		b.WriteString("Inhale " + m.dose)
	case RouteTopical:
		b.WriteString("Apply thinly")
	case RouteSubcutaneous:
		b.WriteString("Inject " + m.dose)
	case RouteIntranasal:
		b.WriteString(m.dose + " into each nostril")
	default:
		unit := strings.TrimSuffix(m.unit, "s")
		if m.dose != "1" {
			unit = m.unit
		}
		if m.dose == "as directed" {
			b.WriteString("Take as directed")
		} else {
			b.WriteString("Take " + m.dose + " " + unit)
		}
	}
	if f := freqText(m.freq); f != "" {
		b.WriteString(" " + strings.ToLower(f))
	}
	if f := codeTextOf(foods, m.food); f != "" {
		b.WriteString(" " + strings.ToLower(f))
	}
	if o := codeTextOf(otherDetails, m.other); o != "" && o != "as directed" {
		b.WriteString(" " + o)
	}
	return b.String()
}

func (pr *patientRecord) writeMedicines() {
	r, p := pr.r, pr.p
	for _, mr := range pr.meds {
		m := mr.m
		pr.ids.rx++
		prn := 0
		if m.prn {
			prn = 1
		}
		status := RxLongTerm
		if mr.short {
			status = RxShortTerm
		}
		doc := pr.doctor()
		in := pr.t.rx.row().set("RECORDID", pr.ids.rx).set("INTERNALID", p.id).set("RECORDSTATUS", RecordLive).
			set("PRODUCTID", m.productID).set("PACKID", m.productID*10+1).
			set("DRUGNAME", m.product+" "+m.strength+" "+strings.ToLower(m.form)).set("RXSTATUS", status).
			set("DOSE", m.dose).set("FREQUENCY", m.freq).set("FOOD", m.food).set("OTHERDETAIL", m.other).
			set("ROUTE", m.route).set("PRN", prn).set("INSTRUCTIONS", instructions(m)).set("QUANTITY", m.qty).
			set("PRODUCTUNIT", m.unit).set("REPEATS", m.repeats).
			set("DOSESPERDAY", strconv.Itoa(frequencies[m.freq].perDay)).set("ALLOWSUBSTITUTION", 1).
			set("FIRSTDATE", mr.first).set("AUTHORITYNUMBER", "").set("APPROVALNUMBER", "").
			set("SAHCNO", "").set("SCID", "").set("COMMENT", "").
			set("CREATED", at(mr.first, r.between(8*3600, 17*3600))).set("CREATEDBY", doc.id)
		if !mr.last.IsZero() {
			in.set("LASTDATE", mr.last).set("LASTQUANTITY", mr.lastQty).set("LASTREPEATS", mr.lastRpts)
		}
		if mr.indication != nil {
			in.set("INDICATION", mr.indication.name).set("INDICATIONCODE", mr.indication.itemCode)
		}
		in.done()
	}
}

func (pr *patientRecord) writeHistory() {
	r, p := pr.r, pr.p
	for _, pc := range pr.conds {
		c := pc.c
		pr.ids.history++
		day, month := pc.onset.Day(), int(pc.onset.Month())
		switch x := r.IntN(10); {
		case x < 2:
			day = 0
		case x < 3:
			day, month = 0, 0
		}
		status := HistoryActive
		if !c.chronic || (c.key == "backpain" && r.chance(0.5)) {
			status = HistoryInactive
		}
		acute := 0
		if c.fracture || c.key == "backpain" {
			acute = 1
		}
		summary := 0
		if r.chance(0.8) {
			summary = 1
		}
		doc := pr.doctor()
		created := pc.onset
		if pcr := dateOnly(p.created); created.Before(pcr) {
			created = pcr
		}
		in := pr.t.history.row().set("RECORDID", pr.ids.history).set("RECORDSTATUS", RecordLive).set("INTERNALID", p.id).
			set("USERID", doc.id).set("YEAR", pc.onset.Year()).set("MONTH", month).set("DAY", day).
			set("ITEMTEXT", c.name).set("ITEMCODE", c.itemCode).set("STATUSCODE", status).set("LOCATIONCODE", pc.side).
			set("ACUTECODE", acute).set("SUMMARYCODE", summary).set("MOM", "").
			set("CREATED", at(created, r.between(8*3600, 17*3600))).set("CREATEDBY", doc.id)
		if r.chance(0.2) {
			in.set("SEVERITYCODE", r.between(1, 3))
		}
		if c.fracture {
			in.set("FRACTURE", 1)
			if r.chance(0.3) {
				in.set("DISPLACED", 1)
			}
			if ageOn(p.dob, pc.onset) < 12 && r.chance(0.5) {
				in.set("GREENSTICK", 1)
			}
			in.set("DETAILS", "Treated in plaster for 6 weeks.")
		} else if r.chance(0.1) {
			in.set("DETAILS", "Diagnosed "+pc.onset.Format("January 2006")+".")
		}
		in.done()
	}
}

// writeReactions records allergies for about one patient in five and returns KNOWNALLERGIES.
func (pr *patientRecord) writeReactions() int {
	r, p := pr.r, pr.p
	state := []int{AllergiesNotRecorded, AllergiesNilKnown, AllergiesRecorded}[r.weighted([]int{15, 65, 20})]
	if state != AllergiesRecorded {
		return state
	}
	weights := make([]int, len(allergens))
	for i, a := range allergens {
		weights[i] = a.weight
	}
	n := []int{1, 2, 3}[r.weighted([]int{70, 22, 8})]
	used := map[int]bool{}
	for range n {
		i := r.weighted(weights)
		if used[i] {
			continue
		}
		used[i] = true
		a := allergens[i]
		ri := r.IntN(len(a.reactions))
		reaction := a.reactions[ri]
		sev := r.between(1, 2)
		if reaction == "Anaphylaxis" || reaction == "Angioedema" || reaction == "Stevens-Johnson syndrome" {
			sev = 3
		}
		if r.chance(0.15) {
			sev = 0
		}
		rec := RecordLive
		if r.chance(0.05) {
			rec = RecordDeleted // marked inactive
		}
		pr.ids.reaction++
		doc := pr.doctor()
		in := pr.t.reactions.row().set("RECORDID", pr.ids.reaction).set("INTERNALID", p.id).set("USERID", doc.id).
			set("RECORDSTATUS", rec).set("ITEMTYPE", a.itemType).set("ITEMCODE", a.itemCode).set("ITEMNAME", a.name).
			set("REACTIONCODE", ri+1).set("REACTION", reaction).set("SEVERITY", sev).
			set("CREATED", at(p.created.AddDate(0, 0, r.between(0, 400)), r.between(8*3600, 17*3600))).set("CREATEDBY", doc.id)
		if r.chance(0.2) {
			in.set("COMMENT", "As a child")
		}
		in.done()
	}
	return state
}

func (pr *patientRecord) vaccinator() *userInfo {
	if len(pr.g.nurses) > 0 && pr.r.chance(0.7) {
		return pr.g.nurses[pr.r.IntN(len(pr.g.nurses))]
	}
	return pr.doctor()
}

func (pr *patientRecord) writeImmunisations() {
	g, r, p := pr.g, pr.r, pr.p
	give := func(key string, d time.Time, seq int, elsewhere bool) {
		d = dateOnly(d)
		if d.After(pr.end) || d.Before(p.dob) {
			return
		}
		v := vaccineByKey(key)
		pr.ids.imm++
		u := pr.vaccinator()
		route, site := 1, r.between(1, 2)
		if key == "rotarix" {
			route, site = 3, 0
		}
		in := pr.t.imms.row().set("RECORDID", pr.ids.imm).set("RECORDSTATUS", RecordLive).set("INTERNALID", p.id).
			set("GIVENDATE", d).set("VACCINENAME", v.name).set("VACCINEID", v.id).set("SEQUENCE", seq).
			set("CONSENTCODE", 1).set("ROUTE", route).set("INFLUENZA", "").set("Status", 1).
			set("CREATED", at(d, r.between(8*3600, 17*3600))).set("CREATEDBY", u.id)
		if elsewhere {
			in.set("NOTGIVENHERE", GivenElsewhere).set("USERID", u.id).set("BATCHNUMBER", "")
		} else {
			in.set("NOTGIVENHERE", GivenHere).set("USERID", u.id).set("ADMINISTEREDBY", u.id).set("SITECODE", site).
				set("BATCHNUMBER", v.batch+r.digits(4)+r.letters(1)).set("ACIR", 1).
				set("ACIRTRANSMITTED", at(d.AddDate(0, 0, 1), 2*3600)).set("EXPIRYDATE", d.AddDate(0, r.between(4, 18), 0)).
				set("ORDEREDBYLOCATIONID", u.location).set("ADMINISTEREDBYLOCATIONID", u.location)
		}
		in.done()
	}
	// childhood schedule: complete for young children, on some older children's records
	young := p.dob.After(g.today.AddDate(-7, 0, 0)) || (p.dob.After(g.today.AddDate(-18, 0, 0)) && r.chance(0.3))
	for _, dose := range childhoodSchedule {
		if !young {
			break
		}
		if !r.chance(0.95) {
			continue
		}
		d := p.dob.AddDate(0, 0, dose.ageDays+r.between(0, 14))
		for _, k := range dose.keys {
			seq := 1
			switch dose.ageDays {
			case 120:
				seq = 2
			case 180:
				seq = 3
			}
			give(k, d, seq, r.chance(0.1))
		}
	}
	// school programme at 12-13
	if pr.age >= 12 && pr.age <= 25 && r.chance(0.8) {
		d := p.dob.AddDate(12, r.between(3, 9), 0)
		give("gardasil", d, 1, r.chance(0.8))
		give("boostrix", d, 1, r.chance(0.8))
	}
	age := pr.age
	// influenza, the last three seasons
	for y := g.today.Year() - 2; y <= g.today.Year(); y++ {
		ageThen := y - p.dob.Year()
		prob := 0.35
		key := []string{"vaxigrip", "afluria"}[r.IntN(2)]
		if ageThen >= 65 {
			prob, key = 0.7, "fluad"
		}
		if ageThen < 1 {
			continue
		}
		if r.chance(prob) {
			give(key, time.Date(y, time.April, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(75)), 1, r.chance(0.2))
		}
	}
	// COVID-19
	if ageOn(p.dob, time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)) >= 18 && r.chance(0.85) {
		key := []string{"comirnaty", "spikevax"}[r.weighted([]int{80, 20})]
		d1 := time.Date(2021, time.May, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(150))
		give(key, d1, 1, r.chance(0.6))
		if r.chance(0.9) {
			give(key, d1.AddDate(0, 0, r.between(21, 56)), 2, r.chance(0.6))
		}
		if r.chance(0.4) {
			give("comirnaty", time.Date(2022, time.January, 10, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(90)), 3, r.chance(0.6))
		}
	}
	// older adults
	if age >= 65 && r.chance(0.3) {
		d := time.Date(2023, time.November, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(700))
		give("shingrix", d, 1, false)
		give("shingrix", d.AddDate(0, r.between(2, 6), 0), 2, false)
	}
	if age >= 70 && r.chance(0.4) {
		give([]string{"pneumovax", "prevenar"}[r.IntN(2)], g.today.AddDate(0, 0, -r.between(30, 2000)), 1, false)
	}
	if age >= 75 && r.chance(0.15) {
		give("arexvy", time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(400)), 1, r.chance(0.3))
	}
	if age >= 18 && r.chance(0.1) {
		give("boostrix", g.today.AddDate(0, 0, -r.between(30, 3000)), 1, false)
	}
}

func (pr *patientRecord) writeInvestigations() {
	r, p := pr.r, pr.p
	if pr.age < 16 {
		return
	}
	labs := map[string]int{} // panel -> interval in days
	for _, pc := range pr.conds {
		for _, l := range pc.c.labs {
			iv := 365
			if l == "hba1c" {
				iv = 182
			}
			labs[l] = iv
		}
	}
	for _, m := range pr.meds {
		if m.m.key == "warfarin" {
			labs["inr"] = 91
		}
	}
	if len(labs) == 0 && pr.age >= 40 && r.chance(0.35) {
		labs["lipids"], labs["glucose"] = 730, 730
	}
	if len(labs) == 0 {
		return
	}
	keys := make([]string, 0, len(labs))
	for k := range labs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	start := pr.end.AddDate(0, -18, 0)
	if c := dateOnly(p.created); c.After(start) {
		start = c
	}
	for _, k := range keys {
		iv := labs[k]
		for d := start.AddDate(0, 0, r.IntN(iv)); !d.After(pr.end.AddDate(0, 0, -2)); d = d.AddDate(0, 0, iv+r.between(-20, 40)) {
			pr.writeReport(panels[k], d)
		}
	}
}

func (pr *patientRecord) value(a analyte) float64 {
	r := pr.r
	diabetic := pr.has("t2dm") || pr.has("t1dm")
	statin := false
	for _, m := range pr.meds {
		if m.m.key == "atorvastatin" || m.m.key == "rosuvastatin" {
			statin = true
		}
	}
	ckd := pr.has("ckd")
	switch a.name {
	case "HbA1c":
		if diabetic {
			return clamp(r.normal(7.3, 1.0), 5.5, 13)
		}
		return clamp(r.normal(5.4, 0.3), 4.5, 6.4)
	case "Cholesterol":
		if statin {
			return clamp(r.normal(4.2, 0.7), 2.5, 7)
		}
		return clamp(r.normal(5.3, 0.9), 3, 9)
	case "Triglycerides":
		return clamp(r.normal(1.4, 0.6), 0.4, 6)
	case "HDL cholesterol":
		return clamp(r.normal(1.4, 0.35), 0.6, 3)
	case "LDL cholesterol":
		if statin {
			return clamp(r.normal(2.1, 0.6), 0.8, 5)
		}
		return clamp(r.normal(3.1, 0.8), 1, 6.5)
	case "Sodium":
		return clamp(r.normal(140, 2.5), 128, 150)
	case "Potassium":
		return clamp(r.normal(4.3, 0.4), 3.0, 6.0)
	case "Urea":
		if ckd {
			return clamp(r.normal(11, 3), 5, 25)
		}
		return clamp(r.normal(5.5, 1.3), 2.5, 10)
	case "Creatinine":
		if ckd {
			return clamp(r.normal(150, 40), 90, 400)
		}
		return clamp(r.normal(78, 15), 45, 120)
	case "eGFR":
		if ckd {
			return clamp(r.normal(45, 12), 10, 59)
		}
		return clamp(r.normal(100-0.7*float64(max(0, pr.age-40)), 10), 45, 120)
	case "Albumin/Creatinine ratio":
		if diabetic || ckd {
			return clamp(r.normal(4, 4), 0.3, 40)
		}
		return clamp(r.normal(1.0, 0.6), 0.1, 5)
	case "INR":
		return clamp(r.normal(2.5, 0.5), 1.2, 5)
	case "Glucose (fasting)":
		if diabetic {
			return clamp(r.normal(8, 2), 4.5, 18)
		}
		return clamp(r.normal(5.1, 0.5), 3.8, 7)
	case "TSH":
		return clamp(r.normal(2.0, 1.2), 0.05, 12)
	case "Haemoglobin":
		if pr.p.sex == SexFemale {
			return clamp(r.normal(135, 11), 90, 170)
		}
		return clamp(r.normal(148, 12), 95, 185)
	case "White cell count":
		return clamp(r.normal(7, 1.8), 2.5, 16)
	case "Platelets":
		return clamp(r.normal(260, 60), 90, 500)
	}
	return 0
}

func (pr *patientRecord) writeReport(pn panel, collected time.Time) {
	g, r, p := pr.g, pr.r, pr.p
	doc := pr.doctor()
	if doc.started.After(collected) {
		doc = g.doctors[0]
	}
	reported := collected.AddDate(0, 0, 1)
	reportTime := r.between(6*3600, 20*3600)
	pr.ids.report++
	rid := pr.ids.report
	lab := labNames[r.IntN(len(labNames))]
	normal := 1
	var body strings.Builder
	fmt.Fprintf(&body, "%s\r\nCollected: %s\r\n\r\n", strings.ToUpper(pn.testName), collected.Format("02/01/2006"))
	type line struct {
		a    analyte
		v    string
		flag string
	}
	var lines []line
	for _, a := range pn.analytes {
		v := pr.value(a)
		if a.name == "HbA1c (IFCC)" && len(lines) > 0 {
			// derived from the % value with the IFCC master equation
			pct, _ := strconv.ParseFloat(lines[0].v, 64)
			v = (pct - 2.15) * 10.929
		}
		s := fmtFloat(v, a.decimals)
		flag := ""
		switch {
		case v > a.hi:
			flag = "H"
		case v < a.lo:
			flag = "L"
		}
		if a.name == "eGFR" && v > 90 {
			s, flag = ">90", ""
		}
		if flag != "" {
			normal = 0
		}
		lines = append(lines, line{a, s, flag})
		fmt.Fprintf(&body, "%-26s %8s %-3s %-14s (%s)\r\n", a.name, s, flag, a.units, a.rng)
	}
	checked := reported.AddDate(0, 0, r.between(1, 4))
	in := pr.t.invs.row().set("REPORTID", rid).set("RECORDSTATUS", RecordLive).set("INTERNALID", p.id).set("USERID", doc.id).
		set("IMPORTDATE", at(reported, reportTime)).set("REQUESTDATE", collected.AddDate(0, 0, -r.between(0, 7))).
		set("PROVIDERREFERENCE", fmt.Sprintf("%02d-%s", collected.Year()%100, r.digits(7))).set("PROVIDERNAME", lab).
		set("COLLECTIONDATE", collected).set("TESTNAME", pn.testName).set("REPORTDATE", reported).
		set("REPORTTIME", reportTime).set("REPORTBODY", []byte(body.String())).set("NORMALFLAG", normal).
		set("COMPLETIONFLAG", 1).set("COMMENT", "").set("CREATED", at(reported, reportTime)).set("CREATEDBY", -doc.id)
	if !checked.After(g.today) {
		notation, action := 1, 1
		if normal == 0 {
			notation = 2
			action = []int{1, 2, 4}[r.IntN(3)]
		}
		in.set("CHECKDATE", checked).set("CHECKEDBY", doc.id).set("NOTATION", notation).set("ACTION", action).
			set("ACTIONED", 1).set("ACTIONDATE", checked)
	}
	in.done()
	for _, l := range lines {
		pr.ids.value++
		pr.t.values.row().set("RECORDID", pr.ids.value).set("RECORDSTATUS", RecordLive).set("INTERNALID", p.id).
			set("REPORTID", rid).set("REPORTDATE", reported).set("DATATYPE", "NM").set("LOINCCODE", l.a.loinc).
			set("BPCODE", l.a.bpCode).set("RESULTNAME", l.a.name).set("RESULTVALUE", l.v).set("UNITS", l.a.units).
			set("RANGE", l.a.rng).set("ABNORMALFLAG", l.flag).set("CREATED", at(reported, reportTime)).
			set("CREATEDBY", -doc.id).done()
	}
}

var causesOfDeath = []string{"Ischaemic heart disease", "Dementia", "Cerebrovascular disease", "Lung cancer",
	"Chronic obstructive pulmonary disease", "Pneumonia", "Colorectal cancer", "Heart failure", "Old age"}

func (pr *patientRecord) writeClinicalRow(knownAllergies int) {
	r, p := pr.r, pr.p
	age := pr.age
	in := pr.t.clinical.row().set("INTERNALID", p.id).set("KNOWNALLERGIES", knownAllergies).
		set("CREATED", p.created).set("CREATEDBY", pr.doctor().id).set("OTHERCOMMENT", "")
	if len(pr.conds) == 0 && r.chance(0.5) {
		in.set("PASTHISTORY", 1)
	}
	if r.chance(0.2) {
		in.set("FAMILYHISTORY", 1)
	}
	switch {
	case age >= 14:
		in.set("SMOKINGSTATUS", []int{0, 1, 2, 3}[r.weighted([]int{10, 55, 22, 13})])
	case r.chance(0.5):
		in.set("SMOKINGSTATUS", 1)
	}
	if age >= 18 {
		in.set("ALCOHOLSTATUS", []int{0, 1, 2, 3, 4}[r.weighted([]int{15, 20, 35, 25, 5})])
		in.set("MARITALSTATUS", []int{0, 1, 2, 3, 4, 5, 6}[r.weighted([]int{20, 25, 35, 8, 3, 6, 3})])
		if age >= 75 && r.chance(0.4) {
			in.set("MARITALSTATUS", 6)
		}
		if r.chance(0.3) {
			in.set("SEXUALITY", []int{1, 2, 3, 4}[r.weighted([]int{90, 5, 4, 1})])
		}
		if r.chance(0.6) {
			acc := []int{1, 2, 3, 4, 5}[r.weighted([]int{66, 29, 2, 2, 1})]
			if age >= 85 && r.chance(0.3) {
				acc = 3
			}
			in.set("ACCOMODATION", acc).set("LIVESWITH", []int{1, 2, 3, 4}[r.weighted([]int{25, 50, 20, 5})])
		}
		if job := strings.ToLower(r.pick(occupations)); r.chance(0.15) {
			if age >= 67 {
				in.set("SOCIALHX", "Retired ("+job+").")
			} else {
				in.set("SOCIALHX", "Works as "+job+".")
			}
		}
	}
	if age >= 67 && r.chance(0.85) {
		in.set("RETIRED", 1)
	}
	if age >= 70 {
		in.set("HASCARER", []int{0, 1, 2}[r.weighted([]int{70, 20, 10})])
		if r.chance(0.25) {
			in.set("ACD", 1)
		}
		if r.chance(0.2) {
			in.set("POWEROFATTORNEY", 1)
		}
	}
	if (pr.has("af") || pr.has("hf")) && r.chance(0.1) {
		in.set("PACEMAKER", 1)
	}
	if r.chance(0.25) {
		in.set("BLOODGROUP", []string{"O", "A", "B", "AB"}[r.weighted([]int{45, 38, 12, 5})]).
			set("RH", []int{1, 2}[r.weighted([]int{83, 17})])
	}
	if !p.dod.IsZero() {
		in.set("CAUSEOFDEATH", r.pick(causesOfDeath))
	}
	if r.chance(0.3) {
		in.set("PCEHR", 1)
	}
	in.done()
}
