package guard

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
)

// acquireAsync starts an Acquire in a goroutine and reports its order of
// arrival on got when it is granted.
func acquireAsync(t *testing.T, s *Scheduler, p wire.Priority, name string, got chan<- string, wg *sync.WaitGroup) {
	t.Helper()
	wg.Add(1)
	go func() {
		defer wg.Done()
		release, err := s.Acquire(context.Background(), p, 5*time.Second)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		got <- name
		release()
	}()
}

// waitQueued waits (bounded) until n queries are queued.
func waitQueued(t *testing.T, s *Scheduler, n int) {
	t.Helper()
	waittest.For(t, 5*time.Second, fmt.Sprintf("%d queries queued", n), func() bool { _, q := s.Stats(); return q == n })
}

func TestPriorityThenFIFO(t *testing.T) {
	s := New(1)
	hold, err := s.Acquire(context.Background(), wire.PriorityInteractive, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 5)
	var wg sync.WaitGroup
	// Queue in this order; they must be served interactive first, then async
	// in arrival order, then bulk.
	for i, w := range []struct {
		p    wire.Priority
		name string
	}{
		{wire.PriorityBulk, "bulk1"},
		{wire.PriorityAsync, "async1"},
		{wire.PriorityInteractive, "int1"},
		{wire.PriorityAsync, "async2"},
		{wire.PriorityInteractive, "int2"},
	} {
		acquireAsync(t, s, w.p, w.name, got, &wg)
		waitQueued(t, s, i+1)
	}
	hold()
	wg.Wait()
	close(got)
	var order []string
	for n := range got {
		order = append(order, n)
	}
	want := []string{"int1", "int2", "async1", "async2", "bulk1"}
	if len(order) != len(want) {
		t.Fatalf("order = %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order = %v, want %v", order, want)
		}
	}
}

func TestAsyncNeverTakesLastSlot(t *testing.T) {
	s := New(2)
	a1, err := s.Acquire(context.Background(), wire.PriorityAsync, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer a1()
	// A second async query must wait although a slot is free ...
	if _, err := s.Acquire(context.Background(), wire.PriorityAsync, 20*time.Millisecond); !errors.Is(err, ErrExpired) {
		t.Fatalf("second async: err = %v, want ErrExpired", err)
	}
	// ... which an interactive query gets at once.
	i1, err := s.Acquire(context.Background(), wire.PriorityInteractive, 0)
	if err != nil {
		t.Fatalf("interactive: %v", err)
	}
	i1()
}

func TestExpiryAndCancelLeaveNoTrace(t *testing.T) {
	s := New(1)
	hold, _ := s.Acquire(context.Background(), wire.PriorityInteractive, 0)
	start := time.Now()
	if _, err := s.Acquire(context.Background(), wire.PriorityInteractive, 30*time.Millisecond); !errors.Is(err, ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Fatal("expired before maxWait")
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.Acquire(ctx, wire.PriorityInteractive, time.Minute)
		errc <- err
	}()
	waitQueued(t, s, 1) // the cancel reaches a query that waits
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if r, q := s.Stats(); r != 1 || q != 0 {
		t.Fatalf("running, queued = %d, %d; want 1, 0", r, q)
	}
	hold()
	if r, _ := s.Stats(); r != 0 {
		t.Fatalf("running = %d after release", r)
	}
}

func TestConcurrencyBoundUnderLoad(t *testing.T) {
	s := New(3)
	var mu sync.Mutex
	active, peak := 0, 0
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := classes[i%len(classes)]
			release, err := s.Acquire(context.Background(), p, 10*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			active++
			peak = max(peak, active)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			active--
			mu.Unlock()
			release()
			release() // a second call must not free a second slot
		}()
	}
	wg.Wait()
	if peak > 3 {
		t.Fatalf("peak concurrency %d > 3", peak)
	}
	if r, q := s.Stats(); r != 0 || q != 0 {
		t.Fatalf("running, queued = %d, %d after all released", r, q)
	}
}
