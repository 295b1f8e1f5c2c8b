package bpsynth

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Patients: PATIENTS rows, generated household by household so that family members share a
// surname, an address, a home phone and a Medicare card (each with their own IRN), as they do
// in a real practice.

type patientInfo struct {
	idx, id int
	sex     int
	dob     time.Time
	first   string
	last    string
	state   string
	usual   *userInfo // nil: no usual doctor
	status  int       // PATIENTSTATUS
	record  int       // RECORDSTATUS
	dod     time.Time // zero when alive
	created time.Time
	dva     bool
	conc    bool // concession card holder
	indig   bool
}

// active reports whether the patient is live and active (may book appointments).
func (p *patientInfo) active() bool { return p.record == RecordLive && p.status == PatientActive }

var healthFunds = []string{"Medibank", "Bupa", "HCF", "nib", "HBF", "Australian Unity", "Teachers Health", "GMHBA"}
var religions = []string{"Catholic", "Anglican", "Uniting Church", "Greek Orthodox", "Buddhist", "Islam", "Hindu", "No religion"}

// adultAge draws an adult age (18-96) weighted roughly like a GP practice's adults.
func adultAge(r *rng) int {
	switch r.weighted([]int{12, 28, 27, 20, 10, 3}) {
	case 0:
		return r.between(18, 24)
	case 1:
		return r.between(25, 44)
	case 2:
		return r.between(45, 64)
	case 3:
		return r.between(65, 79)
	case 4:
		return r.between(80, 89)
	}
	return r.between(90, 96)
}

func (g *gen) dobForAge(r *rng, age int) time.Time {
	// a birthday between age and age+1 years before Today, never before 1930-01-01
	d := g.today.AddDate(-age-1, 0, 1+r.IntN(364))
	if d.After(g.today) {
		d = g.today.AddDate(0, 0, -r.between(1, 60))
	}
	if floor := time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC); d.Before(floor) {
		d = floor.AddDate(0, 0, r.IntN(365))
	}
	return dateOnly(d)
}

func (g *gen) writePatients(r *rng) {
	in := g.w.table("PATIENTS")
	var former *userInfo
	for _, u := range g.users {
		if !u.active && u.title == TitleDr {
			former = u
		}
	}
	for len(g.patients) < g.opt.Patients {
		g.household(r, in, former)
	}
	for _, d := range g.doctors {
		d.panel = d.panel[:0]
	}
	for i, p := range g.patients {
		if p.usual != nil && p.usual.active && p.active() {
			p.usual.panel = append(p.usual.panel, i)
		}
	}
}

// household writes one household of 1-5 patients.
func (g *gen) household(r *rng, in *inserter, former *userInfo) {
	size := []int{1, 2, 3, 4, 5}[r.weighted([]int{30, 28, 15, 17, 10})]
	grpIdx := r.weighted(groupWeights())
	grp := nameGroups[grpIdx]
	headAge := adultAge(r)
	if headAge > 60 && size > 2 {
		size = 2
	}
	if headAge < 22 && size > 2 {
		size = 1
	}
	if rem := g.opt.Patients - len(g.patients); size > rem {
		size = rem
	}

	// shared by the household
	sub := g.practice.local[r.IntN(len(g.practice.local))]
	if r.chance(0.12) {
		sub = suburbs[r.IntN(len(suburbs))]
	}
	st := stateByCode(sub.state)
	street := fmt.Sprintf("%d %s %s", r.between(1, 250), r.pick(streetNames), r.pick(streetTypes))
	if r.chance(0.2) {
		if r.chance(0.5) {
			street = fmt.Sprintf("%d/%s", r.between(1, 40), street)
		} else {
			street = fmt.Sprintf("Unit %d, %s", r.between(1, 40), street)
		}
	}
	postal := ""
	if r.chance(0.05) {
		postal = fmt.Sprintf("PO Box %d", r.between(1, 2999))
	}
	homePhone := ""
	if r.chance(0.45) {
		homePhone = g.landline(r, st)
	}
	surname := r.pick(grp.surname)
	medicare := ""
	if r.chance(0.93) {
		medicare = newMedicare(r, g.usedMedi)
	}
	expiry := g.today.AddDate(0, r.between(-2, 60), 0)
	doctor := g.pickUsualDoctor(r, former)
	headMobile := mobile(r)
	headID := len(g.patients) + 1

	headSex := SexMale
	if r.chance(0.52) {
		headSex = SexFemale
	}
	for m := 0; m < size; m++ {
		p := &patientInfo{idx: len(g.patients), id: len(g.patients) + 1, state: st.code, usual: doctor,
			status: PatientActive, record: RecordLive}
		last := surname
		var age int
		switch {
		case m == 0:
			age = headAge
			p.sex = headSex
		case m == 1 && (size == 2 && r.chance(0.8) || size > 2 && r.chance(0.85)):
			// partner
			age = max(18, min(96, headAge+r.between(-6, 6)))
			p.sex = SexFemale + SexMale - headSex
			if r.chance(0.06) {
				p.sex = headSex
			}
			if r.chance(0.3) {
				last = r.pick(grp.surname)
			}
		default:
			// child: at least 18 years younger than the head
			age = r.between(0, max(0, min(17, headAge-18)))
			p.sex = []int{SexMale, SexFemale}[r.IntN(2)]
			if r.chance(0.1) {
				last = surname + "-" + r.pick(nameGroups[0].surname)
				if len(last) > 40 || strings.Count(last, "-") > 1 {
					last = surname
				}
			}
		}
		switch x := r.IntN(1000); {
		case x < 4:
			p.sex = SexOther
		case x < 10:
			p.sex = SexNotStated
		}
		p.dob = g.dobForAge(r, age)
		if r.chance(0.1) {
			p.usual = g.pickUsualDoctor(r, former)
		}
		p.last = last
		g.writePatient(r, in, p, patientShared{grp: grp, street: street, sub: sub, postal: postal,
			homePhone: homePhone, medicare: medicare, irn: m + 1, expiry: expiry, headID: headID,
			headMobile: headMobile, headSurname: surname, st: st})
		g.patients = append(g.patients, p)
	}
}

type patientShared struct {
	grp         nameGroup
	street      string
	sub         suburb
	postal      string
	homePhone   string
	medicare    string
	irn         int
	expiry      time.Time
	headID      int
	headMobile  string
	headSurname string
	st          state
}

func stateByCode(code string) state {
	for _, s := range states {
		if s.code == code {
			return s
		}
	}
	return states[0]
}

// pickUsualDoctor chooses the usual doctor: an active doctor mostly, sometimes the former
// (inactive) doctor whose patients were never reassigned, sometimes none.
func (g *gen) pickUsualDoctor(r *rng, former *userInfo) *userInfo {
	switch x := r.IntN(100); {
	case x < 5:
		return nil
	case x < 12 && former != nil:
		return former
	}
	return g.doctors[r.IntN(len(g.doctors))]
}

func (g *gen) writePatient(r *rng, in *inserter, p *patientInfo, h patientShared) {
	age := ageOn(p.dob, g.today)
	names := h.grp.male
	if p.sex == SexFemale || (p.sex != SexMale && r.chance(0.5)) {
		names = h.grp.female
	}
	p.first = r.pick(names)
	middle := ""
	if r.chance(0.6) {
		if middle = r.pick(names); middle == p.first {
			middle = ""
		}
	}
	preferred := ""
	if nick, ok := preferredNames[p.first]; ok && r.chance(0.35) {
		preferred = nick
	}

	// status: deceased (~2%, mostly the old), inactive (~2%), deleted (~1%)
	deathP := 0.003
	switch {
	case age >= 80:
		deathP = 0.10
	case age >= 65:
		deathP = 0.03
	case age >= 45:
		deathP = 0.008
	}
	switch {
	case r.chance(deathP):
		p.status = PatientDeceased
		p.dod = g.today.AddDate(0, 0, -r.between(30, 6*365))
		if p.dod.Before(p.dob) {
			p.dod = p.dob.AddDate(0, 0, r.between(1, 300))
		}
	case r.chance(0.02):
		p.status = PatientInactive
	}
	if r.chance(0.01) {
		p.record = RecordDeleted
	}

	title := TitleNone
	switch {
	case p.sex == SexOther:
		title = TitleMx
	case p.sex == SexNotStated:
		title = TitleNone
	case age >= 25 && r.chance(0.02):
		title = TitleDr
	case p.sex == SexMale && age < 16:
		title = TitleMaster
	case p.sex == SexMale:
		title = TitleMr
	case age < 18:
		title = TitleMiss
	case p.last == h.headSurname && h.irn <= 2 && r.chance(0.6):
		title = TitleMrs
	case age < 30 && r.chance(0.4):
		title = TitleMiss
	default:
		title = TitleMs
	}

	created := g.setupDate.AddDate(0, 0, r.IntN(max(1, daysBetween(g.setupDate, g.today)-30)))
	if created.Before(p.dob) {
		created = p.dob.AddDate(0, 0, r.between(0, 60))
	}
	if !p.dod.IsZero() && created.After(p.dod) {
		created = p.dod.AddDate(0, 0, -r.between(30, 700))
	}
	if created.After(g.today) {
		created = g.today
	}
	p.created = at(created, r.between(8*3600, 17*3600))

	in.row().set("INTERNALID", p.id).set("RECORDSTATUS", p.record).set("EXTERNALID", "").
		set("PATIENTSTATUS", p.status).set("TITLECODE", title).set("FIRSTNAME", p.first).set("MIDDLENAME", middle).
		set("SURNAME", p.last).set("PREFERREDNAME", preferred).set("ADDRESS1", h.street).set("ADDRESS2", "").
		set("CITY", h.sub.name).set("POSTCODE", h.sub.postcode).set("DOB", p.dob).set("SEXCODE", p.sex).
		set("HOMEPHONE", h.homePhone).set("SAFETYNETNO", "").set("RELIGION", "").set("HEALTHFUNDNO", "").
		set("COUNTRY", "").set("POSTALCOUNTRY", "").set("HEADOFFAMILYID", h.headID).
		set("CREATED", p.created).set("CREATEDBY", g.clerkID(r))
	if h.postal != "" {
		in.set("POSTALADDRESS", h.postal).set("POSTALCITY", h.sub.name).set("POSTALPOSTCODE", h.sub.postcode)
	} else {
		in.set("POSTALADDRESS", "").set("POSTALCITY", "").set("POSTALPOSTCODE", "")
	}
	if !p.dod.IsZero() {
		in.set("DATEOFDEATH", p.dod)
	}
	if p.usual != nil {
		in.set("USERID", p.usual.id)
	}
	// contact details
	mob := ""
	switch {
	case age >= 14 && r.chance(0.9):
		mob = mobile(r)
		if h.irn == 1 {
			mob = h.headMobile
		}
	case age < 14 && r.chance(0.5):
		mob = h.headMobile // a parent's mobile on the child's record
	}
	in.set("MOBILEPHONE", mob)
	if mob != "" && r.chance(0.7) {
		in.set("CONSENTSMSREMINDER", 1)
	}
	work := ""
	if age >= 20 && age < 67 && r.chance(0.1) {
		work = g.landline(r, h.st)
	}
	in.set("WORKPHONE", work)
	if age >= 16 && r.chance(0.6) {
		local := strings.ToLower(p.first + "." + p.last)
		local = strings.NewReplacer(" ", "", "'", "", "-", "").Replace(local)
		if r.chance(0.4) {
			local += strconv.Itoa(r.between(1, 99))
		}
		in.set("EMAIL", local+"@"+r.pick(emailDomains))
	}
	// Medicare, IHI, DVA, concessions
	if h.medicare != "" && (age < 18 || r.chance(0.97)) {
		in.set("MEDICARENO", h.medicare).set("MEDICARELINENO", strconv.Itoa(min(h.irn, 9))).
			set("MEDICAREEXPIRY", h.expiry.Format("01/2006"))
	} else {
		in.set("MEDICARENO", "").set("MEDICARELINENO", "").set("MEDICAREEXPIRY", "")
	}
	if r.chance(0.88) {
		in.set("IHI", newHI(r, PrefixIHI, g.usedHI)).set("IHISTATUS", 1).set("IHIRECORDSTATUS", 1).set("IHISOURCE", 1).
			set("IHIVALIDATED", at(p.created.AddDate(0, 0, r.between(0, 30)), r.between(8*3600, 17*3600)))
	} else {
		in.set("IHI", "")
	}
	dvaP := 0.003
	switch {
	case age >= 70:
		dvaP = 0.14
	case age >= 50:
		dvaP = 0.015
	}
	if age >= 18 && r.chance(dvaP) {
		p.dva = true
		code := DVAGold
		if r.chance(0.3) {
			code = DVAWhite
		}
		in.set("DVACODE", code).set("DVANO", newDVA(r, h.st.code))
	} else {
		in.set("DVANO", "")
	}
	pension := 0
	switch {
	case age >= 65 && r.chance(0.6):
		pension = 1
	case age >= 65 && r.chance(0.3):
		pension = 3
	case age >= 18 && r.chance(0.1):
		pension = 2
	}
	if pension != 0 {
		p.conc = true
		in.set("PENSIONCODE", pension).set("PENSIONNO", r.digits(9)+r.letters(1)).
			set("PENSIONSTART", g.today.AddDate(-r.between(1, 15), -r.IntN(12), 0)).
			set("PENSIONEXPIRY", g.today.AddDate(r.between(0, 2), r.between(1, 11), 0))
	} else {
		in.set("PENSIONNO", "")
	}
	eth := 0
	switch x := r.IntN(1000); {
	case x < 30:
		eth = 1
	case x < 33:
		eth = 2
	case x < 38:
		eth = 3
	case x < 600:
		eth = 4
	}
	p.indig = eth >= 1 && eth <= 3
	in.set("ETHNICCODE", eth)
	if age >= 18 && r.chance(0.45) {
		in.set("HEALTHFUNDNAME", r.pick(healthFunds)).set("HEALTHFUNDNO", r.digits(r.between(7, 10)))
	}
	if r.chance(0.1) {
		in.set("RELIGION", r.pick(religions))
	}
	if r.chance(0.3) {
		in.set("RECORDNO", strconv.Itoa(p.id))
	} else {
		in.set("RECORDNO", "")
	}
	if upd := at(g.today.AddDate(0, 0, -r.between(1, 700)), r.between(8*3600, 17*3600)); r.chance(0.3) && upd.After(p.created) {
		in.set("UPDATED", upd).set("UPDATEDBY", g.clerkID(r))
	}
	in.done()
}

// clerkID returns the id of a user who does front-desk work.
func (g *gen) clerkID(r *rng) int {
	return g.clerks[r.IntN(len(g.clerks))].id
}
