package wire

import (
	"encoding/binary"
	"io"
	"net"
	"time"

	"github.com/hashicorp/yamux"
)

// YamuxConfig is the session configuration both ends use: transport
// heartbeats every keepAlive, and a session whose writes stall for twice that
// is closed, so a dead connection is noticed within seconds on both sides.
func YamuxConfig(keepAlive time.Duration) *yamux.Config {
	cfg := yamux.DefaultConfig()
	cfg.EnableKeepAlive = true
	cfg.KeepAliveInterval = keepAlive
	cfg.ConnectionWriteTimeout = 2 * keepAlive
	// A 1 MB window lets a result stream without stalling for window
	// updates on a fast link, and still bounds what a slow reader buffers per
	// stream.
	cfg.MaxStreamWindowSize = 1 << 20
	cfg.LogOutput = io.Discard
	return cfg
}

// FrameConn wraps the WebSocket connection a yamux session runs on so that
// each yamux data frame travels as one WebSocket message. yamux writes a
// frame's 12-byte header and its body with two calls; on a WebSocket each
// call is a message and a system call, which doubled the per-query cost.
// Only yamux's single send loop writes to the connection, so FrameConn needs
// no lock.
func FrameConn(c net.Conn) net.Conn { return &frameConn{Conn: c} }

type frameConn struct {
	net.Conn
	held bool
	buf  []byte
}

const (
	yamuxHeaderLen = 12
	yamuxTypeData  = 0
)

func (c *frameConn) Write(p []byte) (int, error) {
	if !c.held && len(p) == yamuxHeaderLen && p[1] == yamuxTypeData && binary.BigEndian.Uint32(p[8:]) > 0 {
		// A data header whose body is the next write: hold it.
		c.buf = append(c.buf[:0], p...)
		c.held = true
		return len(p), nil
	}
	if !c.held {
		return c.Conn.Write(p)
	}
	c.held = false
	c.buf = append(c.buf, p...)
	if _, err := c.Conn.Write(c.buf); err != nil {
		return 0, err
	}
	if cap(c.buf) > 1<<20 {
		c.buf = nil // do not keep a large body's buffer for ever
	}
	return len(p), nil
}
