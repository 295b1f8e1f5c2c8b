package fhirsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fhirlink/agent/wire"
	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/mappings/bppremier"
	"fhirlink/server"
)

// The unit tests run the component on a Querier whose rows the test hands
// over one at a time, so they can look at what was written between two
// rows. The end-to-end tests (server/api) do the same through a real
// tunnel and database.

const testBase = "https://fhir.example.test/integrator/sites/s1/fhir/R4"

// answer is one query's answer: a failure before any row, or rows sent
// on a channel (closed at the end; an error value ends them with it, any
// other value without).
type answer struct {
	err  error
	rows chan any
	// ready makes the rows tell whether their next row is at hand (a
	// buffered one on the channel), as hub.Rows do.
	ready bool
}

// fakeQuerier answers queries in order from its answers, and records them.
type fakeQuerier struct {
	mu      sync.Mutex
	answers []*answer
	queries []wire.QueryRequest
}

func (f *fakeQuerier) Query(ctx context.Context, siteID string, q wire.QueryRequest) (server.Rows, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	if len(f.answers) == 0 {
		return nil, errors.New("unexpected query: " + q.Text)
	}
	a := f.answers[0]
	f.answers = f.answers[1:]
	if a.err != nil {
		return nil, a.err
	}
	if a.ready {
		return &readyRows{fakeRows{ctx: ctx, src: a.rows}}, nil
	}
	return &fakeRows{ctx: ctx, src: a.rows}, nil
}

type readyRows struct{ fakeRows }

func (r *readyRows) Ready() bool { return len(r.src) > 0 }

type fakeRows struct {
	ctx context.Context
	src chan any
	row []byte
	err error
}

func (r *fakeRows) Header() wire.Header   { return wire.Header{} }
func (r *fakeRows) Row() []byte           { return r.row }
func (r *fakeRows) Trailer() wire.Trailer { return wire.Trailer{} }
func (r *fakeRows) Err() error            { return r.err }
func (r *fakeRows) Close() error          { return nil }

func (r *fakeRows) Next() bool {
	select {
	case v, ok := <-r.src:
		switch v := v.(type) {
		case nil:
			if !ok {
				return false
			}
		case error:
			r.err = v
			return false
		case string:
			r.row = []byte(v)
			return true
		}
		return false
	case <-r.ctx.Done():
		r.err = r.ctx.Err()
		return false
	}
}

// rowsOf is an answer with the given rows already sent.
func rowsOf(rows ...any) *answer {
	a := &answer{rows: make(chan any, len(rows))}
	for _, r := range rows {
		a.rows <- r
	}
	close(a.rows)
	return a
}

// patientRow is a Patient row as the Bp Premier SQL selects it, with its
// sort key.
func patientRow(id string) string {
	return `{"id":` + id + `,"status":0,"first":"Ann","family":"Smith","gp_id":7,"gp_first":"Jo","gp_family":"Doe","_k0":` + id + `}`
}

// writes records what reaches the writer, one write at a time.
type writes struct {
	mu  sync.Mutex
	buf bytes.Buffer
	n   int // writes
	ch  chan struct{}
}

func newWrites() *writes { return &writes{ch: make(chan struct{}, 100)} }

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.n++
	w.ch <- struct{}{}
	return len(p), nil
}

func (w *writes) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor waits for a write after which the output contains s.
func (w *writes) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for !strings.Contains(w.String(), s) {
		select {
		case <-w.ch:
		case <-deadline:
			t.Fatalf("%q was not written; written: %s", s, w.String())
		}
	}
}

func testSite(t *testing.T, q server.Querier) *Site {
	t.Helper()
	s, err := New(Config{Querier: q, SiteID: "s1", Mapping: bppremier.Mapping, Engine: "postgres",
		TimeZone: "Australia/Sydney", Base: testBase, Key: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func parse(t *testing.T, s *Site, typ, query string) *Search {
	t.Helper()
	res, err := s.Resource(typ)
	if err != nil {
		t.Fatal(err)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	search, err := s.Parse(res, q, true)
	if err != nil {
		t.Fatal(err)
	}
	return search
}

// bundleOf decodes a written Bundle.
type bundleOf struct {
	Total *int `json:"total"`
	Link  []struct{ Relation, URL string }
	Entry []struct {
		FullURL  string `json:"fullUrl"`
		Resource struct{ ResourceType, ID string }
		Search   struct{ Mode string }
	}
}

func decode(t *testing.T, out string) bundleOf {
	t.Helper()
	var b bundleOf
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return b
}

func TestRunWritesEachMatchAsItsRowArrives(t *testing.T) {
	matches := &answer{rows: make(chan any)}
	included := &answer{rows: make(chan any)}
	q := &fakeQuerier{answers: []*answer{matches, included}}
	s := testSite(t, q)
	w := newWrites()
	done := make(chan error, 1)
	var result Result
	go func() {
		var err error
		result, err = s.Run(context.Background(), w, parse(t, s, "Patient", "_count=5&_include=Patient:general-practitioner"))
		done <- err
	}()
	// Nothing is written before the first row: an error could still be
	// answered with an OperationOutcome.
	matches.rows <- patientRow("1")
	w.waitFor(t, `"fullUrl":"`+testBase+`/Patient/1"`)
	if strings.Contains(w.String(), "Patient/2") {
		t.Fatal("written ahead of the rows")
	}
	matches.rows <- patientRow("2")
	w.waitFor(t, `/Patient/2"`)
	close(matches.rows)
	// The include runs after the matches, on the ids they referenced.
	included.rows <- `{"id":7,"first":"Jo","family":"Doe","_k0":7}`
	w.waitFor(t, `/Practitioner/7"`)
	close(included.rows)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if result.Resources != 3 || !result.Started {
		t.Errorf("result %+v", result)
	}
	b := decode(t, w.String())
	var got []string
	for _, e := range b.Entry {
		got = append(got, e.Search.Mode+" "+e.Resource.ResourceType+"/"+e.Resource.ID)
		if e.FullURL != testBase+"/"+e.Resource.ResourceType+"/"+e.Resource.ID {
			t.Errorf("fullUrl %s of %s/%s", e.FullURL, e.Resource.ResourceType, e.Resource.ID)
		}
	}
	if want := "match Patient/1,match Patient/2,include Practitioner/7"; strings.Join(got, ",") != want {
		t.Errorf("entries %v, want %s", got, want)
	}
	if len(b.Link) != 1 || b.Link[0].Relation != "self" {
		t.Errorf("links %v: want self alone on the last page", b.Link)
	}
	if len(q.queries) != 2 || q.queries[1].Priority != wire.PriorityInteractive || len(q.queries[1].Params) == 0 {
		t.Errorf("queries %+v", q.queries)
	}
}

// Rows that arrived together become one write of their entries; a row
// that is not at hand yet does not hold back the entries before it.
func TestRunWritesRowsAtHandTogether(t *testing.T) {
	matches := &answer{rows: make(chan any, 3), ready: true}
	matches.rows <- patientRow("1")
	matches.rows <- patientRow("2")
	matches.rows <- patientRow("3")
	q := &fakeQuerier{answers: []*answer{matches}}
	s := testSite(t, q)
	w := newWrites()
	done := make(chan error, 1)
	go func() {
		_, err := s.Run(context.Background(), w, parse(t, s, "Patient", "_count=5"))
		done <- err
	}()
	w.waitFor(t, `/Patient/3"`)
	w.mu.Lock()
	if w.n != 1 {
		t.Errorf("%d writes for three rows at hand: %s", w.n, w.buf.String())
	}
	w.mu.Unlock()
	matches.rows <- patientRow("4")
	w.waitFor(t, `/Patient/4"`)
	close(matches.rows)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b := decode(t, w.String()); len(b.Entry) != 4 {
		t.Errorf("%d entries", len(b.Entry))
	}
}

func TestRunNextLinkCarriesTheLastMatch(t *testing.T) {
	q := &fakeQuerier{answers: []*answer{rowsOf(patientRow("3"), patientRow("5"), patientRow("9"))}}
	s := testSite(t, q)
	w := newWrites()
	if _, err := s.Run(context.Background(), w, parse(t, s, "Patient", "_count=2")); err != nil {
		t.Fatal(err)
	}
	b := decode(t, w.String())
	if len(b.Entry) != 2 || len(b.Link) != 2 || b.Link[1].Relation != "next" {
		t.Fatalf("entries %d, links %v", len(b.Entry), b.Link)
	}
	// The next page is the search after patient 5, and says it is itself.
	u, err := url.Parse(b.Link[1].URL)
	if err != nil {
		t.Fatal(err)
	}
	next := parse(t, s, "Patient", u.RawQuery)
	if !slicesEqual(next.After, []string{"5"}) || next.Count != 2 {
		t.Errorf("next page after %v, count %d", next.After, next.Count)
	}
	q.answers = []*answer{rowsOf(patientRow("9"))}
	w = newWrites()
	if _, err := s.Run(context.Background(), w, next); err != nil {
		t.Fatal(err)
	}
	if b := decode(t, w.String()); len(b.Link) != 1 || b.Link[0].URL != u.String() {
		t.Errorf("second page's links %v, want self %s", b.Link, u)
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

func TestRunFailingBeforeTheFirstEntryWritesNothing(t *testing.T) {
	for name, c := range map[string]struct {
		answer *answer
		code   string
	}{
		"the agent is gone":        {&answer{err: server.Errorf(server.EUNAVAILABLE, "gone")}, server.EUNAVAILABLE},
		"the query timed out":      {&answer{err: wire.Errorf(wire.KindTimeout, "slow")}, server.ETIMEOUT},
		"expired in the queue":     {&answer{err: wire.Errorf(wire.KindExpiredInQueue, "busy")}, server.EUNAVAILABLE},
		"the database failed":      {rowsOf(error(wire.Errorf(wire.KindDatabase, "boom"))), server.EINTERNAL},
		"the first row is garbage": {rowsOf(`{"id":"x"}`), server.EINTERNAL},
	} {
		t.Run(name, func(t *testing.T) {
			s := testSite(t, &fakeQuerier{answers: []*answer{c.answer}})
			w := newWrites()
			r, err := s.Run(context.Background(), w, parse(t, s, "Patient", ""))
			if err == nil || server.ErrorCode(err) != c.code {
				t.Fatalf("err %v, want code %s", err, c.code)
			}
			if r.Started || w.String() != "" {
				t.Errorf("wrote %q before failing", w.String())
			}
		})
	}
	// A page over the agent's byte cap is the client's to narrow.
	s := testSite(t, &fakeQuerier{answers: []*answer{{err: wire.Errorf(wire.KindTooLarge, "big")}}})
	_, err := s.Run(context.Background(), newWrites(), parse(t, s, "Patient", ""))
	if fe, ok := errors.AsType[*fhir.Error](err); !ok || fe.Status != http.StatusBadRequest || fe.Code != fhir.IssueTooCostly {
		t.Errorf("too large: %v", err)
	}
}

func TestRunFailingMidwayLeavesNoWholeBundle(t *testing.T) {
	s := testSite(t, &fakeQuerier{answers: []*answer{rowsOf(patientRow("1"), error(wire.Errorf(wire.KindDatabase, "boom")))}})
	w := newWrites()
	r, err := s.Run(context.Background(), w, parse(t, s, "Patient", ""))
	if err == nil || !r.Started || r.Resources != 1 {
		t.Fatalf("result %+v, err %v", r, err)
	}
	if json.Valid([]byte(w.String())) {
		t.Errorf("a failed page reads as a whole Bundle: %s", w.String())
	}
}

func TestRunTotalAndSummaryCount(t *testing.T) {
	q := &fakeQuerier{answers: []*answer{rowsOf(`{"total":42}`)}}
	s := testSite(t, q)
	w := newWrites()
	if _, err := s.Run(context.Background(), w, parse(t, s, "Patient", "_summary=count")); err != nil {
		t.Fatal(err)
	}
	b := decode(t, w.String())
	if b.Total == nil || *b.Total != 42 || len(b.Entry) != 0 || q.queries[0].Mode != wire.ModeScalar {
		t.Errorf("bundle %s, queries %+v", w.String(), q.queries)
	}
}

func TestScanAfterIsTheLastRowHandedOver(t *testing.T) {
	s := testSite(t, &fakeQuerier{answers: []*answer{rowsOf(patientRow("4"), patientRow("8"), error(server.Errorf(server.EUNAVAILABLE, "cut")))}})
	res, _ := s.Resource("Patient")
	var ids []string
	sc, err := s.Scan(context.Background(), res, &fhir.Search{Type: "Patient", Count: 100, Sort: []fhir.SortKey{{Name: "_id"}}}, Interactive,
		func(r mappings.Row) error { ids = append(ids, r.ID); return nil })
	if server.ErrorCode(err) != server.EUNAVAILABLE {
		t.Fatalf("err %v: the Querier's error is returned as it is", err)
	}
	after, cerr := sc.After()
	if cerr != nil || !slicesEqual(after, []string{"8"}) || sc.Rows != 2 || sc.More || !slicesEqual(ids, []string{"4", "8"}) {
		t.Errorf("after %v (%v), rows %d, more %v, ids %v", after, cerr, sc.Rows, sc.More, ids)
	}
}

// noID is a resource whose rows have no id where the component looks.
type noID struct{ mappings.Resource }

func (noID) Row([]byte, mappings.Site) (mappings.Row, error) {
	return mappings.Row{Resource: json.RawMessage(`{"resourceType":"Patient","meta":{}}`)}, nil
}

func TestScanRefusesARowWithoutID(t *testing.T) {
	s := testSite(t, &fakeQuerier{answers: []*answer{rowsOf(patientRow("1"))}})
	_, err := s.Scan(context.Background(), noID{bppremier.Patient}, &fhir.Search{Type: "Patient", Count: 1}, Interactive,
		func(mappings.Row) error { t.Fatal("a row without id was handed over"); return nil })
	if err == nil || server.ErrorCode(err) != server.EINTERNAL {
		t.Errorf("err %v", err)
	}
}

func TestRead(t *testing.T) {
	s := testSite(t, &fakeQuerier{answers: []*answer{rowsOf(patientRow("12")), rowsOf()}})
	got, err := s.Read(context.Background(), "Patient", "12")
	if err != nil || mappings.ResourceID(got) != "12" {
		t.Fatalf("read %s, %v", got, err)
	}
	_, err = s.Read(context.Background(), "Patient", "13")
	if fe, ok := errors.AsType[*fhir.Error](err); !ok || fe.Status != http.StatusNotFound {
		t.Errorf("a missing patient: %v", err)
	}
	if _, err := s.Read(context.Background(), "Nope", "1"); err == nil {
		t.Error("an unknown type was read")
	}
}

// The practice's zone is loaded once, not from its file for each Site (one
// per request); an unknown zone is Sydney's.
func TestNewLoadsTheZoneOnce(t *testing.T) {
	site := func(zone string) *Site {
		s, err := New(Config{SiteID: "s1", Mapping: bppremier.Mapping, Engine: "postgres", TimeZone: zone, Base: testBase})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := site("Australia/Perth"), site("Australia/Perth")
	if a.Location() != b.Location() || a.Location().String() != "Australia/Perth" {
		t.Errorf("locations %p %v and %p %v", a.Location(), a.Location(), b.Location(), b.Location())
	}
	if got := site("Mars/Olympus").Location().String(); got != defaultZone {
		t.Errorf("unknown zone gave %s", got)
	}
}
