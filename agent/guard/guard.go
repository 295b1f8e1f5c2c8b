// Package guard decides when a query may run on the practice database.
//
// A practice server is a small machine that also runs the practice. The
// scheduler bounds how many queries run at once, serves the interactive class
// (immediate passthrough queries, FHIR searches) before async and bulk work,
// keeps FIFO order within a class, and never lets async or bulk work take the
// last free slot, so an interactive query never waits behind a long export.
package guard

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"

	"fhirlink/agent/wire"
)

// ErrExpired is returned by [Scheduler.Acquire] when no slot became free
// within the query's maxTimeInQueue.
var ErrExpired = errors.New("expired in queue")

// classes in the order they are served.
var classes = [...]wire.Priority{wire.PriorityInteractive, wire.PriorityAsync, wire.PriorityBulk}

func classIndex(p wire.Priority) int {
	for i, c := range classes {
		if c == p {
			return i
		}
	}
	return 0 // unknown or empty priorities are interactive: the caller validated it
}

// Scheduler hands out execution slots. The zero value is not usable; call
// [New].
type Scheduler struct {
	mu      sync.Mutex
	limit   int
	running int
	queues  [len(classes)]list.List // of *waiter
}

type waiter struct {
	ready   chan struct{} // closed when the slot is granted
	granted bool
}

// New returns a scheduler running at most concurrency queries at once
// (at least 1).
func New(concurrency int) *Scheduler {
	s := &Scheduler{}
	s.SetConcurrency(concurrency)
	return s
}

// SetConcurrency changes the number of slots; queued queries start at once if
// it grew. Running queries are never interrupted when it shrinks.
func (s *Scheduler) SetConcurrency(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = max(n, 1)
	s.dispatch()
}

// Stats reports the running and queued counts.
func (s *Scheduler) Stats() (running, queued int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.queues {
		queued += s.queues[i].Len()
	}
	return s.running, queued
}

// Acquire waits until a query of class p may run and returns the function
// that gives its slot back (call it exactly once). It fails with
// [ErrExpired] after maxWait (0: unless a slot is free now), or with the
// context's error.
func (s *Scheduler) Acquire(ctx context.Context, p wire.Priority, maxWait time.Duration) (release func(), err error) {
	ci := classIndex(p)
	s.mu.Lock()
	if s.running < s.classLimit(ci) && s.queuedUpTo(ci) == 0 {
		// What dispatch would grant a new waiter at once, without the
		// waiter: nobody of this class or a higher one waits.
		s.running++
		s.mu.Unlock()
		return s.releaser(), nil
	}
	w := &waiter{ready: make(chan struct{})}
	e := s.queues[ci].PushBack(w)
	s.dispatch()
	if w.granted {
		s.mu.Unlock()
		return s.releaser(), nil
	}
	s.mu.Unlock()

	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	select {
	case <-w.ready:
		return s.releaser(), nil
	case <-timer.C:
		err = ErrExpired
	case <-ctx.Done():
		err = ctx.Err()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if w.granted { // granted while we were giving up: hand the slot back
		s.running--
		s.dispatch()
	} else {
		s.queues[ci].Remove(e)
	}
	return nil, err
}

func (s *Scheduler) releaser() func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.running--
			s.dispatch()
		})
	}
}

// queuedUpTo is the number of queries waiting in class ci and the classes
// served before it. Call with mu held.
func (s *Scheduler) queuedUpTo(ci int) (n int) {
	for i := 0; i <= ci; i++ {
		n += s.queues[i].Len()
	}
	return n
}

// classLimit is how many slots may be busy for a query of class ci to start:
// all of them for interactive work, all but one for the rest.
func (s *Scheduler) classLimit(ci int) int {
	if ci == 0 || s.limit == 1 {
		return s.limit
	}
	return s.limit - 1
}

// dispatch grants slots to the head of the highest non-empty class while it
// may run. A waiting higher class blocks lower ones, so FIFO and priority
// hold even when a lower class could fit. Call with mu held.
func (s *Scheduler) dispatch() {
	for ci := range s.queues {
		q := &s.queues[ci]
		for q.Len() > 0 && s.running < s.classLimit(ci) {
			w := q.Remove(q.Front()).(*waiter)
			w.granted = true
			s.running++
			close(w.ready)
		}
		if q.Len() > 0 {
			return
		}
	}
}
