package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"fhirlink/agent/pgtest"
	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/mappings/bppremier"
	"fhirlink/mappings/bppremier/bpsynth"
	"fhirlink/server/fhirlinktest"
)

// The FHIR benchmarks search and read Patients of the 50,000-patient
// synthetic practice through the whole path (HTTP, auth, parse, mapping,
// tunnel, agent, PostgreSQL, rows → resources → Bundle) and compare with
// the SQL the mapping renders, run directly with the driver.

var bigOnce struct {
	done bool
	dsn  string
}

func bigPractice(b *testing.B) string {
	b.Helper()
	if bigOnce.done {
		return bigOnce.dsn
	}
	dsn := pgtest.DSN(keep{b})
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	began := time.Now()
	ctx := context.Background()
	if err := bpsynth.Apply(ctx, db, "postgres"); err != nil {
		b.Fatal(err)
	}
	if err := bpsynth.Generate(ctx, db, "postgres", bpsynth.Benchmark()); err != nil {
		b.Fatal(err)
	}
	// VACUUM too: a practice's tables are long settled, where right after
	// the bulk load the first reads set hint bits and autovacuum runs
	// through the measurement.
	if _, err := db.Exec("VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d patients in %v", bpsynth.Benchmark().Patients, time.Since(began).Round(time.Second))
	bigOnce.done, bigOnce.dsn = true, dsn
	return dsn
}

func BenchmarkFHIRPatient(b *testing.B) {
	dsn := bigPractice(b)
	env := fhirlinktest.Start(b, fhirlinktest.Options{Engine: "postgres", DSN: dsn})
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var someID string
	if err := db.QueryRow(`SELECT "INTERNALID"::text ` + livePatients + ` ORDER BY "INTERNALID" DESC LIMIT 1`).Scan(&someID); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, query string }{
		{"search-family-prefix", "family=smi&_count=20"},
		{"read", "_id=" + someID},
	} {
		b.Run(c.name, func(b *testing.B) {
			q, _ := url.ParseQuery(c.query)
			sqlText, args := directSQL(b, bppremier.Patient, q)
			path := "Patient?" + c.query
			if c.name == "read" {
				path = "Patient/" + someID
			}
			var mallocs uint64
			direct, through := measure(b,
				func() { scanAll(b, db, sqlText, args...) },
				func() {
					var before, after runtime.MemStats
					runtime.ReadMemStats(&before)
					status, _, body := env.FHIR(http.MethodGet, path, "")
					runtime.ReadMemStats(&after)
					mallocs += after.Mallocs - before.Mallocs
					if status != http.StatusOK {
						b.Fatalf("%s: %d %.300s", path, status, body)
					}
				})
			reportRatios(b, direct, through)
			b.ReportMetric(float64(mallocs)/float64(b.N), "allocs/request")
		})
	}
}

var placeholder = regexp.MustCompile(`@p(\d+)`)

// directSQL renders the search as the mapping does for PostgreSQL and turns
// it into plain pgx form: $n placeholders, the values as text in the simple
// protocol (PostgreSQL then parses each for the type its use needs, as it
// does for the agent's text parameters).
func directSQL(b *testing.B, res mappings.Resource, q url.Values) (string, []any) {
	b.Helper()
	loc, _ := time.LoadLocation("Australia/Sydney")
	s, err := fhir.ParseSearch(res.Decl(), q, fhir.ParseOptions{Location: loc})
	if err != nil {
		b.Fatal(err)
	}
	return renderDirect(b, res, s)
}

// renderDirect renders a parsed search for PostgreSQL as directSQL does.
func renderDirect(b *testing.B, res mappings.Resource, s *fhir.Search) (string, []any) {
	b.Helper()
	d, _ := mappings.DialectFor("postgres")
	rendered, err := res.Search(d, s)
	if err != nil {
		b.Fatal(err)
	}
	args := []any{pgx.QueryExecModeSimpleProtocol}
	byName := map[string]*string{}
	for _, p := range rendered.Params {
		byName["@"+strings.TrimPrefix(p.Name, "@")] = p.Value
	}
	text := placeholder.ReplaceAllStringFunc(rendered.SQL, func(m string) string {
		v, ok := byName[m]
		if !ok || v == nil {
			b.Fatalf("no value for %s", m)
		}
		args = append(args, *v)
		return "$" + strconv.Itoa(len(args)-1)
	})
	return text, args
}

// BenchmarkFHIRScheduling runs the two searches online booking lives on:
// a day's appointments with their patients, and a week of a schedule's
// slots. The direct side runs the same statements the façade sends: for
// the include, the Patient query on the same ids.
func BenchmarkFHIRScheduling(b *testing.B) {
	dsn := bigPractice(b)
	env := fhirlinktest.Start(b, fhirlinktest.Options{Engine: "postgres", DSN: dsn})
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var schedule string
	if err := db.QueryRow(`SELECT "USERID"::text || '-' || "LOCATIONID"::text FROM "SESSIONS" WHERE "RECORDSTATUS" = 1 ORDER BY "SESSIONID" LIMIT 1`).Scan(&schedule); err != nil {
		b.Fatal(err)
	}
	day := "date=2026-06-15&_count=200"
	status, _, body := env.FHIR(http.MethodGet, "Appointment?"+day+"&_include=Appointment:patient", "")
	if status != http.StatusOK {
		b.Fatalf("%d %.300s", status, body)
	}
	var page bundle
	json.Unmarshal(body, &page)
	var patients []string
	for _, e := range page.Entry {
		if e.Search.Mode == "include" {
			patients = append(patients, e.FullURL[strings.LastIndex(e.FullURL, "/")+1:])
		}
	}
	// The include's query, built as the server builds it (not parsed: an id
	// list is not a request value).
	idParam, _ := bppremier.Patient.Decl().Param("_id")
	include := &fhir.Search{Type: "Patient", Count: len(patients), Sort: []fhir.SortKey{{Name: "_id"}}, Clauses: []fhir.Clause{{Param: idParam}}}
	for _, id := range patients {
		include.Clauses[0].Values = append(include.Clauses[0].Values, fhir.Value{Code: id})
	}
	type stmt struct {
		sql  string
		args []any
	}
	direct := func(res mappings.Resource, query string) stmt {
		text, args := directSQL(b, res, mustQuery(b, query))
		return stmt{text, args}
	}
	incSQL, incArgs := renderDirect(b, bppremier.Patient, include)
	slots := "schedule=Schedule/" + schedule + "&start=ge2026-06-15&start=le2026-06-21&status=free&_count=200"
	for _, c := range []struct {
		name, path string
		stmts      []stmt
	}{
		{"appointments-of-a-day+patients", "Appointment?" + day + "&_include=Appointment:patient",
			[]stmt{direct(bppremier.Appointment, day), {incSQL, incArgs}}},
		{"free-slots-of-a-week", "Slot?" + slots, []stmt{direct(bppremier.Slot, slots)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			stmts := c.stmts
			direct, through := measure(b,
				func() {
					for _, st := range stmts {
						scanAll(b, db, st.sql, st.args...)
					}
				},
				func() {
					if status, _, body := env.FHIR(http.MethodGet, c.path, ""); status != http.StatusOK {
						b.Fatalf("%s: %d %.300s", c.path, status, body)
					}
				})
			reportRatios(b, direct, through)
		})
	}
}

func mustQuery(b *testing.B, s string) url.Values {
	q, err := url.ParseQuery(s)
	if err != nil {
		b.Fatal(err)
	}
	return q
}
