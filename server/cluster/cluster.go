// Package cluster lets several server nodes behind a load balancer answer
// for every site, whichever node holds the site's agent session, by routing
// through NATS (an existing messaging system: no protocol between nodes of
// our own beyond the messages below).
//
// A [Router] stands in for a node's [hub.Hub] wherever the API needs the
// agents: it uses the local hub when the agent's session is here, and
// otherwise sends the work to the node that holds it.
//
// Presence is NATS's own subscription interest. A node subscribes to
// "<prefix>.site.<site>.live" for every site whose session it holds, and to
// "<prefix>.site.<site>.last" for every site whose session it held last (so
// the site's status, last report and "unreachable" survive a disconnection
// as on one node). A request to a site goes to that subject; NATS delivers it
// to the holder, or answers "no responders" at once when nobody holds it. A
// node that dies without a word loses its connection to NATS and with it
// every subscription, so its presence expires as soon as NATS notices (at
// once for a killed process; within the NATS server's ping interval for a
// vanished machine). When an agent connects, its node broadcasts it on
// "<prefix>.attached"; any other node holding an older session of that site
// closes it (one agent keeps one session) and forgets the site.
//
// A query's answer is already a byte stream of framed lines ([wire]); the
// holder forwards it as it reads it from the agent, in chunks, without
// decoding rows, and the asking node reads it with [hub.NewRows], as if the
// agent were its own. The stream has credit-based flow control (the asking
// node grants bytes as its reader consumes them, so neither node buffers more
// than a window of a large result, and the agent's own flow control holds
// the rest back in the database), keepalives both ways (a node that goes
// silent mid-stream fails the stream within [Options.Silence]: the asking
// node answers 503, the holder cancels the statement), and cancellation both
// ways (an asking client that goes away cancels the statement in the
// practice database behind the holder). The asking context's deadline
// travels with the query. See stream.go.
package cluster

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/hub"
)

// Options tune a [Router]; the zero value is the production setting.
type Options struct {
	// NodeID names this node in logs and in its broadcasts (default: a
	// random id); [Connect] names the NATS connection after it too.
	NodeID string
	// Prefix starts every subject the router uses (default "fhirlink"), so
	// that deployments sharing a NATS server keep apart.
	Prefix string
	// Ping is the keepalive interval of a routed query's stream, both ways
	// (default 1 s); Silence how long a stream's peer may stay silent before
	// the stream fails (default 3 pings).
	Ping, Silence time.Duration
	// Window is how many bytes of a routed answer may be in flight between
	// the two nodes, unread (default 512 KiB).
	Window int
	// RequestTimeout bounds a status, execution or settings request to
	// another node when the caller's context has no deadline (default 2 s:
	// a site's status is asked on every request).
	RequestTimeout time.Duration
	// Logger receives routing events and failures; nil discards them.
	Logger *slog.Logger
	// OnAccess is called when another node announces that an
	// integrator's access at a site changed ([Router.AnnounceAccess]): the
	// node re-checks its work in flight (api.Server.RecheckInFlight).
	OnAccess func(integratorID, siteID string)
}

// Router routes a node's work to the agents of every node. It implements
// [server.Querier] and the API's view of the agents (Status, Execution,
// Disconnect, and the agents' endpoint, served by the local hub).
type Router struct {
	hub      *hub.Hub
	nc       *nats.Conn
	opt      Options
	instance string // this process, so a node ignores its own broadcasts
	streams  string // subject prefix of this node's streams

	ctx    context.Context
	cancel context.CancelFunc
	subs   []*nats.Subscription
	wg     sync.WaitGroup // work served for other nodes

	mu     sync.Mutex
	sites  map[string]*siteSubs
	flows  map[string]*stream
	online map[string]onlineAt // sites online at other nodes, as last asked
	closed bool
}

// statusTTL is how long a node trusts another node's word that a site is
// online. The API asks a site's status before each query, and asking the
// holder every time would add a round trip to every routed request; a site
// that went away meanwhile fails its query as unavailable anyway, so
// trusting "online" for a moment costs nothing. Nothing else is cached.
const statusTTL = time.Second

type onlineAt struct {
	st hub.Status
	at time.Time
}

// siteSubs are the subscriptions announcing what this node has of a site.
type siteSubs struct {
	live, last *nats.Subscription
	announced  time.Time // the session connect time last broadcast
}

// New returns a router over h, the hub of this node's agents, and nc, a
// connection to NATS (see [Connect]). It takes over h.Notify. Close it
// before closing nc.
func New(h *hub.Hub, nc *nats.Conn, opt Options) (*Router, error) {
	if opt.NodeID == "" {
		opt.NodeID = nuid.Next()
	}
	if opt.Prefix == "" {
		opt.Prefix = "fhirlink"
	}
	if opt.Ping <= 0 {
		opt.Ping = time.Second
	}
	if opt.Silence <= 0 {
		opt.Silence = 3 * opt.Ping
	}
	if opt.Window <= 0 {
		opt.Window = 512 << 10
	}
	if opt.RequestTimeout <= 0 {
		opt.RequestTimeout = 2 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Router{hub: h, nc: nc, opt: opt, instance: nuid.Next(),
		sites: map[string]*siteSubs{}, flows: map[string]*stream{}, online: map[string]onlineAt{}}
	r.streams = opt.Prefix + ".stream." + r.instance
	r.ctx, r.cancel = context.WithCancel(context.Background())
	for subj, handle := range map[string]nats.MsgHandler{
		opt.Prefix + ".attached":   r.onAttached,
		opt.Prefix + ".disconnect": r.onDisconnect,
		opt.Prefix + ".access":     r.onAccess,
		r.streams + ".*":           r.onStream,
	} {
		sub, err := nc.Subscribe(subj, handle)
		if err == nil {
			// The handlers only hand messages on; what streams hold is
			// bounded by their credit, not by NATS's default limits, which
			// would drop messages of many streams at once.
			err = sub.SetPendingLimits(-1, -1)
		}
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("cluster: subscribe %s: %w", subj, err)
		}
		r.subs = append(r.subs, sub)
	}
	h.Notify = r.reconcile
	r.wg.Add(1)
	go r.keepalive()
	return r, nil
}

// Close stops routing: this node no longer announces its sites nor serves
// other nodes, and the queries it was streaming for them are cancelled.
func (r *Router) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	for id, ss := range r.sites {
		unsubscribe(&ss.live)
		unsubscribe(&ss.last)
		delete(r.sites, id)
	}
	flows := make([]*stream, 0, len(r.flows))
	for _, s := range r.flows {
		flows = append(flows, s)
	}
	r.mu.Unlock()
	for _, s := range flows {
		if !s.serving {
			s.mu.Lock()
			s.err = server.Errorf(server.EUNAVAILABLE, "this server node is shutting down; retry")
			s.signal()
			s.mu.Unlock()
		}
	}
	for _, sub := range r.subs {
		sub.Unsubscribe()
	}
	r.cancel()
	r.wg.Wait()
	r.nc.FlushTimeout(time.Second) // the last stream messages and unsubscriptions
}

// Connect dials NATS at url (several servers separated by commas) for a
// node. The connection reconnects for ever, and while it is down it refuses
// to publish instead of buffering: a query is then answered at once as the
// site being unavailable, and is never delivered late, after its sender
// gave up.
func Connect(url, nodeID string, log *slog.Logger) (*nats.Conn, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	nc, err := nats.Connect(url,
		nats.Name("fhirlink "+nodeID),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectBufSize(-1),
		nats.PingInterval(5*time.Second),
		nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("lost the connection to NATS: sites held by other nodes are unreachable from here", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("reconnected to NATS", "server", nc.ConnectedUrlRedacted()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("cannot reach NATS at %s: %w", url, err)
	}
	return nc, nil
}

// ServeHTTP serves the agents' WebSocket endpoint: agents connect to this
// node's hub.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.hub.ServeHTTP(w, req) }

func (r *Router) log() *slog.Logger { return r.opt.Logger }

// siteSubject is the subject of a site's holder ("live") or last holder
// ("last"). Site ids are UUIDs, used as they are; anything else is
// hex-encoded (with a prefix no UUID has), so no id can make a wildcard or
// a token boundary.
func (r *Router) siteSubject(siteID, which string) string {
	tok := siteID
	if u, err := uuid.Parse(siteID); err != nil || u.String() != siteID {
		tok = "h" + hex.EncodeToString([]byte(siteID))
	}
	return r.opt.Prefix + ".site." + tok + "." + which
}

// reconcile makes this node's subscriptions for a site match what the hub
// has of it; the hub calls it (Notify) after every change. Being idempotent
// and reading the hub's state afresh, it does not mind being called out of
// order.
func (r *Router) reconcile(siteID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	delete(r.online, siteID)
	pres, connectedAt := r.hub.Presence(siteID)
	ss := r.sites[siteID]
	if ss == nil {
		if pres == hub.Absent {
			return
		}
		ss = &siteSubs{}
		r.sites[siteID] = ss
	}
	var err error
	switch pres {
	case hub.Held:
		unsubscribe(&ss.last)
		if ss.live == nil {
			ss.live, err = r.nc.QueueSubscribe(r.siteSubject(siteID, "live"), "holder", r.serveSite(siteID))
		}
		if err == nil && !ss.announced.Equal(connectedAt) {
			ss.announced = connectedAt
			b, _ := json.Marshal(attached{Site: siteID, Instance: r.instance, Node: r.opt.NodeID, ConnectedAt: connectedAt})
			err = r.nc.Publish(r.opt.Prefix+".attached", b)
		}
	case hub.Remembered:
		unsubscribe(&ss.live)
		if ss.last == nil {
			ss.last, err = r.nc.QueueSubscribe(r.siteSubject(siteID, "last"), "holder", r.serveSite(siteID))
		}
	default:
		unsubscribe(&ss.live)
		unsubscribe(&ss.last)
		delete(r.sites, siteID)
	}
	if err != nil {
		// NATS refuses only when the connection is closed for good; the
		// other nodes then cannot reach this one anyway.
		r.log().Error("cannot announce a site on NATS", "site", siteID, "err", err)
	}
}

func unsubscribe(sub **nats.Subscription) {
	if *sub != nil {
		(*sub).Unsubscribe()
		*sub = nil
	}
}

// attached is the broadcast of a session opening on a node.
type attached struct {
	Site        string    `json:"site"`
	Instance    string    `json:"instance"`
	Node        string    `json:"node"`
	ConnectedAt time.Time `json:"connectedAt"`
}

func (r *Router) onAttached(m *nats.Msg) {
	var a attached
	if json.Unmarshal(m.Data, &a) != nil || a.Instance == r.instance {
		return
	}
	r.forgetOnline(a.Site)
	if p, _ := r.hub.Presence(a.Site); p != hub.Absent {
		r.log().Debug("site's agent connected to another node", "site", a.Site, "node", a.Node)
	}
	r.hub.Supersede(a.Site, a.ConnectedAt)
}

// Disconnect closes the site's session wherever it is (credential rotation,
// re-enrolment): here, and on every other node through a broadcast.
func (r *Router) Disconnect(siteID string) {
	r.forgetOnline(siteID)
	r.hub.Disconnect(siteID)
	b, _ := json.Marshal(disconnect{Site: siteID, Instance: r.instance})
	if err := r.nc.Publish(r.opt.Prefix+".disconnect", b); err != nil {
		r.log().Warn("could not tell the other nodes to disconnect a site; its session there closes at its next credential check", "site", siteID, "err", err)
	}
}

type disconnect struct {
	Site     string `json:"site"`
	Instance string `json:"instance"`
}

func (r *Router) onDisconnect(m *nats.Msg) {
	var d disconnect
	if json.Unmarshal(m.Data, &d) == nil && d.Instance != r.instance {
		r.hub.Disconnect(d.Site)
	}
}

// AnnounceAccess tells every other node that integratorID's access at
// siteID (every site when empty) changed: a pairing revoked, a block, a
// quarantine. Each re-reads that access from the state store and cancels
// its work in flight no longer allowed, at once rather than at its next
// sweep (which still catches an announcement lost).
func (r *Router) AnnounceAccess(integratorID, siteID string) {
	b, _ := json.Marshal(accessChange{Integrator: integratorID, Site: siteID, Instance: r.instance})
	if err := r.nc.Publish(r.opt.Prefix+".access", b); err != nil {
		r.log().Warn("could not announce an access change; other nodes apply it at their next sweep", "integrator", integratorID, "site", siteID, "err", err)
	}
}

type accessChange struct {
	Integrator string `json:"integrator"`
	Site       string `json:"site,omitempty"`
	Instance   string `json:"instance"`
}

func (r *Router) onAccess(m *nats.Msg) {
	var a accessChange
	if json.Unmarshal(m.Data, &a) != nil || a.Instance == r.instance || r.opt.OnAccess == nil {
		return
	}
	r.serve(func() { r.opt.OnAccess(a.Integrator, a.Site) }) // the store is read: not on NATS's delivery goroutine
}

// serve runs work for another node on its own goroutine, which Close
// waits for; once closed, nothing more is served.
func (r *Router) serve(work func()) {
	r.mu.Lock()
	closed := r.closed
	if !closed {
		r.wg.Add(1)
	}
	r.mu.Unlock()
	if closed {
		return
	}
	go func() {
		defer r.wg.Done()
		work()
	}()
}

// Operations a node asks of a site's holder: the first byte of a request.
const (
	opQuery     = 'q'
	opStatus    = 's'
	opExecution = 'e'
	opSettings  = 'p'
	// opWriteGrant relays a write grant change from the console.
	opWriteGrant = 'w'
)

// agentCallTimeout bounds an execution lookup or a settings push that this
// node makes for another; the asking node stops waiting at its own deadline.
const agentCallTimeout = 30 * time.Second

// serveSite answers requests for a site this node holds or held last.
func (r *Router) serveSite(siteID string) nats.MsgHandler {
	return func(m *nats.Msg) {
		if len(m.Data) == 0 {
			return
		}
		r.serve(func() {
			op, body := m.Data[0], m.Data[1:]
			switch op {
			case opQuery:
				r.serveQuery(siteID, m, body)
			case opStatus:
				p, _ := r.hub.Presence(siteID)
				r.respond(m, statusReply{Held: p == hub.Held, Status: r.hub.Status(siteID)}, nil)
			case opExecution:
				ctx, cancel := context.WithTimeout(r.ctx, agentCallTimeout)
				defer cancel()
				ex, err := r.hub.Execution(ctx, siteID, string(body))
				r.respond(m, ex, err)
			case opSettings:
				serveControl(r, m, siteID, body, r.hub.PushSettings)
			case opWriteGrant:
				serveControl(r, m, siteID, body, r.hub.SetWriteGrant)
			}
		})
	}
}

// serveControl runs, for another node, a control call to the agent of a
// site this node holds (settings, a write grant): body is its JSON input.
func serveControl[In, Out any](r *Router, m *nats.Msg, siteID string, body []byte, call func(context.Context, string, In) (Out, error)) {
	var in In
	if err := json.Unmarshal(body, &in); err != nil {
		r.respond(m, nil, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, agentCallTimeout)
	defer cancel()
	out, err := call(ctx, siteID, in)
	r.respond(m, out, err)
}

// control makes a control call to a site's agent wherever it is: through
// this node's hub (local) when it holds the site, else through the node
// holding it, which runs op (see serveControl).
func control[In, Out any](r *Router, ctx context.Context, siteID string, op byte, in In, local func(context.Context, string, In) (Out, error)) (Out, error) {
	if p, _ := r.hub.Presence(siteID); p == hub.Held {
		return local(ctx, siteID, in)
	}
	var out Out
	body, err := json.Marshal(in)
	if err != nil {
		return out, err
	}
	err = r.askHolder(ctx, siteID, op, body, &out)
	return out, err
}

type statusReply struct {
	Held   bool       `json:"held"`
	Status hub.Status `json:"status"`
}

// reply is the answer to a status, execution or settings request.
type reply struct {
	Value json.RawMessage `json:"value,omitempty"`
	Error *remoteError    `json:"error,omitempty"`
}

func (r *Router) respond(m *nats.Msg, v any, err error) {
	var rep reply
	if err != nil {
		rep.Error = encodeError(err)
	} else {
		rep.Value, _ = json.Marshal(v)
	}
	b, _ := json.Marshal(rep)
	m.Respond(b)
}

// ask sends a request to a site's holder (which: "live" or "last") and
// decodes its answer into v. It fails with errNobody when no node holds
// the site.
func (r *Router) ask(ctx context.Context, siteID, which string, op byte, body []byte, v any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.opt.RequestTimeout)
		defer cancel()
	}
	m, err := r.nc.RequestWithContext(ctx, r.siteSubject(siteID, which), append([]byte{op}, body...))
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return errNobody
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return server.Errorf(server.EUNAVAILABLE, "the server node holding the agent of site %s did not answer; retry later", siteID)
	}
	var rep reply
	if err := json.Unmarshal(m.Data, &rep); err != nil {
		return fmt.Errorf("cluster: unreadable answer from another node: %w", err)
	}
	if rep.Error != nil {
		return rep.Error.err()
	}
	return json.Unmarshal(rep.Value, v)
}

// errNobody: no node holds the site.
var errNobody = errors.New("no node holds the site")

func unavailable(siteID string) error {
	return server.Errorf(server.EUNAVAILABLE, "the agent of site %s is not connected", siteID)
}

// Status reports a site's availability wherever its agent is: this node's
// hub when the session is here; else the node holding it; else what the
// node that held it last remembers; else offline.
func (r *Router) Status(siteID string) hub.Status {
	local := r.hub.Status(siteID)
	pres, _ := r.hub.Presence(siteID)
	if pres == hub.Held {
		return local
	}
	r.mu.Lock()
	c, ok := r.online[siteID]
	r.mu.Unlock()
	if ok && time.Since(c.at) < statusTTL {
		return c.st
	}
	var rep statusReply
	if r.ask(r.ctx, siteID, "live", opStatus, nil, &rep) == nil && rep.Held {
		if rep.Status.Availability == hub.Online {
			r.mu.Lock()
			r.online[siteID] = onlineAt{rep.Status, time.Now()}
			r.mu.Unlock()
		}
		return rep.Status
	}
	r.forgetOnline(siteID)
	if pres == hub.Remembered {
		return local
	}
	if r.ask(r.ctx, siteID, "last", opStatus, nil, &rep) == nil {
		return rep.Status
	}
	return local
}

func (r *Router) forgetOnline(siteID string) {
	r.mu.Lock()
	delete(r.online, siteID)
	r.mu.Unlock()
}

// Execution asks a site's agent, wherever it is, what it knows of a write's
// execution id (see [hub.Hub.Execution]).
func (r *Router) Execution(ctx context.Context, siteID, executionID string) (wire.Execution, error) {
	if p, _ := r.hub.Presence(siteID); p == hub.Held {
		return r.hub.Execution(ctx, siteID, executionID)
	}
	var ex wire.Execution
	err := r.askHolder(ctx, siteID, opExecution, []byte(executionID), &ex)
	return ex, err
}

// PushSettings sends settings to a site's agent wherever it is (see
// [hub.Hub.PushSettings]).
func (r *Router) PushSettings(ctx context.Context, siteID string, set wire.Settings) (wire.Settings, error) {
	return control(r, ctx, siteID, opSettings, set, r.hub.PushSettings)
}

// SetWriteGrant relays a write grant change to a site's agent wherever it
// is (see [hub.Hub.SetWriteGrant]).
func (r *Router) SetWriteGrant(ctx context.Context, siteID string, ch wire.WriteGrantChange) (wire.WriteGrantState, error) {
	st, err := control(r, ctx, siteID, opWriteGrant, ch, r.hub.SetWriteGrant)
	if err == nil {
		r.forgetOnline(siteID) // the cached report lists the grants before the change
	}
	return st, err
}

// askHolder asks the node holding a site's live session to run op; no
// holder is the site being unavailable.
func (r *Router) askHolder(ctx context.Context, siteID string, op byte, body []byte, out any) error {
	err := r.ask(ctx, siteID, "live", op, body, out)
	if errors.Is(err, errNobody) {
		return unavailable(siteID)
	}
	return err
}

// remoteError carries an error across nodes, keeping what the API looks
// at: an agent's [*wire.Error], a [*server.Error]'s code and message, a
// context's end. Anything else stays internal: its text reaches the log,
// never a caller.
type remoteError struct {
	Wire    *wire.Error `json:"wire,omitempty"`
	Code    string      `json:"code,omitempty"`
	Message string      `json:"message,omitempty"`
	Context string      `json:"context,omitempty"` // "deadline" or "canceled"
}

func encodeError(err error) *remoteError {
	if werr, ok := errors.AsType[*wire.Error](err); ok {
		return &remoteError{Wire: werr}
	}
	if serr, ok := errors.AsType[*server.Error](err); ok {
		return &remoteError{Code: serr.Code, Message: serr.Message}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &remoteError{Context: "deadline"}
	case errors.Is(err, context.Canceled):
		return &remoteError{Context: "canceled"}
	}
	return &remoteError{Message: err.Error()}
}

func (e *remoteError) err() error {
	switch {
	case e.Wire != nil:
		return e.Wire
	case e.Code != "":
		return &server.Error{Code: e.Code, Message: e.Message}
	case e.Context == "deadline":
		return context.DeadlineExceeded
	case e.Context == "canceled":
		return context.Canceled
	}
	return fmt.Errorf("on the node holding the agent: %s", e.Message)
}
