package tdstest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"fhirlink/agent/waittest"
)

// seenQueries is a handler that keeps every query and answers one(), or
// nothing when empty is set.
type seenQueries struct {
	empty bool
	mu    sync.Mutex
	qs    []Query
}

func (s *seenQueries) handle(ctx context.Context, q Query) (*Result, error) {
	s.mu.Lock()
	s.qs = append(s.qs, q)
	s.mu.Unlock()
	if s.empty {
		return nil, nil
	}
	return one(), nil
}

// last returns the last query whose text or procedure contains sub.
func (s *seenQueries) last(t *testing.T, sub string) Query {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.qs) - 1; i >= 0; i-- {
		if strings.Contains(s.qs[i].SQL, sub) || strings.Contains(s.qs[i].Proc, sub) {
			return s.qs[i]
		}
	}
	t.Fatalf("no query with %q", sub)
	return Query{}
}

func wantTx(t *testing.T, s *Server, want TxStats) {
	t.Helper()
	if got := s.Transactions(); got != want {
		t.Errorf("Transactions() = %+v, want %+v", got, want)
	}
}

// TestTransactions begins, rolls back and commits transactions through
// database/sql: the requests inside carry the transaction's descriptor,
// those outside carry none, and the server counts each outcome.
func TestTransactions(t *testing.T) {
	var seen seenQueries
	s := Start(t, seen.handle)
	db := openDB(t, s, "")
	ctx := testCtx(t)
	var n int

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantTx(t, s, TxStats{Begun: 1})
	if err := tx.QueryRowContext(ctx, "SELECT in_first").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE t SET v = @p1 -- first", 5); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	wantTx(t, s, TxStats{Begun: 1, RolledBack: 1})
	first := seen.last(t, "in_first").Transaction
	if first != firstTxDescr {
		t.Errorf("first transaction's descriptor %x, want %x", first, uint64(firstTxDescr))
	}
	if q := seen.last(t, "-- first"); q.Transaction != first || q.Proc != "sp_executesql" {
		t.Errorf("sp_executesql in the transaction: %+v", q)
	}

	if err := db.QueryRowContext(ctx, "SELECT outside").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if q := seen.last(t, "outside"); q.Transaction != 0 {
		t.Errorf("query after the rollback ran in transaction %x", q.Transaction)
	}

	tx, err = db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "dbo.Merge", sql.Named("id", 1)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	wantTx(t, s, TxStats{Begun: 2, Committed: 1, RolledBack: 1})
	if q := seen.last(t, "dbo.Merge"); q.Transaction == 0 || q.Transaction == first || !q.IsProc {
		t.Errorf("procedure in the second transaction: %+v, first was %x", q, first)
	}
	// A read-only transaction is refused by the driver itself.
	if _, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err == nil {
		t.Error("read-only BeginTx succeeded")
	}
	checkUsable(t, ctx, db, s)
	wantTx(t, s, TxStats{Begun: 2, Committed: 1, RolledBack: 1})
}

// TestTransactionEndWithoutBegin commits and rolls back on a connection
// with no transaction open, through the driver's own connection: the
// server answers with SQL Server's error numbers and the connection stays
// usable.
func TestTransactionEndWithoutBegin(t *testing.T) {
	var seen seenQueries
	s := Start(t, seen.handle)
	db := openDB(t, s, "")
	ctx := testCtx(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		end    func(driver.Tx) error
		number int32
	}{
		{driver.Tx.Commit, errNoTranToCommit},
		{driver.Tx.Rollback, errNoTranToRollback},
	} {
		err := conn.Raw(func(dc any) error { return c.end(dc.(driver.Tx)) })
		var me mssql.Error
		if !errors.As(err, &me) || me.Number != c.number || !strings.Contains(me.Message, "no transaction open") {
			t.Errorf("got %v, want error %d", err, c.number)
		}
	}
	conn.Close()
	checkUsable(t, ctx, db, s)
	wantTx(t, s, TxStats{})
}

// rawClient speaks TDS to a Server byte by byte, for requests go-mssqldb
// never sends.
type rawClient struct {
	t  *testing.T
	nc net.Conn
}

// dialRaw connects and logs in to database master with 4096-byte packets.
func dialRaw(t *testing.T, s *Server) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if err := nc.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c := &rawClient{t: t, nc: nc}
	c.exchange(pktPrelogin, 0, nil)
	login := make([]byte, 94)
	binary.LittleEndian.PutUint32(login[8:], 4096)
	c.roundTrip(pktLogin7, 0, login)
	return c
}

// exchange sends one single-packet request and returns the reply.
func (c *rawClient) exchange(typ, status byte, data []byte) []byte {
	c.t.Helper()
	pkt := []byte{typ, statusEOM | status, 0, 0, 0, 0, 1, 0}
	binary.BigEndian.PutUint16(pkt[2:], uint16(headerLen+len(data)))
	if _, err := c.nc.Write(append(pkt, data...)); err != nil {
		c.t.Fatal(err)
	}
	m, err := readMessage(c.nc)
	if err != nil || m.typ != pktReply {
		c.t.Fatalf("reply: %v, type 0x%02X", err, m.typ)
	}
	return m.data
}

// roundTrip is exchange for a reply of tokens, which it splits.
func (c *rawClient) roundTrip(typ, status byte, data []byte) []token {
	c.t.Helper()
	return splitTokens(c.t, c.exchange(typ, status, data))
}

// token is one token of a reply: its type and the bytes after it (without
// a length prefix).
type token struct {
	typ  byte
	body []byte
}

// splitTokens splits the token kinds the server sends outside result sets.
func splitTokens(t *testing.T, d []byte) []token {
	t.Helper()
	var toks []token
	for len(d) > 0 {
		var n, skip int
		switch d[0] {
		case tokEnvChange, tokError, tokLoginAck:
			if len(d) < 3 {
				t.Fatalf("token 0x%02X cut short", d[0])
			}
			n, skip = int(binary.LittleEndian.Uint16(d[1:])), 3
		case tokDone, tokDoneProc, tokDoneInProc:
			n, skip = 12, 1
		case tokReturnStatus:
			n, skip = 4, 1
		default:
			t.Fatalf("unexpected token 0x%02X", d[0])
		}
		if len(d) < skip+n {
			t.Fatalf("token 0x%02X cut short", d[0])
		}
		toks = append(toks, token{d[0], d[skip : skip+n]})
		d = d[skip+n:]
	}
	return toks
}

// errorOf returns the number and message of the reply's ERROR token.
func errorOf(t *testing.T, toks []token) (int32, string) {
	t.Helper()
	for _, tok := range toks {
		if tok.typ == tokError {
			r := &reader{b: tok.body}
			num := int32(r.u32())
			r.u8()
			r.u8()
			msg := ucs2(r.bytes(2 * int(r.u16())))
			return num, msg
		}
	}
	return 0, ""
}

// allHeadersWith is an ALL_HEADERS block with a transaction descriptor
// header for descr and one outstanding request.
func allHeadersWith(descr uint64) []byte {
	b := appendU32(nil, 22)
	b = appendU32(b, 18)
	b = appendU16(b, hdrTransDescr)
	b = appendU64(b, descr)
	return appendU32(b, 1)
}

// tm is a TransactionManager request of type typ carrying descr, with
// the payload.
func tm(descr uint64, typ uint16, payload ...byte) []byte {
	return append(appendU16(allHeadersWith(descr), typ), payload...)
}

func batch(descr uint64, sql string) []byte {
	b, _ := appendUCS2(allHeadersWith(descr), sql)
	return b
}

// txEnv is the body of a transaction ENVCHANGE as go-mssqldb reads it.
func txEnv(typ byte, newDescr, oldDescr uint64) []byte {
	return appendTxEnvChange(nil, typ, newDescr, oldDescr)[3:]
}

// wantReply checks a reply's ENVCHANGE bodies and that it ends with a
// DONE of the given status.
func wantReply(t *testing.T, what string, toks []token, status uint16, envs ...[]byte) {
	t.Helper()
	var got [][]byte
	for _, tok := range toks {
		if tok.typ == tokEnvChange {
			got = append(got, tok.body)
		}
	}
	last := toks[len(toks)-1]
	if last.typ != tokDone || binary.LittleEndian.Uint16(last.body) != status {
		t.Errorf("%s: ends with token 0x%02X %x, want DONE status %#x", what, last.typ, last.body, status)
	}
	if len(got) != len(envs) {
		t.Fatalf("%s: %d ENVCHANGEs %x, want %x", what, len(got), got, envs)
	}
	for i := range envs {
		if string(got[i]) != string(envs[i]) {
			t.Errorf("%s: ENVCHANGE %x, want %x", what, got[i], envs[i])
		}
	}
}

// TestTransactionManagerWire checks the server's answers byte by byte:
// descriptors in ENVCHANGE, chained transactions, mismatched descriptors,
// unsupported requests, and transactions ended by a session reset or a
// closed connection.
func TestTransactionManagerWire(t *testing.T) {
	seen := seenQueries{empty: true}
	s := Start(t, seen.handle)
	c := dialRaw(t, s)
	begin := tm(0, tmBeginXact, 0, 0) // isolation "use current", no name
	d1, d2, d3 := uint64(firstTxDescr), uint64(firstTxDescr+1), uint64(firstTxDescr+2)

	wantReply(t, "begin", c.roundTrip(pktTransMgr, 0, begin), 0, []byte{envBeginTran, 8, 0x01, 0, 0, 0x34, 0x12, 0x05, 0, 0, 0})
	if toks := c.roundTrip(pktSQLBatch, 0, batch(d1, "SELECT inside")); toks[len(toks)-1].typ != tokDone {
		t.Errorf("batch in the transaction: %x", toks)
	}
	if q := seen.last(t, "inside"); q.Transaction != d1 || q.Database != "master" {
		t.Errorf("handler saw %+v", q)
	}
	for _, tc := range []struct {
		what string
		typ  byte
		data []byte
		num  int32
		msg  string
	}{
		{"batch without the descriptor", pktSQLBatch, batch(0, "SELECT nope"), errResumeTran, "names transaction 0000000000000000 but the open one is 0000051234000001"},
		{"batch with another descriptor", pktSQLBatch, batch(d2, "SELECT nope"), errResumeTran, "names transaction 0000051234000002"},
		{"nested begin", pktTransMgr, begin, 50000, "nested transactions are not supported"},
		{"commit of another descriptor", pktTransMgr, tm(d2, tmCommitXact, 0, 0), errResumeTran, "names transaction 0000051234000002"},
		{"DTC address", pktTransMgr, tm(d1, tmGetDTCAddress, 0, 0), 50000, "TM_GET_DTC_ADDRESS (type 0) is not supported"},
		{"propagate", pktTransMgr, tm(d1, tmPropagateXact, 0, 0), 50000, "TM_PROPAGATE_XACT (type 1) is not supported"},
		{"promote", pktTransMgr, tm(d1, tmPromoteXact), 50000, "TM_PROMOTE_XACT (type 6) is not supported"},
		{"savepoint", pktTransMgr, tm(d1, tmSaveXact, 1, 'a', 0), 50000, "TM_SAVE_XACT (type 9) is not supported"},
		{"unknown type", pktTransMgr, tm(d1, 42), 50000, "UNKNOWN (type 42) is not supported"},
		{"short commit", pktTransMgr, tm(d1, tmCommitXact), 50000, "malformed TransactionManager request"},
		{"bad ALL_HEADERS", pktTransMgr, []byte{200, 0, 0, 0, 5, 0}, 50000, "ALL_HEADERS of 200 bytes"},
	} {
		toks := c.roundTrip(tc.typ, 0, tc.data)
		if num, msg := errorOf(t, toks); num != tc.num || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: error %d %q, want %d %q", tc.what, num, msg, tc.num, tc.msg)
		}
		wantReply(t, tc.what, toks, doneError)
	}
	wantTx(t, s, TxStats{Begun: 1})

	// Commit and begin the next transaction in one request.
	wantReply(t, "chained commit", c.roundTrip(pktTransMgr, 0, tm(d1, tmCommitXact, 0, fBeginXact, 2, 0)), 0,
		txEnv(envCommitTran, 0, d1), txEnv(envBeginTran, d2, 0))
	wantTx(t, s, TxStats{Begun: 2, Committed: 1})
	wantReply(t, "rollback", c.roundTrip(pktTransMgr, 0, tm(d2, tmRollbackXact, 0, 0)), 0, txEnv(envRollbackTran, 0, d2))
	wantTx(t, s, TxStats{Begun: 2, Committed: 1, RolledBack: 1})
	if num, _ := errorOf(t, c.roundTrip(pktTransMgr, 0, tm(0, tmRollbackXact, 0, 0))); num != errNoTranToRollback {
		t.Errorf("rollback without a transaction: error %d", num)
	}

	// A request that resets the session ends the open transaction and runs
	// outside it.
	wantReply(t, "third begin", c.roundTrip(pktTransMgr, 0, begin), 0, txEnv(envBeginTran, d3, 0))
	if num, msg := errorOf(t, c.roundTrip(pktSQLBatch, statusReset, batch(0, "SELECT reset"))); num != 0 {
		t.Errorf("batch resetting the session: error %d %s", num, msg)
	}
	wantTx(t, s, TxStats{Begun: 3, Committed: 1, RolledBack: 1, Dropped: 1})

	// A connection closed inside a transaction drops it.
	c.roundTrip(pktTransMgr, 0, begin)
	wantTx(t, s, TxStats{Begun: 4, Committed: 1, RolledBack: 1, Dropped: 1})
	c.nc.Close()
	waittest.For(t, 5*time.Second, "the server to drop the closed connection's transaction", func() bool { return s.Transactions().Dropped >= 2 })
	if got := s.Transactions(); got.Dropped != 2 || got.Open() != 0 {
		t.Errorf("after the connection closed: %+v", got)
	}
}
