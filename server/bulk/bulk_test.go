package bulk

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func wait(t *testing.T, m *Manager, owner, id string) *Status {
	t.Helper()
	for range 500 {
		st, err := m.Poll(owner, id)
		var pe *PollError
		switch {
		case errors.As(err, &pe):
		case err != nil:
			t.Fatal(err)
		case st.State == Completed || st.State == Failed:
			return st
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("job did not end")
	return nil
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

func TestPollRateQueueCancelExpiry(t *testing.T) {
	m := &Manager{Dir: t.TempDir(), PollInterval: time.Hour, QueuedPerSite: 2, Expiry: 50 * time.Millisecond}
	defer m.Close()
	release := make(chan struct{})
	started := make(chan struct{}, 4)
	block := func(ctx context.Context, out *Output) error {
		started <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	first, err := m.Start(Request{Owner: "a", SiteID: "s"}, block, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The first must hold the site before the second arrives: jobs start on
	// goroutines, in no guaranteed order.
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the first export never started")
	}
	second, err := m.Start(Request{Owner: "a", SiteID: "s"}, block, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start(Request{Owner: "a", SiteID: "s"}, block, nil); !errors.Is(err, ErrBusy) {
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
	// One runs per site: the second is queued while the first runs.
	time.Sleep(20 * time.Millisecond)
	st, err := m.Poll("a", second)
	if err != nil || st.State != Queued {
		t.Fatalf("second export: %v %+v", err, st)
	}
	// Cancelling the first lets the second run.
	if err := m.Delete("a", first); err != nil {
		t.Fatal(err)
	}
	close(release)
	m.PollInterval = 0
	for range 200 {
		m.mu.Lock()
		j := m.jobs[second]
		m.mu.Unlock()
		if j == nil {
			break // expired and swept
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := m.Poll("a", second); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired export: %v, want ErrNotFound", err)
	}
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
