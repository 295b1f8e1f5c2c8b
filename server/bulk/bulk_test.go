package bulk

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"fhirlink/agent/waittest"
)

func wait(t *testing.T, m *Manager, owner, id string) *Status {
	t.Helper()
	var st *Status
	waittest.For(t, 10*time.Second, "the export to end", func() bool {
		s, err := m.Poll(owner, id)
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

func TestSplitsFilesAndServesThem(t *testing.T) {
	m := &Manager{Dir: t.TempDir(), MaxFileBytes: 100, PollInterval: time.Millisecond}
	defer m.Close()
	line := []byte(`{"resourceType":"Patient","id":"` + strings.Repeat("x", 20) + `"}`) // 51 bytes + newline
	id, err := m.Start(Request{Owner: "a", SiteID: "s"}, func(ctx context.Context, out *Output) error {
		for range 5 {
			if err := out.Write("Patient", line); err != nil {
				return err
			}
		}
		return out.Error([]byte(`{"resourceType":"OperationOutcome"}`))
	}, nil)
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
	for _, f := range st.Output {
		fh, desc, err := m.Open("a", id, f.Name)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(fh)
		fh.Close()
		if desc.Count != 1 || int64(len(b)) != desc.Bytes || string(b) != string(line)+"\n" {
			t.Fatalf("%s: %q (%+v)", f.Name, b, desc)
		}
	}
	if _, _, err := m.Open("b", id, st.Output[0].Name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another owner opened a file: %v", err)
	}
	if _, _, err := m.Open("a", id, "../x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown file: %v", err)
	}
	if err := m.Delete("a", id); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Poll("a", id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("poll after delete: %v", err)
	}
	if entries, _ := os.ReadDir(m.Dir); len(entries) != 0 {
		t.Fatalf("files left after delete: %v", entries)
	}
}

// The test runs in a synctest bubble: its clock moves only when every
// goroutine waits, and synctest.Wait shows when the jobs' goroutines have
// settled, so "the second export is still queued" is checked once it has
// been seen waiting for the site, not after a sleep.
func TestPollRateQueueCancelExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &Manager{Dir: t.TempDir(), PollInterval: time.Hour, QueuedPerSite: 2, Expiry: 50 * time.Millisecond}
		defer m.Close()
		release := make(chan struct{})
		started := make(chan string, 4)
		block := func(name string) Func {
			return func(ctx context.Context, out *Output) error {
				started <- name
				select {
				case <-release:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		first, err := m.Start(Request{Owner: "a", SiteID: "s"}, block("first"), nil)
		if err != nil {
			t.Fatal(err)
		}
		// The first must hold the site before the second arrives: jobs
		// start on goroutines, in no guaranteed order.
		if got := <-started; got != "first" {
			t.Fatalf("%s started first", got)
		}
		second, err := m.Start(Request{Owner: "a", SiteID: "s"}, block("second"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Start(Request{Owner: "a", SiteID: "s"}, block("third"), nil); !errors.Is(err, ErrBusy) {
			t.Fatalf("third export at the site: %v, want ErrBusy", err)
		}
		if _, err := m.Start(Request{Owner: "a", SiteID: "other"}, func(context.Context, *Output) error { return nil }, nil); err != nil {
			t.Fatalf("another site is not limited: %v", err)
		}
		if _, err := m.Poll("a", first); err != nil {
			t.Fatal(err)
		}
		var pe *PollError
		if _, err := m.Poll("a", first); !errors.As(err, &pe) || pe.Wait <= 0 {
			t.Fatalf("second poll at once: %v, want a PollError", err)
		}
		// One runs per site: the second, its goroutine now blocked, waits
		// for the first to end.
		synctest.Wait()
		st, err := m.Poll("a", second)
		if err != nil || st.State != Queued || len(started) != 0 {
			t.Fatalf("second export while the first runs: %v %+v, %d more started", err, st, len(started))
		}
		// Cancelling the first lets the second run.
		if err := m.Delete("a", first); err != nil {
			t.Fatal(err)
		}
		if got := <-started; got != "second" {
			t.Fatalf("%s started after the first was cancelled", got)
		}
		close(release)
		m.PollInterval = 0
		synctest.Wait()
		if st, err := m.Poll("a", second); err != nil || st.State != Completed {
			t.Fatalf("second export: %v %+v", err, st)
		}
		// Past its expiry the sweeper removes it.
		time.Sleep(2 * m.Expiry)
		synctest.Wait()
		if _, err := m.Poll("a", second); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired export: %v, want ErrNotFound", err)
		}
	})
}

func TestCloseStopsJobs(t *testing.T) {
	m := &Manager{}
	started := make(chan struct{})
	if _, err := m.Start(Request{Owner: "a", SiteID: "s"}, func(ctx context.Context, out *Output) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}, nil); err != nil {
		t.Fatal(err)
	}
	<-started
	dir := m.Dir
	m.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("temporary directory left: %v", err)
	}
	if _, err := m.Start(Request{Owner: "a", SiteID: "s"}, nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("start after close: %v", err)
	}
}

func TestOrphansRemoved(t *testing.T) {
	dir := t.TempDir()
	orphan, keep := dir+"/0123456789abcdef0123456789abcdef", dir+"/keep"
	for _, d := range []string{orphan, keep} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	m := &Manager{Dir: dir}
	defer m.Close()
	if !m.Ready() {
		t.Fatal("not ready")
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Error("a previous process's job directory was left")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Error("a directory that is not a job's was removed")
	}
}
