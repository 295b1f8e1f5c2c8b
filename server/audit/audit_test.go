package audit

import (
	"context"
	"sync"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/server"
)

// fakeStore keeps what it is given; while gate is open (not nil) writes
// wait for it to close.
type fakeStore struct {
	mu    sync.Mutex
	gate  chan struct{}
	recs  []*server.AuditRecord
	usage []server.Usage
	// appends counts the AppendAudit calls: the store writes.
	appends int
}

func (f *fakeStore) AppendAudit(_ context.Context, recs []*server.AuditRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.appends++
	f.recs = append(f.recs, recs...)
	return nil
}

func (f *fakeStore) AddUsage(_ context.Context, u []server.Usage) error {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.usage = append(f.usage, u...)
	return nil
}

// Records reach the store in order, and usage counts of one key are merged
// into one delta.
func TestWriterAppendsAndMerges(t *testing.T) {
	st := &fakeStore{gate: make(chan struct{})}
	w := &Writer{Store: st}
	u := func(q, b int64) *server.Usage {
		return &server.Usage{IntegratorID: "i", SiteID: "s", Day: "2026-03-01", Queries: q, Bytes: b}
	}
	// The first Add starts the writer, which waits at the gate with the
	// first usage; the rest queue behind it and are merged.
	w.Add(&server.AuditRecord{Path: "/1"}, u(1, 10))
	for i := range 3 {
		w.Add(&server.AuditRecord{Path: "/" + string(rune('2'+i))}, u(1, 5))
	}
	close(st.gate)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.recs) != 4 || st.recs[0].Path != "/1" || st.recs[3].Path != "/4" {
		t.Fatalf("records %v", st.recs)
	}
	var q, b int64
	for _, d := range st.usage {
		q, b = q+d.Queries, b+d.Bytes
	}
	if q != 4 || b != 25 || len(st.usage) > 2 {
		t.Fatalf("usage %+v: want 4 queries and 25 bytes in at most 2 deltas", st.usage)
	}
}

// A store that cannot keep up loses records beyond QueueMax instead of
// holding up the requests.
func TestWriterDropsBeyondQueueMax(t *testing.T) {
	st := &fakeStore{gate: make(chan struct{})}
	w := &Writer{Store: st}
	w.Add(&server.AuditRecord{}, &server.Usage{}) // the writer takes it and waits at the gate
	waitRunning := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		taken := len(w.recs) == 0
		w.mu.Unlock()
		if taken {
			break
		}
		if time.Now().After(waitRunning) {
			t.Fatal("the writer never took the first record")
		}
		time.Sleep(time.Millisecond)
	}
	for range QueueMax + 10 {
		w.Add(&server.AuditRecord{}, nil)
	}
	w.mu.Lock()
	queued, dropped := len(w.recs), w.dropped
	w.mu.Unlock()
	if queued != QueueMax || dropped != 10 {
		t.Fatalf("%d queued, %d dropped; want %d and 10", queued, dropped, QueueMax)
	}
	close(st.gate)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(st.recs); n != QueueMax+1 {
		t.Fatalf("%d records stored, want %d", n, QueueMax+1)
	}
}

// Records of requests one after another, each shorter than Linger, share
// one store write rather than each paying its own, and arrive without a
// Flush.
func TestWriterLingersForABatch(t *testing.T) {
	st := &fakeStore{}
	w := &Writer{Store: st}
	for i := range 5 {
		w.Add(&server.AuditRecord{Path: "/" + string(rune('1'+i))}, nil)
		time.Sleep(2 * time.Millisecond) // the time of a request, not a wait
	}
	waittest.For(t, 5*time.Second, "the records in the store", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return len(st.recs) == 5
	})
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.appends != 1 {
		t.Fatalf("%d store writes for 5 records 10 ms apart; want 1", st.appends)
	}
}
