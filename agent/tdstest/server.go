// Package tdstest is a minimal TDS 7.4 responder (the wire protocol of
// Microsoft SQL Server) for tests that drive github.com/microsoft/go-mssqldb
// through its real wire path without a SQL Server.
//
// It answers PRELOGIN (no encryption: clients must use encrypt=disable),
// LOGIN7 (any user and password), SQL batches, RPC calls of sp_executesql
// and of named stored procedures, and ATTENTION (cancellation). Each request
// is passed to a Handler; its Result is streamed back as COLMETADATA and
// ROW/NBCROW tokens in packets of the negotiated size.
//
// TransactionManager requests begin, commit and roll back transactions as
// database/sql's BeginTx, Commit and Rollback send them: the server gives
// each transaction a descriptor, checks that the requests of the connection
// carry it while it is open, shows it to the handler as Query.Transaction,
// and counts transactions for Transactions. The handler's work is not
// transactional: nothing is undone by a rollback.
//
// Not supported: TLS, MARS, distributed and nested transactions, savepoints,
// transactions begun by T-SQL text (BEGIN TRANSACTION in a batch), OUTPUT
// parameter values, multiple result sets, and column types other than
// those of ColType.
package tdstest

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Handler answers one query. A nil Result is an empty answer. The context
// is cancelled when the client sends an ATTENTION (cancels the request) or
// the server closes. Calls from different connections may run
// concurrently.
type Handler func(ctx context.Context, q Query) (*Result, error)

// Result is a handler's answer.
type Result struct {
	// Columns and Rows form the result set; each row holds one value per
	// column, of a Go type listed at ColType, or nil for NULL.
	Columns []Column
	Rows    [][]any
	// RowsAffected is reported when there are no Columns (an INSERT, an
	// UPDATE, a procedure without a result set).
	RowsAffected int64
}

// Server is a TDS responder listening on 127.0.0.1.
type Server struct {
	t          testing.TB
	handler    Handler
	ln         net.Listener
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	mu         sync.Mutex
	conns      map[net.Conn]struct{}
	attentions atomic.Int64
	resets     atomic.Int64
	accepted   atomic.Int64
	stats      packetStats
	nextTx     atomic.Uint64 // transactions begun, for their descriptors
	txMu       sync.Mutex
	tx         TxStats
}

// Start starts a server on 127.0.0.1 at a free port; it stops in t.Cleanup.
func Start(t testing.TB, h Handler) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tdstest: listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{t: t, handler: h, ln: ln, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(s.Close)
	return s
}

// DSN is a go-mssqldb connection string for the server, with database
// BPSPatients and encryption disabled. Further options may be appended
// with "&", e.g. "&packet+size=512".
func (s *Server) DSN() string {
	return fmt.Sprintf("sqlserver://sa:x@%s?database=BPSPatients&encrypt=disable", s.ln.Addr())
}

// Attentions is the number of ATTENTION messages (cancellations) received.
func (s *Server) Attentions() int64 { return s.attentions.Load() }

// Connections is the number of connections accepted so far.
func (s *Server) Connections() int64 { return s.accepted.Load() }

// Resets is the number of requests that asked for the session to be reset
// first (the RESETCONNECTION flag), as a client does on a pooled
// connection's reuse.
func (s *Server) Resets() int64 { return s.resets.Load() }

// RowsSent is the number of result rows written to clients, for tests that
// check a cancelled result stopped early.
func (s *Server) RowsSent() int64 { return s.stats.rows.Load() }

// Close stops the server: it cancels running handlers, closes the listener
// and every connection, and waits (a bounded time) for its goroutines.
func (s *Server) Close() {
	s.cancel()
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.t.Errorf("tdstest: a handler ignored its cancelled context for 10s")
	}
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return // listener closed
		}
		s.mu.Lock()
		if s.ctx.Err() != nil {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(2) // serve and its reader
		s.mu.Unlock()
		s.accepted.Add(1)
		go s.serve(nc)
	}
}

// conn is one client connection. A reader goroutine passes messages on in
// order; on an ATTENTION it also counts it as pending and cancels the
// request being handled, so that the serving goroutine stops streaming
// rows and answers DONE with the attention flag.
type conn struct {
	s       *Server
	nc      net.Conn
	pktSize int
	db      string
	done    chan struct{}
	pending atomic.Int64 // attentions not yet acknowledged
	mu      sync.Mutex
	cancel  context.CancelFunc // of the request being handled
	tx      uint64             // descriptor of the open transaction, 0 if none; serve's own
}

func (s *Server) serve(nc net.Conn) {
	defer s.wg.Done()
	c := &conn{s: s, nc: nc, pktSize: defaultPktSize, done: make(chan struct{})}
	defer func() {
		c.dropTx() // SQL Server rolls back what a closed connection left open
		close(c.done)
		nc.Close()
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
	}()
	msgs := make(chan message, 4)
	go c.readLoop(msgs)
	if err := c.handshake(msgs); err != nil {
		return
	}
	for m := range msgs {
		if err := c.dispatch(m); err != nil {
			return
		}
	}
}

func (c *conn) readLoop(msgs chan<- message) {
	defer c.s.wg.Done()
	defer close(msgs)
	for {
		m, err := readMessage(c.nc)
		if err != nil {
			return
		}
		if m.typ == pktAttention {
			c.s.attentions.Add(1)
			c.pending.Add(1)
			c.mu.Lock()
			if c.cancel != nil {
				c.cancel()
			}
			c.mu.Unlock()
		}
		select {
		case msgs <- m:
		case <-c.done:
			return
		}
	}
}

// handshake answers PRELOGIN and LOGIN7, then switches to the packet size
// the client asked for.
func (c *conn) handshake(msgs <-chan message) error {
	m := <-msgs
	if m.typ != pktPrelogin {
		return errorf("expected PRELOGIN, got packet type 0x%02X", m.typ)
	}
	w := c.reply()
	w.Write(preloginReply())
	if err := w.end(); err != nil {
		return err
	}
	m = <-msgs
	if m.typ != pktLogin7 {
		return errorf("expected LOGIN7, got packet type 0x%02X", m.typ)
	}
	l, err := parseLogin7(m.data)
	if err != nil {
		return err
	}
	b := appendLoginAck(nil)
	b = appendEnvChange(b, envDatabase, l.database, "master")
	b = appendEnvChange(b, envPacketSize, fmt.Sprint(l.packetSize), fmt.Sprint(defaultPktSize))
	b = appendDone(b, tokDone, 0, 0, 0)
	w = c.reply()
	w.Write(b)
	c.pktSize, c.db = l.packetSize, l.database
	return w.end()
}

func (c *conn) reply() *replyWriter { return newReplyWriter(c.nc, c.pktSize, &c.s.stats) }

// dispatch answers one request message.
func (c *conn) dispatch(m message) error {
	if m.reset { // the session starts afresh: its transaction ends
		c.s.resets.Add(1)
		c.dropTx()
	}
	var q Query
	var err error
	switch m.typ {
	case pktAttention:
		if c.pending.Load() == 0 {
			return nil // acknowledged while its request was answered
		}
		return c.ackAttention(c.reply())
	case pktTransMgr:
		return c.transact(m)
	case pktSQLBatch:
		q, err = parseBatch(m.data)
	case pktRPC:
		q, err = parseRPC(m.data)
	default:
		err = errorf("unsupported request type 0x%02X", m.typ)
	}
	if err == nil && q.Transaction != c.tx {
		err = c.wrongDescriptor(q.Transaction)
	}
	final := byte(tokDone)
	if m.typ == pktRPC {
		final = tokDoneProc
	}
	if err != nil {
		return c.replyError(c.reply(), final, err)
	}
	q.Database = c.db
	return c.run(q, m.typ == pktRPC)
}

// run calls the handler and streams its answer.
func (c *conn) run(q Query, rpc bool) error {
	w := c.reply()
	ctx, cancel := context.WithCancel(c.s.ctx)
	c.mu.Lock()
	c.cancel = cancel
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.cancel = nil
		c.mu.Unlock()
		cancel()
	}()
	if c.pending.Load() > 0 { // cancelled before it started
		return c.ackAttention(w)
	}
	res, err := c.s.handler(ctx, q)
	final := byte(tokDone)
	if rpc {
		final = tokDoneProc
	}
	switch {
	case c.pending.Load() > 0:
		return c.ackAttention(w)
	case err != nil:
		return c.replyError(w, final, err)
	case res == nil:
		res = &Result{}
	}
	status, cmd, count := uint16(doneCount), uint16(0), res.RowsAffected
	if len(res.Columns) > 0 {
		b, err := appendColMetadata(nil, res.Columns)
		if err != nil {
			return c.replyError(w, final, err)
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		for _, row := range res.Rows {
			if c.pending.Load() > 0 {
				return c.ackAttention(w)
			}
			if b, err = appendRow(b[:0], res.Columns, row); err != nil {
				return c.replyError(w, final, err)
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
			c.s.stats.rows.Add(1)
		}
		cmd, count = cmdSelect, int64(len(res.Rows))
	}
	if c.pending.Load() > 0 {
		return c.ackAttention(w)
	}
	var b []byte
	if rpc { // as SQL Server: the statement's DONEINPROC, RETURNSTATUS, DONEPROC
		b = appendDone(b, tokDoneInProc, status|doneMore, cmd, count)
		b = appendReturnStatus(b, 0)
		b = appendDone(b, tokDoneProc, 0, 0, 0)
	} else {
		b = appendDone(b, tokDone, status, cmd, count)
	}
	w.Write(b)
	return w.end()
}

// ackAttention ends the reply with DONE carrying the attention flag.
func (c *conn) ackAttention(w *replyWriter) error {
	c.pending.Store(0)
	w.Write(appendDone(nil, tokDone, doneAttn, 0, 0))
	return w.end()
}

// replyError ends the reply with an ERROR token and a DONE marked as error.
func (c *conn) replyError(w *replyWriter, final byte, err error) error {
	b := appendError(nil, sqlError(err))
	w.Write(appendDone(b, final, doneError, 0, 0))
	return w.end()
}
