package cluster

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/hub"
)

// A routed query is a stream between the asking node and the holder, each
// end a subject "<prefix>.stream.<instance>.<id>" of its node. The asker
// publishes the query on the site's live subject with its stream subject as
// the reply; NATS answers "no responders" there when nobody holds the site.
// Every message starts with a kind byte.
//
// Holder to asker, each with the holder's stream subject as reply (so an
// asker that already gave up can answer with a quit):
//
//	S                  started: the holder has the query (sent before asking the agent)
//	D seq bytes        the next bytes of the agent's answer, as the agent sent them
//	E seq              the answer ended (the agent's trailer was in the bytes)
//	X seq error        the query failed: a remoteError in JSON
//	P                  keepalive, every Options.Ping
//
// Asker to holder:
//
//	C consumed         credit: the bytes read so far; the holder keeps at most
//	                   Options.Window bytes beyond it in flight. Sent as read and
//	                   every Options.Ping, so it is also the asker's keepalive.
//	Q                  quit: the asker went away; cancel the query
//
// seq (uvarint) numbers the holder's content messages, so a message lost
// (NATS delivers at most once: a reconnection drops what was in flight)
// fails the stream instead of corrupting the answer. consumed is a uvarint.
const (
	msgStarted = 'S'
	msgData    = 'D'
	msgEnd     = 'E'
	msgFailed  = 'X'
	msgPing    = 'P'
	msgCredit  = 'C'
	msgQuit    = 'Q'
)

// chunkSize caps one data message: large enough to carry many rows, far
// below NATS's default 1 MB payload limit.
const chunkSize = 64 << 10

// queryRequest is the body of a routed query.
type queryRequest struct {
	Query wire.QueryRequest `json:"query"`
	// TimeoutMS is what was left of the asker's deadline; 0: none.
	TimeoutMS int64 `json:"timeoutMs,omitempty"`
	// Window is the asker's credit window in bytes.
	Window int64 `json:"window"`
}

// stream is one routed query, at either end.
type stream struct {
	r       *Router
	id      string
	serving bool // the holder's end

	mu    sync.Mutex
	peer  string // the other end's subject; the asker learns it from S
	heard time.Time
	ready chan struct{} // capacity 1: something arrived
	// asker: content messages (D, E, X) not read yet, and why the stream
	// ended early (no holder, a silent holder, a lost message)
	queue []*nats.Msg
	err   error
	seq   uint64 // the next content message's number
	// read is the bytes the asker has read: counted by the asker, learnt
	// by the holder from credits.
	read int64
	// cancel (holder) cancels the agent's query; sent (holder) counts the
	// bytes forwarded.
	cancel context.CancelFunc
	sent   int64
}

// open registers a new stream; peer and cancel are the holder's.
func (r *Router) open(peer string, cancel context.CancelFunc) *stream {
	s := &stream{r: r, id: nuid.Next(), serving: cancel != nil, peer: peer, cancel: cancel,
		heard: time.Now(), ready: make(chan struct{}, 1)}
	r.mu.Lock()
	r.flows[s.id] = s
	r.mu.Unlock()
	return s
}

func (s *stream) subject() string { return s.r.streams + "." + s.id }

func (s *stream) forget() {
	s.r.mu.Lock()
	delete(s.r.flows, s.id)
	s.r.mu.Unlock()
}

func (s *stream) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// onStream hands a stream message to its stream.
func (r *Router) onStream(m *nats.Msg) {
	id := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	r.mu.Lock()
	s := r.flows[id]
	r.mu.Unlock()
	if s == nil {
		if m.Reply != "" && len(m.Data) > 0 {
			// The holder streams to an asker that gave up: tell it.
			r.nc.Publish(m.Reply, []byte{msgQuit})
		}
		return
	}
	s.deliver(m)
}

func (s *stream) deliver(m *nats.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.heard = time.Now()
	if len(m.Data) == 0 {
		if !s.serving && m.Header.Get("Status") == "503" {
			s.err = errNobody // NATS: no responders
			s.signal()
		}
		return
	}
	if s.serving {
		switch m.Data[0] {
		case msgCredit:
			if v, n := binary.Uvarint(m.Data[1:]); n > 0 && int64(v) > s.read {
				s.read = int64(v)
				s.signal()
			}
		case msgQuit:
			s.cancel()
		}
		return
	}
	switch m.Data[0] {
	case msgPing:
	case msgStarted:
		s.peer = m.Reply
	case msgData, msgEnd, msgFailed:
		s.queue = append(s.queue, m)
		s.signal()
	}
}

// keepalive pings the peer of every stream and ends those whose peer fell
// silent, and drops statuses past statusTTL, until the router closes.
func (r *Router) keepalive() {
	defer r.wg.Done()
	t := time.NewTicker(r.opt.Ping)
	defer t.Stop()
	var flows []*stream
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		flows = flows[:0]
		r.mu.Lock()
		for _, s := range r.flows {
			flows = append(flows, s)
		}
		for id, c := range r.online {
			if time.Since(c.at) >= statusTTL {
				delete(r.online, id)
			}
		}
		r.mu.Unlock()
		for _, s := range flows {
			s.tick()
		}
	}
}

func (s *stream) tick() {
	s.mu.Lock()
	peer, silent := s.peer, time.Since(s.heard) > s.r.opt.Silence
	if silent && s.serving {
		s.cancel() // the asker is gone: cancel the statement
	} else if silent && s.err == nil {
		s.err = server.Errorf(server.EUNAVAILABLE, "the server node holding the site's agent stopped answering; retry later")
		s.signal()
	}
	s.mu.Unlock()
	if peer == "" || silent {
		return
	}
	if s.serving {
		s.r.nc.PublishMsg(&nats.Msg{Subject: peer, Reply: s.subject(), Data: []byte{msgPing}})
	} else {
		s.sendCredit()
	}
}

// Query runs a query on a site's agent: on this node's hub when the session
// is here, else on the node holding it, whose answer streams back as the
// agent sends it. It fails as [hub.Hub.Query] does, and with
// [server.EUNAVAILABLE] when the holder cannot be reached or goes silent.
func (r *Router) Query(ctx context.Context, siteID string, q wire.QueryRequest) (server.Rows, error) {
	if p, _ := r.hub.Presence(siteID); p == hub.Held {
		return r.hub.Query(ctx, siteID, q)
	}
	if q.RequestID == "" {
		q.RequestID = server.RequestID(ctx) // the holder's context does not carry it
	}
	req := queryRequest{Query: q, Window: int64(r.opt.Window)}
	if dl, ok := ctx.Deadline(); ok {
		req.TimeoutMS = max(1, time.Until(dl).Milliseconds())
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	s := r.open("", nil)
	err = r.nc.PublishMsg(&nats.Msg{Subject: r.siteSubject(siteID, "live"), Reply: s.subject(), Data: append([]byte{opQuery}, body...)})
	if err != nil {
		s.forget()
		return nil, server.Errorf(server.EUNAVAILABLE, "this server node cannot reach the other nodes now (%v); retry later", err)
	}
	a := &answer{s: s, ctx: ctx}
	m, err := a.next()
	if err == nil && m.Data[0] == msgFailed {
		err = decodeFailure(m)
	}
	if err != nil {
		a.Close()
		if errors.Is(err, errNobody) {
			err = unavailable(siteID)
		}
		if server.ErrorCode(err) == server.EUNAVAILABLE {
			r.forgetOnline(siteID)
		}
		return nil, err
	}
	a.pending = m
	rows, err := hub.NewRows(ctx, a)
	if err != nil {
		return nil, err // not a nil *hub.Rows in a non-nil server.Rows
	}
	return rows, nil
}

// answer is the asker's end of a stream read as the agent's answer: an
// io.ReadCloser of the frames the holder forwards.
type answer struct {
	s        *stream
	ctx      context.Context
	pending  *nats.Msg // a content message not read yet
	cur      []byte
	consumed int64
	acked    int64
	done     bool
}

// next waits for the next content message.
func (a *answer) next() (*nats.Msg, error) {
	s := a.s
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			m := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			s.mu.Unlock()
			if seq, n := binary.Uvarint(m.Data[1:]); n <= 0 || seq != s.seq {
				return nil, server.Errorf(server.EUNAVAILABLE, "part of the answer was lost between server nodes; retry")
			}
			s.seq++
			return m, nil
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-s.ready:
		case <-a.ctx.Done():
			return nil, a.ctx.Err()
		}
	}
}

// Read reads the agent's answer as the holder forwards it.
func (a *answer) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.done {
			return 0, io.EOF
		}
		m := a.pending
		a.pending = nil
		if m == nil {
			var err error
			if m, err = a.next(); err != nil {
				return 0, err
			}
		}
		_, n := binary.Uvarint(m.Data[1:])
		switch m.Data[0] {
		case msgData:
			a.cur = m.Data[1+n:]
		case msgEnd:
			a.done = true
		case msgFailed:
			return 0, decodeFailure(m)
		}
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	a.consumed += int64(n)
	a.s.mu.Lock()
	a.s.read = a.consumed // what tick sends
	a.s.mu.Unlock()
	if a.consumed-a.acked >= int64(a.s.r.opt.Window)/4 {
		a.acked = a.consumed
		a.s.sendCredit()
	}
	return n, nil
}

// Close ends the stream; before the end it tells the holder to cancel.
func (a *answer) Close() error {
	s := a.s
	s.forget()
	s.mu.Lock()
	peer := s.peer
	s.mu.Unlock()
	if !a.done && peer != "" {
		s.r.nc.Publish(peer, []byte{msgQuit})
	}
	// An S still on its way meets a forgotten stream and is answered with
	// a quit then (onStream).
	return nil
}

func (s *stream) sendCredit() {
	s.mu.Lock()
	peer, credit := s.peer, s.read
	s.mu.Unlock()
	if peer != "" {
		s.r.nc.Publish(peer, binary.AppendUvarint([]byte{msgCredit}, uint64(credit)))
	}
}

func decodeFailure(m *nats.Msg) error {
	_, n := binary.Uvarint(m.Data[1:])
	var re remoteError
	if err := json.Unmarshal(m.Data[1+n:], &re); err != nil {
		return errors.New("cluster: unreadable failure from the node holding the agent")
	}
	return re.err()
}

// serveQuery runs a query another node routed here and streams the agent's
// answer back, as much as the asker's credit allows.
func (r *Router) serveQuery(siteID string, m *nats.Msg, body []byte) {
	var req queryRequest
	if m.Reply == "" || json.Unmarshal(body, &req) != nil {
		return
	}
	// One context either way: a WithCancel overwritten by a WithTimeout
	// would stay registered under r.ctx until the router closes.
	var ctx context.Context
	var cancel context.CancelFunc
	if req.TimeoutMS > 0 {
		ctx, cancel = context.WithTimeout(r.ctx, time.Duration(req.TimeoutMS)*time.Millisecond)
	} else {
		ctx, cancel = context.WithCancel(r.ctx)
	}
	defer cancel()
	s := r.open(m.Reply, cancel)
	defer s.forget()
	window := max(req.Window, 1)

	var seq uint64
	send := func(kind byte, payload []byte) bool {
		data := binary.AppendUvarint(append(make([]byte, 0, 1+binary.MaxVarintLen64+len(payload)), kind), seq)
		seq++
		return r.nc.PublishMsg(&nats.Msg{Subject: s.peer, Reply: s.subject(), Data: append(data, payload...)}) == nil
	}
	fail := func(err error) {
		b, _ := json.Marshal(encodeError(err))
		send(msgFailed, b)
	}
	if r.nc.PublishMsg(&nats.Msg{Subject: s.peer, Reply: s.subject(), Data: []byte{msgStarted}}) != nil {
		return
	}
	frames, err := r.hub.Frames(ctx, siteID, req.Query)
	if err != nil {
		if ctx.Err() == context.Canceled && r.ctx.Err() == nil {
			return // the asker went away
		}
		fail(err)
		return
	}
	defer frames.Close()
	buf := make([]byte, chunkSize)
	for {
		// Wait for credit: at most a window in flight beyond what the
		// asker has read.
		var room int64
		for {
			s.mu.Lock()
			room = s.read + window - s.sent
			s.mu.Unlock()
			if room > 0 {
				break
			}
			select {
			case <-s.ready:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
		}
		if ctx.Err() != nil {
			break
		}
		n, rerr := frames.Read(buf[:min(room, chunkSize)])
		if n > 0 {
			if !send(msgData, buf[:n]) {
				return // NATS lost: the asker fails on silence
			}
			s.mu.Lock()
			s.sent += int64(n)
			s.mu.Unlock()
		}
		if rerr == io.EOF {
			send(msgEnd, nil)
			return
		}
		if rerr != nil {
			break
		}
	}
	switch {
	case r.ctx.Err() != nil:
		fail(server.Errorf(server.EUNAVAILABLE, "the server node holding the site's agent is shutting down; retry"))
	case ctx.Err() == context.Canceled:
		// The asker quit or went silent: the statement is cancelled with
		// the agent's stream, nobody to tell.
	case ctx.Err() == context.DeadlineExceeded:
		fail(context.DeadlineExceeded)
	default:
		fail(server.Errorf(server.EUNAVAILABLE, "the connection to the site's agent broke during the query; retry later"))
	}
}
