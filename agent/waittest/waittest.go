// Package waittest waits in tests for something another goroutine or process
// makes true, with a bounded deadline, instead of sleeping and hoping.
//
// It imports nothing of fhirlink, so a test of any package can use it. It
// sits beside the other test helpers of the agent (pgtest, fbtest,
// tdstest), which the server's, the mappings' and the binary's tests already
// import: the top level of the repository has no room for a folder of its
// own, and a helper under server/ would make the agent's tests import the
// server's tree.
package waittest

import (
	"testing"
	"time"
)

// Poll is how often For checks its condition: short enough that a test
// waits at most this much longer than it must, long enough that a condition
// which queries a database does not load it.
const Poll = 10 * time.Millisecond

// For calls cond until it reports true and fails the test if it has not
// within timeout, saying what it waited for: "the query to start running".
// cond runs on the calling goroutine, so it may call t.Fatal itself; For
// must be called from the test's goroutine, as t.FailNow must.
//
// Use it when the event leaves no channel to wait on: a row appearing in a
// database, a process's file, a count another goroutine raises. A test that
// asserts something does not happen should first wait, with For, for the
// step before it to be seen to happen.
func For(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; it did not happen", timeout, what)
		}
		time.Sleep(Poll)
	}
}
