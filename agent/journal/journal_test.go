package journal

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
)

func open(t *testing.T, path string) *Journal {
	t.Helper()
	j, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func state(t *testing.T, j *Journal, id string) wire.Execution {
	t.Helper()
	ex, err := j.Lookup(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// TestLifecycle follows ids through every outcome, and reopens the file as
// a restarted agent would.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dir with space", "executions.db")
	j := open(t, path)

	// Claimed but never started: nothing is kept, the id may run later.
	c, prior, err := j.Claim(ctx, "a")
	if err != nil || prior != nil {
		t.Fatal(prior, err)
	}
	if st := state(t, j, "a").State; st != wire.ExecutionRunning {
		t.Fatalf("claimed id reads %s", st)
	}
	c.Finish(wire.ExecutionNotStarted, nil, 0, wire.Errorf(wire.KindExpiredInQueue, "no slot"))
	if st := state(t, j, "a").State; st != wire.ExecutionNotStarted {
		t.Fatalf("released id reads %s", st)
	}

	// Committed: a repeat gets the first outcome.
	c, _, _ = j.Claim(ctx, "a")
	if err := c.Started(); err != nil {
		t.Fatal(err)
	}
	n := int64(3)
	if err := c.Finish(wire.ExecutionCommitted, &n, 12, nil); err != nil {
		t.Fatal(err)
	}
	c, prior, err = j.Claim(ctx, "a")
	if err != nil || c != nil || prior == nil || prior.State != wire.ExecutionCommitted || *prior.RowsAffected != 3 || prior.ExecutionMS != 12 {
		t.Fatalf("repeat of a committed id: %v %+v %v", c, prior, err)
	}

	// Failed: the kind, engine and code are kept, not the message.
	c, _, _ = j.Claim(ctx, "b")
	c.Started()
	c.Finish(wire.ExecutionFailed, nil, 1, &wire.Error{Kind: wire.KindDatabase, Engine: "postgres", Code: "23505", Message: "Key (name)=(Smith) already exists"})
	ex := state(t, j, "b")
	if ex.State != wire.ExecutionFailed || ex.Error == nil || ex.Error.Code != "23505" || ex.Error.Engine != "postgres" ||
		ex.Error.Message != "the write failed on its first run (postgres error 23505)" {
		t.Fatalf("failed id reads %+v %+v", ex, ex.Error)
	}

	// Started, and the process stops before the outcome: unknown after a
	// restart.
	c, _, _ = j.Claim(ctx, "c")
	c.Started()
	j.Close()
	j = open(t, path)
	for id, want := range map[string]wire.ExecutionState{"a": wire.ExecutionCommitted, "b": wire.ExecutionFailed,
		"c": wire.ExecutionUnknown, "d": wire.ExecutionNotStarted} {
		if got := state(t, j, id); got.State != want {
			t.Errorf("after reopening, %s reads %s, want %s", id, got.State, want)
		}
	}
	if _, prior, _ := j.Claim(ctx, "c"); prior == nil || prior.State != wire.ExecutionUnknown {
		t.Fatalf("repeat of an unknown id: %+v", prior)
	}
}

// TestClaimWaits: a repeat that overtakes the first run waits for its
// outcome instead of running too.
func TestClaimWaits(t *testing.T) {
	ctx := context.Background()
	j := open(t, "")
	first, _, _ := j.Claim(ctx, "x")
	first.Started()
	got := make(chan *wire.Execution, 1)
	go func() {
		c, prior, err := j.Claim(ctx, "x")
		if err != nil || c != nil {
			t.Errorf("second claim ran: %v %v", c, err)
		}
		got <- prior
	}()
	waittest.For(t, 10*time.Second, "the second claim to wait for the first", func() bool {
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.waiting == 1
	})
	select {
	case p := <-got:
		t.Fatalf("second claim did not wait: %+v", p)
	default:
	}
	n := int64(1)
	first.Finish(wire.ExecutionCommitted, &n, 0, nil)
	select {
	case p := <-got:
		if p == nil || p.State != wire.ExecutionCommitted {
			t.Fatalf("second claim got %+v", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second claim still waiting")
	}
	// A waiter whose caller goes away stops waiting.
	c, _, _ := j.Claim(ctx, "y")
	defer c.Release()
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, _, err := j.Claim(cctx, "y"); err == nil {
		t.Fatal("claim of a held id returned without waiting")
	}
}
