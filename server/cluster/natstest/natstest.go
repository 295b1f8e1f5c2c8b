// Package natstest starts a NATS server on 127.0.0.1 for tests of several
// server nodes, embedded in the test process (no NATS installation needed).
package natstest

import (
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// URL starts a NATS server on a free port of 127.0.0.1 and returns its
// client URL; the server stops when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		t.Fatal("natstest: NATS server not ready within 10 s")
	}
	t.Cleanup(ns.Shutdown)
	return ns.ClientURL()
}
