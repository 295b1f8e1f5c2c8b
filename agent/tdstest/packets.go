package tdstest

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync/atomic"
)

// Packet types (MS-TDS 2.2.3.1.1).
const (
	pktSQLBatch  = 0x01
	pktRPC       = 0x03
	pktReply     = 0x04
	pktAttention = 0x06
	pktTransMgr  = 0x0E
	pktLogin7    = 0x10
	pktPrelogin  = 0x12
)

const (
	headerLen      = 8
	statusEOM      = 0x01    // last packet of a message
	statusReset    = 0x08    // RESETCONNECTION: reset the session before the request
	defaultPktSize = 4096    // packet size until LOGIN7 negotiates another
	maxMessage     = 1 << 26 // bound on one client message (64 MiB)
)

// message is one client request: the payloads of its packets, up to the one
// flagged end-of-message, joined. reset reports the RESETCONNECTION flag of
// its first packet.
type message struct {
	typ   byte
	reset bool
	data  []byte
}

// readMessage reads one whole message from r.
func readMessage(r io.Reader) (message, error) {
	var m message
	var hdr [headerLen]byte
	for i := 0; ; i++ {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return m, err
		}
		n := int(binary.BigEndian.Uint16(hdr[2:4])) - headerLen
		switch {
		case n < 0:
			return m, fmt.Errorf("tdstest: packet length %d shorter than its header", n+headerLen)
		case i == 0:
			m.typ, m.reset = hdr[0], hdr[1]&statusReset != 0
		case hdr[0] != m.typ:
			return m, fmt.Errorf("tdstest: packet type 0x%02X inside a 0x%02X message", hdr[0], m.typ)
		}
		if len(m.data)+n > maxMessage || i > maxMessage/headerLen {
			return m, fmt.Errorf("tdstest: message larger than %d bytes", maxMessage)
		}
		m.data = append(m.data, make([]byte, n)...)
		if _, err := io.ReadFull(r, m.data[len(m.data)-n:]); err != nil {
			return m, err
		}
		if hdr[1]&statusEOM != 0 {
			return m, nil
		}
	}
}

// packetStats counts what a server sent, for this package's own tests.
type packetStats struct {
	packets   atomic.Int64
	maxPacket atomic.Int64
	rows      atomic.Int64
}

// replyWriter cuts a token stream into reply packets of at most size bytes.
// Full packets go out as soon as more data follows them, so a reader that
// does not keep up blocks the writer (TCP backpressure); end sends the rest
// flagged end-of-message.
type replyWriter struct {
	w     io.Writer
	size  int
	buf   []byte // pending packet, header included
	seq   byte
	err   error // first write error; later writes are skipped
	stats *packetStats
}

func newReplyWriter(w io.Writer, size int, stats *packetStats) *replyWriter {
	return &replyWriter{w: w, size: size, buf: make([]byte, headerLen, size), seq: 1, stats: stats}
}

// Write appends token bytes to the reply.
func (p *replyWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 && p.err == nil {
		if len(p.buf) == p.size {
			p.flush(0)
			continue
		}
		k := min(p.size-len(p.buf), len(b))
		p.buf = append(p.buf, b[:k]...)
		b = b[k:]
	}
	return n, p.err
}

// end sends the last packet of the reply and reports the first write error.
func (p *replyWriter) end() error {
	p.flush(statusEOM)
	return p.err
}

func (p *replyWriter) flush(status byte) {
	if p.err != nil {
		return
	}
	h := p.buf[:headerLen]
	h[0], h[1] = pktReply, status
	binary.BigEndian.PutUint16(h[2:4], uint16(len(p.buf)))
	h[4], h[5], h[6], h[7] = 0, 0, p.seq, 0 // SPID 0, packet number, window
	if _, p.err = p.w.Write(p.buf); p.err != nil {
		return
	}
	p.stats.packets.Add(1)
	for n := int64(len(p.buf)); ; {
		old := p.stats.maxPacket.Load()
		if n <= old || p.stats.maxPacket.CompareAndSwap(old, n) {
			break
		}
	}
	p.seq++
	p.buf = p.buf[:headerLen]
}
