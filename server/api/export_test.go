package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"fhirlink/fhir/fhirvalidate"
	"fhirlink/server/api"
	"fhirlink/server/bulk"
	"fhirlink/server/fhirlinktest"
)

// exportPoll is the poll interval the export tests run with.
const exportPoll = 200 * time.Millisecond

// manifest is a completed export's manifest.
type manifest struct {
	TransactionTime     string `json:"transactionTime"`
	Request             string `json:"request"`
	RequiresAccessToken bool   `json:"requiresAccessToken"`
	Output              []struct {
		Type, URL string
		Count     int64
	} `json:"output"`
	Error []struct {
		Type, URL string
		Count     int64
	} `json:"error"`
}

func (m *manifest) types() []string {
	var out []string
	for _, o := range m.Output {
		if !slices.Contains(out, o.Type) {
			out = append(out, o.Type)
		}
	}
	slices.Sort(out)
	return out
}

func exportEnv(t *testing.T, maxFileBytes int64) *fhirlinktest.Env {
	t.Helper()
	dsn, _ := bpPractice(t)
	return fhirlinktest.Start(t, fhirlinktest.Options{Engine: "postgres", DSN: dsn, Configure: func(s *api.Server) {
		s.Exports = &bulk.Manager{PollInterval: exportPoll, MaxFileBytes: maxFileBytes}
	}})
}

// kickoff starts an export and returns its status URL.
func kickoff(t *testing.T, env *fhirlinktest.Env, path string) string {
	t.Helper()
	status, h, body := env.FHIR(http.MethodGet, path, "", "Prefer", "respond-async", "Accept", "application/fhir+json")
	if status != http.StatusAccepted {
		t.Fatalf("kick-off %s: %d %s", path, status, body)
	}
	loc := h.Get("Content-Location")
	if !strings.HasPrefix(loc, "http://127.0.0.1:") || !strings.Contains(loc, "/fhir/R4/$export-status/") {
		t.Fatalf("Content-Location %q is not an absolute status URL", loc)
	}
	return loc
}

// awaitExport polls a status URL, no faster than Retry-After allows,
// until the manifest.
func awaitExport(t *testing.T, env *fhirlinktest.Env, statusURL string) *manifest {
	t.Helper()
	for range 3000 {
		status, h, body, err := env.Do(context.Background(), http.MethodGet, statusURL, env.Key, nil)
		if err != nil {
			t.Fatal(err)
		}
		switch status {
		case http.StatusAccepted:
			if h.Get("X-Progress") == "" || h.Get("Retry-After") == "" {
				t.Fatalf("202 without X-Progress or Retry-After: %v", h)
			}
			time.Sleep(exportPoll)
			continue
		case http.StatusOK:
			var m manifest
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatalf("manifest: %v %s", err, body)
			}
			if _, err := time.Parse(time.RFC3339Nano, m.TransactionTime); err != nil || !m.RequiresAccessToken {
				t.Fatalf("manifest transactionTime %q, requiresAccessToken %v", m.TransactionTime, m.RequiresAccessToken)
			}
			return &m
		}
		t.Fatalf("status %s: %d %s", statusURL, status, body)
	}
	t.Fatal("export did not finish")
	return nil
}

// download fetches an output file with the key and returns its lines.
func download(t *testing.T, env *fhirlinktest.Env, fileURL string) [][]byte {
	t.Helper()
	status, h, body, err := env.Do(context.Background(), http.MethodGet, fileURL, env.Key, nil, "Accept", "application/fhir+ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK || h.Get("Content-Type") != "application/fhir+ndjson" {
		t.Fatalf("GET %s: %d %s %.300s", fileURL, status, h.Get("Content-Type"), body)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		lines = append(lines, slices.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// exported downloads every output file of m, checks each line is a
// resource of the file's type, counts match, and ids are unique per type;
// it returns the resources by type.
func exported(t *testing.T, env *fhirlinktest.Env, m *manifest) map[string][]json.RawMessage {
	t.Helper()
	out := map[string][]json.RawMessage{}
	for _, f := range m.Output {
		lines := download(t, env, f.URL)
		if int64(len(lines)) != f.Count {
			t.Errorf("%s: manifest count %d, file has %d lines", f.URL, f.Count, len(lines))
		}
		for _, l := range lines {
			var r struct{ ResourceType, ID string }
			if err := json.Unmarshal(l, &r); err != nil || r.ResourceType != f.Type || r.ID == "" {
				t.Fatalf("%s: line is not a %s with an id: %.200s", f.URL, f.Type, l)
			}
			out[f.Type] = append(out[f.Type], l)
		}
	}
	for typ, rs := range out {
		ids := exportedIDs(rs)
		if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
			t.Errorf("%s: duplicate ids in the export", typ)
		}
	}
	return out
}

func exportedIDs(rs []json.RawMessage) []string {
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		var v struct{ ID string }
		json.Unmarshal(r, &v)
		ids = append(ids, v.ID)
	}
	return ids
}

// compartment are the types a Patient-level export may hold.
var compartment = []string{"AllergyIntolerance", "Appointment", "Condition", "Encounter", "Immunization",
	"MedicationRequest", "MedicationStatement", "Observation", "Patient"}

func TestFHIRExportSystemLevel(t *testing.T) {
	// Small files, so that a type spans several.
	env := exportEnv(t, 256<<10)
	_, db := bpPractice(t)
	statusURL := kickoff(t, env, "$export?_outputFormat=application/fhir%2Bndjson")
	m := awaitExport(t, env, statusURL)
	if !strings.HasSuffix(m.Request, "/$export?_outputFormat=application/fhir%2Bndjson") {
		t.Errorf("manifest request %q", m.Request)
	}
	want := []string{"AllergyIntolerance", "Appointment", "Condition", "Encounter", "Immunization", "Location", "MedicationRequest",
		"MedicationStatement", "Observation", "Organization", "Patient", "Practitioner", "PractitionerRole", "Schedule"}
	if got := m.types(); !slices.Equal(got, want) {
		t.Errorf("exported types %v, want %v (every type but Slot)", got, want)
	}
	if len(m.Error) != 0 {
		t.Errorf("errors in a clean export: %+v", m.Error)
	}
	files := map[string]int{}
	for _, o := range m.Output {
		files[o.Type]++
	}
	if files["Observation"] < 2 {
		t.Errorf("Observation in %d file(s); with 256 KB files it should span several", files["Observation"])
	}
	byType := exported(t, env, m)
	// Every active patient exactly once (exported checks the once), and
	// the inactive ones other resources refer to.
	wantIDs := dbIDs(t, db, `SELECT "INTERNALID"::text `+livePatients)
	for id := range referencedPatients(byType) {
		if !slices.Contains(wantIDs, id) {
			wantIDs = append(wantIDs, id)
		}
	}
	if got := exportedIDs(byType["Patient"]); !sameSet(got, wantIDs) {
		t.Errorf("exported %d patients, the database has %d active or referenced", len(got), len(wantIDs))
	}
	// Every type as many as paging through its search finds.
	for _, typ := range []string{"Condition", "Practitioner"} {
		if got, want := len(byType[typ]), len(walk(t, env, typ+"?_count=200")); got != want {
			t.Errorf("%s: exported %d, search finds %d", typ, got, want)
		}
	}
	n := 0
	for typ, rs := range byType {
		for batch := range slices.Chunk(rs, 500) {
			fhirvalidate.Resources(t, batch...)
		}
		n += len(rs)
		t.Logf("%s: %d", typ, len(rs))
	}
	t.Logf("validated %d exported resources in %d files", n, len(m.Output))

	// The files need the credential: none is 401, another integrator 404.
	fileURL := m.Output[0].URL
	if status, _, _, _ := env.Do(context.Background(), http.MethodGet, fileURL, "", nil); status != http.StatusUnauthorized {
		t.Errorf("file without a credential: %d, want 401", status)
	}
	_, other := env.NewIntegrator(true)
	if status, _, _, _ := env.Do(context.Background(), http.MethodGet, fileURL, other, nil); status != http.StatusNotFound {
		t.Errorf("file with another integrator's key: %d, want 404", status)
	}
	if status, _, _, _ := env.Do(context.Background(), http.MethodGet, statusURL, other, nil); status != http.StatusNotFound {
		t.Errorf("status with another integrator's key: %d, want 404", status)
	}
	// DELETE removes a completed export and its files.
	if status, _, body, _ := env.Do(context.Background(), http.MethodDelete, statusURL, env.Key, nil); status != http.StatusAccepted {
		t.Fatalf("DELETE: %d %s", status, body)
	}
	if status, _, _, _ := env.Do(context.Background(), http.MethodGet, fileURL, env.Key, nil); status != http.StatusNotFound {
		t.Errorf("file after DELETE: %d, want 404", status)
	}
}

func TestFHIRExportPatientLevelTypeAndSince(t *testing.T) {
	env := exportEnv(t, 0)
	_, db := bpPractice(t)

	t.Run("patient level", func(t *testing.T) {
		m := awaitExport(t, env, kickoff(t, env, "Patient/$export"))
		if got := m.types(); !slices.Equal(got, compartment) {
			t.Errorf("Patient/$export types %v, want %v", got, compartment)
		}
	})

	t.Run("_type", func(t *testing.T) {
		m := awaitExport(t, env, kickoff(t, env, "$export?_type=Patient,Condition&_type=Patient"))
		if got := m.types(); !slices.Equal(got, []string{"Condition", "Patient"}) {
			t.Errorf("_type=Patient,Condition exported %v", got)
		}
		m = awaitExport(t, env, kickoff(t, env, "Patient/$export?_type=Immunization"))
		if got := m.types(); !slices.Equal(got, []string{"Immunization"}) {
			t.Errorf("Patient/$export?_type=Immunization exported %v", got)
		}
	})

	t.Run("_since", func(t *testing.T) {
		// A moment in the middle of the patients' update times, in the
		// practice's zone.
		var wall time.Time
		if err := db.QueryRow(`SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY COALESCE("UPDATED", "CREATED")) ` + livePatients).Scan(&wall); err != nil {
			t.Fatal(err)
		}
		syd, _ := time.LoadLocation("Australia/Sydney")
		at := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, syd)
		since := at.UTC().Format(time.RFC3339)
		want := dbIDs(t, db, `SELECT "INTERNALID"::text `+livePatients+` AND COALESCE("UPDATED", "CREATED") >= $1`,
			at.Format("2006-01-02 15:04:05"))
		all := dbIDs(t, db, `SELECT "INTERNALID"::text `+livePatients)
		if len(want) == 0 || len(want) == len(all) {
			t.Fatalf("_since %s selects %d of %d patients: not a useful test", since, len(want), len(all))
		}
		m := awaitExport(t, env, kickoff(t, env, "$export?_type=Patient,Condition&_since="+url.QueryEscape(since)))
		byType := exported(t, env, m)
		// The patients updated since, and those the conditions refer to
		// (the export is self-contained).
		for id := range referencedPatients(byType) {
			if !slices.Contains(want, id) {
				want = append(want, id)
			}
		}
		if got := exportedIDs(byType["Patient"]); !sameSet(got, want) {
			t.Errorf("_since=%s exported %d patients, the database has %d updated since or referenced", since, len(got), len(want))
		}
		sinceT, _ := time.Parse(time.RFC3339, since)
		for _, r := range byType["Condition"] {
			var v struct{ Meta struct{ LastUpdated string } }
			json.Unmarshal(r, &v)
			if lu, err := time.Parse(time.RFC3339Nano, v.Meta.LastUpdated); err == nil && lu.Before(sinceT) {
				t.Fatalf("Condition last updated %s exported with _since=%s", v.Meta.LastUpdated, since)
			}
		}
		t.Logf("_since=%s: %d of %d patients, %d conditions", since, len(want), len(all), len(byType["Condition"]))
	})

	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct {
			path   string
			header []string
			status int
		}{
			{"$export", nil, 400}, // no Prefer: respond-async
			{"$export?_outputFormat=application/fhir%2Bjson", []string{"Prefer", "respond-async"}, 400},
			{"$export?_outputFormat=text/csv", []string{"Prefer", "respond-async"}, 400},
			{"$export?_type=Slot", []string{"Prefer", "respond-async"}, 400},
			{"$export?_type=Nope", []string{"Prefer", "respond-async"}, 400},
			{"Patient/$export?_type=Practitioner", []string{"Prefer", "respond-async"}, 400},
			{"$export?_since=2024-01-01", []string{"Prefer", "respond-async"}, 400},
			{"$export?_typeFilter=x", []string{"Prefer", "respond-async, handling=strict"}, 400},
		} {
			status, _, body := env.FHIR(http.MethodGet, c.path, "", c.header...)
			if status != c.status || !bytes.Contains(body, []byte(`"OperationOutcome"`)) {
				t.Errorf("%s %v: %d %.200s, want %d with an OperationOutcome", c.path, c.header, status, body, c.status)
			}
		}
	})

	t.Run("poll too fast, cancel", func(t *testing.T) {
		statusURL := kickoff(t, env, "$export")
		first, _, _, _ := env.Do(context.Background(), http.MethodGet, statusURL, env.Key, nil)
		if first != http.StatusAccepted {
			t.Skipf("the export finished before the first poll (%d)", first)
		}
		status, h, body, _ := env.Do(context.Background(), http.MethodGet, statusURL, env.Key, nil)
		if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
			t.Errorf("second poll at once: %d (Retry-After %q) %.200s, want 429", status, h.Get("Retry-After"), body)
		}
		if status, _, body, _ := env.Do(context.Background(), http.MethodDelete, statusURL, env.Key, nil); status != http.StatusAccepted {
			t.Fatalf("DELETE: %d %s", status, body)
		}
		if status, _, _, _ := env.Do(context.Background(), http.MethodGet, statusURL, env.Key, nil); status != http.StatusNotFound {
			t.Errorf("status after DELETE: %d, want 404", status)
		}
		// The site is free again: a new export runs to the end.
		awaitExport(t, env, kickoff(t, env, "$export?_type=Organization"))
	})

	t.Run("metadata", func(t *testing.T) {
		_, _, body := env.FHIR(http.MethodGet, "metadata", "")
		for _, s := range []string{"http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"} {
			if !bytes.Contains(body, []byte(s)) {
				t.Errorf("metadata does not advertise %s", s)
			}
		}
		fhirvalidate.Resources(t, body)
	})
}

// readLines counts the lines of an NDJSON stream without keeping it.
func readLines(r io.Reader) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var n int64
	for {
		_, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// TestFHIRExportTokenScopes: a token needs s on every exported type, and
// the files are downloaded with a token of the same integrator.
func TestFHIRExportTokenScopes(t *testing.T) {
	env := exportEnv(t, 0)
	s := &smart{Env: env, t: t}
	k := newKey(t, "ES384")
	client := s.client(env.IntegratorID, "system/*.rs", jwks(t, k), "")
	patientOnly := s.mustToken(k, client, "system/Patient.rs").AccessToken
	async := []string{"Prefer", "respond-async", "Authorization", "Bearer " + patientOnly}
	get := func(u string, header ...string) (int, http.Header, []byte) {
		t.Helper()
		status, h, body, err := env.Do(context.Background(), http.MethodGet, u, "", nil, header...)
		if err != nil {
			t.Fatal(err)
		}
		return status, h, body
	}
	base := env.SiteURL() + "/fhir/R4/"
	if status, _, body := get(base+"Patient/$export", async...); status != http.StatusForbidden || !bytes.Contains(body, []byte("system/")) {
		t.Errorf("Patient/$export with system/Patient.rs only: %d %.300s, want 403 naming the scope", status, body)
	}
	status, h, body := get(base+"$export?_type=Patient", async...)
	if status != http.StatusAccepted {
		t.Fatalf("$export?_type=Patient with system/Patient.rs: %d %s", status, body)
	}
	m := awaitExport(t, env, h.Get("Content-Location"))
	if len(m.Output) == 0 {
		t.Fatal("no output")
	}
	// Another token of the same integrator downloads; none is 401.
	other := s.mustToken(k, client, "system/Patient.rs").AccessToken
	if status, _, body := get(m.Output[0].URL, "Authorization", "Bearer "+other, "Accept", "application/fhir+ndjson"); status != http.StatusOK {
		t.Errorf("download with another token of the integrator: %d %.200s", status, body)
	}
	if status, _, _ := get(m.Output[0].URL); status != http.StatusUnauthorized {
		t.Errorf("download without a credential: %d, want 401", status)
	}
	// A token without s on the file's type cannot download it.
	conds := s.mustToken(k, client, "system/Condition.rs").AccessToken
	if status, _, _ := get(m.Output[0].URL, "Authorization", "Bearer "+conds); status != http.StatusForbidden {
		t.Errorf("download of Patient with system/Condition.rs: %d, want 403", status)
	}
}
