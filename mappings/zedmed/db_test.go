package zedmed

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fhirlink/mappings"
	"fhirlink/mappings/mappingstest"
)

// The database tests run the mapping for real through the agent's executor and check the
// results against expectations computed in Go from the raw tables. They are the Bp Premier
// cases, ported.

func runPractice(t *testing.T, p *practice) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, *practice)
	}{
		{"Shapes", testShapes},
		{"PatientFamily", testPatientFamily},
		{"PatientMetacharacters", testPatientMetacharacters},
		{"PatientBadInput", testPatientBadInput},
		{"PatientPaging", testPatientPaging},
		{"PatientIdentifier", testPatientIdentifier},
		{"PatientActive", testPatientActive},
		{"PatientOther", testPatientOther},
		{"PatientLastUpdated", testPatientLastUpdated},
		{"Practitioner", testPractitioner},
		{"PractitionerRole", testPractitionerRole},
		{"Organization", testOrganization},
		{"Location", testLocation},
		{"Appointment", testAppointment},
		{"Schedule", testSchedule},
		{"Slot", testSlot},
		{"Clinical", testClinical},
		{"Deleted", testDeleted},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, p) })
	}
}

// testShapes runs every golden search shape on the database: each must be valid SQL for the
// engine, and its resources valid.
func testShapes(t *testing.T, p *practice) {
	for _, s := range shapes {
		t.Run(s.Name, func(t *testing.T) {
			if s.Count {
				p.count(t, s.Res, s.Query)
				return
			}
			sr := parse(t, s.Res, s.Query)
			sr.After = s.After
			p.Page(t, s.Res, sr)
		})
	}
}

func prefixFold(s, prefix string) bool {
	return strings.HasPrefix(strings.ToLower(s), strings.ToLower(prefix))
}

func testPatientFamily(t *testing.T, p *practice) {
	for _, prefix := range []string{"s", "smi", "O'", "ng", "van der"} {
		p.expect(t, Patient, "family="+prefix, p.snap.patientsWhere(func(r patientRec) bool { return prefixFold(r.surname, prefix) }))
	}
	p.expect(t, Patient, "family:exact=O'Brien", p.snap.patientsWhere(func(r patientRec) bool { return r.surname == "O'Brien" }))
	p.expectNone(t, Patient, "family:exact=o'brien")
	p.expect(t, Patient, "family:contains=-jon", p.snap.patientsWhere(func(r patientRec) bool { return strings.Contains(strings.ToLower(r.surname), "-jon") }))
	p.expect(t, Patient, "family=smith,jones", p.snap.patientsWhere(func(r patientRec) bool {
		return prefixFold(r.surname, "smith") || prefixFold(r.surname, "jones")
	}))
	p.expect(t, Patient, "name=li", p.snap.patientsWhere(func(r patientRec) bool {
		return prefixFold(r.surname, "li") || prefixFold(r.first, "li") || prefixFold(r.middle, "li") || prefixFold(r.preferred, "li")
	}))
}

func testPatientMetacharacters(t *testing.T, p *practice) {
	for _, q := range []string{"family=%25", "family=_", "family=' OR 1=1 --", `family=50%25_off[1]\x`, "family:contains=%25%25", "given=*"} {
		p.expectNone(t, Patient, q)
	}
}

func testPatientBadInput(t *testing.T, p *practice) {
	for _, q := range []string{"active=maybe", "family:below=x", "gender:contains=male", "birthdate:exact=1980", "_sort=phone",
		"general-practitioner=Patient/1"} {
		p.badRequest(t, Patient, q)
	}
	for _, q := range []string{"_id=abc", "_id=007", "identifier=|123", "general-practitioner=Practitioner/x", "identifier=http://ns.electronichealth.net.au/id/medicare-number|123"} {
		p.expectNone(t, Patient, q)
	}
}

func testPatientPaging(t *testing.T, p *practice) {
	want := p.snap.patientsWhere(func(r patientRec) bool { return prefixFold(r.surname, "s") })
	for _, size := range []int{1, 7, 50} {
		got := ids(t, p.search(t, Patient, "family=s", size))
		if !slices.Equal(got, want) {
			t.Errorf("family=s in pages of %d: %v, want %v", size, got, want)
		}
	}
	// sorted by family then given, in pages of 5: the order of the sort keys, nothing lost
	rows := p.search(t, Patient, "family=s&_sort=family,given", 5)
	if len(rows) != len(want) {
		t.Fatalf("sorted: %d rows, want %d", len(rows), len(want))
	}
	prev := ""
	for _, r := range rows {
		pr := p.snap.patient(mustAtoi(t, mappingstest.ResourceID(t, r.Resource)))
		key := strings.ToLower(pr.surname) + "\x00" + strings.ToLower(pr.first)
		if key < prev {
			t.Errorf("sort order broken at %d (%s %s)", pr.id, pr.first, pr.surname)
		}
		prev = key
	}
	if n := p.count(t, Patient, "family=s"); n != len(want) {
		t.Errorf("count %d, want %d", n, len(want))
	}
}

func mustAtoi(t testing.TB, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testPatientIdentifier(t *testing.T, p *practice) {
	var withIHI, withFamilyCard, withDVA patientRec
	for _, r := range p.snap.patients {
		if r.deleted != 0 || r.status != 1 {
			continue
		}
		if withIHI.id == 0 && r.ihi != "" {
			withIHI = r
		}
		if withDVA.id == 0 && r.dva != "" {
			withDVA = r
		}
		if withFamilyCard.id == 0 && r.medicare != "" && r.irn == "2" {
			withFamilyCard = r
		}
	}
	if withIHI.id == 0 || withFamilyCard.id == 0 {
		t.Fatal("the practice lacks an IHI or a family Medicare card")
	}
	p.expect(t, Patient, "identifier="+mappings.SystemIHI+"|"+withIHI.ihi, []int{withIHI.id})
	p.expect(t, Patient, "identifier="+withIHI.ihi, []int{withIHI.id})
	card := p.snap.patientsWhere(func(r patientRec) bool { return r.medicare == withFamilyCard.medicare })
	if len(card) < 2 {
		t.Errorf("family card %s has %d active members", withFamilyCard.medicare, len(card))
	}
	p.expect(t, Patient, "identifier="+mappings.SystemMedicare+"|"+withFamilyCard.medicare, card)
	p.expect(t, Patient, "identifier="+mappings.SystemMedicare+"|"+withFamilyCard.medicare+withFamilyCard.irn, []int{withFamilyCard.id})
	spaced := withFamilyCard.medicare[:4] + " " + withFamilyCard.medicare[4:9] + " " + withFamilyCard.medicare[9:]
	p.expect(t, Patient, "identifier="+mappings.SystemMedicare+"|"+spaced, card)
	if withDVA.id != 0 {
		p.expect(t, Patient, "identifier="+mappings.SystemDVA+"|"+withDVA.dva, []int{withDVA.id})
	}
	scope := mappings.PracticeScope(p.snap.practice.hpio, p.snap.practice.abn)
	p.expect(t, Patient, "identifier="+mappings.SystemHPIOScopedRecord+"/"+scope+"|"+strings.ToLower(withIHI.chart), []int{withIHI.id})
	p.expectNone(t, Patient, "identifier="+mappings.SystemHPIOScopedRecord+"/8003620000000000|"+withIHI.chart)
	p.expect(t, Patient, "identifier="+patientIDSystem+"/"+scope+"|"+strconv.Itoa(withIHI.id), []int{withIHI.id})
	p.expect(t, Patient, "identifier="+mappings.SystemDVA+"|", p.snap.patientsWhere(func(r patientRec) bool { return r.dva != "" }))
	p.expect(t, Patient, "identifier:not="+mappings.SystemIHI+"|", p.snap.patientsWhere(func(r patientRec) bool { return r.ihi == "" }))
	// a deleted record is never found, not even by _id
	for _, r := range p.snap.patients {
		if r.deleted != 0 {
			p.expectNone(t, Patient, "_id="+strconv.Itoa(r.id))
		}
	}
}

func testPatientActive(t *testing.T, p *practice) {
	var inactive []int
	for _, r := range p.snap.patients {
		if r.deleted == 0 && r.status != 1 {
			inactive = append(inactive, r.id)
		}
	}
	p.expect(t, Patient, "active=false", inactive)
	p.expect(t, Patient, "active=true", p.snap.patientsWhere(func(r patientRec) bool { return r.status == 1 }))
	rows := p.expect(t, Patient, "_id="+strconv.Itoa(inactive[0]), inactive[:1])
	// An inactive patient is found like any other (read and search agree), unless
	// active=true leaves it out.
	gone := p.snap.patient(inactive[0])
	p.expect(t, Patient, "family:exact="+url.QueryEscape(gone.surname)+"&given:exact="+url.QueryEscape(gone.first),
		p.snap.patientsWhere(func(r patientRec) bool { return r.surname == gone.surname && r.first == gone.first }))
	if same := p.snap.patientsWhere(func(r patientRec) bool { return r.surname == gone.surname && r.first == gone.first && r.status == 1 }); len(same) > 0 {
		p.expect(t, Patient, "family:exact="+url.QueryEscape(gone.surname)+"&given:exact="+url.QueryEscape(gone.first)+"&active=true", same)
	} else {
		p.expectNone(t, Patient, "family:exact="+url.QueryEscape(gone.surname)+"&given:exact="+url.QueryEscape(gone.first)+"&active=true")
	}
	var res struct {
		Active bool `json:"active"`
	}
	if err := json.Unmarshal(rows[0].Resource, &res); err != nil || res.Active {
		t.Errorf("inactive patient read as active: %s", rows[0].Resource)
	}
}

func testPatientOther(t *testing.T, p *practice) {
	sexes := map[string]string{"male": "M", "female": "F", "other": "X"}
	for g, s := range sexes {
		p.expect(t, Patient, "gender="+g, p.snap.patientsWhere(func(r patientRec) bool { return r.sex == s }))
	}
	p.expect(t, Patient, "gender=unknown", p.snap.patientsWhere(func(r patientRec) bool { return r.sex != "M" && r.sex != "F" && r.sex != "X" }))
	p.expect(t, Patient, "birthdate=ge1960&birthdate=lt1970", p.snap.patientsWhere(func(r patientRec) bool {
		return !r.dob.IsZero() && r.dob.Year() >= 1960 && r.dob.Year() < 1970
	}))
	var one patientRec
	for _, r := range p.snap.patients {
		if r.deleted == 0 && r.status == 1 && !r.dob.IsZero() && r.email != "" && len(r.phones) > 0 {
			one = r
			break
		}
	}
	day := one.dob.Format("2006-01-02")
	p.expect(t, Patient, "birthdate="+day, p.snap.patientsWhere(func(r patientRec) bool { return r.dob.Format("2006-01-02") == day }))
	p.expect(t, Patient, "email="+strings.ToUpper(one.email), p.snap.patientsWhere(func(r patientRec) bool { return strings.EqualFold(r.email, one.email) }))
	phone := mappings.NormalisePhone(one.phones[0])
	p.expect(t, Patient, "phone="+one.phones[0], p.snap.patientsWhere(func(r patientRec) bool {
		for _, ph := range r.phones {
			if mappings.NormalisePhone(ph) == phone {
				return true
			}
		}
		return false
	}))
	p.expect(t, Patient, "address-postalcode=215", p.snap.patientsWhere(func(r patientRec) bool {
		return strings.HasPrefix(r.postcode, "215") || strings.HasPrefix(r.postalPostcode, "215")
	}))
	p.expect(t, Patient, "general-practitioner=Practitioner/2", p.snap.patientsWhere(func(r patientRec) bool { return r.gp == 2 }))
}

// testPatientLastUpdated: _lastUpdated (which every resource defined in
// aucore with created and updated columns has) compares UPDATED_AT, else
// CREATED_AT, as the practice's wall clock.
func testPatientLastUpdated(t *testing.T, p *practice) {
	var times []time.Time
	for _, r := range p.snap.patients {
		if r.deleted == 0 && !r.lastUpdated.IsZero() {
			times = append(times, r.lastUpdated)
		}
	}
	if len(times) < 2 {
		t.Fatal("the synthetic practice has no patients with audit times")
	}
	slices.SortFunc(times, time.Time.Compare)
	cut := times[len(times)/2]
	at := cut.Format("2006-01-02T15:04:05")
	newer := p.snap.patientsWhere(func(r patientRec) bool { return !r.lastUpdated.IsZero() && !r.lastUpdated.Before(cut) })
	older := p.snap.patientsWhere(func(r patientRec) bool { return !r.lastUpdated.IsZero() && r.lastUpdated.Before(cut) })
	if len(newer) == 0 || len(older) == 0 {
		t.Fatalf("the cut %s splits nothing", at)
	}
	p.expect(t, Patient, "_lastUpdated=ge"+at, newer)
	p.expect(t, Patient, "_lastUpdated=lt"+at, older)
}

func (s *snapshot) practitioners(f func(doctorRec) bool) []int {
	var out []int
	for _, d := range s.doctors {
		if d.isPractitioner() && f(d) {
			out = append(out, d.id)
		}
	}
	return out
}

func testPractitioner(t *testing.T, p *practice) {
	// Inactive practitioners are found like current ones (read and search agree, so that
	// AU Core's identifier search finds a doctor who has left), unless active=true.
	p.expect(t, Practitioner, "", p.snap.practitioners(func(d doctorRec) bool { return true }))
	p.expect(t, Practitioner, "active=true", p.snap.practitioners(func(d doctorRec) bool { return d.active == 1 }))
	p.expect(t, Practitioner, "active=false", p.snap.practitioners(func(d doctorRec) bool { return d.active != 1 }))
	for _, d := range p.snap.doctors {
		if d.deleted == 0 && d.isPractitioner() && d.active != 1 && d.hpii != "" {
			rows := p.expect(t, Practitioner, "identifier="+mappings.SystemHPII+"|"+d.hpii, []int{d.id})
			if len(rows) == 1 && !strings.Contains(string(rows[0].Resource), `"active":false`) {
				t.Errorf("inactive practitioner: %s", rows[0].Resource)
			}
			p.expectNone(t, Practitioner, "identifier="+mappings.SystemHPII+"|"+d.hpii+"&active=true")
		}
	}
	first := p.snap.doctors[0]
	p.expect(t, Practitioner, "identifier="+mappings.SystemHPII+"|"+first.hpii, []int{first.id})
	p.expect(t, Practitioner, "identifier="+first.ahpra, []int{first.id})
	p.expect(t, Practitioner, "family:exact="+first.surname, []int{first.id})
	p.expect(t, Practitioner, "name=van", p.snap.practitioners(func(d doctorRec) bool {
		return prefixFold(d.surname, "van") || prefixFold(d.first, "van")
	}))
	var provider string
	for _, r := range p.snap.roles {
		if r.doctor == first.id && r.provider != "" {
			provider = r.provider
		}
	}
	p.expect(t, Practitioner, "identifier="+mappings.SystemProviderNumber+"|"+provider, []int{first.id})
	for _, d := range p.snap.doctors {
		if !d.isPractitioner() {
			p.expectNone(t, Practitioner, "_id="+strconv.Itoa(d.id))
		}
	}
}

func testPractitionerRole(t *testing.T, p *practice) {
	want := func(f func(roleRec, doctorRec) bool) []int {
		var out []int
		for _, r := range p.snap.roles {
			for _, d := range p.snap.doctors {
				if d.id == r.doctor && r.deleted == 0 && d.isPractitioner() && p.snap.branchLive(r.branch) && f(r, d) {
					out = append(out, r.id)
				}
			}
		}
		return out
	}
	p.expect(t, PractitionerRole, "", want(func(roleRec, doctorRec) bool { return true }))
	p.expect(t, PractitionerRole, "active=true", want(func(_ roleRec, d doctorRec) bool { return d.active == 1 }))
	p.expect(t, PractitionerRole, "location=2", want(func(r roleRec, _ doctorRec) bool { return r.branch == 2 }))
	first := p.snap.doctors[0]
	p.expect(t, PractitionerRole, "practitioner.identifier="+mappings.SystemHPII+"|"+first.hpii,
		want(func(r roleRec, _ doctorRec) bool { return r.doctor == first.id }))
	// Doctor 4 has left: the roles are found, inactive, unless active=true.
	p.expect(t, PractitionerRole, "practitioner=4", want(func(r roleRec, _ doctorRec) bool { return r.doctor == 4 }))
	p.expectNone(t, PractitionerRole, "practitioner=4&active=true")
	p.expect(t, PractitionerRole, "practitioner=4&active=false", want(func(r roleRec, _ doctorRec) bool { return r.doctor == 4 }))
}

func (s *snapshot) branchLive(id int) bool {
	for _, b := range s.branches {
		if b.id == id {
			return b.deleted == 0
		}
	}
	return false
}

func testOrganization(t *testing.T, p *practice) {
	pr := p.snap.practice
	p.expect(t, Organization, "", []int{pr.id})
	p.expect(t, Organization, "identifier="+mappings.SystemHPIO+"|"+pr.hpio, []int{pr.id})
	p.expect(t, Organization, "identifier="+mappings.SystemABN+"|"+strings.ReplaceAll(pr.abn, " ", ""), []int{pr.id})
	p.expect(t, Organization, "name=parkside", []int{pr.id})
	p.expect(t, Organization, "address=nsw", []int{pr.id})
}

func testLocation(t *testing.T, p *practice) {
	var live []int
	for _, b := range p.snap.branches {
		if b.deleted == 0 {
			live = append(live, b.id)
		}
	}
	p.expect(t, Location, "", live)
	p.expect(t, Location, "address-state=NSW", live)
	p.expect(t, Location, "address-city=castle", []int{2})
	p.expect(t, Location, "organization=Organization/1", live)
	p.expect(t, Location, "identifier="+mappings.SystemHPIO+"|"+p.snap.branches[0].hpio, []int{1})
	for _, b := range p.snap.branches {
		if b.deleted != 0 {
			p.expectNone(t, Location, "_id="+strconv.Itoa(b.id))
			p.expectNone(t, Location, "name="+b.name[:10]+"&address-postalcode="+b.pcode)
		}
	}
}
