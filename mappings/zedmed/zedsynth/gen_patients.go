package zedsynth

import (
	"fmt"
	"strings"
	"time"

	"fhirlink/mappings/bppremier/bpsynth"
)

// family is what members of a household share.
type family struct {
	head                int
	surname, medicare   string
	addr1, addr2, phone string
	loc                 locality
	irn                 int
	expiry              string
}

func (g *gen) writePatients(r *rng) {
	today := g.opt.Today
	var fam *family
	left := 0
	for i := 1; i <= g.opt.Patients; i++ {
		if left == 0 {
			fam = nil
			if r.chance(0.35) {
				left = r.between(2, 4)
				loc := localities[r.IntN(len(localities))]
				fam = &family{head: i, surname: r.pick(surnames), medicare: r.medicare(g.usedMedicare),
					addr1: fmt.Sprintf("%d %s %s", r.between(1, 250), r.pick(streets), r.pick(streetKinds)),
					phone: r.phone(false), loc: loc,
					expiry: fmt.Sprintf("%02d/%d", r.between(1, 12), today.Year()+r.between(0, 4))}
				if r.chance(0.2) {
					fam.addr2 = fmt.Sprintf("Unit %d", r.between(1, 40))
				}
			} else {
				left = 1
			}
		}
		left--
		p := &patient{id: i}
		sex := "F"
		switch x := r.IntN(1000); {
		case x < 485:
			sex = "M"
		case x < 980:
		case x < 992:
			sex = "X"
		default:
			sex = "U"
		}
		p.sex = sex
		age := r.IntN(90)
		if fam != nil && fam.head != i && fam.irn >= 2 {
			age = r.IntN(18) // children after the two adults
		} else if fam != nil {
			age = 20 + r.IntN(60)
		}
		dob := today.AddDate(-age, 0, -r.IntN(365))
		if !r.chance(0.005) {
			p.dob = dob
		}
		p.status = PatientActive
		switch x := r.Float64(); {
		case x < 0.03 && age > 50:
			p.status = PatientDeceased
		case x < 0.09:
			p.status = PatientInactive
		}
		first := r.pick(givenFemale)
		if sex == "M" || (sex != "F" && r.chance(0.5)) {
			first = r.pick(givenMale)
		}
		surname := r.pick(surnames)
		loc := localities[r.IntN(len(localities))]
		rc := rec{"PATIENT_ID": i, "CHART_NO": fmt.Sprintf("Z%06d", 100000+i*7), "FIRST_NAME": first, "SURNAME": surname,
			"SEX": sex, "DOB": p.dob, "STATUS": p.status, "ATSI": 9}
		if fam != nil {
			fam.irn++
			surname, loc = fam.surname, fam.loc
			rc["SURNAME"], rc["ADDRESS_1"], rc["ADDRESS_2"], rc["HOME_PHONE"] = surname, fam.addr1, fam.addr2, fam.phone
			rc["MEDICARE_NO"], rc["MEDICARE_IRN"], rc["MEDICARE_EXPIRY"] = fam.medicare, fmt.Sprint(fam.irn), fam.expiry
			rc["FAMILY_ID"] = fam.head
		} else {
			rc["ADDRESS_1"] = fmt.Sprintf("%d %s %s", r.between(1, 250), r.pick(streets), r.pick(streetKinds))
			if r.chance(0.4) {
				rc["HOME_PHONE"] = r.phone(false)
			}
			if r.chance(0.9) {
				rc["MEDICARE_NO"], rc["MEDICARE_IRN"] = r.medicare(g.usedMedicare), "1"
				rc["MEDICARE_EXPIRY"] = fmt.Sprintf("%02d/%d", r.between(1, 12), today.Year()+r.between(0, 4))
			}
		}
		rc["SUBURB"], rc["STATE"], rc["POSTCODE"] = loc.suburb, loc.state, loc.postcode
		if bpsynth.StateOfPostcode(loc.postcode) != loc.state {
			panic("zedsynth: postcode " + loc.postcode + " is not in " + loc.state)
		}
		if r.chance(0.5) {
			mid := r.pick(givenFemale)
			if strings.Contains("MX", sex) {
				mid = r.pick(givenMale)
			}
			rc["MIDDLE_NAME"] = mid
		}
		if r.chance(0.08) {
			rc["PREFERRED_NAME"] = first[:min(len(first), 3)] + "ie"
		}
		switch {
		case age < 16:
		case sex == "M":
			rc["TITLE"] = "Mr"
		case sex == "F":
			rc["TITLE"] = []string{"Ms", "Mrs", "Miss"}[r.IntN(3)]
		case sex == "X":
			rc["TITLE"] = "Mx"
		}
		if age >= 14 && r.chance(0.8) {
			rc["MOBILE_PHONE"] = r.phone(true)
		}
		if age >= 18 && r.chance(0.2) {
			rc["WORK_PHONE"] = r.phone(false)
		}
		if age >= 14 && r.chance(0.6) {
			rc["EMAIL"] = strings.ToLower(strings.NewReplacer("'", "", " ", "", "-", "").Replace(first+"."+surname)) +
				fmt.Sprintf("%d@%s", i, r.pick(emailHosts))
		}
		if r.chance(0.1) {
			rc["POSTAL_ADDRESS"] = fmt.Sprintf("PO Box %d", r.between(100, 9999))
			rc["POSTAL_SUBURB"], rc["POSTAL_STATE"], rc["POSTAL_POSTCODE"] = loc.suburb, loc.state, loc.postcode
		}
		if r.chance(0.85) {
			rc["IHI"] = r.healthID(bpsynth.PrefixIHI, g.usedHI)
		}
		if age >= 65 && r.chance(0.12) {
			rc["DVA_NO"], rc["DVA_CARD"] = r.dva(loc.state), []string{"G", "W", "O"}[r.IntN(3)]
		}
		if r.chance(0.04) {
			rc["ATSI"] = []int{1, 2, 3}[r.IntN(3)]
		} else if r.chance(0.8) {
			rc["ATSI"] = 4
		}
		if r.chance(0.9) {
			rc["USUAL_DOCTOR_ID"] = []int{1, 2, 3, 4, 5}[r.IntN(5)]
		}
		if p.status == PatientDeceased {
			rc["DOD"] = today.AddDate(0, 0, -r.between(10, 900))
		}
		p.created = g.setup.AddDate(0, 0, r.IntN(3000))
		if p.dob.After(p.created) {
			p.created = p.dob.AddDate(0, 0, 3)
		}
		updated := time.Time{}
		if r.chance(0.6) {
			updated = p.created.AddDate(0, 0, r.IntN(int(today.Sub(p.created).Hours()/24)+1)).Add(time.Duration(r.IntN(36000)+28800) * time.Second)
		}
		g.w.insert("PATIENT", g.audit(rc, p.created.Add(9*time.Hour), updated))
		g.patients = append(g.patients, p)
	}
	// a deleted record, which no search may return
	g.w.insert("PATIENT", g.audit(rec{"PATIENT_ID": g.opt.Patients + 1, "CHART_NO": "DELETED", "FIRST_NAME": "Deleted", "SURNAME": "Record",
		"SEX": "U", "STATUS": PatientActive, "ATSI": 9, "DELETED": 1}, g.setup, time.Time{}))
}
