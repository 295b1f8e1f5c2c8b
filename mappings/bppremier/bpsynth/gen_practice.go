package bpsynth

import (
	"fmt"
	"strings"
	"time"
)

// The practice: PRACTICE, LOCATIONS, USERS, PROVIDER_LOCATION.

type practiceInfo struct {
	name  string
	hpio  string
	abn   string // 11 digits
	state state
	local []suburb // suburbs of the practice's state (most patients live there)
}

type locationInfo struct {
	id     int
	name   string
	suburb suburb
	phone  string
	hpio   string
}

type userInfo struct {
	id          int
	group       int
	title       int
	first, last string
	display     string // "Dr Jane Citizen"
	location    int    // primary LOCATIONID
	active      bool
	bookable    bool // appears in the appointment book
	slot        int  // appointment slot length in seconds
	started     time.Time
	left        time.Time // INACTIVEDATE of a former user
	stem        string
	providerNos map[int]string // LOCATIONID -> provider number
	hpii        string
	panel       []int // indexes of patients whose usual doctor this is
}

func (g *gen) writePractice(r *rng) {
	st := stateByCode(g.opt.State)
	p := practiceInfo{name: r.pick(practiceNames), hpio: newHI(r, PrefixHPIO, g.usedHI), abn: newABN(r), state: st}
	for _, s := range suburbs {
		if s.state == st.code {
			p.local = append(p.local, s)
		}
	}
	g.practice = p

	in := g.w.table("PRACTICE")
	in.row().set("PRACTICEID", 1).set("RECORDSTATUS", RecordLive).set("PRACTICENAME", p.name).set("HPIO", p.hpio).
		set("ABN", FormatABN(p.abn)).set("VSPNUMBER", "").set("PIPNUMBER", "").set("SERIALNUMBER", r.digits(8)).
		set("CREATED", g.setupDate).set("CREATEDBY", 1).set("PCEHR", 1).set("COUNTRY", 1).done()

	// Two locations in different suburbs of the same state.
	first := r.IntN(len(p.local))
	second := (first + 1 + r.IntN(len(p.local)-1)) % len(p.local)
	for i, si := range []int{first, second} {
		sub := p.local[si]
		loc := locationInfo{id: i + 1, suburb: sub, phone: g.landline(r, st), hpio: p.hpio}
		loc.name = p.name
		if i > 0 {
			loc.name = p.name + " - " + sub.name
			loc.hpio = newHI(r, PrefixHPIO, g.usedHI) // a network organisation with its own HPI-O
		}
		g.locations = append(g.locations, loc)
		addr := fmt.Sprintf("Shop %d, %d %s %s", r.between(1, 12), r.between(1, 400), r.pick(streetNames), r.pick(streetTypes))
		if i > 0 {
			addr = fmt.Sprintf("Suite %d, %d %s %s", r.between(1, 9), r.between(1, 250), r.pick(streetNames), r.pick(streetTypes))
		}
		g.w.table("LOCATIONS").row().set("LOCATIONID", loc.id).set("RECORDSTATUS", RecordLive).set("LOCATIONCODE", loc.id).
			set("LOCATIONNAME", loc.name).set("ADDRESS1", addr).set("ADDRESS2", "").set("CITY", sub.name).
			set("POSTCODE", sub.postcode).set("HPIO", loc.hpio).set("RRMA", 1).set("PHONE", loc.phone).
			set("AHPHONE", g.landline(r, st)).set("FAX", g.landline(r, st)).
			set("EMAIL", fmt.Sprintf("reception%d@%s", loc.id, emailDomains[0])).
			set("CREATED", g.setupDate).set("CREATEDBY", 1).set("ABN", FormatABN(p.abn)).done()
	}

	g.writeUsers(r)
}

// writeUsers creates about one doctor per 400 patients (at least three), nurses, reception
// staff, a practice manager and one former doctor who is inactive.
func (g *gen) writeUsers(r *rng) {
	nDoctors := max(3, (g.opt.Patients+399)/400)
	nNurses := max(1, nDoctors/4)
	nClerks := max(1, nDoctors/5)
	type spec struct {
		group  int
		active bool
	}
	var specs []spec
	specs = append(specs, spec{GroupPrincipal, true})
	for i := 1; i < nDoctors; i++ {
		grp := GroupDoctor
		if i%7 == 3 {
			grp = GroupRegistrar
		}
		specs = append(specs, spec{grp, true})
	}
	for range nNurses {
		specs = append(specs, spec{GroupNurse, true})
	}
	for range nClerks {
		specs = append(specs, spec{GroupReceptionist, true})
	}
	specs = append(specs, spec{GroupManager, true}, spec{GroupDoctor, false})

	stemUsed := g.usedStem
	for i, s := range specs {
		grp := nameGroups[r.weighted(groupWeights())]
		female := r.chance(0.55)
		if s.group == GroupNurse || s.group == GroupReceptionist || s.group == GroupManager {
			female = r.chance(0.85)
		}
		first := r.pick(grp.male)
		if female {
			first = r.pick(grp.female)
		}
		u := &userInfo{id: i + 1, group: s.group, first: first, last: r.pick(grp.surname), active: s.active,
			location: 1, providerNos: map[int]string{}}
		switch {
		case s.group == GroupPrincipal || s.group == GroupDoctor || s.group == GroupRegistrar:
			u.title = TitleDr
			u.bookable = true
			u.slot = 900
			if r.chance(0.25) {
				u.slot = 600
			}
		case female:
			u.title = []int{TitleMs, TitleMrs}[r.IntN(2)]
		default:
			u.title = TitleMr
		}
		if s.group == GroupNurse {
			u.bookable, u.slot = true, 900
		}
		if len(g.locations) > 1 && i > 0 && r.chance(0.3) {
			u.location = 2
		}
		u.started = g.setupDate.AddDate(r.between(0, 10), r.between(0, 11), r.between(0, 27))
		if u.started.After(g.today.AddDate(0, -2, 0)) {
			u.started = g.today.AddDate(-1, -r.between(2, 11), 0)
		}
		u.display = displayName(codeTextOf(titles, u.title), u.first, u.last)
		g.users = append(g.users, u)
		if !u.active {
			continue
		}
		switch s.group {
		case GroupNurse:
			g.nurses = append(g.nurses, u)
		case GroupReceptionist, GroupManager:
			g.clerks = append(g.clerks, u)
		default:
			g.doctors = append(g.doctors, u)
		}
	}

	users := g.w.table("USERS")
	pl := g.w.table("PROVIDER_LOCATION")
	plID := 0
	for _, u := range g.users {
		isDoctor := u.title == TitleDr
		in := users.row().set("USERID", u.id).set("RECORDSTATUS", RecordLive).set("LOCATIONID", u.location).
			set("GROUPCODE", u.group).set("TITLECODE", u.title).set("SURNAME", u.last).set("FIRSTNAME", u.first).
			set("PASSWORD", "").set("CPDNO", "").set("PHONE", g.locations[u.location-1].phone).
			set("MOBILEPHONE", mobile(r)).set("PAGER", "").
			set("EMAIL", strings.ToLower(fmt.Sprintf("%c.%s@%s", u.first[0], strings.NewReplacer(" ", "", "'", "").Replace(u.last), emailDomains[0]))).
			set("PKIKEY", "").set("APPOINTMENTS", u.bookable).set("CREATED", u.started).set("CREATEDBY", 1)
		if u.active {
			in.set("USERSTATUS", UserActive)
		} else {
			u.left = g.today.AddDate(-1, -r.between(1, 6), 0)
			in.set("USERSTATUS", UserInactive).set("INACTIVEDATE", u.left)
		}
		if isDoctor || u.group == GroupNurse {
			u.hpii = newHI(r, PrefixHPII, g.usedHI)
			prefix := "MED"
			if u.group == GroupNurse {
				prefix = "NMW"
			}
			in.set("HPII", u.hpii).set("HPIIVALIDATED", g.today.AddDate(0, -r.between(1, 20), 0)).
				set("REGISTRATIONNO", prefix+"000"+r.digits(7))
		}
		if isDoctor {
			u.stem = newProviderStem(r, stemUsed)
			// a provider number per location the doctor works at; every doctor can work at both.
			chars := r.Perm(len(providerLocationChars))
			for li, loc := range g.locations {
				u.providerNos[loc.id] = providerNumber(u.stem, providerLocationChars[chars[li]])
			}
			in.set("PROVIDERNO", u.providerNos[u.location]).set("PRESCRIBERNO", string(byte('1'+r.IntN(9)))+r.digits(6)).
				set("ACCOUNTS", 1).set("DEFAULTITEM", "23").set("VR", 1).set("ERXID", "")
			if r.chance(0.5) {
				in.set("ABN", FormatABN(newABN(r)))
			}
			for _, loc := range g.locations {
				plID++
				pl.row().set("RECORDID", plID).set("RECORDSTATUS", RecordLive).set("USERID", u.id).
					set("LOCATIONID", loc.id).set("PROVIDERNUMBER", u.providerNos[loc.id]).
					set("CREATED", u.started).set("CREATEDBY", 1).done()
			}
		}
		in.done()
	}
}

func groupWeights() []int {
	w := make([]int, len(nameGroups))
	for i, g := range nameGroups {
		w[i] = g.weight
	}
	return w
}

// landline makes a number in the ranges the ACMA reserves for fiction ((0x) 5550 xxxx and
// (0x) 7010 xxxx), so no generated number belongs to anyone.
func (g *gen) landline(r *rng, st state) string {
	mid := "5550"
	if r.chance(0.5) {
		mid = "7010"
	}
	return fmt.Sprintf("(%s) %s %s", st.areaCode, mid, r.digits(4))
}

// mobile makes an 04xx xxx xxx number.
func mobile(r *rng) string {
	return fmt.Sprintf("04%s %s %s", r.digits(2), r.digits(3), r.digits(3))
}
