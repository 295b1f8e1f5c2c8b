package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"fhirlink/agent/pgtest"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/mappings/bppremier/bpsynth"
	"fhirlink/mappings/bppremier/bpsynth/synthtest"
	"fhirlink/server/fhirlinktest"
)

// practiceOnce shares one synthetic Bp Premier database among the FHIR
// tests: they only read it.
var (
	practiceOnce sync.Once
	practiceDSN  string
	practiceErr  error
)

// bpPractice returns a PostgreSQL database holding the small synthetic
// Bp Premier practice.
func bpPractice(t *testing.T) (string, *sql.DB) {
	t.Helper()
	practiceOnce.Do(func() {
		practiceDSN = pgtest.DSN(keep{t})
		db, err := sql.Open("pgx", practiceDSN)
		if err != nil {
			practiceErr = err
			return
		}
		defer db.Close()
		ctx := context.Background()
		if practiceErr = bpsynth.Apply(ctx, db, "postgres"); practiceErr == nil {
			practiceErr = bpsynth.Generate(ctx, db, "postgres", bpsynth.Small())
		}
	})
	if practiceErr != nil {
		t.Fatal(practiceErr)
	}
	db, err := sql.Open("pgx", practiceDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return practiceDSN, db
}

// ownBpPractice is a PostgreSQL database of the test's own holding the
// small synthetic Bp Premier practice, for tests that change it.
func ownBpPractice(t *testing.T) (string, *sql.DB) {
	t.Helper()
	return synthtest.PostgresPractice(t)
}

// keep lends a test to pgtest.DSN without its cleanup: a shared database
// outlives the test that made it (the cluster goes at the end anyway).
type keep struct{ testing.TB }

func (keep) Cleanup(func()) {}

func fhirEnv(t *testing.T) (*fhirlinktest.Env, *sql.DB) {
	t.Helper()
	dsn, db := bpPractice(t)
	return fhirlinktest.Start(t, fhirlinktest.Options{Engine: "postgres", DSN: dsn}), db
}

// bundle is the part of a searchset Bundle the tests read.
type bundle struct {
	ResourceType string `json:"resourceType"`
	Total        *int   `json:"total"`
	Link         []struct {
		Relation, URL string
	} `json:"link"`
	Entry []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Search   struct{ Mode string }
	} `json:"entry"`
}

func (b *bundle) link(rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

// ids returns the ids of the entries with the given search mode.
func (b *bundle) ids(t *testing.T, mode string) []string {
	var ids []string
	for _, e := range b.Entry {
		if e.Search.Mode != mode {
			continue
		}
		var r struct{ ID string }
		json.Unmarshal(e.Resource, &r)
		ids = append(ids, r.ID)
	}
	return ids
}

// search runs a FHIR request expecting a valid searchset Bundle.
func search(t *testing.T, env *fhirlinktest.Env, path string, header ...string) *bundle {
	t.Helper()
	status, h, body := env.FHIR(http.MethodGet, path, "", header...)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
		t.Fatalf("Content-Type %q", ct)
	}
	fhirvalidate.Bundle(t, body)
	var b bundle
	if err := json.Unmarshal(body, &b); err != nil || b.ResourceType != "Bundle" {
		t.Fatalf("not a Bundle: %v %.200s", err, body)
	}
	return &b
}

// walk follows next links from path and returns every match id in order.
func walk(t *testing.T, env *fhirlinktest.Env, path string) []string {
	t.Helper()
	var ids []string
	for range 1000 {
		b := search(t, env, path)
		page := b.ids(t, "match")
		if len(page) == 0 && len(ids) > 0 {
			t.Fatalf("empty page after %d results: %s", len(ids), path)
		}
		ids = append(ids, page...)
		if path = b.link("next"); path == "" {
			return ids
		}
	}
	t.Fatal("more than 1000 pages")
	return nil
}

// dbIDs runs a query returning one id column.
func dbIDs(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// livePatients are the patients searches find: every record not deleted,
// inactive ones too.
const livePatients = `FROM "PATIENTS" WHERE "RECORDSTATUS" = 1`

func TestFHIRPatientSearchPagesMatchTheDatabase(t *testing.T) {
	env, db := fhirEnv(t)
	want := dbIDs(t, db, `SELECT "INTERNALID"::text `+livePatients+` AND lower(rtrim("SURNAME")) LIKE 's%'`)
	if len(want) < 6 {
		t.Fatalf("synthetic data has only %d live patients named S...", len(want))
	}
	got := walk(t, env, "Patient?family=s&_count=5")
	t.Logf("walked %d patients named S in pages of 5", len(got))
	if len(got) != len(want) || !sameSet(got, want) {
		t.Fatalf("paged family=s gave %d ids %v, database has %d %v", len(got), got, len(want), want)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
		t.Fatal("duplicates across pages")
	}
	// An exact multiple of _count must not end with an empty page: walk
	// checks that; run it with _count dividing the total.
	walk(t, env, "Patient?family=s&_count="+strconv.Itoa(len(want)))
}

func TestFHIRReadAndIdentifier(t *testing.T) {
	env, db := fhirEnv(t)
	var id, ihi string
	if err := db.QueryRow(`SELECT "INTERNALID"::text, rtrim("IHI") `+livePatients+` AND rtrim("IHI") <> '' ORDER BY "INTERNALID" LIMIT 1`).Scan(&id, &ihi); err != nil {
		t.Fatal(err)
	}
	status, _, body := env.FHIR(http.MethodGet, "Patient/"+id, "")
	if status != http.StatusOK {
		t.Fatalf("read: %d %s", status, body)
	}
	fhirvalidate.Resources(t, body)
	if !strings.Contains(string(body), ihi) {
		t.Fatalf("Patient/%s lacks IHI %s: %s", id, ihi, body)
	}
	b := search(t, env, "Patient?identifier="+url.QueryEscape("http://ns.electronichealth.net.au/id/hi/ihi/1.0|"+ihi))
	if ids := b.ids(t, "match"); len(ids) != 1 || ids[0] != id {
		t.Fatalf("identifier search found %v, want [%s]", ids, id)
	}
	status, _, body = env.FHIR(http.MethodGet, "Patient/999999999", "")
	if status != http.StatusNotFound || !strings.Contains(string(body), "OperationOutcome") {
		t.Fatalf("absent patient: %d %s", status, body)
	}
	fhirvalidate.Resources(t, body)
}

// TestFHIRInactiveFoundBySearch: an inactive practitioner or patient is
// found by the searches that find active ones (AU Core's SHALL identifier
// search included), with active false; active=true leaves it out.
func TestFHIRInactiveFoundBySearch(t *testing.T) {
	env, db := fhirEnv(t)
	var user, hpii string
	if err := db.QueryRow(`SELECT "USERID"::text, rtrim("HPII") FROM "USERS" WHERE "RECORDSTATUS" = 1 AND "USERSTATUS" = 2
		AND rtrim("HPII") <> '' ORDER BY "USERID" LIMIT 1`).Scan(&user, &hpii); err != nil {
		t.Fatal(err)
	}
	var patient, ihi string
	if err := db.QueryRow(`SELECT "INTERNALID"::text, rtrim("IHI") FROM "PATIENTS" WHERE "RECORDSTATUS" = 1 AND "PATIENTSTATUS" <> 1
		AND rtrim("IHI") <> '' ORDER BY "INTERNALID" LIMIT 1`).Scan(&patient, &ihi); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ typ, id, query string }{
		{"Practitioner", user, "identifier=http://ns.electronichealth.net.au/id/hi/hpii/1.0|" + hpii},
		{"Patient", patient, "identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0|" + ihi},
	} {
		status, _, read := env.FHIR(http.MethodGet, c.typ+"/"+c.id, "")
		if status != http.StatusOK || !strings.Contains(string(read), `"active":false`) {
			t.Fatalf("read %s/%s: %d %s", c.typ, c.id, status, read)
		}
		b := search(t, env, c.typ+"?"+c.query)
		if got := b.ids(t, "match"); len(got) != 1 || got[0] != c.id || !strings.Contains(string(b.Entry[0].Resource), `"active":false`) {
			t.Errorf("%s?%s: %v, want the inactive %s", c.typ, c.query, got, c.id)
		}
		if got := search(t, env, c.typ+"?"+c.query+"&active=true").ids(t, "match"); len(got) != 0 {
			t.Errorf("%s?%s&active=true: %v, want none", c.typ, c.query, got)
		}
	}
}

func TestFHIRDirectoryResources(t *testing.T) {
	env, _ := fhirEnv(t)
	for _, path := range []string{"Practitioner", "Organization", "Location", "PractitionerRole"} {
		if b := search(t, env, path); len(b.ids(t, "match")) == 0 {
			t.Errorf("%s: no resources", path)
		}
	}
	b := search(t, env, "PractitionerRole?_include=PractitionerRole:practitioner")
	if len(b.ids(t, "include")) == 0 {
		t.Fatal("_include=PractitionerRole:practitioner included nothing")
	}
	for _, e := range b.Entry {
		if e.Search.Mode == "include" && !strings.Contains(e.FullURL, "/Practitioner/") {
			t.Fatalf("included %s", e.FullURL)
		}
	}
}

func TestFHIRCountTotalElementsAndPost(t *testing.T) {
	env, db := fhirEnv(t)
	want := len(dbIDs(t, db, `SELECT "INTERNALID"::text `+livePatients+` AND lower(rtrim("SURNAME")) LIKE 'b%'`))
	b := search(t, env, "Patient?family=b&_summary=count")
	if b.Total == nil || *b.Total != want || len(b.Entry) != 0 {
		t.Fatalf("_summary=count: total %v entries %d, want %d and none", b.Total, len(b.Entry), want)
	}
	b = search(t, env, "Patient?family=b&_total=accurate&_count=2&_elements=name")
	if b.Total == nil || *b.Total != want || len(b.ids(t, "match")) != min(2, want) {
		t.Fatalf("_total=accurate: total %v, %d entries", b.Total, len(b.Entry))
	}
	if strings.Contains(string(b.Entry[0].Resource), `"birthDate"`) || !strings.Contains(string(b.Entry[0].Resource), "SUBSETTED") {
		t.Fatalf("_elements=name: %s", b.Entry[0].Resource)
	}
	status, _, body := env.FHIR(http.MethodPost, "Patient/_search", "family=b&_count=100")
	if status != http.StatusOK {
		t.Fatalf("POST _search: %d %s", status, body)
	}
	var posted bundle
	json.Unmarshal(body, &posted)
	if len(posted.ids(t, "match")) != want {
		t.Fatalf("POST _search found %d, want %d", len(posted.ids(t, "match")), want)
	}
}

func TestFHIRStrictAndLenient(t *testing.T) {
	env, _ := fhirEnv(t)
	b := search(t, env, "Patient?famly=smith&_count=1")
	if strings.Contains(b.link("self"), "famly") || b.Entry[0].Search.Mode != "outcome" {
		t.Fatalf("lenient: self %s, first entry %s", b.link("self"), b.Entry[0].Search.Mode)
	}
	status, _, body := env.FHIR(http.MethodGet, "Patient?famly=smith", "", "Prefer", "handling=strict")
	if status != http.StatusBadRequest || !strings.Contains(string(body), "famly") {
		t.Fatalf("strict: %d %s", status, body)
	}
	fhirvalidate.Resources(t, body)
}

func TestFHIRMetacharactersAndBadInput(t *testing.T) {
	env, db := fhirEnv(t)
	obriens := dbIDs(t, db, `SELECT "INTERNALID"::text `+livePatients+` AND rtrim("SURNAME") = 'O''Brien'`)
	got := walk(t, env, "Patient?family="+url.QueryEscape("O'Brien")+"&_count=50")
	if !sameSet(got, obriens) {
		t.Fatalf("family=O'Brien found %v, want %v", got, obriens)
	}
	for _, v := range []string{"%", "_", "' OR 1=1 --", "%' OR '1'='1"} {
		if b := search(t, env, "Patient?family="+url.QueryEscape(v)); len(b.Entry) != 0 {
			t.Errorf("family=%q matched %d patients: metacharacters must match literally", v, len(b.Entry))
		}
	}
	for _, c := range []struct {
		path   string
		status int
	}{
		{"Patient?birthdate=1990-13-45", 400},
		{"Patient?_count=-1", 400},
		{"Patient?_count=abc", 400},
		{"Patient?_count=100000", 400},
		{"Patient?family:foo=x", 400},
		{"Patient?active=maybe", 400},
		{"Patient?_page_token=AAAAtampered", 400},
		{"Patient?_format=xml", 406},
		{"ChargeItem", 404},
	} {
		status, _, body := env.FHIR(http.MethodGet, c.path, "")
		if status != c.status || !strings.Contains(string(body), `"OperationOutcome"`) {
			t.Errorf("%s: %d %s; want %d with an OperationOutcome", c.path, status, body, c.status)
			continue
		}
		fhirvalidate.Resources(t, body)
	}
	// A genuine next link, tampered with, is refused.
	next := search(t, env, "Patient?_count=1").link("next")
	u, _ := url.Parse(next)
	q := u.Query()
	tok := []byte(q.Get("_page_token"))
	tok[len(tok)/2] ^= 1
	q.Set("_page_token", string(tok))
	u.RawQuery = q.Encode()
	if status, _, body := env.FHIR(http.MethodGet, u.String(), ""); status != http.StatusBadRequest {
		t.Fatalf("tampered next link: %d %s", status, body)
	}
}

func TestFHIRErrorsAreOperationOutcomes(t *testing.T) {
	env, _ := fhirEnv(t)
	status, _, body, _ := env.Do(context.Background(), http.MethodGet, env.SiteURL()+"/fhir/R4/Patient", "wrong-key", nil)
	if status != http.StatusUnauthorized || !strings.Contains(string(body), "OperationOutcome") {
		t.Fatalf("wrong key: %d %s", status, body)
	}
	fhirvalidate.Resources(t, body)
	_, unpaired := env.NewIntegrator(false)
	status, _, body, _ = env.Do(context.Background(), http.MethodGet, env.SiteURL()+"/fhir/R4/Patient", unpaired, nil)
	if status != http.StatusForbidden || !strings.Contains(string(body), "OperationOutcome") {
		t.Fatalf("unpaired integrator: %d %s", status, body)
	}
	fhirvalidate.Resources(t, body)
	status, _, body = env.FHIR(http.MethodGet, "metadata", "")
	if status != http.StatusOK {
		t.Fatalf("metadata: %d %s", status, body)
	}
	fhirvalidate.Resources(t, body)
	env.StopAgent()
	env.WaitAvailability("offline")
	status, h, body := env.FHIR(http.MethodGet, "Patient", "")
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(string(body), "OperationOutcome") {
		t.Fatalf("offline: %d %v %s", status, h, body)
	}
	env.StartAgent()
}
