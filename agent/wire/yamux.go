package wire

import (
	"io"
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
	cfg.LogOutput = io.Discard
	return cfg
}
