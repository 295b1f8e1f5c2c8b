package bppremier

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"fhirlink/agent/executor"
	"fhirlink/agent/pgtest"
	"fhirlink/fhir"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/mappings"
	"fhirlink/mappings/bppremier/bpsynth"
	"fhirlink/mappings/mappingstest"
)

// The database tests run every mapping for real, on PostgreSQL and SQLite
// loaded with the synthetic Bp Premier practice, through the agent's
// executor (so parameters are bound as in production), and check the
// results against expectations computed in Go from the raw tables.

// practice is one loaded database.
type practice struct {
	mappingstest.Searcher
	engine string
	db     *sql.DB // direct access, for fixtures and expectations
	snap   *snapshot
	fix    fixtures
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	runPractice(t, loadPractice(t, mappings.EnginePostgres, bpsynth.EnginePostgres, db, dsn))
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bp.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	runPractice(t, loadPractice(t, mappings.EngineSQLite, bpsynth.EngineSQLite, db, path))
}

func loadPractice(t *testing.T, engine, synthEngine string, db *sql.DB, dsn string) *practice {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := bpsynth.Apply(ctx, db, synthEngine); err != nil {
		t.Fatal(err)
	}
	if err := bpsynth.Generate(ctx, db, synthEngine, bpsynth.Small()); err != nil {
		t.Fatal(err)
	}
	p := &practice{Searcher: mappingstest.Searcher{Dialect: dialect(t, engine), Site: testSite}, engine: engine, db: db}
	p.fix = p.applyFixtures(t)
	p.snap = p.loadSnapshot(t)
	exec, err := executor.Open(ctx, executor.Config{Engine: engine, Catalogues: []executor.Catalogue{{Name: "BPSPatients", DSN: dsn}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Close() })
	p.Exec = exec
	return p
}

func runPractice(t *testing.T, p *practice) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, *practice)
	}{
		{"Shapes", testShapes},
		{"PatientFamily", testPatientFamily},
		{"PatientBadInput", testPatientBadInput},
		{"PatientPaging", testPatientPaging},
		{"PatientIdentifier", testPatientIdentifier},
		{"PatientActive", testPatientActive},
		{"PatientGender", testPatientGender},
		{"PatientBirthdate", testPatientBirthdate},
		{"PatientNamesAndContacts", testPatientNamesAndContacts},
		{"PatientResource", testPatientResource},
		{"Practitioner", testPractitioner},
		{"PractitionerRole", testPractitionerRole},
		{"Organization", testOrganization},
		{"Location", testLocation},
		{"Clinical", testClinical},
		{"Chains", testChains},
		{"Scheduling", testScheduling},
		{"Deleted", testDeleted},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, p) })
	}
}

// search walks every page of the query with pages of size (the mapping's
// default when 0), checking the paging contract.
func (p *practice) search(t testing.TB, r mappings.Resource, query string, size int) []mappings.Row {
	t.Helper()
	if size > 0 {
		query += "&_count=" + strconv.Itoa(size)
	}
	return p.Search(t, r, parse(t, r, strings.TrimPrefix(query, "&")))
}

// ids are the resources' ids, sorted numerically.
func ids(t testing.TB, rows []mappings.Row) []int {
	t.Helper()
	out := make([]int, len(rows))
	for i, r := range rows {
		n, err := strconv.Atoi(mappingstest.ResourceID(t, r.Resource))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = n
	}
	slices.Sort(out)
	return out
}

// count runs the count query of the search.
func (p *practice) count(t testing.TB, r mappings.Resource, query string) int {
	t.Helper()
	q, err := r.Count(p.Dialect, parse(t, r, query))
	if err != nil {
		t.Fatal(err)
	}
	rows := p.Query(t, q)
	if len(rows) != 1 {
		t.Fatalf("count: %d rows", len(rows))
	}
	var c struct {
		Total mappings.Int `json:"total"`
	}
	if err := json.Unmarshal(rows[0], &c); err != nil {
		t.Fatal(err)
	}
	return int(c.Total)
}

// expect checks a search (walked in pages of 25; PatientPaging tests
// small pages) and its count against the expected ids.
func (p *practice) expect(t testing.TB, r mappings.Resource, query string, want []int) []mappings.Row {
	t.Helper()
	rows := p.search(t, r, query, 25)
	got := ids(t, rows)
	t.Logf("%s?%s: %d", r.Decl().Type, query, len(got))
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s?%s: got %d ids %v, want %d ids %v", r.Decl().Type, query, len(got), got, len(want), want)
	}
	if n := p.count(t, r, query); n != len(want) {
		t.Errorf("%s?%s: count %d, want %d", r.Decl().Type, query, n, len(want))
	}
	return rows
}

// ---- the raw tables, for expectations ----

type patientRec struct {
	id, record, status, userID        int
	surname, first, middle, preferred string
	sex, ihi, medicare, irn, dva      string
	recordNo, email, postcode, postal string
	phones                            []string
	dob                               time.Time // zero when NULL
}

type userRec struct {
	id, record, status, group           int
	surname, first, hpii, ahpra, provNo string
	prescriber                          string
}

type locationRec struct {
	id, record                      int
	name, city, postcode, hpio, adr string
}

type roleRec struct {
	id, record, user, loc int
	provNo                string
}

type snapshot struct {
	patients  []patientRec
	users     []userRec
	locations []locationRec
	roles     []roleRec
	practice  struct {
		id              int
		name, hpio, abn string
	}
}

// visible are the patients a search finds: every live record, inactive ones
// too (a search finds what a read finds).
func (s *snapshot) visible(f func(patientRec) bool) []int {
	var out []int
	for _, p := range s.patients {
		if p.record == 1 && f(p) {
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
	panic("no patient " + strconv.Itoa(id))
}

// clinical is the practitioner rule, written independently of the SQL.
func (u userRec) clinical() bool {
	return u.record == 1 && u.status != 999 && (u.group >= 1 && u.group <= 4 || u.ahpra != "")
}

func (s *snapshot) user(id int) userRec {
	for _, u := range s.users {
		if u.id == id {
			return u
		}
	}
	return userRec{}
}

func (p *practice) rows(t testing.TB, query string, scan func(vals []any)) {
	t.Helper()
	rows, err := p.db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		scan(vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return strings.TrimSpace(string(x))
	case string:
		return strings.TrimSpace(x)
	}
	return strings.TrimSpace(fmt.Sprint(v))
}

func num(v any) int {
	switch x := v.(type) {
	case int64:
		return int(x)
	case int32:
		return int(x)
	case nil:
		return 0
	}
	n, _ := strconv.Atoi(str(v))
	return n
}

func when(v any) time.Time {
	switch x := v.(type) {
	case time.Time:
		return time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), 0, time.UTC)
	case nil:
		return time.Time{}
	}
	t, err := time.Parse("2006-01-02 15:04:05", str(v))
	if err != nil {
		panic(err)
	}
	return t
}

func (p *practice) loadSnapshot(t testing.TB) *snapshot {
	s := &snapshot{}
	p.rows(t, `SELECT p."INTERNALID", p."RECORDSTATUS", p."PATIENTSTATUS", p."USERID", p."SURNAME", p."FIRSTNAME",
		p."MIDDLENAME", p."PREFERREDNAME", x."SEX", p."IHI", p."MEDICARENO", p."MEDICARELINENO", p."DVANO", p."RECORDNO",
		p."EMAIL", p."POSTCODE", p."POSTALPOSTCODE", p."HOMEPHONE", p."WORKPHONE", p."MOBILEPHONE", p."DOB"
		FROM "PATIENTS" p LEFT JOIN "SEX" x ON x."SEXCODE" = p."SEXCODE"`, func(v []any) {
		s.patients = append(s.patients, patientRec{id: num(v[0]), record: num(v[1]), status: num(v[2]), userID: num(v[3]),
			surname: str(v[4]), first: str(v[5]), middle: str(v[6]), preferred: str(v[7]), sex: str(v[8]), ihi: str(v[9]),
			medicare: str(v[10]), irn: str(v[11]), dva: str(v[12]), recordNo: str(v[13]), email: str(v[14]),
			postcode: str(v[15]), postal: str(v[16]), phones: []string{str(v[17]), str(v[18]), str(v[19])}, dob: when(v[20])})
	})
	p.rows(t, `SELECT "USERID", "RECORDSTATUS", "USERSTATUS", "GROUPCODE", "SURNAME", "FIRSTNAME", "HPII", "REGISTRATIONNO",
		"PROVIDERNO", "PRESCRIBERNO" FROM "USERS"`, func(v []any) {
		s.users = append(s.users, userRec{id: num(v[0]), record: num(v[1]), status: num(v[2]), group: num(v[3]),
			surname: str(v[4]), first: str(v[5]), hpii: str(v[6]), ahpra: str(v[7]), provNo: str(v[8]), prescriber: str(v[9])})
	})
	p.rows(t, `SELECT "LOCATIONID", "RECORDSTATUS", "LOCATIONNAME", "CITY", "POSTCODE", "HPIO", "ADDRESS1" FROM "LOCATIONS"`, func(v []any) {
		s.locations = append(s.locations, locationRec{id: num(v[0]), record: num(v[1]), name: str(v[2]), city: str(v[3]),
			postcode: str(v[4]), hpio: str(v[5]), adr: str(v[6])})
	})
	p.rows(t, `SELECT "RECORDID", "RECORDSTATUS", "USERID", "LOCATIONID", "PROVIDERNUMBER" FROM "PROVIDER_LOCATION"`, func(v []any) {
		s.roles = append(s.roles, roleRec{id: num(v[0]), record: num(v[1]), user: num(v[2]), loc: num(v[3]), provNo: str(v[4])})
	})
	p.rows(t, `SELECT "PRACTICEID", "PRACTICENAME", "HPIO", "ABN" FROM "PRACTICE" WHERE "RECORDSTATUS" = 1`, func(v []any) {
		s.practice.id, s.practice.name, s.practice.hpio, s.practice.abn = num(v[0]), str(v[1]), str(v[2]), str(v[3])
	})
	return s
}

// ---- fixtures: rows the generator does not make ----

// fixtures are the patient ids given special values.
type fixtures struct {
	obrien, pct, pctX, under, underX, backslash, bracket int
	noDOB, summer, winter, inactive, deleted             int
}

// exec runs a statement written with ? placeholders.
func (p *practice) sqlExec(t testing.TB, query string, args ...any) {
	t.Helper()
	if p.engine == mappings.EnginePostgres {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	if _, err := p.db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// surname pads a SURNAME as Bp's char(40) is (SQLite does not pad).
func surname(s string) string { return s + strings.Repeat(" ", 40-len(s)) }

func (p *practice) applyFixtures(t testing.TB) fixtures {
	var live []int
	p.rows(t, `SELECT "INTERNALID" FROM "PATIENTS" WHERE "RECORDSTATUS" = 1 AND "PATIENTSTATUS" = 1 ORDER BY "INTERNALID"`,
		func(v []any) { live = append(live, num(v[0])) })
	if len(live) < 20 {
		t.Fatalf("only %d live patients", len(live))
	}
	f := fixtures{obrien: live[0], pct: live[1], pctX: live[2], under: live[3], underX: live[4], backslash: live[5],
		bracket: live[6], noDOB: live[7], summer: live[8], winter: live[9], inactive: live[10], deleted: live[11]}
	for id, name := range map[int]string{f.obrien: "O'Brien", f.pct: "100%Pure", f.pctX: "100xPure", f.under: "A_Cole",
		f.underX: "ABCole", f.backslash: `Back\slash`, f.bracket: "Bracket[1]", f.inactive: "Inactivo", f.deleted: "Deletedo"} {
		p.sqlExec(t, `UPDATE "PATIENTS" SET "SURNAME" = ? WHERE "INTERNALID" = ?`, surname(name), id)
	}
	p.sqlExec(t, `UPDATE "PATIENTS" SET "DOB" = NULL WHERE "INTERNALID" = ?`, f.noDOB)
	p.sqlExec(t, `UPDATE "PATIENTS" SET "UPDATED" = ? WHERE "INTERNALID" = ?`, "2024-01-15 10:30:00", f.summer)
	p.sqlExec(t, `UPDATE "PATIENTS" SET "UPDATED" = ? WHERE "INTERNALID" = ?`, "2024-07-15 10:30:00", f.winter)
	p.sqlExec(t, `UPDATE "PATIENTS" SET "PATIENTSTATUS" = 2 WHERE "INTERNALID" = ?`, f.inactive)
	p.sqlExec(t, `UPDATE "PATIENTS" SET "RECORDSTATUS" = 0 WHERE "INTERNALID" = ?`, f.deleted)
	return f
}

// ---- Patient ----

func lower(s string) string { return strings.ToLower(s) }

func testShapes(t *testing.T, p *practice) {
	for _, sh := range shapes {
		t.Run(sh.Name, func(t *testing.T) {
			q := sh.Render(t, p.Dialect, parse)
			rows := p.Query(t, q)
			if sh.Count {
				if len(rows) != 1 || !strings.Contains(string(rows[0]), `"total"`) {
					t.Fatalf("count: %s", rows)
				}
				return
			}
			var res []json.RawMessage
			for _, row := range rows {
				r, err := sh.Res.Row(row, testSite)
				if err != nil {
					t.Fatal(err)
				}
				res = append(res, r.Resource)
			}
			if len(res) > 0 {
				fhirvalidate.Resources(t, res...)
			}
		})
	}
}

func testPatientFamily(t *testing.T, p *practice) {
	s := p.snap
	values := []string{"sm", "SM", "o'", "Mc", "de s", "z"}
	for _, r := range s.patients[20:26] { // prefixes that find someone
		values = append(values, r.surname[:2], strings.ToUpper(r.surname[:3]), strings.ToLower(r.surname))
	}
	for _, v := range values {
		want := s.visible(func(r patientRec) bool { return strings.HasPrefix(lower(r.surname), lower(v)) })
		p.expect(t, Patient, "family="+urlEscape(v), want)
	}
	p.expect(t, Patient, "family=O'Brien", s.visible(func(r patientRec) bool { return strings.HasPrefix(lower(r.surname), "o'brien") }))
	if !slices.Contains(ids(t, p.search(t, Patient, "family=O'Brien", 0)), p.fix.obrien) {
		t.Error("family=O'Brien does not find the O'Brien")
	}
	p.expect(t, Patient, "family:exact=O'Brien", s.visible(func(r patientRec) bool { return r.surname == "O'Brien" }))
	p.expect(t, Patient, "family:exact=o'brien", nil)
	p.expect(t, Patient, "family:contains=SON", s.visible(func(r patientRec) bool { return strings.Contains(lower(r.surname), "son") }))
	p.expect(t, Patient, "family=smith,jones", s.visible(func(r patientRec) bool {
		return strings.HasPrefix(lower(r.surname), "smith") || strings.HasPrefix(lower(r.surname), "jones")
	}))
}

func urlEscape(s string) string { return url.QueryEscape(s) }

func testPatientBadInput(t *testing.T, p *practice) {
	f := p.fix
	p.expect(t, Patient, "family=100%25", []int{f.pct})
	p.expect(t, Patient, "family:contains=%25", []int{f.pct})
	p.expect(t, Patient, "family=a_c", []int{f.under})
	p.expect(t, Patient, "family:contains=_", []int{f.under})
	p.expect(t, Patient, `family=back\\s`, []int{f.backslash})
	p.expect(t, Patient, "family=bracket[", []int{f.bracket})
	p.expect(t, Patient, "family=bracket[1]", []int{f.bracket})
	for _, q := range []string{
		"family=" + urlEscape("' OR 1=1 --"),
		"family=" + urlEscape("x' OR '1'='1"),
		"family:exact=" + urlEscape("'; DROP TABLE \"PATIENTS\"; --"),
		"name:contains=" + urlEscape("%' OR ''='"),
		"identifier=" + urlEscape("' OR 1=1 --"),
		"email=" + urlEscape("a@b' OR 1=1 --"),
	} {
		p.expect(t, Patient, q, nil)
	}
	// The table is still there.
	if n := p.count(t, Patient, "family=s"); n == 0 {
		t.Error("no patient left")
	}
	// A bad boolean is a bad request, not an empty result.
	_, err := Patient.Search(p.Dialect, parse(t, Patient, "active=maybe"))
	var bad *mappings.BadRequestError
	if !errors.As(err, &bad) || bad.Param != "active" {
		t.Errorf("active=maybe: %v, want a BadRequestError about active", err)
	}
	// A cursor that does not fit the sort is a bad request.
	s := parse(t, Patient, "_sort=family")
	s.After = []string{"x"}
	if _, err := Patient.Search(p.Dialect, s); !errors.As(err, &bad) {
		t.Errorf("bad cursor: %v, want a BadRequestError", err)
	}
	s = parse(t, Patient, "family=a")
	s.After = []string{"1 OR 1=1"}
	if _, err := Patient.Search(p.Dialect, s); !errors.As(err, &bad) {
		t.Errorf("non-integer id cursor: %v, want a BadRequestError", err)
	}
}

func testPatientPaging(t *testing.T, p *practice) {
	s := p.snap
	all := s.visible(func(patientRec) bool { return true })
	for _, c := range []struct {
		query string
		size  int
		want  []int
		less  func(a, b patientRec) int // the order the rows must come in
	}{
		{"", 10, all, func(a, b patientRec) int { return a.id - b.id }},
		{"family=s&_sort=family", 3, s.visible(func(r patientRec) bool { return strings.HasPrefix(lower(r.surname), "s") }),
			func(a, b patientRec) int { return strings.Compare(lower(a.surname), lower(b.surname)) }},
		{"_sort=family,given", 13, all, func(a, b patientRec) int {
			if c := strings.Compare(lower(a.surname), lower(b.surname)); c != 0 {
				return c
			}
			return strings.Compare(lower(a.first), lower(b.first))
		}},
		{"_sort=-birthdate", 9, all, func(a, b patientRec) int { return b.dob.Compare(a.dob) }},
		{"_sort=birthdate,-_id", 11, all, func(a, b patientRec) int {
			if c := a.dob.Compare(b.dob); c != 0 {
				return c
			}
			return b.id - a.id
		}},
		{"gender=female&_sort=-family", 4, s.visible(func(r patientRec) bool { return r.sex == "Female" }),
			func(a, b patientRec) int { return strings.Compare(lower(b.surname), lower(a.surname)) }},
	} {
		rows := p.search(t, Patient, c.query, c.size)
		got := ids(t, rows)
		if !slices.Equal(got, sorted(c.want)) {
			t.Errorf("%s (pages of %d): got %d ids, want %d", c.query, c.size, len(got), len(c.want))
		}
		for i := 1; i < len(rows); i++ {
			a := s.patient(atoi(mappingstest.ResourceID(t, rows[i-1].Resource)))
			b := s.patient(atoi(mappingstest.ResourceID(t, rows[i].Resource)))
			if c.less(a, b) > 0 {
				t.Errorf("%s: %d before %d is out of order", c.query, a.id, b.id)
			}
		}
		// The same result in one page.
		if one := p.search(t, Patient, c.query, 200); !slices.Equal(ids(t, one), got) {
			t.Errorf("%s: one page differs from many", c.query)
		}
	}
	// A result of exactly _count rows has no next page (and so no empty
	// last page): search checks it.
	exact := s.visible(func(r patientRec) bool { return strings.HasPrefix(lower(r.surname), "s") })
	if len(exact) > 0 {
		p.search(t, Patient, "family=s", len(exact))
	}
}

func sorted(s []int) []int {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func testPatientIdentifier(t *testing.T, p *practice) {
	s := p.snap
	var withAll patientRec
	for _, r := range s.patients {
		if r.record == 1 && r.status == 1 && r.ihi != "" && r.medicare != "" && r.recordNo != "" {
			withAll = r
			break
		}
	}
	if withAll.id == 0 {
		t.Fatal("no patient with IHI, Medicare and record number")
	}
	one := []int{withAll.id}
	p.expect(t, Patient, "identifier="+mappings.SystemIHI+"|"+withAll.ihi, one)
	p.expect(t, Patient, "identifier="+withAll.ihi, one)
	p.expect(t, Patient, "identifier=|"+withAll.ihi, nil)
	p.expect(t, Patient, "identifier="+mappings.SystemHPII+"|"+withAll.ihi, nil)
	card := s.visible(func(r patientRec) bool { return r.medicare == withAll.medicare })
	if len(card) < 1 {
		t.Fatal("card holder not visible")
	}
	p.expect(t, Patient, "identifier="+mappings.SystemMedicare+"|"+withAll.medicare, card)
	p.expect(t, Patient, "identifier="+mappings.SystemMedicare+"|"+withAll.medicare+withAll.irn, one)
	spaced := withAll.medicare[:4] + "%20" + withAll.medicare[4:9] + "%20" + withAll.medicare[9:] + withAll.irn
	p.expect(t, Patient, "identifier="+mappings.SystemMedicare+"|"+spaced, one)
	p.expect(t, Patient, "identifier="+mappings.SystemMedicare+"|"+withAll.medicare[:9], nil)
	p.expect(t, Patient, "identifier="+mappings.SystemHPIOScopedRecord+"/"+s.practice.hpio+"|"+withAll.recordNo,
		s.visible(func(r patientRec) bool { return r.recordNo == withAll.recordNo }))
	p.expect(t, Patient, "identifier="+mappings.SystemHPIOScopedRecord+"/8003620000000000|"+withAll.recordNo, nil)
	p.expect(t, Patient, "identifier=urn:fhirlink:bppremier:patient-id/"+s.practice.hpio+"|"+strconv.Itoa(withAll.id), one)
	p.expect(t, Patient, "identifier=urn:fhirlink:bppremier:patient-id/8003620000000000|"+strconv.Itoa(withAll.id), nil)
	p.expect(t, Patient, "identifier=urn:fhirlink:bppremier:patient-id|"+strconv.Itoa(withAll.id), one)
	p.expect(t, Patient, "identifier="+strconv.Itoa(withAll.id), s.visible(func(r patientRec) bool { return r.recordNo == strconv.Itoa(withAll.id) }))
	p.expect(t, Patient, "identifier="+mappings.SystemDVA+"|",
		s.visible(func(r patientRec) bool { return r.dva != "" }))
	p.expect(t, Patient, "identifier:not="+mappings.SystemIHI+"|"+withAll.ihi,
		s.visible(func(r patientRec) bool { return r.id != withAll.id }))
	for _, r := range s.patients {
		if r.record == 1 && r.status == 1 && r.dva != "" {
			p.expect(t, Patient, "identifier="+mappings.SystemDVA+"|"+lower(r.dva), []int{r.id})
			break
		}
	}
	// The resource carries what was searched.
	rows := p.search(t, Patient, "_id="+strconv.Itoa(withAll.id), 0)
	var pt struct {
		Identifier []struct {
			System, Value string
			Period        *struct{ End string }
			Type          struct{ Coding []struct{ Code string } }
		}
	}
	if err := json.Unmarshal(rows[0].Resource, &pt); err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, id := range pt.Identifier {
		found[id.System] = id.Value
		if id.System == mappings.SystemMedicare {
			if !bpsynth.ValidMedicare(id.Value) || len(id.Value) != 11 || id.Period == nil || len(id.Period.End) != 7 {
				t.Errorf("Medicare identifier %+v: want 11 valid digits and a YYYY-MM expiry", id)
			}
		}
	}
	if found[mappings.SystemIHI] != withAll.ihi || found[mappings.SystemHPIOScopedRecord+"/"+s.practice.hpio] != withAll.recordNo {
		t.Errorf("identifiers %v", found)
	}
}

func testPatientActive(t *testing.T, p *practice) {
	s, f := p.snap, p.fix
	inactive := func(r patientRec) bool { return r.record == 1 && r.status != 1 }
	var want []int
	for _, r := range s.patients {
		if inactive(r) {
			want = append(want, r.id)
		}
	}
	if !slices.Contains(want, f.inactive) {
		t.Fatal("fixture not inactive")
	}
	p.expect(t, Patient, "active=false", want)
	p.expect(t, Patient, "active=true", s.visible(func(r patientRec) bool { return r.status == 1 }))
	// An inactive patient is found like any other (read and search agree), unless
	// active=true leaves it out.
	p.expect(t, Patient, "family=inactivo", []int{f.inactive})
	p.expect(t, Patient, "family=inactivo&active=true", nil)
	p.expect(t, Patient, "family=inactivo&active=false", []int{f.inactive})
	p.expect(t, Patient, "_id="+strconv.Itoa(f.inactive), []int{f.inactive})
	p.expect(t, Patient, "_id="+strconv.Itoa(f.deleted), nil)
	p.expect(t, Patient, "family=deletedo&active=true,false", nil)
	rows := p.search(t, Patient, "_id="+strconv.Itoa(f.inactive), 0)
	if !strings.Contains(string(rows[0].Resource), `"active":false`) {
		t.Errorf("inactive patient: %s", rows[0].Resource)
	}
	// Deceased patients are inactive; those with a date of death say when.
	rows = p.search(t, Patient, "active=false", 0)
	deceased := 0
	for _, r := range rows {
		if strings.Contains(string(r.Resource), `"deceasedDateTime"`) {
			deceased++
		}
	}
	if deceased == 0 {
		t.Log("no deceased patient with a date of death in this practice")
	}
}

func testPatientGender(t *testing.T, p *practice) {
	s := p.snap
	g := func(text string) string {
		switch text {
		case "Male":
			return "male"
		case "Female":
			return "female"
		case "Other":
			return "other"
		}
		return "unknown"
	}
	for _, code := range []string{"male", "female", "other", "unknown"} {
		want := s.visible(func(r patientRec) bool { return g(r.sex) == code })
		p.expect(t, Patient, "gender="+code, want)
		p.expect(t, Patient, "gender=http://hl7.org/fhir/administrative-gender|"+code, want)
		p.expect(t, Patient, "gender:not="+code, s.visible(func(r patientRec) bool { return g(r.sex) != code }))
	}
	p.expect(t, Patient, "gender=http://example.org/sex|male", nil)
	p.expect(t, Patient, "gender=female,other", s.visible(func(r patientRec) bool { return g(r.sex) == "female" || g(r.sex) == "other" }))
	var one patientRec
	for _, r := range s.patients {
		if r.record == 1 && r.status == 1 && r.sex == "Male" && r.surname != "" {
			one = r
			break
		}
	}
	p.expect(t, Patient, "family="+urlEscape(one.surname)+"&gender=male", s.visible(func(r patientRec) bool {
		return strings.HasPrefix(lower(r.surname), lower(one.surname)) && g(r.sex) == "male"
	}))
}

// dateMatches is FHIR's rule for a date value [d, d+1 day) against a
// search range [lo, hi), written independently of the SQL.
func dateMatches(prefix fhir.Prefix, d, lo, hi time.Time) bool {
	if d.IsZero() {
		return false
	}
	a, b := d, d.AddDate(0, 0, 1)
	eq := !a.Before(lo) && !b.After(hi)
	gt := b.After(hi)
	lt := a.Before(lo)
	switch prefix {
	case fhir.PrefixEq:
		return eq
	case fhir.PrefixNe:
		return !eq
	case fhir.PrefixGt:
		return gt
	case fhir.PrefixLt:
		return lt
	case fhir.PrefixGe:
		return eq || gt
	case fhir.PrefixLe:
		return eq || lt
	case fhir.PrefixSa:
		return !a.Before(hi)
	case fhir.PrefixEb:
		return !b.After(lo)
	case fhir.PrefixAp:
		return a.Before(hi) && b.After(lo)
	}
	panic(prefix)
}

func testPatientBirthdate(t *testing.T, p *practice) {
	s := p.snap
	var dob time.Time
	for _, r := range s.patients {
		if r.record == 1 && r.status == 1 && !r.dob.IsZero() {
			dob = r.dob
			break
		}
	}
	values := []string{"1980", "1975-03", dob.Format("2006-01-02"), dob.Format("2006-01-02") + "T10:00", dob.Format("2006-01-02") + "T00:00:00"}
	wall := func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	for _, v := range values {
		for _, prefix := range []string{"", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"} {
			query := "birthdate=" + prefix + v
			srch := parse(t, Patient, query)
			val := srch.Clauses[0].Values[0]
			lo, hi := wall(val.Lo), wall(val.Hi)
			want := s.visible(func(r patientRec) bool { return dateMatches(val.Prefix, r.dob, lo, hi) })
			p.expect(t, Patient, query, want)
		}
	}
	p.expect(t, Patient, "birthdate=ge1980&birthdate=lt1990", s.visible(func(r patientRec) bool {
		return !r.dob.IsZero() && r.dob.Year() >= 1980 && r.dob.Year() < 1990
	}))
	// The AU Core combinations.
	var one patientRec
	for _, r := range s.patients {
		if r.record == 1 && r.status == 1 && !r.dob.IsZero() && r.first != "" {
			one = r
			break
		}
	}
	day := one.dob.Format("2006-01-02")
	p.expect(t, Patient, "birthdate="+day+"&family="+urlEscape(one.surname), s.visible(func(r patientRec) bool {
		return r.dob.Equal(one.dob) && strings.HasPrefix(lower(r.surname), lower(one.surname))
	}))
	p.expect(t, Patient, "birthdate="+day+"&name="+urlEscape(one.first), s.visible(func(r patientRec) bool {
		return r.dob.Equal(one.dob) && nameMatches(r, one.first)
	}))
}

func nameMatches(r patientRec, v string) bool {
	for _, n := range []string{r.surname, r.first, r.middle, r.preferred} {
		if strings.HasPrefix(lower(n), lower(v)) {
			return true
		}
	}
	return false
}

func digits(s string) string { return mappings.Digits(s) }

func testPatientNamesAndContacts(t *testing.T, p *practice) {
	s := p.snap
	for _, v := range []string{"an", "Jo", "mi"} {
		p.expect(t, Patient, "name="+v, s.visible(func(r patientRec) bool { return nameMatches(r, v) }))
		p.expect(t, Patient, "given="+v, s.visible(func(r patientRec) bool {
			for _, n := range []string{r.first, r.middle, r.preferred} {
				if strings.HasPrefix(lower(n), lower(v)) {
					return true
				}
			}
			return false
		}))
	}
	p.expect(t, Patient, "gender=female&name=an", s.visible(func(r patientRec) bool { return r.sex == "Female" && nameMatches(r, "an") }))
	var mobile, email patientRec
	for _, r := range s.patients {
		if r.record == 1 && r.status == 1 {
			if mobile.id == 0 && strings.HasPrefix(r.phones[2], "04") {
				mobile = r
			}
			if email.id == 0 && r.email != "" {
				email = r
			}
		}
	}
	num := digits(mobile.phones[2])
	want := s.visible(func(r patientRec) bool {
		for _, ph := range r.phones {
			if ph != "" && digits(ph) == num {
				return true
			}
		}
		return false
	})
	p.expect(t, Patient, "phone="+num, want)
	p.expect(t, Patient, "phone="+urlEscape(mobile.phones[2]), want)
	p.expect(t, Patient, "phone="+urlEscape("+61 "+num[1:]), want)
	p.expect(t, Patient, "phone=abc", nil)
	p.expect(t, Patient, "email="+strings.ToUpper(email.email), s.visible(func(r patientRec) bool { return lower(r.email) == lower(email.email) }))
	p.expect(t, Patient, "address-postalcode=2", s.visible(func(r patientRec) bool {
		return strings.HasPrefix(r.postcode, "2") || strings.HasPrefix(r.postal, "2")
	}))
	// The usual doctor.
	for _, u := range s.users {
		if u.clinical() && u.status == 1 && u.group == 2 {
			want := s.visible(func(r patientRec) bool { return r.userID == u.id })
			rows := p.expect(t, Patient, "general-practitioner=Practitioner/"+strconv.Itoa(u.id), want)
			p.expect(t, Patient, "general-practitioner="+strconv.Itoa(u.id), want)
			for _, r := range rows {
				if got := r.Refs["general-practitioner"]; !slices.Equal(got, []string{strconv.Itoa(u.id)}) {
					t.Errorf("general-practitioner refs %v", got)
				}
			}
			break
		}
	}
	p.expect(t, Patient, "general-practitioner=Practitioner/abc", nil)
}

func testPatientResource(t *testing.T, p *practice) {
	f := p.fix
	type patient struct {
		ResourceType string
		Meta         struct {
			LastUpdated string
			Profile     []string
		}
		BirthDate  string
		BirthDateX *struct {
			Extension []struct{ URL, ValueCode string }
		} `json:"_birthDate"`
		Gender string
		Name   []struct {
			Use, Family string
			Given       []string
		}
		Address []struct {
			Use, Type, State, PostalCode string
		}
		GeneralPractitioner  []struct{ Reference string }
		ManagingOrganization *struct{ Reference string }
	}
	get := func(id int) patient {
		rows := p.search(t, Patient, "_id="+strconv.Itoa(id), 0)
		if len(rows) != 1 {
			t.Fatalf("_id=%d: %d rows", id, len(rows))
		}
		var pt patient
		if err := json.Unmarshal(rows[0].Resource, &pt); err != nil {
			t.Fatal(err)
		}
		return pt
	}
	if got := get(f.summer).Meta.LastUpdated; got != "2024-01-15T10:30:00+11:00" {
		t.Errorf("lastUpdated in summer: %s, want the +11:00 of daylight saving", got)
	}
	if got := get(f.winter).Meta.LastUpdated; got != "2024-07-15T10:30:00+10:00" {
		t.Errorf("lastUpdated in winter: %s, want +10:00", got)
	}
	nodob := get(f.noDOB)
	if nodob.BirthDate != "" || nodob.BirthDateX == nil || nodob.BirthDateX.Extension[0].ValueCode != "unknown" {
		t.Errorf("patient without DOB: %+v", nodob)
	}
	for _, r := range p.snap.patients {
		if r.record != 1 || r.status != 1 || r.dob.IsZero() {
			continue
		}
		pt := get(r.id)
		if pt.ResourceType != "Patient" || pt.Meta.Profile[0] != mappings.ProfilePatient || pt.BirthDate != r.dob.Format("2006-01-02") {
			t.Errorf("patient %d: %+v", r.id, pt)
		}
		if pt.Name[0].Use != "official" || pt.Name[0].Family != r.surname {
			t.Errorf("patient %d name %+v", r.id, pt.Name)
		}
		if r.preferred != "" && (len(pt.Name) != 2 || pt.Name[1].Use != "usual" || pt.Name[1].Given[0] != r.preferred) {
			t.Errorf("patient %d preferred name %+v", r.id, pt.Name)
		}
		if len(pt.Address) == 0 || pt.Address[0].State != bpsynth.StateOfPostcode(r.postcode) || pt.Address[0].PostalCode != r.postcode {
			t.Errorf("patient %d address %+v (postcode %s)", r.id, pt.Address, r.postcode)
		}
		if u := p.snap.user(r.userID); u.clinical() != (len(pt.GeneralPractitioner) == 1) {
			t.Errorf("patient %d: usual doctor %d, generalPractitioner %+v", r.id, r.userID, pt.GeneralPractitioner)
		}
		if pt.ManagingOrganization == nil || pt.ManagingOrganization.Reference != "Organization/"+strconv.Itoa(p.snap.practice.id) {
			t.Errorf("patient %d managingOrganization %+v", r.id, pt.ManagingOrganization)
		}
		if r.id > 40 {
			break
		}
	}
}

// ---- the directory ----

func testPractitioner(t *testing.T, p *practice) {
	s := p.snap
	var current, inactive, nonClinical []int
	var doctor userRec
	for _, u := range s.users {
		switch {
		case u.clinical() && u.status == 1:
			current = append(current, u.id)
			if doctor.id == 0 && u.hpii != "" && u.provNo != "" {
				doctor = u
			}
		case u.clinical():
			inactive = append(inactive, u.id)
		default:
			nonClinical = append(nonClinical, u.id)
		}
	}
	if len(inactive) == 0 || len(nonClinical) == 0 || doctor.id == 0 {
		t.Fatalf("the practice lacks an inactive doctor, a receptionist or a doctor with HPI-I: %+v", s.users)
	}
	// Inactive practitioners are found like current ones (read and search agree, so that
	// AU Core's identifier search finds a practitioner who has left), unless active=true.
	p.expect(t, Practitioner, "", append(slices.Clone(current), inactive...))
	p.expect(t, Practitioner, "active=true", current)
	p.expect(t, Practitioner, "active=false", inactive)
	p.expect(t, Practitioner, "_id="+strconv.Itoa(inactive[0]), inactive[:1])
	var gone userRec
	for _, u := range s.users {
		if u.clinical() && u.status != 1 && u.hpii != "" {
			gone = u
			break
		}
	}
	if gone.id == 0 {
		t.Fatal("no inactive practitioner with an HPI-I")
	}
	rows := p.expect(t, Practitioner, "identifier="+mappings.SystemHPII+"|"+gone.hpii, []int{gone.id})
	if len(rows) == 1 && !strings.Contains(string(rows[0].Resource), `"active":false`) {
		t.Errorf("inactive practitioner: %s", rows[0].Resource)
	}
	p.expect(t, Practitioner, "identifier="+mappings.SystemHPII+"|"+gone.hpii+"&active=true", nil)
	p.expect(t, Practitioner, "_id="+strconv.Itoa(nonClinical[0]), nil)
	one := []int{doctor.id}
	p.expect(t, Practitioner, "identifier="+mappings.SystemHPII+"|"+doctor.hpii, one)
	p.expect(t, Practitioner, "identifier="+mappings.SystemAHPRA+"|"+doctor.ahpra, one)
	p.expect(t, Practitioner, "identifier="+mappings.SystemProviderNumber+"|"+doctor.provNo, one)
	p.expect(t, Practitioner, "identifier="+mappings.SystemPrescriberNumber+"|"+doctor.prescriber, one)
	p.expect(t, Practitioner, "identifier="+doctor.hpii, one)
	p.expect(t, Practitioner, "identifier="+mappings.SystemIHI+"|"+doctor.hpii, nil)
	byName := func(v string, f func(u userRec) []string) []int {
		var out []int
		for _, u := range s.users {
			if u.clinical() {
				for _, n := range f(u) {
					if strings.HasPrefix(lower(n), lower(v)) {
						out = append(out, u.id)
						break
					}
				}
			}
		}
		return out
	}
	prefix := doctor.surname[:2]
	p.expect(t, Practitioner, "family="+urlEscape(prefix), byName(prefix, func(u userRec) []string { return []string{u.surname} }))
	p.expect(t, Practitioner, "given="+urlEscape(doctor.first), byName(doctor.first, func(u userRec) []string { return []string{u.first} }))
	p.expect(t, Practitioner, "name="+urlEscape(doctor.first[:1]), byName(doctor.first[:1], func(u userRec) []string { return []string{u.first, u.surname} }))
	rows = p.search(t, Practitioner, "_id="+strconv.Itoa(doctor.id), 0)
	for _, want := range []string{`"prefix":["Dr"]`, `"family":"` + doctor.surname + `"`, `"active":true`, mappings.ProfilePractitioner} {
		if !strings.Contains(string(rows[0].Resource), want) {
			t.Errorf("practitioner %d lacks %s: %s", doctor.id, want, rows[0].Resource)
		}
	}
}

func testPractitionerRole(t *testing.T, p *practice) {
	s := p.snap
	liveLoc := map[int]bool{}
	for _, l := range s.locations {
		liveLoc[l.id] = l.record == 1
	}
	roles := func(f func(r roleRec) bool) []int {
		var out []int
		for _, r := range s.roles {
			u := s.user(r.user)
			if r.record == 1 && liveLoc[r.loc] && u.clinical() && f(r) {
				out = append(out, r.id)
			}
		}
		return out
	}
	all := roles(func(roleRec) bool { return true })
	if len(all) == 0 {
		t.Fatal("no roles")
	}
	p.expect(t, PractitionerRole, "", all)
	first := s.roles[0]
	for _, r := range s.roles {
		if slices.Contains(all, r.id) {
			first = r
			break
		}
	}
	of := roles(func(r roleRec) bool { return r.user == first.user })
	rows := p.expect(t, PractitionerRole, "practitioner=Practitioner/"+strconv.Itoa(first.user)+"&_include=PractitionerRole:practitioner", of)
	p.expect(t, PractitionerRole, "practitioner="+strconv.Itoa(first.user), of)
	for _, r := range rows {
		if got := r.Refs["practitioner"]; !slices.Equal(got, []string{strconv.Itoa(first.user)}) {
			t.Errorf("refs %v, want practitioner %d", r.Refs, first.user)
		}
		for _, want := range []string{`"code":"62247001"`, `"reference":"Location/`, `"reference":"Organization/`, `"value":"` + first.provNo} {
			if want == `"value":"`+first.provNo && mappingstest.ResourceID(t, r.Resource) != strconv.Itoa(first.id) {
				continue
			}
			if !strings.Contains(string(r.Resource), want) {
				t.Errorf("role lacks %s: %s", want, r.Resource)
			}
		}
	}
	p.expect(t, PractitionerRole, "location=Location/2", roles(func(r roleRec) bool { return r.loc == 2 }))
	p.expect(t, PractitionerRole, "organization=Organization/"+strconv.Itoa(s.practice.id), all)
	p.expect(t, PractitionerRole, "organization=999", nil)
	p.expect(t, PractitionerRole, "identifier="+mappings.SystemProviderNumber+"|"+first.provNo, roles(func(r roleRec) bool { return r.provNo == first.provNo }))
	p.expect(t, PractitionerRole, "_id="+strconv.Itoa(first.id), []int{first.id})
	var inactiveRoles []int
	for _, r := range s.roles {
		if u := s.user(r.user); r.record == 1 && liveLoc[r.loc] && u.clinical() && u.status != 1 {
			inactiveRoles = append(inactiveRoles, r.id)
		}
	}
	p.expect(t, PractitionerRole, "active=false", inactiveRoles)
	if len(inactiveRoles) == 0 {
		t.Fatal("no role of an inactive practitioner")
	}
	p.expect(t, PractitionerRole, "active=true", roles(func(r roleRec) bool { return !slices.Contains(inactiveRoles, r.id) }))
	gone := s.roles[0]
	for _, r := range s.roles {
		if r.id == inactiveRoles[0] {
			gone = r
		}
	}
	p.expect(t, PractitionerRole, "practitioner="+strconv.Itoa(gone.user), roles(func(r roleRec) bool { return r.user == gone.user }))
}

func testOrganization(t *testing.T, p *practice) {
	s := p.snap
	org := []int{s.practice.id}
	abn := digits(s.practice.abn)
	p.expect(t, Organization, "", org)
	p.expect(t, Organization, "_id="+strconv.Itoa(s.practice.id), org)
	p.expect(t, Organization, "identifier="+mappings.SystemHPIO+"|"+s.practice.hpio, org)
	p.expect(t, Organization, "identifier="+mappings.SystemABN+"|"+abn, org)
	p.expect(t, Organization, "identifier="+abn, org)
	p.expect(t, Organization, "identifier="+mappings.SystemABN+"|"+s.practice.hpio, nil)
	p.expect(t, Organization, "name="+urlEscape(s.practice.name[:3]), org)
	p.expect(t, Organization, "name:exact="+urlEscape(lower(s.practice.name)), nil)
	main := s.locations[0]
	state := mappings.StateOfPostcode(main.postcode)
	p.expect(t, Organization, "address="+urlEscape(main.city), org)
	p.expect(t, Organization, "address="+state, org)
	p.expect(t, Organization, "address="+main.postcode, org)
	p.expect(t, Organization, "address=zzz", nil)
	rows := p.search(t, Organization, "", 0)
	for _, want := range []string{`"value":"` + abn + `"`, `"code":"NOI"`, `"state":"` + state + `"`, mappings.ProfileOrganization} {
		if !strings.Contains(string(rows[0].Resource), want) {
			t.Errorf("organization lacks %s: %s", want, rows[0].Resource)
		}
	}
}

func testLocation(t *testing.T, p *practice) {
	s := p.snap
	locs := func(f func(l locationRec) bool) []int {
		var out []int
		for _, l := range s.locations {
			if l.record == 1 && f(l) {
				out = append(out, l.id)
			}
		}
		return out
	}
	all := locs(func(locationRec) bool { return true })
	p.expect(t, Location, "", all)
	var l locationRec // the last live one
	for _, x := range s.locations {
		if x.record == 1 {
			l = x
		}
	}
	state := mappings.StateOfPostcode(l.postcode)
	inState := func(st string) []int {
		return locs(func(x locationRec) bool { return mappings.StateOfPostcode(x.postcode) == st })
	}
	p.expect(t, Location, "address-state="+state, inState(state))
	p.expect(t, Location, "address-state="+lower(state), inState(state))
	p.expect(t, Location, "address-state:exact="+lower(state), nil)
	names := map[string]string{"NSW": "New South Wales", "VIC": "Victoria", "QLD": "Queensland", "SA": "South Australia",
		"WA": "Western Australia", "TAS": "Tasmania", "NT": "Northern Territory", "ACT": "Australian Capital Territory"}
	p.expect(t, Location, "address-state="+urlEscape(names[state]), inState(state))
	other := "TAS"
	if state == "TAS" {
		other = "VIC"
	}
	p.expect(t, Location, "address-state="+other, inState(other))
	p.expect(t, Location, "address-state=XX", nil)
	p.expect(t, Location, "address-city="+urlEscape(l.city), locs(func(x locationRec) bool { return strings.HasPrefix(lower(x.city), lower(l.city)) }))
	p.expect(t, Location, "address-postalcode="+l.postcode, locs(func(x locationRec) bool { return x.postcode == l.postcode }))
	p.expect(t, Location, "address="+urlEscape(l.city), locs(func(x locationRec) bool {
		return strings.HasPrefix(lower(x.city), lower(l.city)) || strings.HasPrefix(lower(x.adr), lower(l.city))
	}))
	p.expect(t, Location, "name:contains="+urlEscape(l.name[len(l.name)-4:]), locs(func(x locationRec) bool {
		return strings.Contains(lower(x.name), lower(l.name[len(l.name)-4:]))
	}))
	p.expect(t, Location, "identifier="+mappings.SystemHPIO+"|"+l.hpio, locs(func(x locationRec) bool { return x.hpio == l.hpio }))
	p.expect(t, Location, "organization=Organization/"+strconv.Itoa(s.practice.id), all)
	rows := p.search(t, Location, "_id="+strconv.Itoa(l.id), 0)
	for _, want := range []string{`"status":"active"`, `"state":"` + state + `"`, `"managingOrganization":{"reference":"Organization/`} {
		if !strings.Contains(string(rows[0].Resource), want) {
			t.Errorf("location lacks %s: %s", want, rows[0].Resource)
		}
	}
}
