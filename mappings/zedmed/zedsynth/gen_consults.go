package zedsynth

import (
	"time"
)

// consults writes CONSULT: a consultation for every attended appointment (one under way has
// no END_AT yet), and contacts without an appointment (telephone calls, home and aged-care
// visits) for some active patients.
func (g *gen) consults(r *rng) {
	now := at(g.opt.Today, NowSeconds)
	for _, v := range g.seen {
		typ := ConsultSurgery
		if v.typ == 4 { // the Telehealth appointment type
			typ = ConsultVideo
		}
		start := v.start.Add(time.Duration(r.IntN(10)) * time.Minute)
		if start.After(now) {
			start = now.Add(-time.Duration(1+r.IntN(5)) * time.Minute)
		}
		end := time.Time{}
		if v.status == ApptCompleted {
			end = start.Add(time.Duration(max(5*60, v.length+60*r.between(-4, 8))) * time.Second)
			if end.After(now) {
				end = now
			}
		}
		g.consult(r, rec{"PATIENT_ID": v.patient, "DOCTOR_ID": v.doctor, "BRANCH_ID": v.branch, "APPT_ID": v.appt,
			"CONSULT_TYPE": typ, "REASON": v.reason}, start, end)
	}
	gps := []int{1, 2, 3, 5}
	for _, p := range g.patients {
		if p.status != PatientActive || p.dob.IsZero() || !r.chance(0.15) {
			continue
		}
		for n := 1 + r.IntN(2); n > 0; n-- {
			day := g.opt.Today.AddDate(0, 0, -1-r.IntN(4*g.opt.DaysBack))
			start := at(day, 9*3600+r.IntN(8*3600))
			typ := ConsultPhone
			switch x := r.IntN(10); {
			case x >= 8 && ageOn(p.dob, day) >= 75:
				typ = ConsultAgedCare
			case x >= 7:
				typ = ConsultHome
			}
			rc := rec{"PATIENT_ID": p.id, "DOCTOR_ID": gps[r.IntN(len(gps))], "CONSULT_TYPE": typ, "REASON": r.pick(contactReasons)}
			if typ == ConsultPhone {
				rc["BRANCH_ID"] = 1 // calls are made from the main branch
			}
			g.consult(r, rc, start, start.Add(time.Duration(r.between(5, 40))*time.Minute))
		}
	}
}

// consult writes one CONSULT row; a few are deleted.
func (g *gen) consult(r *rng, rc rec, start, end time.Time) {
	rc["CONSULT_ID"] = g.next("CONSULT")
	rc["START_AT"] = start
	if !end.IsZero() {
		rc["END_AT"] = end
	}
	if r.chance(0.01) {
		rc["DELETED"] = 1
	}
	if reason, ok := rc["REASON"].(string); ok && reason == "" {
		delete(rc, "REASON")
	}
	g.w.insert("CONSULT", g.audit(rc, start, end))
	day := dateOnly(start)
	key := consultKey{rc["PATIENT_ID"].(int), day}
	if _, ok := g.consultOn[key]; !ok && rc["DELETED"] == nil {
		g.consultOn[key] = consultRef{rc["CONSULT_ID"].(int), rc["DOCTOR_ID"].(int), start}
	}
}

// consultKey finds a patient's consultation of a day, for the scripts written at it.
type consultKey struct {
	patient int
	day     time.Time
}

type consultRef struct {
	id, doctor int
	start      time.Time
}

// scripts writes SCRIPT: for each medicine, a script when it was started and repeat scripts
// while it is taken (the latest few of a long-term medicine), written at the patient's
// consultation of that day when there is one.
func (g *gen) scripts(r *rng) {
	const kept = 4 // scripts of a long-term medicine, the latest
	today := g.opt.Today
	for _, m := range g.meds {
		until := today
		if !m.stop.IsZero() && m.stop.Before(until) {
			until = m.stop
		}
		dates := []time.Time{m.start}
		if !m.drug.course {
			for d := m.start.AddDate(0, 0, r.between(25, 90)); !d.After(until); d = d.AddDate(0, 0, r.between(25, 90)) {
				dates = append(dates, at(d, 8*3600+r.IntN(9*3600)))
			}
		}
		if len(dates) > kept {
			dates = dates[len(dates)-kept:]
		}
		for i, when := range dates {
			status := ScriptCompleted // an earlier script, or a course taken
			if i == len(dates)-1 && !m.drug.course {
				status = ScriptActive
				if !m.stop.IsZero() {
					status = ScriptCeased
				}
			}
			rc := rec{"SCRIPT_ID": g.next("SCRIPT"), "PATIENT_ID": m.patient, "DOCTOR_ID": m.doctor, "MEDICATION_ID": m.id,
				"DRUG_NAME": m.drug.name, "STRENGTH": m.drug.strength, "AMT_CODE": m.drug.amt, "DOSE_TEXT": m.drug.dose,
				"QUANTITY": m.drug.qty, "REPEATS": m.drug.repeats, "STATUS": status}
			if m.drug.prn {
				rc["PRN"] = 1
			}
			if c, ok := g.consultOn[consultKey{m.patient, dateOnly(when)}]; ok {
				rc["CONSULT_ID"], rc["DOCTOR_ID"] = c.id, c.doctor
				when = c.start.Add(time.Duration(r.IntN(10)) * time.Minute)
			}
			if now := at(today, NowSeconds); when.After(now) {
				when = now.Add(-time.Duration(1+r.IntN(60)) * time.Minute)
			}
			rc["SCRIPT_DATE"] = when
			updated := time.Time{}
			switch {
			case r.chance(0.03):
				rc["STATUS"], rc["CANCEL_REASON"] = ScriptCancelled, r.pick(scriptCancelReasons)
				updated = when.Add(time.Duration(1+r.IntN(48)) * time.Hour)
			case r.chance(0.01):
				rc["DELETED"] = 1
			}
			if limit := at(today, NowSeconds); updated.After(limit) {
				updated = limit
			}
			g.w.insert("SCRIPT", g.audit(rc, when, updated))
		}
	}
}
