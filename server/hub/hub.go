// Package hub keeps the sessions of connected agents and sends them queries.
//
// An agent dials [wire.PathConnect] with its site credential; the hub accepts
// the WebSocket, runs the yamux client end on it and from then on calls the
// agent's HTTP API over yamux streams, one request at a time on each, a
// stream kept for the next request once its answer was read (see
// streams.go). The hub also
// tracks each site's availability: online, offline (the agent closed its
// session, or the connection dropped moments ago) or unreachable (nothing
// heard for [Hub.UnreachableAfter]).
package hub

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/hashicorp/yamux"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/metrics"
)

// Availability values, as the passthrough API's site status spells them.
const (
	Online      = "online"
	Offline     = "offline"
	Unreachable = "unreachable"
)

// Hub is the registry of agent sessions. Set Authenticate, then serve it at
// [wire.PathConnect].
type Hub struct {
	// Authenticate checks a site credential; it returns an error when the
	// credential is wrong or the site is not allowed to connect.
	Authenticate func(ctx context.Context, siteID, secret string) error
	Logger       *slog.Logger
	// KeepAlive is the heartbeat interval (default 5 s); StatusInterval the
	// interval of status heartbeats that refresh the agent's info (default
	// 60 s); UnreachableAfter how long a silent site stays offline before it
	// is unreachable (default 2 min).
	KeepAlive, StatusInterval, UnreachableAfter time.Duration
	// CredentialChanges asks the state store which sites' agent
	// credentials changed since a time ([server.Store.CredentialChanges]);
	// the hub asks every CredentialCheck (default: KeepAlive) and
	// re-validates the sessions of those sites with Authenticate, closing
	// those refused. See recheck.go. Nil: sessions are never re-checked.
	CredentialChanges func(ctx context.Context, since time.Time) (siteIDs []string, now time.Time, err error)
	CredentialCheck   time.Duration
	// Metrics counts the store reads of the credential sweep; nil counts
	// none.
	Metrics *metrics.Metrics
	// Notify, when set, is called after a site's session attached or
	// detached and after the hub forgot a site, so that a cluster router
	// can announce which sites this node holds (see [Hub.Presence]). It is
	// called without the hub's lock held, possibly from several goroutines
	// at once and out of order: read the site's state again with Presence
	// rather than trust the order of calls.
	Notify func(siteID string)
	// Connected, when set, is called in a goroutine of its own each time a
	// site's session opens here, with the agent's first report, so that
	// the API can bring the agent in line with what changed while it was
	// away (write grants revoked in the console). It must return on its
	// own: the hub does not wait for it.
	Connected func(siteID string, info wire.Info)

	// changesKept and overlap override server.CredentialChangesKept and
	// sweepOverlap (tests).
	changesKept, overlap time.Duration

	mu        sync.Mutex
	sites     map[string]*siteState
	stopSweep chan struct{} // closed to stop the credential sweep; nil while none runs
}

type siteState struct {
	sess        *session // nil while disconnected
	info        wire.Info
	lastSeen    time.Time
	connectedAt time.Time
	cleanClose  bool // the last session ended with the agent closing it
}

// session is one connected agent.
type session struct {
	secret  string // the credential it connected with, re-validated by the sweep
	ys      *yamux.Session
	streams *streams
	client  *http.Client // on streams
	conn    *recordingConn
}

// Status is what the hub knows of a site's agent.
type Status struct {
	Availability string
	// Info is the agent's last report; zero when it never connected.
	Info        wire.Info
	LastSeen    time.Time
	ConnectedAt time.Time
}

func (h *Hub) keepAlive() time.Duration        { return orDefault(h.KeepAlive, 5*time.Second) }
func (h *Hub) statusInterval() time.Duration   { return orDefault(h.StatusInterval, time.Minute) }
func (h *Hub) unreachableAfter() time.Duration { return orDefault(h.UnreachableAfter, 2*time.Minute) }

func (h *Hub) log() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

// Presence is what a hub holds of a site.
type Presence int

// Presence values.
const (
	// Absent: the hub knows nothing of the site (never connected here, or
	// forgotten because its agent moved to another node).
	Absent Presence = iota
	// Remembered: the site's agent was connected here and is not now; the
	// hub keeps its last report and when it was last heard.
	Remembered
	// Held: the site's agent has a session with this hub.
	Held
)

// Presence reports whether the hub holds a session of the site, only
// remembers one, or knows nothing of it, and when the current or last
// session connected.
func (h *Hub) Presence(siteID string) (Presence, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.sites[siteID]
	switch {
	case st == nil:
		return Absent, time.Time{}
	case st.sess == nil:
		return Remembered, st.connectedAt
	}
	return Held, st.connectedAt
}

// Supersede is told that the site's agent connected to another node at
// connectedAt: a session here that connected before then is stale (one
// agent keeps one session), so it is closed, and what the hub remembers of
// the site is forgotten, the other node now being the one that knows. A
// session here that connected at or after connectedAt is kept.
func (h *Hub) Supersede(siteID string, connectedAt time.Time) {
	h.mu.Lock()
	st := h.sites[siteID]
	if st == nil || (st.sess != nil && !st.connectedAt.Before(connectedAt)) {
		h.mu.Unlock()
		return
	}
	if st.sess != nil {
		st.sess.ys.Close()
	}
	delete(h.sites, siteID)
	h.mu.Unlock()
	h.notify(siteID)
}

func (h *Hub) notify(siteID string) {
	if h.Notify != nil {
		h.Notify(siteID)
	}
}

// Status reports the availability of a site's agent.
func (h *Hub) Status(siteID string) Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.sites[siteID]
	if st == nil {
		return Status{Availability: Offline}
	}
	s := Status{Info: st.info, LastSeen: st.lastSeen, ConnectedAt: st.connectedAt}
	silent := time.Since(st.lastSeen) > h.unreachableAfter()
	switch {
	case st.sess != nil && !silent:
		s.Availability = Online
	case st.sess == nil && (st.cleanClose || !silent):
		s.Availability = Offline
	default:
		s.Availability = Unreachable
	}
	return s
}

// Agents lists the sessions the hub holds and each agent's load as of its
// last status heartbeat, for the node's metrics.
func (h *Hub) Agents() []metrics.Agent {
	h.mu.Lock()
	defer h.mu.Unlock()
	var list []metrics.Agent
	for id, st := range h.sites {
		if st.sess != nil {
			list = append(list, metrics.Agent{SiteID: id, Running: st.info.Running, Queued: st.info.Queued})
		}
	}
	return list
}

// ServeHTTP accepts an agent's WebSocket and serves its session until it
// ends. A site connecting again replaces its previous session.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	siteID, secret, ok := r.BasicAuth()
	if !ok || h.Authenticate == nil || h.Authenticate(r.Context(), siteID, secret) != nil {
		// One answer for every failure: nothing tells an attacker which
		// part was wrong.
		http.Error(w, "invalid site credential", http.StatusUnauthorized)
		return
	}
	if v := r.Header.Get("Fhirlink-Protocol"); v != "" && v != wire.Version {
		http.Error(w, "unsupported agent protocol version "+v+"; this server speaks "+wire.Version, http.StatusBadRequest)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered
	}
	// The session outlives the upgrade request's context.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn := &recordingConn{Conn: websocket.NetConn(ctx, ws, websocket.MessageBinary)}
	ys, err := yamux.Client(wire.FrameConn(conn), wire.YamuxConfig(h.keepAlive()))
	if err != nil {
		conn.Close()
		return
	}
	streams := &streams{ys: ys}
	s := &session{secret: secret, ys: ys, conn: conn, streams: streams, client: &http.Client{Transport: streams}}
	defer streams.closeIdle(0)
	defer ys.Close()

	info, err := s.info(ctx)
	if err != nil {
		h.log().Warn("agent connected but did not describe itself", "site", siteID, "err", err)
		return
	}
	h.attach(siteID, s, info)
	h.startSweep()
	if h.Connected != nil {
		go h.Connected(siteID, info)
	}
	h.log().Info("agent connected", "site", siteID, "version", info.Version, "engine", info.Engine, "from", r.RemoteAddr)
	h.heartbeat(ctx, siteID, s)
	clean := conn.closedCleanly()
	h.detach(siteID, s, clean)
	h.log().Info("agent disconnected", "site", siteID, "clean", clean)
}

// heartbeat pings the agent until the session ends, refreshing lastSeen, and
// asks for its info every StatusInterval. It closes a session that stayed
// silent for UnreachableAfter: its transport is dead even if TCP has not said
// so yet.
func (h *Hub) heartbeat(ctx context.Context, siteID string, s *session) {
	ping := time.NewTicker(h.keepAlive())
	defer ping.Stop()
	status := time.NewTicker(h.statusInterval())
	defer status.Stop()
	for {
		select {
		case <-s.ys.CloseChan():
			return
		case <-ping.C:
			s.streams.closeIdle(streamIdleTime)
			if _, err := s.ys.Ping(); err == nil {
				h.touch(siteID, s, nil)
			} else if h.silentFor(siteID) > h.unreachableAfter() {
				s.ys.Close()
				return
			}
		case <-status.C:
			if info, err := s.info(ctx); err == nil {
				h.touch(siteID, s, &info)
			}
		}
	}
}

func (h *Hub) attach(siteID string, s *session, info wire.Info) {
	defer h.notify(siteID)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sites == nil {
		h.sites = map[string]*siteState{}
	}
	st := h.sites[siteID]
	if st == nil {
		st = &siteState{}
		h.sites[siteID] = st
	}
	if st.sess != nil {
		st.sess.ys.Close() // the agent reconnected before the old session died
	}
	now := time.Now()
	*st = siteState{sess: s, info: info, lastSeen: now, connectedAt: now}
}

func (h *Hub) detach(siteID string, s *session, clean bool) {
	h.mu.Lock()
	st := h.sites[siteID]
	mine := st != nil && st.sess == s
	if mine {
		st.sess = nil
		st.cleanClose = clean
	}
	h.mu.Unlock()
	if mine {
		h.notify(siteID)
	}
}

func (h *Hub) touch(siteID string, s *session, info *wire.Info) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.sites[siteID]; st != nil && st.sess == s {
		st.lastSeen = time.Now()
		if info != nil {
			st.info = *info
		}
	}
}

func (h *Hub) silentFor(siteID string) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.sites[siteID]; st != nil {
		return time.Since(st.lastSeen)
	}
	return 0
}

func (h *Hub) session(siteID string) *session {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.sites[siteID]; st != nil {
		return st.sess
	}
	return nil
}

// Disconnect closes a site's session, if it has one (credential rotation,
// quarantine). The agent will try to reconnect and must authenticate again.
func (h *Hub) Disconnect(siteID string) {
	if s := h.session(siteID); s != nil {
		s.ys.Close()
	}
}

// Close closes every session and stops the credential sweep.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopSweep != nil {
		close(h.stopSweep)
		h.stopSweep = nil
	}
	for _, st := range h.sites {
		if st.sess != nil {
			st.sess.ys.Close()
		}
	}
}

// info asks the agent to describe itself.
func (s *session) info(ctx context.Context) (wire.Info, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://agent"+wire.PathInfo, nil)
	resp, err := s.client.Do(req)
	if err != nil {
		return wire.Info{}, err
	}
	defer resp.Body.Close()
	var info wire.Info
	if resp.StatusCode != http.StatusOK {
		return info, errors.New("agent answered " + resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&info); err != nil {
		return info, err
	}
	if major, _, _ := strings.Cut(info.Protocol, "."); major != wire.Version {
		return info, errors.New("agent speaks protocol " + info.Protocol)
	}
	return info, nil
}

// errUnavailable is what a caller sees when the site has no session.
func errUnavailable(siteID string) error {
	return server.Errorf(server.EUNAVAILABLE, "the agent of site %s is not connected", siteID)
}

// recordingConn remembers how the WebSocket ended: an agent that closes its
// session sends a normal closure, which NetConn reports as io.EOF.
type recordingConn struct {
	net.Conn
	mu      sync.Mutex
	readErr error
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.mu.Lock()
		if c.readErr == nil {
			c.readErr = err
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *recordingConn) closedCleanly() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr == io.EOF // exactly: a dropped TCP connection wraps io.EOF
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
