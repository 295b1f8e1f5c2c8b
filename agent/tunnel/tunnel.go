// Package tunnel is the agent's side of the tunnel: it dials the server over
// an outbound WebSocket, runs a yamux session on it and serves the agent's
// HTTP API to the server on that session, reconnecting with jittered
// exponential backoff whenever the connection is lost.
//
// Nothing listens at the practice: the only connection is the outbound one,
// on the port and through the proxy an ordinary HTTPS client would use.
package tunnel

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/hashicorp/yamux"

	"fhirlink/agent/wire"
)

// Client keeps an agent connected to its server. Set the exported fields,
// then call [Client.Run].
type Client struct {
	// ServerURL is the server's base URL (https://... in production; http://
	// is accepted for loopback development).
	ServerURL string
	// SiteID and Secret are the site credential the server issued.
	SiteID, Secret string
	// Handler serves the server's requests: the agent's API.
	Handler http.Handler
	// HTTPClient dials the WebSocket; nil means one that honours
	// HTTPS_PROXY and friends.
	HTTPClient *http.Client
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger

	// MinBackoff and MaxBackoff bound the reconnect delay (default 1 s and
	// 60 s). A connection that lived longer than MaxBackoff resets it.
	MinBackoff, MaxBackoff time.Duration
	// KeepAlive is the interval of transport heartbeats (default 5 s); a
	// connection silent for twice that is dropped and redialled.
	KeepAlive time.Duration

	// DrainTimeout is how long, once ctx is done, the requests being served
	// may take to complete before the session closes and cancels them (0:
	// close at once). OnDrain, if set, is called when draining starts, so
	// the handler can refuse new work.
	DrainTimeout time.Duration
	OnDrain      func()

	// OnConnect, if set, is called each time a session is established.
	OnConnect func()
}

// ErrUnauthorized is returned by [Client.Run] when the server refuses the
// site credential: retrying cannot help until the configuration changes.
var ErrUnauthorized = errors.New("tunnel: the server refused the site credential")

// Run connects and serves until ctx is done, then closes the session and
// returns nil; it returns early only with [ErrUnauthorized] or a
// configuration error.
func (c *Client) Run(ctx context.Context) error {
	wsURL, err := connectURL(c.ServerURL)
	if err != nil {
		return err
	}
	minB, maxB := orDefault(c.MinBackoff, time.Second), orDefault(c.MaxBackoff, time.Minute)
	backoff := minB
	for ctx.Err() == nil {
		started := time.Now()
		err := c.session(ctx, wsURL)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrUnauthorized) {
			return err
		}
		if time.Since(started) > maxB {
			backoff = minB
		}
		// Full jitter: a fleet of agents that lost the server at once does
		// not come back in lockstep.
		delay := time.Duration(rand.Int64N(int64(backoff))) + minB/2
		c.log().Warn("tunnel down, reconnecting", "err", err, "in", delay.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		backoff = min(backoff*2, maxB)
	}
	return nil
}

// session dials once and serves until the session ends.
func (c *Client) session(ctx context.Context, wsURL string) error {
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}
	}
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.SiteID+":"+c.Secret)))
	h.Set("Fhirlink-Protocol", wire.Version)
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	ws, resp, err := websocket.Dial(dialCtx, wsURL, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: h})
	cancel()
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			return ErrUnauthorized
		}
		return fmt.Errorf("dial %s: %w", wsURL, err)
	}
	// The NetConn's context outlives the dial: it is the session's lifetime,
	// which outlives ctx by the drain (the session is closed explicitly).
	sessCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	conn := websocket.NetConn(sessCtx, ws, websocket.MessageBinary)
	sess, err := yamux.Server(wire.FrameConn(conn), wire.YamuxConfig(orDefault(c.KeepAlive, 5*time.Second)))
	if err != nil {
		conn.Close()
		return err
	}
	c.log().Info("tunnel up", "server", c.ServerURL)
	if c.OnConnect != nil {
		c.OnConnect()
	}
	act := &activity{state: map[net.Conn]http.ConnState{}}
	srv := &http.Server{
		Handler:           c.Handler,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(c.log().Handler(), slog.LevelDebug),
		ConnState:         act.track,
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			// Shutting down: requests being served get DrainTimeout to
			// complete (their responses written to the stream), then
			// closing the session cancels the rest, whose contexts end with
			// their streams.
			if c.DrainTimeout > 0 {
				if c.OnDrain != nil {
					c.OnDrain()
				}
				if !act.waitIdle(c.DrainTimeout, done) {
					c.log().Warn("cancelling the requests still running", "after", c.DrainTimeout)
				}
			}
			sess.Close()
		case <-done:
		}
	}()
	err = srv.Serve(sess)
	close(done)
	sess.Close()
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, yamux.ErrSessionShutdown) {
		err = errors.New("session closed")
	}
	return err
}

// activity counts the streams on which a request is being served (an
// HTTP connection is active from its first byte until its response is
// written).
type activity struct {
	mu     sync.Mutex
	state  map[net.Conn]http.ConnState
	active int
}

func (a *activity) track(c net.Conn, st http.ConnState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	was := a.state[c]
	if was == http.StateActive {
		a.active--
	}
	if st == http.StateActive {
		a.active++
	}
	if st == http.StateClosed || st == http.StateHijacked {
		delete(a.state, c)
	} else {
		a.state[c] = st
	}
}

// waitIdle waits until no request is being served, for at most d or until
// stop is closed; it reports whether that happened.
func (a *activity) waitIdle(d time.Duration, stop <-chan struct{}) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		a.mu.Lock()
		n := a.active
		a.mu.Unlock()
		if n == 0 {
			return true
		}
		select {
		case <-deadline.C:
			return false
		case <-stop:
			return true
		case <-tick.C:
		}
	}
}

func connectURL(base string) (string, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("tunnel: server URL %q is not an absolute URL", base)
	}
	switch u.Scheme {
	case "https", "wss":
		u.Scheme = "wss"
	case "http", "ws":
		u.Scheme = "ws"
	default:
		return "", fmt.Errorf("tunnel: server URL %q must be https:// (or http:// for development)", base)
	}
	u.Path += wire.PathConnect
	return u.String(), nil
}

func (c *Client) log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
