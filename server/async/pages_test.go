package async

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/passthrough"
	"fhirlink/server/results"
	"fhirlink/server/sqlite"
)

// genRows produces n rows of about size bytes each, reusing one buffer, as
// rows arrive from the agent.
type genRows struct {
	n, i int
	buf  []byte
	pad  []byte
}

func (g *genRows) Next() bool {
	if g.i >= g.n {
		return false
	}
	g.i++
	g.buf = append(g.buf[:0], `{"n":`...)
	g.buf = strconv.AppendInt(g.buf, int64(g.i), 10)
	g.buf = append(g.buf, `,"pad":"`...)
	g.buf = append(g.buf, g.pad...)
	g.buf = append(g.buf, `"}`...)
	return true
}
func (g *genRows) Row() []byte { return g.buf }
func (g *genRows) Err() error  { return nil }

// Writing a result into pages holds a page-sized buffer at most, never the
// result: 48 MB of rows go through with a few MB allocated in all.
func TestAsyncPagesMemory(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir, err := results.NewDir(filepath.Join(t.TempDir(), "results"))
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Store: st, Options: Options{Results: dir}}
	doc := &queryDoc{Object: &passthrough.Object{ID: "q1", StatusTiming: map[string]passthrough.Period{}}}
	rec := &server.AsyncQuery{ID: "q1", IntegratorID: "i", SiteID: "s", Status: passthrough.StatusExecuting, Request: []byte("{}"), Doc: []byte("{}")}
	if err := st.CreateAsyncQuery(ctx, rec); err != nil {
		t.Fatal(err)
	}
	w := &asyncRun{r: r, rec: rec, doc: doc, status: passthrough.StatusExecuting}
	const rows, total = 240000, 48 << 20
	g := &genRows{n: rows, pad: bytes.Repeat([]byte("x"), total/rows-20)}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := w.pages(ctx, g, []wire.Column{{Name: "n", Type: wire.TypeInteger}}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)

	res := doc.Object.Result
	if *res.Rows != rows || len(res.Pages) < 40 || *doc.Object.ResultSize < total-total/10 {
		t.Fatalf("%d rows in %d pages, %d bytes", *res.Rows, len(res.Pages), *doc.Object.ResultSize)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d MB of rows in %d pages: %.1f MB allocated", *doc.Object.ResultSize>>20, len(res.Pages), float64(alloc)/(1<<20))
	if alloc > 12<<20 {
		t.Fatalf("writing %d MB of rows allocated %d MB: the result is being buffered", total>>20, alloc>>20)
	}
}

// BenchmarkAsyncPages writes 16 MB of rows into 1 MB pages in a
// directory store: throughput, and allocations that stay flat per result.
func BenchmarkAsyncPages(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	dir, err := results.NewDir(filepath.Join(b.TempDir(), "results"))
	if err != nil {
		b.Fatal(err)
	}
	r := &Runner{Store: st, Options: Options{Results: dir}}
	const rows, total = 80000, 16 << 20
	pad := bytes.Repeat([]byte("x"), total/rows-20)
	b.SetBytes(total)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := "q" + strconv.Itoa(i)
		rec := &server.AsyncQuery{ID: id, IntegratorID: "i", SiteID: "s", Status: passthrough.StatusExecuting, Request: []byte("{}"), Doc: []byte("{}")}
		if err := st.CreateAsyncQuery(ctx, rec); err != nil {
			b.Fatal(err)
		}
		w := &asyncRun{r: r, rec: rec, doc: &queryDoc{Object: &passthrough.Object{ID: id, StatusTiming: map[string]passthrough.Period{}}}, status: passthrough.StatusExecuting}
		if err := w.pages(ctx, &genRows{n: rows, pad: pad}, nil); err != nil {
			b.Fatal(err)
		}
		dir.Delete(ctx, asyncPrefix(id))
	}
}
