package zedsynth

import (
	"fmt"
	"time"
)

// clinical writes one patient's problems, medicines, allergies, immunisations and
// measurements, from the patient's own random stream.
func (g *gen) clinical(r *rng, p *patient) {
	today := g.opt.Today
	if p.dob.IsZero() {
		return
	}
	age := ageOn(p.dob, today)
	since := p.created
	if since.Before(p.dob) {
		since = p.dob
	}
	span := int(today.Sub(since).Hours()/24) + 1
	when := func() time.Time {
		return since.AddDate(0, 0, r.IntN(span)).Add(time.Duration(8*3600+r.IntN(9*3600)) * time.Second)
	}
	gp := []int{1, 2, 3, 5}[r.IntN(4)]
	for _, pr := range problems {
		if age < pr.minAge || !r.chance(map[bool]float64{true: 0.15, false: 0.1}[pr.chronic]) {
			continue
		}
		rec0 := when()
		onset := dateOnly(rec0).AddDate(0, 0, -r.IntN(60))
		if onset.Before(p.dob) {
			onset = dateOnly(p.dob)
		}
		rc := rec{"PROBLEM_ID": g.next("PROBLEM"), "PATIENT_ID": p.id, "DOCTOR_ID": gp, "DESCRIPTION": pr.text,
			"SNOMED_CODE": pr.snomed, "ONSET_DATE": onset, "IS_ACTIVE": 1, "RECORDED_AT": rec0}
		if !pr.chronic {
			rc["IS_ACTIVE"], rc["RESOLVED_DATE"] = 0, dateOnly(rec0).AddDate(0, 0, r.between(5, 20))
		}
		if r.chance(0.02) {
			rc["DELETED"] = 1
		}
		g.w.insert("PROBLEM", g.audit(rc, rec0, time.Time{}))
	}
	for n := r.IntN(4); n > 0 && age >= 2; n-- {
		d := drugs[r.IntN(len(drugs))]
		start := when()
		rc := rec{"MEDICATION_ID": g.next("MEDICATION"), "PATIENT_ID": p.id, "DOCTOR_ID": gp, "DRUG_NAME": d.name,
			"STRENGTH": d.strength, "AMT_CODE": d.amt, "DOSE_TEXT": d.dose, "START_DATE": dateOnly(start), "IS_CURRENT": 1, "RECORDED_AT": start}
		m := med{id: rc["MEDICATION_ID"].(int), patient: p.id, doctor: gp, drug: d, start: start}
		if r.chance(0.3) {
			rc["IS_CURRENT"], rc["STOP_DATE"] = 0, dateOnly(start).AddDate(0, 0, r.between(7, 200))
			m.stop = rc["STOP_DATE"].(time.Time)
		}
		g.w.insert("MEDICATION", g.audit(rc, start, time.Time{}))
		g.meds = append(g.meds, m)
	}
	if r.chance(0.2) {
		a := allergens[r.IntN(len(allergens))]
		at := when()
		g.w.insert("ALLERGY", g.audit(rec{"ALLERGY_ID": g.next("ALLERGY"), "PATIENT_ID": p.id, "DOCTOR_ID": gp, "SUBSTANCE": a.name,
			"SNOMED_CODE": a.snomed, "REACTION": a.reaction, "SEVERITY": r.IntN(4), "CATEGORY": a.category,
			"ONSET_DATE": dateOnly(at).AddDate(-r.IntN(5), 0, 0), "RECORDED_AT": at}, at, time.Time{}))
	}
	vacc := func(v vaccine, given time.Time, dose int) {
		if given.Before(p.dob) || given.After(today) {
			return
		}
		g.w.insert("IMMUNISATION", g.audit(rec{"IMMUNISATION_ID": g.next("IMMUNISATION"), "PATIENT_ID": p.id, "DOCTOR_ID": 6,
			"VACCINE_NAME": v.name, "AMT_CODE": v.amt, "BATCH_NO": fmt.Sprintf("%c%05d", 'A'+r.IntN(26), r.IntN(100000)),
			"DOSE_NO": dose, "SITE": r.pick(injectionSites), "GIVEN_DATE": given}, given, time.Time{}))
	}
	switch {
	case age < 5:
		for i, m := range []int{2, 4, 6} {
			vacc(vaccines[5], dateOnly(p.dob).AddDate(0, m, r.IntN(10)).Add(10*time.Hour), i+1)
		}
	case age >= 65:
		for y := 2; y >= 1; y-- {
			vacc(vaccines[0], time.Date(today.Year()-y+1, time.April, 10+r.IntN(40), 10, 0, 0, 0, time.UTC), 1)
		}
		if r.chance(0.5) {
			vacc(vaccines[4], when(), 1)
		}
	default:
		if r.chance(0.3) {
			vacc(vaccines[r.IntN(3)], when(), 1)
		}
	}
	if age < 2 {
		return
	}
	for n := r.IntN(5); n > 0; n-- {
		t := when()
		m := func(typ string, v1, v2 float64, unit string) {
			rc := rec{"MEASUREMENT_ID": g.next("MEASUREMENT"), "PATIENT_ID": p.id, "DOCTOR_ID": gp, "MEASURED_AT": t,
				"MEAS_TYPE": typ, "VALUE_1": v1, "UNIT": unit}
			if v2 != 0 {
				rc["VALUE_2"] = v2
			}
			g.w.insert("MEASUREMENT", g.audit(rc, t, time.Time{}))
		}
		if age >= 16 {
			sys := round1(r.normal(125, 15))
			m(MeasBP, float64(int(sys)), float64(int(sys*0.65)), "mm[Hg]")
			wt := round1(r.normal(80, 15))
			ht := round1(r.normal(170, 9))
			m(MeasWeight, wt, 0, "kg")
			m(MeasHeight, ht, 0, "cm")
			m(MeasBMI, round1(wt/(ht/100)/(ht/100)), 0, "kg/m2")
		} else {
			m(MeasWeight, round1(float64(4+age*3)+r.normal(0, 2)), 0, "kg")
		}
		m(MeasPulse, float64(r.between(58, 100)), 0, "/min")
		if r.chance(0.3) {
			m(MeasTemp, round1(r.normal(36.8, 0.4)), 0, "Cel")
			m(MeasResp, float64(r.between(12, 20)), 0, "/min")
			m(MeasSpO2, float64(r.between(94, 100)), 0, "%")
		}
	}
}
