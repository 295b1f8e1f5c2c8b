package bpsynth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A 1,000-patient practice is built once and shared by the read-only tests below.
var (
	sharedOnce sync.Once
	sharedDB   *sql.DB
	sharedErr  error
	sharedOpt  = Options{Seed: 42, Patients: 1000}
)

func shared(t *testing.T) *sql.DB {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := tempDirForShared()
		if err != nil {
			sharedErr = err
			return
		}
		sharedDB, sharedErr = sql.Open("sqlite", dir+"/shared.db")
		if sharedErr != nil {
			return
		}
		ctx := context.Background()
		if sharedErr = Apply(ctx, sharedDB, EngineSQLite); sharedErr != nil {
			return
		}
		sharedErr = Generate(ctx, sharedDB, EngineSQLite, sharedOpt)
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedDB
}

// tableHash hashes every row of a table, independent of row order and of how the driver
// returns values (time.Time or text, int64 or int32).
func tableHash(t testing.TB, db *sql.DB, table string) (string, int) {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM "` + table + `"`)
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var hashes []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, v := range vals {
			b.WriteString(canonical(v))
			b.WriteByte('|')
		}
		sum := sha256.Sum256([]byte(b.String()))
		hashes = append(hashes, hex.EncodeToString(sum[:]))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(hashes)
	sum := sha256.Sum256([]byte(strings.Join(hashes, "")))
	return hex.EncodeToString(sum[:8]), len(hashes)
}

func canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return x.UTC().Format(sqliteTime)
	case []byte:
		return "b:" + hex.EncodeToString(x)
	case string:
		if ts, err := time.Parse(sqliteTime, x); err == nil {
			return ts.Format(sqliteTime)
		}
		return x
	}
	return fmt.Sprint(v)
}

// queryColumn returns the first column of a query as strings.
func queryColumn(t testing.TB, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s.String)
	}
	return out
}

// ---- schema ----

func TestSchemaFilesAgree(t *testing.T) {
	cats := map[string]*catalog{}
	for _, e := range []string{EngineMSSQL, EnginePostgres, EngineSQLite} {
		c, err := loadCatalog(e)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		cats[e] = c
	}
	pg := cats[EnginePostgres]
	if len(pg.Tables) < 40 || len(pg.Views) < 17 {
		t.Fatalf("parsed %d tables and %d views from the PostgreSQL file", len(pg.Tables), len(pg.Views))
	}
	for _, e := range []string{EngineMSSQL, EngineSQLite} {
		c := cats[e]
		if len(c.Tables) != len(pg.Tables) || len(c.Views) != len(pg.Views) {
			t.Fatalf("%s has %d tables and %d views, postgres %d and %d", e, len(c.Tables), len(c.Views), len(pg.Tables), len(pg.Views))
		}
		for i, pt := range pg.Tables {
			ct := c.Tables[i]
			if ct.Name != pt.Name || len(ct.Cols) != len(pt.Cols) {
				t.Errorf("%s table %d: %s with %d columns, postgres %s with %d", e, i, ct.Name, len(ct.Cols), pt.Name, len(pt.Cols))
				continue
			}
			for j, pc := range pt.Cols {
				cc := ct.Cols[j]
				if cc.Name != pc.Name || cc.Kind != pc.Kind || cc.Size != pc.Size || cc.NotNull != pc.NotNull {
					t.Errorf("%s %s column %d: %+v, postgres %+v", e, pt.Name, j, cc, pc)
				}
				if e == EngineMSSQL && cc.Identity != pc.Identity {
					t.Errorf("%s.%s: identity differs between mssql and postgres", pt.Name, pc.Name)
				}
			}
		}
		for i, pv := range pg.Views {
			if cv := c.Views[i]; cv.Name != pv.Name || !slices.Equal(cv.Cols, pv.Cols) {
				t.Errorf("%s view %s columns %v, postgres %s %v", e, cv.Name, cv.Cols, pv.Name, pv.Cols)
			}
		}
	}
	// the views a third party uses are all there
	for _, v := range []string{"BPS_Patients", "BPS_Users", "BPS_PracticeLocations", "BPS_Appointments", "BPS_Sessions",
		"BPS_ExtraSessions", "BPS_DaysAway", "BPS_Reactions", "BPS_History", "BPS_CurrentRx", "BPS_Prescriptions",
		"BPS_Immunisations", "BPS_Observations", "BPS_Visits", "BPS_VisitReason", "BPS_ReportValues", "BPS_Clinical"} {
		if _, ok := ViewColumns()[v]; !ok {
			t.Errorf("view %s missing", v)
		}
	}
	// spot-check exact shapes from the reference model
	want := map[string]string{"PATIENTS.SURNAME": "char 40", "PATIENTS.MEDICARENO": "char 13", "PATIENTS.IHI": "char 16",
		"USERS.PROVIDERNO": "char 8", "USERS.HPII": "char 16", "APPOINTMENTS.REASON": "varchar 500",
		"OBSERVATIONS.DATAVALUE": "char 12", "PASTHISTORY.DETAILS": "text 0", "APPOINTMENTS.APPOINTMENTDATE": "datetime 0"}
	for k, w := range want {
		tn, cn, _ := strings.Cut(k, ".")
		tb := pg.byName[tn]
		i, ok := tb.col(cn)
		if !ok {
			t.Errorf("%s missing", k)
			continue
		}
		if got := fmt.Sprintf("%s %d", tb.Cols[i].Kind, tb.Cols[i].Size); got != w {
			t.Errorf("%s is %s, want %s", k, got, w)
		}
	}
}

func TestApplyRejectsOtherEngines(t *testing.T) {
	if err := Apply(context.Background(), nil, EngineMSSQL); err == nil {
		t.Error("Apply on mssql should fail: the T-SQL file is reference only")
	}
	if err := Generate(context.Background(), nil, "oracle", Small()); err == nil {
		t.Error("Generate accepted an unknown engine")
	}
}

// ---- generation on SQLite ----

func TestGenerateRefusesPopulatedDatabase(t *testing.T) {
	db := buildSQLite(t, "twice.db", Options{Seed: 1, Patients: 20})
	err := Generate(context.Background(), db, EngineSQLite, Options{Seed: 1, Patients: 20})
	if err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("second Generate: %v, want an 'already has rows' error", err)
	}
}

// The same seed gives identical rows in every table; another seed gives other patients.
func TestDeterministic(t *testing.T) {
	opt := Options{Seed: 99, Patients: 250}
	a := buildSQLite(t, "a.db", opt)
	b := buildSQLite(t, "b.db", opt)
	opt.Seed = 100
	c := buildSQLite(t, "c.db", opt)
	for _, table := range TableNames() {
		ha, na := tableHash(t, a, table)
		hb, nb := tableHash(t, b, table)
		if ha != hb || na != nb {
			t.Errorf("%s differs between two runs with the same seed (%d/%d rows)", table, na, nb)
		}
	}
	hp, _ := tableHash(t, a, "PATIENTS")
	hc, _ := tableHash(t, c, "PATIENTS")
	if hp == hc {
		t.Error("a different seed produced the same patients")
	}
}

func TestCountsScaleWithPatients(t *testing.T) {
	small := buildSQLite(t, "s.db", Options{Seed: 5, Patients: 150})
	large := buildSQLite(t, "l.db", Options{Seed: 5, Patients: 1200})
	for db, n := range map[*sql.DB]int{small: 150, large: 1200} {
		if got := count(t, db, `SELECT COUNT(*) FROM "PATIENTS"`); got != n {
			t.Errorf("PATIENTS = %d, want %d", got, n)
		}
		if got := count(t, db, `SELECT COUNT(*) FROM "CLINICAL"`); got != n {
			t.Errorf("CLINICAL = %d, want one per patient (%d)", got, n)
		}
		doctors := count(t, db, `SELECT COUNT(*) FROM "USERS" WHERE "TITLECODE" = ? AND "USERSTATUS" = ? AND "RECORDSTATUS" = 1`, TitleDr, UserActive)
		if want := max(3, (n+399)/400); doctors != want {
			t.Errorf("%d patients: %d active doctors, want %d", n, doctors, want)
		}
		if users := count(t, db, `SELECT COUNT(*) FROM "USERS"`); users < 5 {
			t.Errorf("only %d users", users)
		}
	}
	for _, table := range []string{"VISITS", "OBSERVATIONS", "IMMUNISATIONS", "PASTHISTORY", "SCRIPTITEMS", "REPORTVALUES"} {
		s := count(t, small, `SELECT COUNT(*) FROM "`+table+`"`)
		l := count(t, large, `SELECT COUNT(*) FROM "`+table+`"`)
		if ratio := float64(l) / float64(max(s, 1)); ratio < 5 || ratio > 12 {
			t.Errorf("%s: %d rows for 150 patients, %d for 1200 (ratio %.1f, want about 8)", table, s, l, ratio)
		}
	}
}

func TestGeneratedIdentifiersPassChecks(t *testing.T) {
	db := shared(t)
	check := func(what, query string, valid func(string) bool, minCount int) {
		t.Helper()
		vals := queryColumn(t, db, query)
		n := 0
		for _, v := range vals {
			if strings.TrimSpace(v) == "" {
				continue
			}
			n++
			if !valid(v) {
				t.Errorf("%s %q fails its check", what, v)
			}
		}
		if n < minCount {
			t.Errorf("only %d %s values, want at least %d", n, what, minCount)
		}
	}
	check("IHI", `SELECT "IHI" FROM "PATIENTS"`, ValidIHI, 800)
	check("Medicare", `SELECT "MEDICARENO" FROM "PATIENTS"`, func(s string) bool { return ValidMedicare(strings.TrimSpace(s)) && len(s) == 13 }, 800)
	check("IRN", `SELECT "MEDICARELINENO" FROM "PATIENTS"`, func(s string) bool { return s >= "1" && s <= "9" }, 800)
	check("HPI-I", `SELECT "HPII" FROM "USERS"`, ValidHPII, 4)
	check("HPI-O", `SELECT "HPIO" FROM "PRACTICE" UNION ALL SELECT "HPIO" FROM "LOCATIONS"`, ValidHPIO, 3)
	check("ABN", `SELECT "ABN" FROM "PRACTICE" UNION ALL SELECT "ABN" FROM "LOCATIONS" UNION ALL SELECT "ABN" FROM "USERS"`, ValidABN, 3)
	check("provider number", `SELECT "PROVIDERNO" FROM "USERS" UNION ALL SELECT "PROVIDERNUMBER" FROM "PROVIDER_LOCATION"`, ValidProviderNumber, 6)
	check("AHPRA", `SELECT "REGISTRATIONNO" FROM "USERS"`, ValidAHPRA, 4)
	check("prescriber number", `SELECT "PRESCRIBERNO" FROM "USERS"`, regexp.MustCompile(`^[1-9][0-9]{6}$`).MatchString, 3)
	check("DVA number", `SELECT "DVANO" FROM "PATIENTS"`, regexp.MustCompile(`^[NVQSWT]X[0-9]{6} *$`).MatchString, 5)

	// identifiers that must be unique are
	for _, q := range []string{`SELECT "IHI" FROM "PATIENTS" WHERE TRIM("IHI") <> '' GROUP BY "IHI" HAVING COUNT(*) > 1`,
		`SELECT "HPII" FROM "USERS" WHERE "HPII" IS NOT NULL GROUP BY "HPII" HAVING COUNT(*) > 1`,
		`SELECT "MEDICARENO" FROM "PATIENTS" WHERE TRIM("MEDICARENO") <> '' GROUP BY "MEDICARENO", "MEDICARELINENO" HAVING COUNT(*) > 1`} {
		if dup := queryColumn(t, db, q); len(dup) > 0 {
			t.Errorf("duplicates: %s: %v", q, dup)
		}
	}
	// family members share a card
	if n := count(t, db, `SELECT COUNT(*) FROM (SELECT "MEDICARENO" FROM "PATIENTS" WHERE TRIM("MEDICARENO") <> '' GROUP BY "MEDICARENO" HAVING COUNT(*) > 1)`); n < 50 {
		t.Errorf("only %d Medicare cards are shared by a family", n)
	}
	// every doctor has a provider number per location, and USERS.PROVIDERNO is one of them
	if n := count(t, db, `SELECT COUNT(*) FROM "USERS" U WHERE U."PROVIDERNO" IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM "PROVIDER_LOCATION" L WHERE L."USERID" = U."USERID" AND L."PROVIDERNUMBER" = U."PROVIDERNO" AND L."LOCATIONID" = U."LOCATIONID")`); n != 0 {
		t.Errorf("%d doctors' PROVIDERNO is not their PROVIDER_LOCATION number", n)
	}
}

// deliveryRanges is an independent copy of Australia Post's street-delivery postcode ranges.
var deliveryRanges = map[string][][2]int{
	"NSW": {{2000, 2599}, {2619, 2899}, {2921, 2999}}, "ACT": {{2600, 2618}, {2900, 2920}},
	"VIC": {{3000, 3999}}, "QLD": {{4000, 4999}}, "SA": {{5000, 5799}}, "WA": {{6000, 6797}},
	"TAS": {{7000, 7799}}, "NT": {{800, 899}},
}

func TestPostcodesInRealRanges(t *testing.T) {
	for _, s := range suburbs {
		var n int
		fmt.Sscan(strings.TrimLeft(s.postcode, "0"), &n)
		ok := false
		for _, r := range deliveryRanges[s.state] {
			ok = ok || (n >= r[0] && n <= r[1])
		}
		if !ok || len(s.postcode) != 4 || StateOfPostcode(s.postcode) != s.state {
			t.Errorf("%s %s: postcode not in the %s delivery ranges", s.name, s.postcode, s.state)
		}
	}
	db := shared(t)
	states := map[string]int{}
	for _, pc := range queryColumn(t, db, `SELECT "POSTCODE" FROM "PATIENTS" UNION ALL SELECT "POSTCODE" FROM "LOCATIONS"
		UNION ALL SELECT "POSTALPOSTCODE" FROM "PATIENTS" WHERE "POSTALPOSTCODE" <> '    '`) {
		st := StateOfPostcode(pc)
		if st == "" {
			t.Errorf("postcode %q is in no state's range", pc)
		}
		states[st]++
	}
	if len(states) < 4 {
		t.Errorf("patients live in only %d states/territories: %v", len(states), states)
	}
}

func TestCodeListsAreReal(t *testing.T) {
	for _, c := range conditionCatalogue {
		if !validSCTID(c.snomed) {
			t.Errorf("%s: %s is not a valid SNOMED CT concept id", c.name, c.snomed)
		}
	}
	for _, p := range panels {
		for _, a := range p.analytes {
			if !LuhnValid(strings.ReplaceAll(a.loinc, "-", "")) {
				t.Errorf("%s: LOINC %s has a wrong check digit", a.name, a.loinc)
			}
		}
	}
}

// validSCTID checks a SNOMED CT concept id: 6-18 digits, partition "00" (a concept, short
// format) and a Verhoeff check digit.
func validSCTID(s string) bool {
	if len(s) < 6 || len(s) > 18 || !allDigits(s) || s[len(s)-3:len(s)-1] != "00" {
		return false
	}
	d := [10][10]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5}, {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7}, {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3}, {8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}}
	p := [8][10]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4}, {5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7}, {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}}
	c := 0
	for i := 0; i < len(s); i++ {
		c = d[c][p[i%8][int(s[len(s)-1-i]-'0')]]
	}
	return c == 0
}

// checkViews: every BPS_* view answers with the declared column names, is not empty, and its
// inner joins to code lists drop no live rows.
func checkViews(t *testing.T, db *sql.DB) {
	t.Helper()
	for name, want := range ViewColumns() {
		rows, err := db.Query(`SELECT * FROM "` + name + `"`)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if !slices.Equal(cols, want) {
			t.Errorf("%s columns %v, want %v", name, cols, want)
		}
		if n == 0 {
			t.Errorf("%s is empty", name)
		}
	}
	for view, base := range map[string]string{
		"BPS_Patients": `"PATIENTS" WHERE "RECORDSTATUS" = 1`, "BPS_Appointments": `"APPOINTMENTS" WHERE "RECORDSTATUS" = 1`,
		"BPS_Users": `"USERS" WHERE "RECORDSTATUS" = 1`, "BPS_History": `"PASTHISTORY" WHERE "RECORDSTATUS" = 1`,
		"BPS_Reactions": `"REACTIONS" WHERE "RECORDSTATUS" = 1`, "BPS_CurrentRx": `"CURRENTRX" WHERE "RECORDSTATUS" = 1`,
		// the items of live scripts, the reasons of live visits
		"BPS_Prescriptions": `"SCRIPTITEMS" i WHERE i."RECORDSTATUS" = 1 AND EXISTS (SELECT 1 FROM "PRESCRIPTIONS" s
			WHERE s."SCRIPTID" = i."SCRIPTID" AND s."RECORDSTATUS" = 1)`,
		"BPS_Visits": `"VISITS" WHERE "RECORDSTATUS" = 1`,
		"BPS_VisitReason": `"VISITREASON" r WHERE r."RECORDSTATUS" = 1 AND EXISTS (SELECT 1 FROM "VISITS" v
			WHERE v."VISITID" = r."VISITID" AND v."RECORDSTATUS" = 1)`,
		"BPS_Clinical": `"CLINICAL"`,
		"BPS_Sessions": `"SESSIONS" WHERE "RECORDSTATUS" = 1`, "BPS_Observations": `"OBSERVATIONS" WHERE "RECORDSTATUS" = 1`,
		"BPS_Investigations": `"INVESTIGATIONS" WHERE "RECORDSTATUS" = 1`,
	} {
		if v, b := count(t, db, `SELECT COUNT(*) FROM "`+view+`"`), count(t, db, `SELECT COUNT(*) FROM `+base); v != b {
			t.Errorf("%s has %d rows, its base table %d live rows", view, v, b)
		}
	}
}

// checkDerived: values come out of the views as Bp's would: fixed-width text padded, display
// names built, codes turned into words.
func checkDerived(t *testing.T, db *sql.DB) {
	t.Helper()
	for q, width := range map[string]int{
		`SELECT "Surname" FROM "BPS_Patients"`: 40, `SELECT "Sex" FROM "BPS_Patients"`: 10,
		`SELECT "Status" FROM "BPS_Appointments"`: 20, `SELECT "Urgent" FROM "BPS_Appointments"`: 5,
		`SELECT "Status" FROM "BPS_History"`: 20, `SELECT "Side" FROM "BPS_History"`: 10,
		`SELECT "KnownAllergies" FROM "BPS_Clinical"`: 12, `SELECT "SNOMED" FROM "BPS_History"`: 20,
		`SELECT "Frequency" FROM "BPS_CurrentRx"`: 20, `SELECT "Day" FROM "BPS_Sessions"`: 20,
	} {
		for _, v := range queryColumn(t, db, q) {
			if len(v) != width {
				t.Errorf("%s: %q is %d characters, want %d (space-padded)", q, v, len(v), width)
				break
			}
		}
	}
	prov := queryColumn(t, db, `SELECT "Provider" FROM "BPS_Appointments" WHERE "Provider" IS NOT NULL`)
	if len(prov) == 0 || !strings.HasPrefix(prov[0], "Dr ") && !strings.HasPrefix(prov[0], "M") {
		t.Errorf("BPS_Appointments.Provider looks wrong: %q", prov[:min(1, len(prov))])
	}
	statuses := queryColumn(t, db, `SELECT DISTINCT "Status" FROM "BPS_Appointments"`)
	for i := range statuses {
		statuses[i] = strings.TrimSpace(statuses[i])
	}
	for _, want := range []string{"Booked", "Completed", "DNA"} {
		if !slices.Contains(statuses, want) {
			t.Errorf("no %s appointments (statuses %v)", want, statuses)
		}
	}
	if n := count(t, db, `SELECT COUNT(*) FROM "BPS_History" WHERE "SNOMED" IS NULL`); n != 0 {
		t.Errorf("%d history items without SNOMED code", n)
	}
}

func TestViewsOnSQLite(t *testing.T) {
	db := shared(t)
	checkViews(t, db)
	checkDerived(t, db)
	// SQLite hands DATETIME back as time.Time through the driver
	var dob time.Time
	if err := db.QueryRow(`SELECT "DOB" FROM "BPS_Patients" LIMIT 1`).Scan(&dob); err != nil {
		t.Fatal(err)
	}
}

func TestIndexesRebuilt(t *testing.T) {
	db := shared(t)
	want := len(indexStatements(EngineSQLite))
	if want < 20 {
		t.Fatalf("only %d CREATE INDEX statements found", want)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'IX%'`); n != want {
		t.Errorf("%d IX_* indexes after Generate, want %d", n, want)
	}
}

func TestPatientMix(t *testing.T) {
	db := shared(t)
	n := float64(sharedOpt.Patients)
	frac := func(where string) float64 {
		return float64(count(t, db, `SELECT COUNT(*) FROM "PATIENTS" WHERE `+where)) / n
	}
	for what, r := range map[string][3]float64{
		`"DATEOFDEATH" IS NOT NULL AND "PATIENTSTATUS" = 3`: {frac(`"DATEOFDEATH" IS NOT NULL AND "PATIENTSTATUS" = 3`), 0.008, 0.05},
		`"PATIENTSTATUS" = 2 OR "RECORDSTATUS" <> 1`:        {frac(`"PATIENTSTATUS" = 2 OR "RECORDSTATUS" <> 1`), 0.01, 0.06},
		`"DVANO" <> ''`:               {frac(`TRIM("DVANO") <> ''`), 0.01, 0.06},
		`"IHI" <> ''`:                 {frac(`TRIM("IHI") <> ''`), 0.8, 0.95},
		`"MEDICARENO" <> ''`:          {frac(`TRIM("MEDICARENO") <> ''`), 0.85, 0.97},
		`"SEXCODE" = 1`:               {frac(`"SEXCODE" = 1`), 0.4, 0.6},
		`"SEXCODE" = 2`:               {frac(`"SEXCODE" = 2`), 0.4, 0.6},
		`"PREFERREDNAME" <> ''`:       {frac(`TRIM("PREFERREDNAME") <> ''`), 0.02, 0.25},
		`"POSTALADDRESS" <> ''`:       {frac(`TRIM("POSTALADDRESS") <> ''`), 0.01, 0.12},
		`"DOB" between 1930 and 2025`: {frac(`"DOB" >= '1930-01-01' AND "DOB" < '2026-01-01'`), 0.97, 1},
		`name with apostrophe, hyphen or space (O'Brien, ...)`: {frac(`"SURNAME" LIKE '%''%' OR "SURNAME" LIKE '%-%' OR TRIM("SURNAME") LIKE '% %'`), 0.02, 0.3},
	} {
		if r[0] < r[1] || r[0] > r[2] {
			t.Errorf("%s: %.3f of patients, want %.3f-%.3f", what, r[0], r[1], r[2])
		}
	}
	if n := count(t, db, `SELECT COUNT(DISTINCT "SEXCODE") FROM "PATIENTS"`); n < 3 {
		t.Errorf("only %d sex codes in use", n)
	}
	phones := queryColumn(t, db, `SELECT "MOBILEPHONE" FROM "PATIENTS" WHERE TRIM("MOBILEPHONE") <> ''`)
	mobileRE := regexp.MustCompile(`^04[0-9]{2} [0-9]{3} [0-9]{3} *$`)
	for _, p := range phones {
		if !mobileRE.MatchString(p) {
			t.Errorf("mobile %q", p)
			break
		}
	}
	landRE := regexp.MustCompile(`^\(0[2378]\) (5550|7010) [0-9]{4}$`)
	for _, p := range queryColumn(t, db, `SELECT "HOMEPHONE" FROM "PATIENTS" WHERE TRIM("HOMEPHONE") <> ''`) {
		if !landRE.MatchString(p) {
			t.Errorf("landline %q", p)
			break
		}
	}
}

func TestClinicalShape(t *testing.T) {
	db := shared(t)
	// blood pressure is always a systolic + diastolic pair at the same date and time
	if n := count(t, db, `SELECT COUNT(*) FROM "OBSERVATIONS" S WHERE S."DATACODE" = 3 AND NOT EXISTS (
		SELECT 1 FROM "OBSERVATIONS" D WHERE D."DATACODE" = 4 AND D."INTERNALID" = S."INTERNALID"
		AND D."OBSDATE" = S."OBSDATE" AND D."OBSTIME" = S."OBSTIME")`); n != 0 {
		t.Errorf("%d systolic readings without a diastolic", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM "OBSERVATIONS" WHERE "DATACODE" NOT IN (1,2,3,4,7,8,9,10,17)`); n != 0 {
		t.Errorf("%d observations with an unexpected DATACODE", n)
	}
	for code, rng := range map[int][2]float64{1: {35, 41}, 2: {30, 150}, 3: {80, 220}, 4: {40, 130}, 7: {40, 210}, 8: {2, 250}, 9: {12, 60}, 10: {30, 55}, 17: {40, 170}} {
		for _, v := range queryColumn(t, db, fmt.Sprintf(`SELECT "DATAVALUE" FROM "OBSERVATIONS" WHERE "DATACODE" = %d`, code)) {
			var f float64
			if _, err := fmt.Sscan(strings.TrimSpace(v), &f); err != nil || f < rng[0] || f > rng[1] {
				t.Errorf("DATACODE %d value %q out of range %v", code, v, rng)
				break
			}
		}
	}
	if n := count(t, db, `SELECT COUNT(DISTINCT "KNOWNALLERGIES") FROM "CLINICAL"`); n != 3 {
		t.Errorf("KNOWNALLERGIES uses %d states, want 0, 1 and 2", n)
	}
	// patients with allergies recorded have reactions, the others none
	if n := count(t, db, `SELECT COUNT(*) FROM "CLINICAL" C WHERE C."KNOWNALLERGIES" <> 2 AND EXISTS (
		SELECT 1 FROM "REACTIONS" R WHERE R."INTERNALID" = C."INTERNALID")`); n != 0 {
		t.Errorf("%d patients without recorded allergies have REACTIONS", n)
	}
	for _, q := range []string{
		`SELECT COUNT(*) FROM "SCRIPTITEMS" I WHERE NOT EXISTS (SELECT 1 FROM "PRESCRIPTIONS" S WHERE S."SCRIPTID" = I."SCRIPTID")`,
		`SELECT COUNT(*) FROM "REPORTVALUES" V WHERE NOT EXISTS (SELECT 1 FROM "INVESTIGATIONS" I WHERE I."REPORTID" = V."REPORTID")`,
		`SELECT COUNT(*) FROM "VISITREASON" R WHERE NOT EXISTS (SELECT 1 FROM "VISITS" V WHERE V."VISITID" = R."VISITID")`,
		`SELECT COUNT(*) FROM "APPOINTMENTS" A WHERE A."VISITID" <> 0 AND NOT EXISTS (SELECT 1 FROM "VISITS" V WHERE V."VISITID" = A."VISITID" AND V."INTERNALID" = A."INTERNALID")`,
		`SELECT COUNT(*) FROM "VISITS" V JOIN "PATIENTS" P ON P."INTERNALID" = V."INTERNALID" WHERE V."VISITDATE" < P."DOB" OR (P."DATEOFDEATH" IS NOT NULL AND V."VISITDATE" > P."DATEOFDEATH")`,
		`SELECT COUNT(*) FROM "IMMUNISATIONS" M JOIN "PATIENTS" P ON P."INTERNALID" = M."INTERNALID" WHERE M."GIVENDATE" < P."DOB"`,
	} {
		if n := count(t, db, q); n != 0 {
			t.Errorf("%d inconsistent rows: %s", n, q)
		}
	}
	for table, min := range map[string]int{"PASTHISTORY": 500, "CURRENTRX": 500, "IMMUNISATIONS": 2000, "REPORTVALUES": 1000,
		"REACTIONS": 100, "PRESCRIPTIONS": 1000} {
		if n := count(t, db, `SELECT COUNT(*) FROM "`+table+`"`); n < min {
			t.Errorf("%s has %d rows for %d patients, want at least %d", table, n, sharedOpt.Patients, min)
		}
	}
	// the well-known SNOMED codes are used where Bp shows them
	for _, code := range []string{"195967001", "44054006", "38341003"} {
		if n := count(t, db, `SELECT COUNT(*) FROM "BPS_History" WHERE TRIM("SNOMED") = ?`, code); n == 0 {
			t.Errorf("no BPS_History rows with SNOMED %s", code)
		}
	}
	if n := count(t, db, `SELECT COUNT(*) FROM "IMMUNISATIONS" WHERE "NOTGIVENHERE" = 1`); n == 0 {
		t.Error("no immunisations given elsewhere")
	}
}

func TestScheduleShape(t *testing.T) {
	db := shared(t)
	opt := sharedOpt.withDefaults()
	now := at(opt.Today, NowSeconds).Format(sqliteTime)
	today := opt.Today.Format(sqliteTime)
	// every live patient appointment starts on a slot of a session (weekly or extra) of its
	// practitioner at that location
	q := `SELECT COUNT(*) FROM "APPOINTMENTS" A WHERE A."INTERNALID" <> 0 AND NOT EXISTS (
		SELECT 1 FROM "SESSIONS" S WHERE S."USERID" = A."USERID" AND S."LOCATIONID" = A."LOCATIONID"
		AND S."DAYOFWEEK" = CAST(strftime('%w', A."APPOINTMENTDATE") AS INTEGER) + 1
		AND A."APPOINTMENTTIME" >= S."STARTTIME" AND A."APPOINTMENTTIME" + A."APPOINTMENTLENGTH" <= S."ENDTIME"
		AND (A."APPOINTMENTTIME" - S."STARTTIME") % S."LENGTH" = 0)
	AND NOT EXISTS (SELECT 1 FROM "EXTRASESSIONS" E WHERE E."USERID" = A."USERID" AND E."SESSIONDATE" = A."APPOINTMENTDATE"
		AND A."APPOINTMENTTIME" >= E."STARTTIME" AND A."APPOINTMENTTIME" + A."APPOINTMENTLENGTH" <= E."ENDTIME"
		AND (A."APPOINTMENTTIME" - E."STARTTIME") % E."LENGTH" = 0)`
	if n := count(t, db, q); n != 0 {
		t.Errorf("%d appointments outside their practitioner's sessions", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM "APPOINTMENTS" A JOIN "DAYSAWAY" W ON W."USERID" = A."USERID"
		WHERE A."APPOINTMENTDATE" BETWEEN W."STARTDATE" AND W."FINISHDATE" AND W."RECORDSTATUS" = 1`); n != 0 {
		t.Errorf("%d appointments on days away", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM "APPOINTMENTS" WHERE "CREATED" > ?`, now); n != 0 {
		t.Errorf("%d appointments booked after 'now'", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM "APPOINTMENTS" WHERE "RECORDSTATUS" = 1 AND "INTERNALID" <> 0
		AND "APPOINTMENTDATE" < ? AND "APPOINTMENTCODE" NOT IN (?, ?, ?, ?)`, today, ApptCompleted, ApptDNA, ApptInvoiced, ApptPaid); n != 0 {
		t.Errorf("%d past appointments not completed/DNA/billed", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM "APPOINTMENTS" WHERE "APPOINTMENTDATE" > ? AND "APPOINTMENTCODE" NOT IN (?, ?)`,
		today, ApptBooked, ApptUnavailable); n != 0 {
		t.Errorf("%d future appointments not booked", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM "APPOINTMENTS" A WHERE A."RECORDSTATUS" <> 1 AND NOT EXISTS (
		SELECT 1 FROM "CANCELLATIONS" C JOIN "CANCELLEDAPPOINTMENTS" X ON X."APPOINTMENTID" = C."APPOINTMENTID"
		WHERE C."APPOINTMENTID" = A."RECORDID")
		AND A."RECORDID" % `+strconv.FormatInt(deletedEvery["APPOINTMENTS"].n, 10)+` <> 0`); n != 0 { // deleted outright
		t.Errorf("%d cancelled appointments without cancellation rows", n)
	}
	// deleted appointments: some outright, some whose cancellation was deleted too
	if n := count(t, db, `SELECT COUNT(*) FROM "APPOINTMENTS" A WHERE A."RECORDSTATUS" <> 1 AND A."INTERNALID" <> 0 AND NOT EXISTS (
		SELECT 1 FROM "CANCELLATIONS" C WHERE C."APPOINTMENTID" = A."RECORDID")`); n == 0 {
		t.Error("no appointment deleted outright")
	}
	if n := count(t, db, `SELECT COUNT(*) FROM "CANCELLATIONS" WHERE "RECORDSTATUS" <> 1`); n == 0 {
		t.Error("no deleted cancellation")
	}
	if n := count(t, db, `SELECT COUNT(*) FROM "APPOINTMENTS" WHERE "APPOINTMENTTIME" % 300 <> 0 OR "APPOINTMENTLENGTH" NOT IN (600, 900, 1200, 1800, 2700, 3600)`); n != 0 {
		t.Errorf("%d appointments at odd times or lengths", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM "SESSIONS" WHERE "LENGTH" NOT IN (600, 900)`); n != 0 {
		t.Errorf("%d sessions with slot lengths other than 600/900 s", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM "APPOINTMENTS" WHERE "APPOINTMENTDATE" = ? AND "APPOINTMENTCODE" IN (?, ?, ?)`,
		today, ApptWaiting, ApptWithDoctor, ApptAtBilling); n == 0 {
		t.Error("nobody is waiting, with the doctor or at billing today")
	}
}
