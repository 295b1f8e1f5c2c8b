// Package audit writes the audit log off the requests' path: a bounded
// in-memory queue of records and usage counts, and one writer goroutine
// appending them to the state store in batches.
//
// A request hands its record to [Writer.Add] (a few hundred nanoseconds);
// the writer, started when the queue gets work and ending when it is empty,
// appends records and usage (bytes, and queries not counted up front) in
// one round trip per batch. It first waits [Linger] for more records to
// join the batch ([Writer.Flush] and a full batch cut the wait short), so
// that requests one after another share a store write instead of each
// paying its own commit. The queue is bounded ([QueueMax]): when the
// store cannot keep up, records beyond it are dropped and the loss is
// logged, rather than slowing or failing requests. A failed write is logged
// with the number of records lost.
package audit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"fhirlink/server"
	"fhirlink/server/metrics"
)

const (
	// QueueMax is the most records waiting for the store; more are dropped.
	QueueMax = 20000
	// BatchMax is the most records one store write appends.
	BatchMax = 500
	// Linger is how long the writer waits, once work arrives, for more to
	// join the first batch. A usage count (the bytes a request returned)
	// reaches the store that much later, so a byte quota may be crossed by
	// the requests of that interval.
	Linger = 200 * time.Millisecond
)

// Store is what the writer needs of the state store.
type Store interface {
	AppendAudit(ctx context.Context, recs []*server.AuditRecord) error
	AddUsage(ctx context.Context, deltas []server.Usage) error
}

// Writer is the queue of audit records and usage, and its one writer
// goroutine, alive only while there is work. Set Store; the zero Logger
// discards.
type Writer struct {
	Store  Store
	Logger *slog.Logger
	// Metrics counts the records dropped; nil counts none.
	Metrics *metrics.Metrics

	mu      sync.Mutex
	recs    []*server.AuditRecord
	usage   map[usageKey]*server.Usage
	running bool
	done    chan struct{} // closed when the running writer ends
	wake    chan struct{} // cuts the running writer's wait short
	dropped int64
}

type usageKey struct{ integratorID, siteID, day string }

// Add queues a record and, when not nil, a usage count to add to the
// day's counters. It never blocks on the store.
func (w *Writer) Add(rec *server.AuditRecord, u *server.Usage) {
	w.mu.Lock()
	if u != nil {
		// Usage is merged per key, so it stays bounded without dropping.
		if w.usage == nil {
			w.usage = map[usageKey]*server.Usage{}
		}
		k := usageKey{u.IntegratorID, u.SiteID, u.Day}
		if prev := w.usage[k]; prev != nil {
			prev.Queries += u.Queries
			prev.Bytes += u.Bytes
		} else {
			w.usage[k] = u
		}
	}
	drop := len(w.recs) >= QueueMax
	if drop {
		w.dropped++
	} else {
		w.recs = append(w.recs, rec)
	}
	if !w.running {
		w.running, w.done, w.wake = true, make(chan struct{}), make(chan struct{}, 1)
		go w.run(w.wake)
	} else if len(w.recs) >= BatchMax {
		w.nudge()
	}
	dropped := w.dropped
	w.mu.Unlock()
	if drop {
		w.Metrics.AuditDropped()
	}
	if drop && (dropped == 1 || dropped%1000 == 0) {
		w.log().Error("audit queue full: records dropped", "dropped", dropped, "path", rec.Path)
	}
}

func (w *Writer) log() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

// nudge wakes the running writer from its wait; w.mu is held.
func (w *Writer) nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Writer) run(wake <-chan struct{}) {
	t := time.NewTimer(Linger)
	select {
	case <-t.C:
	case <-wake:
		t.Stop()
	}
	for range 1 << 30 { // bounded; in practice it ends when the queue empties
		w.mu.Lock()
		if len(w.recs) == 0 && len(w.usage) == 0 {
			w.running = false
			close(w.done)
			w.mu.Unlock()
			return
		}
		n := min(len(w.recs), BatchMax)
		recs := make([]*server.AuditRecord, n)
		copy(recs, w.recs)
		w.recs = append(w.recs[:0], w.recs[n:]...)
		var usage []server.Usage
		for _, u := range w.usage {
			usage = append(usage, *u)
		}
		w.usage = nil
		w.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := w.Store.AddUsage(ctx, usage); err != nil {
			w.log().Error("usage not recorded", "entries", len(usage), "err", err)
		}
		if err := w.Store.AppendAudit(ctx, recs); err != nil {
			w.log().Error("audit records lost: the store refused them", "records", len(recs), "err", err)
		}
		cancel()
	}
}

// Flush waits until every queued record and usage count is in the store,
// or ctx is done.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	running, done := w.running, w.done
	if running {
		w.nudge()
	}
	w.mu.Unlock()
	if !running {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
