package bulk

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"fhirlink/agent/pgtest"
	"fhirlink/agent/waittest"
	"fhirlink/server/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Two nodes over one PostgreSQL store, sharing the poll interval's buckets:
// a poll of a running job through one node counts at the other, so that a
// client alternating between them (a round-robin balancer) is held to one
// poll an interval, not one per node.
func TestPollIntervalSharedAcrossNodes(t *testing.T) {
	ctx := context.Background()
	store, err := postgres.Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const interval = 2 * time.Second
	release := make(chan struct{})
	defer close(release)
	run := func(ctx context.Context, req Request, out *Output) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	a := &Manager{Store: store, Node: "a", PollInterval: interval, PollTokens: store, Run: run}
	defer a.Close()
	b := &Manager{Store: store, Node: "b", PollInterval: interval, PollTokens: store, Run: run}
	defer b.Close()
	id, err := a.Start(ctx, Request{Owner: "o", SiteID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Poll(ctx, "o", id); err != nil {
		t.Fatalf("first poll, at node a: %v", err)
	}
	began := time.Now()
	_, err = b.Poll(ctx, "o", id)
	var pe *PollError
	if !errors.As(err, &pe) {
		t.Fatalf("second poll at once, at node b: %v, want polled too soon", err)
	}
	if pe.Wait <= 0 || pe.Wait > interval {
		t.Fatalf("second poll told to wait %v, want up to %v", pe.Wait, interval)
	}
	// Once the interval is over, either node answers; and only one of two
	// polls at once does.
	waittest.For(t, 3*interval, "a poll at node b answered after the interval", func() bool {
		_, err := b.Poll(ctx, "o", id)
		return err == nil
	})
	if time.Since(began) < pe.Wait-100*time.Millisecond {
		t.Fatalf("node b answered %v after being told to wait %v", time.Since(began), pe.Wait)
	}
	if _, err := a.Poll(ctx, "o", id); !errors.As(err, &pe) {
		t.Fatalf("poll at node a right after node b answered one: %v, want polled too soon", err)
	}
}
