package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/server"
	"fhirlink/server/results"
	"fhirlink/server/sqlite"
)

func newStore(t *testing.T) server.Store {
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/state.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func wait(t *testing.T, m *Manager, owner, id string) *Status {
	t.Helper()
	var st *Status
	waittest.For(t, 20*time.Second, "the export to end", func() bool {
		s, err := m.Poll(context.Background(), owner, id)
		var pe *PollError
		switch {
		case errors.As(err, &pe): // polled too soon
			return false
		case err != nil:
			t.Fatal(err)
		}
		st = s
		return st.State == Completed || st.State == Failed
	})
	return st
}

func read(t *testing.T, m *Manager, owner, id string, f File) string {
	t.Helper()
	fh, _, err := m.Open(context.Background(), owner, id, f.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	b, err := io.ReadAll(fh)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSplitsFilesAndServesThem(t *testing.T) {
	ctx := context.Background()
	line := []byte(`{"resourceType":"Patient","id":"` + strings.Repeat("x", 20) + `"}`) // 51 bytes + newline
	m := &Manager{Store: newStore(t), MaxFileBytes: 100, PollInterval: time.Millisecond,
		Run: func(ctx context.Context, req Request, out *Output) error {
			for range 5 {
				if err := out.Write("Patient", line); err != nil {
					return err
				}
			}
			return out.Error([]byte(`{"resourceType":"OperationOutcome"}`))
		}}
	defer m.Close()
	id, err := m.Start(ctx, Request{Owner: "a", SiteID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	st := wait(t, m, "a", id)
	if st.State != Completed || st.Resources != 5 {
		t.Fatalf("state %s, %d resources, err %v", st.State, st.Resources, st.Err)
	}
	// Lines of 52 bytes in files of at most 100: one line a file.
	if len(st.Output) != 5 || len(st.Errors) != 1 {
		t.Fatalf("%d output files, %d error files: %+v", len(st.Output), len(st.Errors), st.Output)
	}
	for i, f := range st.Output {
		if b := read(t, m, "a", id, f); f.Count != 1 || int64(len(b)) != f.Bytes || b != string(line)+"\n" || f.Name != fmt.Sprintf("Patient-%d.ndjson", i+1) {
			t.Fatalf("%s: %q (%+v)", f.Name, b, f)
		}
	}
	if _, _, err := m.Open(ctx, "b", id, st.Output[0].Name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another owner opened a file: %v", err)
	}
	if _, _, err := m.Open(ctx, "a", id, "../x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown file: %v", err)
	}
	if err := m.Delete(ctx, "a", id); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Poll(ctx, "a", id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("poll after delete: %v", err)
	}
	if _, err := m.Results.Open(ctx, st.Output[0].Key); server.ErrorCode(err) != server.ENOTFOUND {
		t.Fatalf("a file left after delete: %v", err)
	}
}

func TestPollRateQueueCancelExpiry(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan string, 4)
	m := &Manager{Store: newStore(t), PollInterval: time.Hour, QueuedPerSite: 2, Expiry: 50 * time.Millisecond,
		Run: func(ctx context.Context, req Request, out *Output) error {
			started <- string(req.Spec)
			if req.SiteID == "other" {
				return nil
			}
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}}
	defer m.Close()
	first, err := m.Start(ctx, Request{Owner: "a", SiteID: "s", Spec: []byte(`"first"`)})
	if err != nil {
		t.Fatal(err)
	}
	if got := <-started; got != `"first"` {
		t.Fatalf("%s started first", got)
	}
	second, err := m.Start(ctx, Request{Owner: "a", SiteID: "s", Spec: []byte(`"second"`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start(ctx, Request{Owner: "a", SiteID: "s"}); !errors.Is(err, ErrBusy) {
		t.Fatalf("third export at the site: %v, want ErrBusy", err)
	}
	if _, err := m.Start(ctx, Request{Owner: "a", SiteID: "other", Spec: []byte(`"other"`)}); err != nil {
		t.Fatalf("another site is not limited: %v", err)
	}
	if got := <-started; got != `"other"` {
		t.Fatalf("%s started while the site's first export runs", got)
	}
	if _, err := m.Poll(ctx, "a", first); err != nil {
		t.Fatal(err)
	}
	var pe *PollError
	if _, err := m.Poll(ctx, "a", first); !errors.As(err, &pe) || pe.Wait <= 0 {
		t.Fatalf("second poll at once: %v, want a PollError", err)
	}
	// One runs per site: the second waits for the first to end, whatever
	// the claims made meanwhile.
	for range 3 {
		m.wake()
		m.claim()
	}
	if st, err := m.Poll(ctx, "a", second); err != nil || st.State != Queued || len(started) != 0 {
		t.Fatalf("second export while the first runs: %v %+v, %d more started", err, st, len(started))
	}
	// Cancelling the first lets the second run.
	if err := m.Delete(ctx, "a", first); err != nil {
		t.Fatal(err)
	}
	if got := <-started; got != `"second"` {
		t.Fatalf("%s started after the first was cancelled", got)
	}
	close(release)
	m.PollInterval = time.Nanosecond
	st := wait(t, m, "a", second)
	if st.State != Completed {
		t.Fatalf("second export: %+v", st)
	}
	// Past its expiry it is gone.
	waittest.For(t, 5*time.Second, "the export to expire", func() bool {
		_, err := m.Poll(ctx, "a", second)
		return errors.Is(err, ErrNotFound)
	})
}

// partitioned is a node's view of the store that stops writing a job's
// record on demand: the node froze, or lost the database, while its run
// goes on.
type partitioned struct {
	server.Store
	cut atomic.Bool
}

func (p *partitioned) UpdateExportJob(ctx context.Context, j *server.ExportJob) error {
	if p.cut.Load() {
		return errors.New("partitioned")
	}
	return p.Store.UpdateExportJob(ctx, j)
}

func (p *partitioned) ClaimExportJob(ctx context.Context, holder string, now, leaseUntil time.Time) (*server.ExportJob, error) {
	if p.cut.Load() {
		return nil, errors.New("partitioned")
	}
	return p.Store.ClaimExportJob(ctx, holder, now, leaseUntil)
}

// A node that stops renewing its lease loses the job to another node,
// which resumes it from the last checkpoint: every row once in the
// recorded files, even though the first node goes on writing and then
// tries to finish.
func TestTakeoverResumesFromTheLastCheckpoint(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	dir, err := results.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const rows = 100
	frozen, thawed := make(chan struct{}), make(chan struct{})
	// The run writes rows from its cursor on, recording a checkpoint every
	// 10 rows; the first node's run freezes after row 35.
	run := func(node string) Func {
		return func(ctx context.Context, req Request, out *Output) error {
			from := 0
			if c := out.Cursor(); c != "" {
				from, _ = strconv.Atoi(c)
			}
			for i := from; i < rows; i++ {
				if i > 0 && i%10 == 0 {
					if err := out.Checkpoint(strconv.Itoa(i)); err != nil {
						return err
					}
				}
				if err := out.Write("Patient", []byte(fmt.Sprintf(`{"id":"%d"}`, i))); err != nil {
					return err
				}
				if node == "a" && i == 35 {
					close(frozen)
					<-thawed
				}
			}
			return nil
		}
	}
	a := &partitioned{Store: store}
	ma := &Manager{Store: a, Results: dir, Node: "a", Lease: 300 * time.Millisecond, PollInterval: time.Nanosecond, Run: run("a")}
	defer ma.Close()
	id, err := ma.Start(ctx, Request{Owner: "o", SiteID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	<-frozen
	a.cut.Store(true)
	defer close(thawed)
	mb := &Manager{Store: store, Results: dir, Node: "b", Lease: 300 * time.Millisecond, PollInterval: time.Nanosecond, Run: run("b")}
	defer mb.Close()
	mb.Ready()
	st := wait(t, mb, "o", id)
	thawed <- struct{}{} // the first node wakes up and tries to go on
	if st.State != Completed || st.Resources != rows {
		t.Fatalf("after the takeover: %s, %d resources, %v", st.State, st.Resources, st.Err)
	}
	check := func() {
		t.Helper()
		seen := map[string]int{}
		for _, f := range st.Output {
			for line := range strings.Lines(read(t, mb, "o", id, f)) {
				seen[line]++
			}
		}
		for i := range rows {
			if n := seen[fmt.Sprintf("{\"id\":\"%d\"}\n", i)]; n != 1 {
				t.Fatalf("row %d is %d times in the export", i, n)
			}
		}
		if len(seen) != rows {
			t.Fatalf("%d distinct lines, want %d", len(seen), rows)
		}
	}
	check()
	waittest.For(t, 10*time.Second, "the first node to give up", func() bool {
		ma.mu.Lock()
		defer ma.mu.Unlock()
		return len(ma.running) == 0
	})
	st, err = mb.Poll(ctx, "o", id)
	if err != nil || st.State != Completed {
		t.Fatalf("after the first node gave up: %v %+v", err, st)
	}
	check()
}

func TestCloseHandsJobsOver(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	started := make(chan struct{}, 2)
	m := &Manager{Store: store, Node: "a", Run: func(ctx context.Context, req Request, out *Output) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}}
	id, err := m.Start(ctx, Request{Owner: "a", SiteID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	m.Close()
	if _, err := m.Start(ctx, Request{Owner: "a", SiteID: "s"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("start after close: %v", err)
	}
	// Another node takes it up at once: its lease was given back.
	j, err := store.ClaimExportJob(ctx, "b", time.Now(), time.Now().Add(time.Minute))
	if err != nil || j == nil || j.ID != id || j.Attempt != 2 {
		t.Fatalf("claim after close: %+v, %v", j, err)
	}
}
