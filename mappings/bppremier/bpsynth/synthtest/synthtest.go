// Package synthtest helps the tests of the synthetic practices (bpsynth, zedsynth) that write
// through the agent and read the result back as an integrator would: a FHIR search of a PMS
// mapping, run by the agent's executor, each resource checked by the FHIR validators.
package synthtest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"fhirlink/agent/executor"
	"fhirlink/agent/pgtest"
	"fhirlink/agent/wire"
	"fhirlink/fhir"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/mappings"
	"fhirlink/mappings/bppremier/bpsynth"
)

// Reader searches one practice through a mapping.
type Reader struct {
	Exec    *executor.Executor
	Mapping *mappings.Mapping
	Dialect mappings.Dialect
	Site    mappings.Site
}

// Resources runs the search typ?query and returns its resources, decoded, after the
// validators have checked them; any failure fails the test.
func (r *Reader) Resources(t testing.TB, typ, query string) []map[string]any {
	t.Helper()
	res, ok := r.Mapping.Resource(typ)
	if !ok {
		t.Fatalf("no %s in the mapping", typ)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fhir.ParseSearch(res.Decl(), q, fhir.ParseOptions{Strict: true, Location: r.Site.Location})
	if err != nil {
		t.Fatalf("%s?%s: %v", typ, query, err)
	}
	sq, err := res.Search(r.Dialect, s)
	if err != nil {
		t.Fatal(err)
	}
	var rows Rows
	if _, err := r.Exec.Run(context.Background(), wire.QueryRequest{Text: sq.SQL, Params: sq.Params, TimeoutMS: 30000}, &rows); err != nil {
		t.Fatalf("%s?%s: %v", typ, query, err)
	}
	var out []map[string]any
	var all []json.RawMessage
	for _, row := range rows {
		got, err := res.Row(row, r.Site)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got.Resource)
		m := map[string]any{}
		if err := json.Unmarshal(got.Resource, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if len(all) > 0 {
		fhirvalidate.Resources(t, all...)
	}
	return out
}

// Rows is an executor.Sink that keeps every row.
type Rows [][]byte

// Header implements executor.Sink.
func (*Rows) Header(wire.Header) error { return nil }

// Row implements executor.Sink.
func (r *Rows) Row(b []byte) error { *r = append(*r, bytes.Clone(b)); return nil }

// Param is a request parameter of the passthrough type typ; a nil v is NULL.
func Param(name, typ string, v any) wire.Param {
	if v == nil {
		return wire.Param{Name: "@" + name, Type: typ}
	}
	s := fmt.Sprint(v)
	return wire.Param{Name: "@" + name, Type: typ, Value: &s}
}

// Race runs book n times at once and checks that exactly one run booked: answered a non-zero
// id without an error, the others 0. meet, when not nil, is called once every run has
// started: it returns when they have all met (waiting for a lock the test holds) and lets
// them go. Race returns the one id.
func Race(t testing.TB, n int, meet func(), book func() (int, error)) int {
	t.Helper()
	ids := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			ids[i], errs[i] = book()
		})
	}
	close(gate)
	if meet != nil {
		meet()
	}
	wg.Wait()
	booked, id := 0, 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("booking %d of %d: %v", i+1, n, errs[i])
		}
		if ids[i] != 0 {
			booked++
			id = ids[i]
		}
	}
	if booked != 1 {
		t.Fatalf("%d of %d concurrent bookings of one slot succeeded (ids %v); want exactly 1", booked, n, ids)
	}
	return id
}

// PostgresPractice is a PostgreSQL database of the test's own (agent/pgtest) holding the small
// synthetic Bp Premier practice with its procedures, for tests that change it: its DSN and an
// open handle, closed when the test ends.
func PostgresPractice(t testing.TB) (string, *sql.DB) {
	t.Helper()
	dsn := pgtest.DSN(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := bpsynth.Apply(ctx, db, bpsynth.EnginePostgres); err != nil {
		t.Fatal(err)
	}
	if err := bpsynth.Generate(ctx, db, bpsynth.EnginePostgres, bpsynth.Small()); err != nil {
		t.Fatal(err)
	}
	return dsn, db
}
