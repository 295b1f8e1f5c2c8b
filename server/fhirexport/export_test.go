package fhirexport

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/mappings"
	"fhirlink/mappings/bppremier"
	"fhirlink/server"
	"fhirlink/server/bulk"
	"fhirlink/server/fhirsearch"
	"fhirlink/server/sqlite"
)

// script answers an export's queries in order: each answer's rows, then
// its error (nil: the end of the result).
type script struct {
	mu      sync.Mutex
	answers []scripted
	queries []wire.QueryRequest
}

type scripted struct {
	rows []string
	err  error
}

func (s *script) Query(_ context.Context, _ string, q wire.QueryRequest) (server.Rows, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, q)
	if len(s.answers) == 0 {
		return nil, server.Errorf(server.EINTERNAL, "unexpected query %s", q.Text)
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	if len(a.rows) == 0 && a.err != nil {
		return nil, a.err
	}
	return &scriptRows{a: a, i: -1}, nil
}

type scriptRows struct {
	a scripted
	i int
}

func (r *scriptRows) Header() wire.Header   { return wire.Header{} }
func (r *scriptRows) Next() bool            { r.i++; return r.i < len(r.a.rows) }
func (r *scriptRows) Row() []byte           { return []byte(r.a.rows[r.i]) }
func (r *scriptRows) Trailer() wire.Trailer { return wire.Trailer{} }
func (r *scriptRows) Err() error            { return r.a.err }
func (r *scriptRows) Close() error          { return nil }

func patient(id string) string {
	return `{"id":` + id + `,"status":0,"first":"Ann","family":"Smith","_k0":` + id + `}`
}

// export runs an export of query on the script and returns its files'
// lines, by type.
func export(t *testing.T, s *script, query string) map[string][]string {
	t.Helper()
	return exportEvery(t, s, query, 0)
}

// exportEvery is export with a checkpoint every interval (0: the default).
func exportEvery(t *testing.T, s *script, query string, every time.Duration) map[string][]string {
	t.Helper()
	site, err := fhirsearch.New(fhirsearch.Config{Querier: s, SiteID: "s1", Mapping: bppremier.Mapping, Engine: "postgres", Base: "https://x/fhir/R4"})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.ParseQuery(query)
	exp, err := Parse(site, q, false, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(context.Background(), t.TempDir()+"/state.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	m := &bulk.Manager{Store: store, PollInterval: time.Nanosecond, CheckpointEvery: every,
		Run: func(ctx context.Context, _ bulk.Request, out *bulk.Output) error { return exp.Run(ctx, out) }}
	t.Cleanup(m.Close)
	id, err := m.Start(context.Background(), bulk.Request{Owner: "i", SiteID: "s1", Types: exp.Types()})
	if err != nil {
		t.Fatal(err)
	}
	var st *bulk.Status
	waittest.For(t, 30*time.Second, "the export to end", func() bool {
		if st, err = m.Poll(context.Background(), "i", id); err != nil {
			t.Fatal(err)
		}
		return st.State == bulk.Completed || st.State == bulk.Failed
	})
	if st.State != bulk.Completed {
		t.Fatalf("export %s: %v", st.State, st.Err)
	}
	out := map[string][]string{}
	for _, f := range slices.Concat(st.Output, st.Errors) {
		fh, _, err := m.Open(context.Background(), "i", id, f.Name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			out[f.Type] = append(out[f.Type], sc.Text())
		}
		fh.Close()
	}
	return out
}

func TestATypeCutMidwayResumesAfterItsLastRow(t *testing.T) {
	cut := server.Errorf(server.EUNAVAILABLE, "the tunnel broke")
	s := &script{answers: []scripted{
		{rows: []string{patient("1"), patient("2"), patient("3")}, err: cut},
		{rows: []string{patient("4"), patient("5")}},
	}}
	got := export(t, s, "_type=Patient")
	var ids []string
	for _, line := range got["Patient"] {
		ids = append(ids, mappings.ResourceID([]byte(line)))
	}
	if strings.Join(ids, ",") != "1,2,3,4,5" || len(got["OperationOutcome"]) != 0 {
		t.Fatalf("exported %v, errors %v", ids, got["OperationOutcome"])
	}
	if len(s.queries) != 2 || s.queries[0].Priority != wire.PriorityBulk || s.queries[0].MaxBytes != 0 {
		t.Fatalf("queries %+v", s.queries)
	}
	// The second query starts after patient 3: its cursor is bound.
	resumed := s.queries[1]
	if !slices.ContainsFunc(resumed.Params, func(p wire.Param) bool { return p.Value != nil && *p.Value == "3" }) {
		t.Errorf("the resumed query does not start after patient 3: %s %+v", resumed.Text, resumed.Params)
	}
}

func TestAFailingTypeIsInTheErrorFileAndTheExportGoesOn(t *testing.T) {
	s := &script{answers: []scripted{
		{rows: []string{patient("1")}},
		{err: wire.Errorf(wire.KindDatabase, "no such table")},
	}}
	got := export(t, s, "_type=Patient,Practitioner&_bogus=1")
	if len(got["Patient"]) != 1 {
		t.Errorf("patients %v", got["Patient"])
	}
	errs := strings.Join(got["OperationOutcome"], "\n")
	if len(got["OperationOutcome"]) != 2 || !strings.Contains(errs, "_bogus") ||
		!strings.Contains(errs, "Practitioner: the export of this type stopped after 0 resources: the practice database failed the query") {
		t.Errorf("error file:\n%s", errs)
	}
	if bytes.Contains([]byte(errs), []byte("no such table")) {
		t.Error("the database's message reached the error file")
	}
}

// A type that streams for longer than the checkpoint interval is cut: the
// rows so far are recorded with the keyset of the last one, and the type
// goes on in a query after it, so a node taking the export over would
// resume there. Nothing is lost or repeated at the cuts.
func TestALongTypeIsCheckpointedByItsKeyset(t *testing.T) {
	s := &script{answers: []scripted{
		{rows: []string{patient("1"), patient("2"), patient("3")}}, // cut before 2
		{rows: []string{patient("2"), patient("3")}},               // cut before 3
		{rows: []string{patient("3")}},
	}}
	got := exportEvery(t, s, "_type=Patient", time.Nanosecond)
	var ids []string
	for _, line := range got["Patient"] {
		ids = append(ids, mappings.ResourceID([]byte(line)))
	}
	if strings.Join(ids, ",") != "1,2,3" || len(s.queries) != 3 {
		t.Fatalf("exported %v in %d queries", ids, len(s.queries))
	}
	for i, after := range []string{"1", "2"} {
		q := s.queries[i+1]
		if !slices.ContainsFunc(q.Params, func(p wire.Param) bool { return p.Value != nil && *p.Value == after }) {
			t.Errorf("query %d does not start after patient %s: %s %+v", i+2, after, q.Text, q.Params)
		}
	}
}
