package tdstest

import (
	"encoding/binary"
	"fmt"
)

// TransactionManager request types (MS-TDS 2.2.6.9).
const (
	tmGetDTCAddress = 0
	tmPropagateXact = 1
	tmBeginXact     = 5
	tmPromoteXact   = 6
	tmCommitXact    = 7
	tmRollbackXact  = 8
	tmSaveXact      = 9
)

// tmNames names the request types for error messages.
var tmNames = map[uint16]string{
	tmGetDTCAddress: "TM_GET_DTC_ADDRESS", tmPropagateXact: "TM_PROPAGATE_XACT",
	tmBeginXact: "TM_BEGIN_XACT", tmPromoteXact: "TM_PROMOTE_XACT",
	tmCommitXact: "TM_COMMIT_XACT", tmRollbackXact: "TM_ROLLBACK_XACT", tmSaveXact: "TM_SAVE_XACT",
}

// fBeginXact in the flags of a commit or rollback asks for a new
// transaction to begin once the current one has ended.
const fBeginXact = 0x01

// SQL Server's error numbers for a commit or rollback without a
// transaction, and for a request naming a transaction the session cannot
// resume.
const (
	errNoTranToCommit   = 3902
	errNoTranToRollback = 3903
	errResumeTran       = 3971
)

// firstTxDescr is the first transaction descriptor a server gives out; the
// others follow it. It is not a byte palindrome, so a descriptor read in the
// wrong byte order is not mistaken for the right one.
const firstTxDescr = 0x0000_0512_3400_0001

// TxStats counts the transactions of a server's connections. Every begun
// transaction ends in exactly one of Committed, RolledBack and Dropped, or
// is still open.
type TxStats struct {
	Begun      int
	Committed  int
	RolledBack int
	// Dropped transactions ended without a commit or rollback request:
	// their connection closed, or its next request reset the session. SQL
	// Server rolls those back.
	Dropped int
}

// Open is the number of transactions begun and not yet ended.
func (t TxStats) Open() int { return t.Begun - t.Committed - t.RolledBack - t.Dropped }

// Transactions reports the transactions begun and ended so far. A
// transaction is counted before the client gets the answer to the request
// that began or ended it.
func (s *Server) Transactions() TxStats {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	return s.tx
}

// countTx applies f to the server's transaction counts.
func (s *Server) countTx(f func(*TxStats)) {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	f(&s.tx)
}

// tmRequest is a decoded TransactionManager request. Isolation levels and
// transaction names are read and ignored.
type tmRequest struct {
	descr uint64 // from ALL_HEADERS
	typ   uint16
	chain bool // commit or rollback with fBeginXact
}

// parseTransMgr reads a TransactionManager request: ALL_HEADERS, the
// request type, and for begin, commit and rollback their payloads.
func parseTransMgr(d []byte) (tmRequest, error) {
	r := &reader{b: d}
	var q tmRequest
	if q.descr = r.allHeaders(); r.err != nil {
		return q, errorf("malformed TransactionManager request: %v", r.err)
	}
	q.typ = r.u16()
	switch q.typ {
	case tmBeginXact: // isolation level, name
		r.u8()
		r.bVarChar()
	case tmCommitXact, tmRollbackXact: // name, flags, [isolation level, name]
		r.bVarChar()
		if q.chain = r.u8()&fBeginXact != 0; q.chain {
			r.u8()
			r.bVarChar()
		}
	}
	if r.err != nil {
		return q, errorf("malformed TransactionManager request: %v", r.err)
	}
	return q, nil
}

// transact answers a TransactionManager request. Begin, commit and
// rollback are answered as SQL Server does, with an ENVCHANGE that carries
// the 8-byte transaction descriptor and a DONE; the other requests, and a
// descriptor that is not the connection's open transaction, with an error.
func (c *conn) transact(m message) error {
	w := c.reply()
	if c.pending.Load() > 0 { // cancelled before it started
		return c.ackAttention(w)
	}
	q, err := parseTransMgr(m.data)
	if err != nil {
		return c.replyError(w, tokDone, err)
	}
	var b []byte
	switch q.typ {
	case tmBeginXact:
		switch {
		case c.tx != 0:
			err = errorf("TM_BEGIN_XACT inside transaction %016x: nested transactions are not supported", c.tx)
		case q.descr != 0:
			err = c.wrongDescriptor(q.descr)
		default:
			b = c.begin(b)
		}
	case tmCommitXact, tmRollbackXact:
		b, err = c.endTx(b, q)
	default:
		name := tmNames[q.typ]
		if name == "" {
			name = "UNKNOWN"
		}
		err = errorf("TransactionManager request %s (type %d) is not supported", name, q.typ)
	}
	if err != nil {
		return c.replyError(w, tokDone, err)
	}
	w.Write(appendDone(b, tokDone, 0, 0, 0))
	return w.end()
}

// begin opens a transaction on the connection, counts it, and appends
// the ENVCHANGE that gives the client its descriptor.
func (c *conn) begin(b []byte) []byte {
	c.tx = firstTxDescr + c.s.nextTx.Add(1) - 1
	c.s.countTx(func(t *TxStats) { t.Begun++ })
	return appendTxEnvChange(b, envBeginTran, c.tx, 0)
}

// endTx commits or rolls back the connection's open transaction, which the
// request must name by its descriptor, and begins the next one when the
// request chains one.
func (c *conn) endTx(b []byte, q tmRequest) ([]byte, error) {
	commit := q.typ == tmCommitXact
	switch {
	case c.tx == 0 && commit:
		return nil, &Error{Number: errNoTranToCommit, Message: "tdstest: COMMIT requested with no transaction open"}
	case c.tx == 0:
		return nil, &Error{Number: errNoTranToRollback, Message: "tdstest: ROLLBACK requested with no transaction open"}
	case q.descr != c.tx:
		return nil, c.wrongDescriptor(q.descr)
	}
	env := byte(envRollbackTran)
	if commit {
		env = envCommitTran
	}
	c.s.countTx(func(t *TxStats) {
		if commit {
			t.Committed++
		} else {
			t.RolledBack++
		}
	})
	b = appendTxEnvChange(b, env, 0, c.tx)
	c.tx = 0
	if q.chain {
		b = c.begin(b)
	}
	return b, nil
}

// dropTx ends the open transaction, if any, without a request: the
// connection closed or its session was reset.
func (c *conn) dropTx() {
	if c.tx != 0 {
		c.tx = 0
		c.s.countTx(func(t *TxStats) { t.Dropped++ })
	}
}

// wrongDescriptor is the error for a request whose transaction descriptor
// is not the connection's open transaction.
func (c *conn) wrongDescriptor(got uint64) error {
	open := "none is open"
	if c.tx != 0 {
		open = fmt.Sprintf("the open one is %016x", c.tx)
	}
	return &Error{Number: errResumeTran, Message: fmt.Sprintf(
		"tdstest: the request names transaction %016x but %s", got, open)}
}

// appendTxEnvChange appends a transaction ENVCHANGE, whose values are
// B_VARBYTE: the 8-byte descriptor, or empty for 0.
func appendTxEnvChange(b []byte, typ byte, newDescr, oldDescr uint64) []byte {
	body := []byte{typ}
	for _, d := range []uint64{newDescr, oldDescr} {
		if d == 0 {
			body = append(body, 0)
		} else {
			body = binary.LittleEndian.AppendUint64(append(body, 8), d)
		}
	}
	return appendToken(b, tokEnvChange, body)
}
