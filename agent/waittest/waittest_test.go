package waittest

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeT records a failure and stops its goroutine, as testing.T does.
type fakeT struct {
	testing.TB
	failed string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls For on a goroutine of its own, as the test runner would.
func run(timeout time.Duration, cond func() bool) (failed string, took time.Duration) {
	f := &fakeT{}
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		For(f, timeout, "the thing", cond)
	}()
	<-done
	return f.failed, time.Since(start)
}

func TestForReturnsOnceTrue(t *testing.T) {
	var n atomic.Int32
	go func() {
		for range 3 {
			n.Add(1)
		}
	}()
	calls := 0
	failed, _ := run(10*time.Second, func() bool { calls++; return n.Load() == 3 })
	if failed != "" {
		t.Fatalf("failed: %s", failed)
	}
	if calls == 0 {
		t.Fatal("the condition was never checked")
	}
	// Already true: checked once, no wait.
	calls = 0
	if failed, _ := run(time.Second, func() bool { calls++; return true }); failed != "" || calls != 1 {
		t.Fatalf("a true condition: failed %q, %d calls", failed, calls)
	}
}

func TestForFailsAtTheDeadline(t *testing.T) {
	calls := 0
	failed, took := run(50*time.Millisecond, func() bool { calls++; return false })
	if !strings.Contains(failed, "waited 50ms for the thing") {
		t.Fatalf("failure message %q", failed)
	}
	if took < 50*time.Millisecond || took > 5*time.Second {
		t.Fatalf("gave up after %s, want about 50ms", took)
	}
	if calls < 2 {
		t.Fatalf("the condition was checked %d times", calls)
	}
}
