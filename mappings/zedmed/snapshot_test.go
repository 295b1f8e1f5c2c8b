package zedmed

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"fhirlink/mappings"
	"fhirlink/mappings/zedmed/zedsynth"
)

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }

// The raw tables, read directly for expectations computed in Go.

type patientRec struct {
	id, deleted, status, gp                int
	surname, first, middle, preferred, sex string
	ihi, medicare, irn, dva, chart, email  string
	postcode, postalPostcode               string
	phones                                 []string
	dob                                    time.Time
	lastUpdated                            time.Time // UPDATED_AT, else CREATED_AT
}

type doctorRec struct {
	id, deleted, typ, active int
	surname, first, hpii     string
	ahpra, prescriber        string
}

type branchRec struct {
	id, deleted         int
	name, suburb, pcode string
	hpio                string
}

type roleRec struct {
	id, deleted, doctor, branch int
	provider                    string
}

type snapshot struct {
	patients []patientRec
	doctors  []doctorRec
	branches []branchRec
	roles    []roleRec
	practice struct {
		id              int
		name, hpio, abn string
	}
}

func str(ns sql.NullString) string { return ns.String }

func loadSnapshot(t testing.TB, db *sql.DB) *snapshot {
	t.Helper()
	s := &snapshot{}
	rows, err := db.Query(`SELECT PATIENT_ID, DELETED, STATUS, COALESCE(USUAL_DOCTOR_ID, 0), SURNAME, FIRST_NAME, MIDDLE_NAME,
		PREFERRED_NAME, SEX, IHI, MEDICARE_NO, MEDICARE_IRN, DVA_NO, CHART_NO, EMAIL, POSTCODE, POSTAL_POSTCODE,
		HOME_PHONE, WORK_PHONE, MOBILE_PHONE, DOB, COALESCE(UPDATED_AT, CREATED_AT) FROM PATIENT ORDER BY PATIENT_ID`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p patientRec
		var f [16]sql.NullString
		var dob, lastUpdated any
		if err := rows.Scan(&p.id, &p.deleted, &p.status, &p.gp, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8],
			&f[9], &f[10], &f[11], &f[12], &f[13], &f[14], &f[15], &dob, &lastUpdated); err != nil {
			t.Fatal(err)
		}
		p.surname, p.first, p.middle, p.preferred, p.sex = str(f[0]), str(f[1]), str(f[2]), str(f[3]), str(f[4])
		p.ihi, p.medicare, p.irn, p.dva, p.chart, p.email = str(f[5]), str(f[6]), str(f[7]), str(f[8]), str(f[9]), str(f[10])
		p.postcode, p.postalPostcode = str(f[11]), str(f[12])
		for _, ph := range f[13:16] {
			if ph.Valid {
				p.phones = append(p.phones, ph.String)
			}
		}
		p.dob = asTime(t, dob)
		p.lastUpdated = asTime(t, lastUpdated)
		s.patients = append(s.patients, p)
	}
	rows.Close()
	rows, err = db.Query(`SELECT DOCTOR_ID, DELETED, DOCTOR_TYPE, IS_ACTIVE, SURNAME, FIRST_NAME, HPII, AHPRA_NO, PRESCRIBER_NO FROM DOCTOR ORDER BY DOCTOR_ID`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d doctorRec
		var f [5]sql.NullString
		if err := rows.Scan(&d.id, &d.deleted, &d.typ, &d.active, &f[0], &f[1], &f[2], &f[3], &f[4]); err != nil {
			t.Fatal(err)
		}
		d.surname, d.first, d.hpii, d.ahpra, d.prescriber = str(f[0]), str(f[1]), str(f[2]), str(f[3]), str(f[4])
		s.doctors = append(s.doctors, d)
	}
	rows.Close()
	rows, err = db.Query(`SELECT BRANCH_ID, DELETED, BRANCH_NAME, SUBURB, POSTCODE, HPIO FROM BRANCH ORDER BY BRANCH_ID`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var b branchRec
		var f [4]sql.NullString
		if err := rows.Scan(&b.id, &b.deleted, &f[0], &f[1], &f[2], &f[3]); err != nil {
			t.Fatal(err)
		}
		b.name, b.suburb, b.pcode, b.hpio = str(f[0]), str(f[1]), str(f[2]), str(f[3])
		s.branches = append(s.branches, b)
	}
	rows.Close()
	rows, err = db.Query(`SELECT DOCTOR_BRANCH_ID, DELETED, DOCTOR_ID, BRANCH_ID, PROVIDER_NO FROM DOCTOR_BRANCH ORDER BY DOCTOR_BRANCH_ID`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r roleRec
		var pn sql.NullString
		if err := rows.Scan(&r.id, &r.deleted, &r.doctor, &r.branch, &pn); err != nil {
			t.Fatal(err)
		}
		r.provider = pn.String
		s.roles = append(s.roles, r)
	}
	rows.Close()
	var h, a sql.NullString
	if err := db.QueryRow(`SELECT PRACTICE_ID, PRACTICE_NAME, HPIO, ABN FROM PRACTICE`).Scan(&s.practice.id, &s.practice.name, &h, &a); err != nil {
		t.Fatal(err)
	}
	s.practice.hpio, s.practice.abn = h.String, a.String
	return s
}

// asTime reads a TIMESTAMP as the engines' drivers return it.
func asTime(t testing.TB, v any) time.Time {
	switch x := v.(type) {
	case nil:
		return time.Time{}
	case time.Time:
		return time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), 0, time.UTC)
	case string:
		w, err := mappings.ParseWall(x)
		if err != nil {
			t.Fatal(err)
		}
		return w.In(time.UTC)
	case []byte:
		return asTime(t, string(x))
	}
	t.Fatalf("unexpected time value %T", v)
	return time.Time{}
}

// patientsWhere are the ids of the live, active patients matching f (what a search without
// active finds).
// patientsWhere are the patients f keeps that a search finds: every record not deleted,
// inactive ones too (a search finds what a read finds).
func (s *snapshot) patientsWhere(f func(patientRec) bool) []int {
	var out []int
	for _, p := range s.patients {
		if p.deleted == 0 && f(p) {
			out = append(out, p.id)
		}
	}
	return out
}

func (s *snapshot) patient(id int) patientRec {
	for _, p := range s.patients {
		if p.id == id {
			return p
		}
	}
	return patientRec{}
}

// isPractitioner is practitionerRule in Go.
func (d doctorRec) isPractitioner() bool {
	return d.deleted == 0 && (d.typ == doctorGP || d.typ == doctorRegistrar || d.typ == doctorNurse || d.typ == doctorAllied || d.ahpra != "")
}

func zedsynthTables() map[string][]string { return zedsynth.Tables() }
