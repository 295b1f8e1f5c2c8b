//go:build linux

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/tunnel"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/cluster/natstest"
	"fhirlink/server/sqlite"
)

// BenchmarkThousandAgentsRSS reports the resident memory of one `fhirlink
// server` process holding 1,000 agent sessions that heartbeat (every 5 s,
// the default) for 15 s, alone and as a node routing through NATS (which
// adds a subscription per site). The agents are light: the real tunnel
// client serving only GET /v1/info, in the benchmark's process, so the
// figure is the server's alone. Printed, not asserted.
func BenchmarkThousandAgentsRSS(b *testing.B) {
	const agents = 1000
	bin := fhirlinkBinary(b)
	dir := b.TempDir()
	state := filepath.Join(dir, "state.db")
	st, err := sqlite.Open(context.Background(), state)
	if err != nil {
		b.Fatal(err)
	}
	var sites []string
	for i := range agents {
		id := uuid.NewString()
		if err := st.CreateSite(context.Background(), &server.Site{ID: id, Name: fmt.Sprintf("Practice %d", i), PMSType: wire.PMSBestPractice}, server.HashSecret("secret")); err != nil {
			b.Fatal(err)
		}
		sites = append(sites, id)
	}
	st.Close()
	natsURL := natstest.URL(b)

	for _, mode := range []struct {
		name  string
		extra []string
	}{{"alone", nil}, {"nats", []string{"--nats", natsURL, "--node-id", "bench"}}} {
		b.Run(mode.name, func(b *testing.B) {
			p := &procs{t: b, bin: bin, dir: dir, exited: map[*exec.Cmd]chan struct{}{}}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			srv := p.start(mode.name, 0, append([]string{"server", "--listen", addr, "--database", state,
				"--results-dir", filepath.Join(dir, "results"), "--log-level", "warn"}, mode.extra...)...)
			defer p.kill(srv)
			waittest.For(b, 20*time.Second, "the server listening", func() bool {
				resp, err := http.Get("http://" + addr + "/healthz")
				if err == nil {
					resp.Body.Close()
				}
				return err == nil
			})
			idle := rssKB(b, srv.Process.Pid)

			ctx, cancel := context.WithCancel(context.Background())
			var connected sync.WaitGroup
			connected.Add(agents)
			var wg sync.WaitGroup
			info := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"protocol":%q,"version":"bench","engine":"postgres","catalogues":[{"name":"BPSPatients","isDefault":true}],"concurrency":2}`, wire.Version)
			})
			for _, site := range sites {
				var once sync.Once
				c := &tunnel.Client{ServerURL: "http://" + addr, SiteID: site, Secret: "secret", Handler: info,
					OnConnect: func() { once.Do(connected.Done) }}
				wg.Add(1)
				go func() { defer wg.Done(); c.Run(ctx) }()
			}
			defer func() { cancel(); wg.Wait() }()
			waited := make(chan struct{})
			go func() { connected.Wait(); close(waited) }()
			select {
			case <-waited:
			case <-time.After(2 * time.Minute):
				b.Fatal("1,000 agents not connected within 2 minutes")
			}
			time.Sleep(15 * time.Second) // the measured period: three heartbeats each
			held := rssKB(b, srv.Process.Pid)
			b.ReportMetric(float64(idle)/1024, "idle-RSS-MB")
			b.ReportMetric(float64(held)/1024, "RSS-MB")
			b.ReportMetric(float64(held-idle)/agents, "KB/agent")
		})
	}
}

// rssKB is a process's resident set size.
func rssKB(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb
		}
	}
	b.Fatal("no VmRSS in /proc/pid/status")
	return 0
}
