package quota_test

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fhirlink/agent/pgtest"
	"fhirlink/server/postgres"
	"fhirlink/server/quota"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// countingStore counts the round trips to the shared buckets.
type countingStore struct {
	quota.TokenStore
	takes atomic.Int64
}

func (c *countingStore) TakeRateTokens(ctx context.Context, key string, rate, burst float64, n int, now time.Time) (int, float64, error) {
	c.takes.Add(1)
	return c.TokenStore.TakeRateTokens(ctx, key, rate, burst, n, now)
}

// Three nodes, each with its own limiter over one PostgreSQL, hammered at
// once by one integrator for a few seconds: together they admit the burst
// plus the rate over the time, within 10%, as one node would, and the
// store sees a round trip per batch, not per request.
func TestSharedRateLimitAcrossThreeNodes(t *testing.T) {
	st, err := postgres.Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const rate, burst, nodes = 50.0, 50, 3
	store := &countingStore{TokenStore: st}
	var admitted, refused atomic.Int64
	start := time.Now()
	stop := start.Add(4 * time.Second)
	var wg sync.WaitGroup
	for range nodes {
		l := quota.NewSharedRateLimiter(quota.Limits{RatePerSecond: rate, RateBurst: burst}, store, nil)
		for range 4 { // concurrent requests at each node
			wg.Go(func() {
				for time.Now().Before(stop) {
					if _, err := l.Allow("integrator-1", time.Now()); err == nil {
						admitted.Add(1)
					} else {
						refused.Add(1)
					}
					time.Sleep(time.Millisecond)
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	want := burst + rate*elapsed
	got := float64(admitted.Load())
	t.Logf("%d nodes over %.2f s: admitted %.0f (limit %.0f, %+.1f%%), refused %d, %d store round trips",
		nodes, elapsed, got, want, 100*(got-want)/want, refused.Load(), store.takes.Load())
	if got > want*1.1 || got < want*0.9 {
		t.Fatalf("admitted %.0f, want %.0f within 10%%", got, want)
	}
	if refused.Load() == 0 {
		t.Fatal("nothing was refused: the load did not reach the limit")
	}
	if takes := store.takes.Load(); takes > admitted.Load() {
		t.Fatalf("%d store round trips for %d admitted requests: not batched", takes, admitted.Load())
	}
}
