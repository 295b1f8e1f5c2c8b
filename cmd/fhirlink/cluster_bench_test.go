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
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/tunnel"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/cluster/natstest"
	"fhirlink/server/fhirlinktest"
	"fhirlink/server/sqlite"
)

// BenchmarkAgentsRSS reports the resident memory and CPU of one `fhirlink
// server` process holding 1,000 and 10,000 agent sessions that heartbeat
// (every 5 s, the default) for 15 s, alone and as a node routing through
// NATS (which adds a subscription per site). The agents are light: the real
// tunnel client serving only GET /v1/info, in the benchmark's process, so
// the figures are the server's alone, with the state store reads a second
// the credential check makes (from the server's metrics). Printed, not
// asserted.
//
// 10,000 sessions need 10,000 descriptors in each process and 10,000
// ephemeral ports towards one address: the benchmark raises its soft
// descriptor limit to the hard one (the server inherits it) and skips the
// size the limit cannot hold; Linux's default port range (28,000 ports)
// holds them from 127.0.0.1.
func BenchmarkAgentsRSS(b *testing.B) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			lim = raised
		}
	}
	bin := fhirlinkBinary(b)
	natsURL := natstest.URL(b)
	for _, agents := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("agents=%d", agents), func(b *testing.B) {
			if uint64(agents)+200 > lim.Cur {
				b.Skipf("%d agents need %d file descriptors; the limit is %d", agents, agents+200, lim.Cur)
			}
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
			for _, mode := range []struct {
				name  string
				extra []string
			}{{"alone", nil}, {"nats", []string{"--nats", natsURL, "--node-id", "bench"}}} {
				b.Run(mode.name, func(b *testing.B) { benchAgents(b, bin, dir, state, sites, mode.name, mode.extra) })
			}
		})
	}
}

// The agents connect rampBatch every rampPause (500 a second): the figures
// are those of sessions held, and 10,000 agents dialling in the same second
// on the shared 2-core machine (the benchmark's agents and the server on the
// same cores) spent minutes in handshake timeouts and retries.
const (
	rampBatch = 100
	rampPause = 200 * time.Millisecond
)

func benchAgents(b *testing.B, bin, dir, state string, sites []string, name string, extra []string) {
	p := &procs{t: b, bin: bin, dir: dir, exited: map[*exec.Cmd]chan struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	metricsAddr := mln.Addr().String()
	mln.Close()
	srv := p.start(name, len(sites), append([]string{"server", "--listen", addr, "--database", state,
		"--metrics-addr", metricsAddr, "--results-dir", filepath.Join(dir, "results"), "--log-level", "warn"}, extra...)...)
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
	connected.Add(len(sites))
	var wg sync.WaitGroup
	info := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"protocol":%q,"version":"bench","engine":"postgres","catalogues":[{"name":"BPSPatients","isDefault":true}],"concurrency":2}`, wire.Version)
	})
	began := time.Now()
	for i, site := range sites {
		if i > 0 && i%rampBatch == 0 {
			time.Sleep(rampPause) // a ramp, not a reconnect storm: see rampBatch
		}
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
	case <-time.After(10 * time.Minute):
		b.Fatalf("%d agents not connected within 10 minutes", len(sites))
	}
	connectTook := time.Since(began)
	cpu0, reads0, at0 := cpuTicks(b, srv.Process.Pid), credentialReads(b, metricsAddr), time.Now()
	time.Sleep(15 * time.Second) // the measured period: three heartbeats each
	cpu1, reads1, at1 := cpuTicks(b, srv.Process.Pid), credentialReads(b, metricsAddr), time.Now()
	held := rssKB(b, srv.Process.Pid)
	b.ReportMetric(float64(sockets(b, srv.Process.Pid)), "sockets")
	b.ReportMetric(float64(idle)/1024, "idle-RSS-MB")
	b.ReportMetric(float64(held)/1024, "RSS-MB")
	b.ReportMetric(float64(held-idle)/float64(len(sites)), "KB/agent")
	// /proc/pid/stat counts in clock ticks of 1/100 s (USER_HZ on Linux).
	b.ReportMetric(100*float64(cpu1-cpu0)/100/at1.Sub(at0).Seconds(), "CPU-%")
	b.ReportMetric(connectTook.Seconds(), "connect-s")
	b.ReportMetric((reads1-reads0)/at1.Sub(at0).Seconds(), "store-reads/s")
}

// credentialReads is the server's count of the state store reads made to
// re-check its agents' credentials, from its metrics.
func credentialReads(b *testing.B, metricsAddr string) float64 {
	n, ok := fhirlinktest.Scrape(b, "http://"+metricsAddr+"/metrics").Value("fhirlink_agent_credential_reads_total")
	if !ok {
		b.Fatal("no fhirlink_agent_credential_reads_total in the server's metrics")
	}
	return n
}

// sockets is how many sockets a process has open: its agent sessions,
// give or take the listener and NATS.
func sockets(b *testing.B, pid int) int {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// cpuTicks is the user and system CPU time a process used, in clock ticks.
func cpuTicks(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name (which is in parentheses and may
	// hold spaces): utime and stime are the 12th and 13th.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(fields) < 13 {
		b.Fatalf("/proc/%d/stat: %q", pid, data)
	}
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", pid, data)
	}
	return ut + st
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
