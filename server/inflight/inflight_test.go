package inflight

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"fhirlink/server"
)

// access answers Access from a map, unset pairs being allowed.
type access struct {
	mu     sync.Mutex
	denied map[string]server.Access
}

func (a *access) Access(_ context.Context, integratorID, siteID string) (server.Access, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if acc, ok := a.denied[integratorID+" "+siteID]; ok {
		return acc, nil
	}
	return server.Access{Paired: true}, nil
}

func cause(t *testing.T, ctx context.Context) *server.Error {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("not cancelled within 5 s")
	}
	e, ok := errors.AsType[*server.Error](context.Cause(ctx))
	if !ok || e.Code != server.EFORBIDDEN {
		t.Fatalf("cause %v, want a forbidden error", context.Cause(ctx))
	}
	return e
}

// Cancel reaches the pair's work at one site, or at every site, and no
// other integrator's.
func TestCancel(t *testing.T) {
	var r Registry
	a1, done1 := r.Add(context.Background(), "i", "s1")
	defer done1()
	a2, done2 := r.Add(context.Background(), "i", "s2")
	defer done2()
	other, done3 := r.Add(context.Background(), "j", "s1")
	defer done3()

	if n := r.Cancel("i", "s1", server.Errorf(server.EFORBIDDEN, "revoked")); n != 1 {
		t.Fatalf("cancelled %d, want 1", n)
	}
	if e := cause(t, a1); e.Message != "revoked" {
		t.Fatalf("cause %q", e.Message)
	}
	if a2.Err() != nil || other.Err() != nil {
		t.Fatal("cancelled work of another site or integrator")
	}
	if n := r.Cancel("i", "", nil); n != 2 { // a1 is still registered
		t.Fatalf("cancelled %d at every site, want 2", n)
	}
	cause(t, a2)
	if other.Err() != nil {
		t.Fatal("cancelled another integrator's work")
	}
}

// The sweep cancels the pairs the store no longer allows, with the
// store's reason, and leaves the others running.
func TestSweepCancelsDeniedPairs(t *testing.T) {
	st := &access{denied: map[string]server.Access{}}
	r := &Registry{Store: st, Every: 10 * time.Millisecond}
	kept, doneKept := r.Add(context.Background(), "i", "s2")
	defer doneKept()
	gone, doneGone := r.Add(context.Background(), "i", "s1")
	defer doneGone()
	st.mu.Lock()
	st.denied["i s1"] = server.Access{Paired: true, Quarantined: true}
	st.mu.Unlock()
	if e := cause(t, gone); e.Message != (server.Access{Paired: true, Quarantined: true}).Denial("s1").(*server.Error).Message {
		t.Fatalf("cause %q", e.Message)
	}
	if kept.Err() != nil {
		t.Fatal("the sweep cancelled an allowed pair")
	}
}

// The sweep comes back while something is in flight, and stops at the
// first interval that finds nothing.
func TestSweeperStopsWhenIdle(t *testing.T) {
	r := &Registry{Store: &access{}, Every: 10 * time.Millisecond}
	armed := func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.sweep != nil
	}
	_, done := r.Add(context.Background(), "i", "s")
	time.Sleep(30 * time.Millisecond) // a few sweeps
	if !armed() {
		t.Fatal("no sweep armed while in flight")
	}
	done()
	for deadline := time.Now().Add(5 * time.Second); armed(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sweep is still armed with nothing in flight")
		}
	}
	_, done = r.Add(context.Background(), "i", "s")
	defer done()
	if !armed() {
		t.Fatal("no sweep armed again once something is in flight")
	}
}
