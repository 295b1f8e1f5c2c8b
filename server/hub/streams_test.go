package hub

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/yamux"

	"fhirlink/agent/wire"
)

// streamsPair runs handler as an agent would, on the server end of a yamux
// session, and returns the hub's client end and the count of streams the
// agent accepted.
func streamsPair(t *testing.T, handler http.HandlerFunc) (*http.Client, *streams, *atomic.Int32) {
	t.Helper()
	a, b := net.Pipe()
	agent, err := yamux.Server(a, wire.YamuxConfig(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	hub, err := yamux.Client(b, wire.YamuxConfig(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	srv := &http.Server{Handler: handler, ConnState: func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			accepted.Add(1)
		}
	}}
	go srv.Serve(agent)
	t.Cleanup(func() { hub.Close(); agent.Close(); srv.Close() })
	s := &streams{ys: hub}
	return &http.Client{Transport: s}, s, &accepted
}

func TestStreamsKeepAStreamReadToItsEnd(t *testing.T) {
	c, s, accepted := streamsPair(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Write([]byte("got " + string(body)))
		w.(http.Flusher).Flush() // chunked, as the agent's answers are
	})
	for _, msg := range []string{"one", "two", "three"} {
		req, _ := http.NewRequest(http.MethodPost, "http://agent/x", strings.NewReader(msg))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(got) != "got "+msg {
			t.Fatalf("%q, %v", got, err)
		}
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("%d streams for three requests in a row, want 1", n)
	}
	s.closeIdle(0)
	if len(s.idle) != 0 {
		t.Errorf("%d streams idle after closeIdle(0)", len(s.idle))
	}
}

func TestStreamsCancelAtTheAgent(t *testing.T) {
	ended := make(chan error, 2)
	c, _, accepted := streamsPair(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first part"))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // a query running until the caller goes away
		ended <- r.Context().Err()
	})
	// Closing the body before its end.
	resp, err := c.Get("http://agent/x")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	io.ReadFull(resp.Body, buf)
	resp.Body.Close()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("closing the body early did not cancel the request at the agent")
	}
	// Cancelling the context while the body is read.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://agent/x", nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if got, err := io.ReadAll(resp.Body); err == nil {
		t.Errorf("reading a cancelled answer succeeded: %q %v", got, resp.TransferEncoding)
	}
	resp.Body.Close()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the context did not cancel the request at the agent")
	}
	if n := accepted.Load(); n != 2 {
		t.Errorf("%d streams, want 2: a stream not read to its end is not kept", n)
	}
	// A context already done fails at once with its error.
	_, err = c.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("done context: %v", err)
	}
}
