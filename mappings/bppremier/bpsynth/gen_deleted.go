package bpsynth

import (
	"fmt"
	"strings"
)

// streamDeleted is the random stream of writeDeleted, apart from the others so that adding
// deleted rows changes nothing else.
const streamDeleted = streamClinicalBase - 1

// writeDeleted adds deleted rows (RECORDSTATUS 0) to the small tables the FHIR mappings read,
// each placed where it would show if a mapping forgot the flag: a closed practice and
// location, a deleted doctor (and one with USERSTATUS 999) with live rows pointing at them, a
// deleted provider number, session, extra session, day away and appointment type. It runs
// last, so their ids follow the live rows'. The big tables get theirs as they are written
// (deletedEvery).
func (g *gen) writeDeleted(r *rng) {
	next := func(table string) int { return int(g.w.table(table).total) + 1 }
	loc := g.locations[0]
	doc := g.doctors[0]

	g.w.table("PRACTICE").row().set("PRACTICEID", next("PRACTICE")).set("RECORDSTATUS", RecordDeleted).
		set("PRACTICENAME", g.practice.name+" (old entity)").set("HPIO", newHI(r, PrefixHPIO, g.usedHI)).
		set("ABN", FormatABN(newABN(r))).set("VSPNUMBER", "").set("PIPNUMBER", "").set("SERIALNUMBER", r.digits(8)).
		set("CREATED", g.setupDate).set("CREATEDBY", 1).set("COUNTRY", 1).done()
	closed := next("LOCATIONS")
	g.w.table("LOCATIONS").row().set("LOCATIONID", closed).set("RECORDSTATUS", RecordDeleted).set("LOCATIONCODE", closed).
		set("LOCATIONNAME", g.practice.name+" - closed branch").set("ADDRESS1", "1 Former Street").set("ADDRESS2", "").
		set("CITY", loc.suburb.name).set("POSTCODE", loc.suburb.postcode).set("HPIO", newHI(r, PrefixHPIO, g.usedHI)).
		set("RRMA", 1).set("PHONE", loc.phone).set("CREATED", g.setupDate).set("CREATEDBY", 1).done()

	// Two doctors who are gone: a deleted row, and a live row with USERSTATUS 999.
	users := g.w.table("USERS")
	var gone []int
	goneNumbers := map[int]string{}
	for i, st := range [][2]int{{RecordDeleted, UserActive}, {RecordLive, UserDeleted}} {
		id := next("USERS")
		gone = append(gone, id)
		grp := nameGroups[r.weighted(groupWeights())]
		first, last := r.pick(grp.male), r.pick(grp.surname)
		goneNumbers[id] = providerNumber(newProviderStem(r, g.usedStem), providerLocationChars[1])
		users.row().set("USERID", id).set("RECORDSTATUS", st[0]).set("USERSTATUS", st[1]).set("LOCATIONID", loc.id).
			set("GROUPCODE", GroupDoctor).set("TITLECODE", TitleDr).set("SURNAME", last).set("FIRSTNAME", first).
			set("PASSWORD", "").set("CPDNO", "").set("PHONE", loc.phone).set("MOBILEPHONE", mobile(r)).set("PAGER", "").
			set("EMAIL", strings.ToLower(fmt.Sprintf("%c.%s%d@%s", first[0], strings.NewReplacer(" ", "", "'", "").Replace(last), i, emailDomains[0]))).
			set("PKIKEY", "").set("APPOINTMENTS", 1).set("HPII", newHI(r, PrefixHPII, g.usedHI)).
			set("REGISTRATIONNO", "MED000"+r.digits(7)).set("PROVIDERNO", goneNumbers[id]).
			set("PRESCRIBERNO", string(byte('1'+r.IntN(9)))+r.digits(6)).set("CREATED", g.setupDate).set("CREATEDBY", 1).done()
	}

	// Provider numbers: a deleted one of a current doctor, live ones of the gone doctors and
	// one of a current doctor at the closed location.
	pl := g.w.table("PROVIDER_LOCATION")
	role := func(rec, user, location int, number string) {
		pl.row().set("RECORDID", next("PROVIDER_LOCATION")).set("RECORDSTATUS", rec).set("USERID", user).
			set("LOCATIONID", location).set("PROVIDERNUMBER", number).set("CREATED", g.setupDate).set("CREATEDBY", 1).done()
	}
	role(RecordDeleted, doc.id, loc.id, providerNumber(doc.stem, providerLocationChars[9]))
	for _, id := range gone {
		role(RecordLive, id, loc.id, goneNumbers[id])
	}
	role(RecordLive, doc.id, closed, providerNumber(doc.stem, providerLocationChars[12]))

	// The book: a deleted Sunday session and a deleted extra session of a current doctor
	// (they would add slots), a deleted day away (it would remove them), sessions of the gone
	// doctors and one at the closed location (they would add schedules).
	sess := g.w.table("SESSIONS")
	session := func(rec, user, location, dow int) {
		sess.row().set("SESSIONID", next("SESSIONS")).set("RECORDSTATUS", rec).set("USERID", user).
			set("LOCATIONID", location).set("DAYOFWEEK", dow).set("STARTTIME", 9*3600).set("ENDTIME", 12*3600).
			set("LENGTH", 900).set("LABEL", "").set("STARTDATE", g.setupDate).set("WEEKS", 1).
			set("CREATED", g.setupDate).set("CREATEDBY", 1).done()
	}
	session(RecordDeleted, doc.id, loc.id, 1)
	for _, id := range gone {
		session(RecordLive, id, loc.id, 2)
	}
	session(RecordLive, doc.id, closed, 2)
	day := g.today.AddDate(0, 0, 1)
	g.w.table("EXTRASESSIONS").row().set("SESSIONID", next("EXTRASESSIONS")).set("RECORDSTATUS", RecordDeleted).
		set("USERID", doc.id).set("LOCATIONID", loc.id).set("SESSIONDATE", day).set("STARTTIME", 18*3600).
		set("ENDTIME", 20*3600).set("LENGTH", 900).set("LABEL", "Evening clinic").set("CREATED", g.today).set("CREATEDBY", 1).done()
	g.w.table("DAYSAWAY").row().set("RECORDID", next("DAYSAWAY")).set("RECORDSTATUS", RecordDeleted).set("USERID", doc.id).
		set("STARTDATE", g.today.AddDate(0, 0, 2)).set("FINISHDATE", g.today.AddDate(0, 0, 4)).
		set("AWAYREASON", "Conference (cancelled)").set("CREATED", g.today.AddDate(0, -1, 0)).set("CREATEDBY", 1).done()
	g.w.table("APPOINTMENTTYPES").row().set("APPOINTMENTCODE", next("APPOINTMENTTYPES")).set("RECORDSTATUS", RecordDeleted).
		set("LISTORDER", next("APPOINTMENTTYPES")).set("APPOINTMENTLENGTH", 900).set("DESCRIPTION", "Retired type").set("AU", 1).
		set("CREATED", g.setupDate).set("CREATEDBY", 1).done()
}
