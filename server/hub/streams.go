package hub

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

// streams is the http.RoundTripper of a session: it writes each request on a
// yamux stream and reads the answer in the caller's goroutine, keeping the
// streams of finished answers open for the next requests (HTTP/1.1
// keep-alive, as the agent's server expects).
//
// net/http's Transport did the same with two goroutines per stream, one
// writing the request and one reading the answer's header, each handing its
// work on over a channel: on a 1-row query those handoffs, and the
// allocations of the Transport's connection pool, were a large share of the
// hub's time. The hub needs none of what else the Transport offers (proxies,
// TLS, HTTP/2, dialling), only requests in order on a stream.
type streams struct {
	ys *yamux.Session

	mu   sync.Mutex
	idle []*stream // most recently used last
}

// stream is one yamux stream and its buffers.
type stream struct {
	conn      net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
}

// Limits on the streams kept open between requests (the Transport's
// MaxIdleConnsPerHost and IdleConnTimeout were the same): an idle stream
// costs a goroutine and its buffers at the agent.
const (
	maxIdleStreams = 16
	streamIdleTime = time.Minute
)

// RoundTrip sends req on an idle stream or a new one and returns the
// answer once its header is read. Cancelling req's context, or closing the
// body before its end, closes the stream, which cancels the request at the
// agent; a body read to its end gives the stream back for the next request.
func (t *streams) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	s, err := t.get()
	if err == nil && ctx.Err() != nil {
		t.put(s)
		err = ctx.Err()
	}
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	err = req.Write(s.bw)
	if err == nil {
		err = s.bw.Flush()
	}
	var resp *http.Response
	if err == nil {
		resp, err = http.ReadResponse(s.br, req)
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // the answer came before the close took effect
	}
	if err != nil {
		stop()
		s.conn.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	resp.Body = &streamBody{body: resp.Body, ctx: ctx, t: t, s: s, stop: stop, keep: !resp.Close}
	return resp, nil
}

// get returns the most recently used idle stream, or opens one.
func (t *streams) get() (*stream, error) {
	t.mu.Lock()
	if n := len(t.idle); n > 0 {
		s := t.idle[n-1]
		t.idle[n-1] = nil
		t.idle = t.idle[:n-1]
		t.mu.Unlock()
		return s, nil
	}
	t.mu.Unlock()
	conn, err := t.ys.Open()
	if err != nil {
		return nil, err
	}
	return &stream{conn: conn, br: bufio.NewReader(conn), bw: bufio.NewWriter(conn)}, nil
}

// put keeps s for the next request, unless enough streams are idle.
func (t *streams) put(s *stream) {
	s.idleSince = time.Now()
	t.mu.Lock()
	if len(t.idle) < maxIdleStreams && !t.ys.IsClosed() {
		t.idle = append(t.idle, s)
		s = nil
	}
	t.mu.Unlock()
	if s != nil {
		s.conn.Close()
	}
}

// closeIdle closes the streams idle for longer than d (0: all of them).
func (t *streams) closeIdle(d time.Duration) {
	t.mu.Lock()
	var old []*stream
	kept := t.idle[:0]
	for _, s := range t.idle {
		if time.Since(s.idleSince) >= d {
			old = append(old, s)
		} else {
			kept = append(kept, s)
		}
	}
	clear(t.idle[len(kept):])
	t.idle = kept
	t.mu.Unlock()
	for _, s := range old {
		s.conn.Close()
	}
}

// streamBody is an answer's body; closing it gives its stream back when the
// body was read to its end, or closes the stream.
type streamBody struct {
	body io.ReadCloser
	ctx  context.Context
	t    *streams
	s    *stream
	stop func() bool
	keep bool // the answer allows another request on the stream
	eof  bool
	done bool
}

func (b *streamBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, errors.New("hub: read on a closed answer body")
	}
	n, err := b.body.Read(p)
	if ctxErr := b.ctx.Err(); ctxErr != nil {
		// yamux closes a stream one way only: the agent may still end the
		// answer cleanly after the close, but the caller gave up on it.
		return n, ctxErr
	}
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *streamBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	// stop reports false once the context ended: the stream is being
	// closed, or is already.
	if b.stop() && b.eof && b.keep {
		b.t.put(b.s)
		return nil
	}
	return b.s.conn.Close()
}
