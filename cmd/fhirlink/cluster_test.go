//go:build linux

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"fhirlink/agent/pgtest"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/mappings/bppremier/bpsynth/synthtest"
	"fhirlink/server/cluster/natstest"
	"fhirlink/server/fhirlinktest"
)

// fleet is several `fhirlink server` processes sharing one PostgreSQL and
// one NATS server, behind a round-robin load balancer, with an agent
// process per site dialling the balancer: the set-up of "Running several
// nodes", on loopback.
type fleet struct {
	*procs
	state    string // the shared state store
	natsURL  string
	nodes    []*exec.Cmd
	args     [][]string // each node's command line, to restart it
	addrs    []string   // each node's own address
	lb       *balancer
	sites    []string
	key      string
	restarts int
}

func startFleet(t *testing.T, nodes, sites int, practiceDSN string) *fleet {
	f := &fleet{procs: &procs{t: t, bin: fhirlinkBinary(t), dir: t.TempDir(), exited: map[*exec.Cmd]chan struct{}{}}, state: pgtest.DSN(t)}
	f.natsURL = natstest.URL(t)

	for i := range nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f.addrs = append(f.addrs, ln.Addr().String())
		ln.Close()
		// One result store for all: a directory here, a shared file system
		// or object storage in production.
		f.args = append(f.args, []string{"server", "--listen", f.addrs[i], "--database", f.state,
			"--nats", f.natsURL, "--node-id", fmt.Sprintf("node%d", i),
			"--results-dir", filepath.Join(f.dir, "results"), "--log-level", "debug", "--rate-limit", "0"})
		f.nodes = append(f.nodes, f.start("node", i, f.args[i]...))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(f.logs())
		}
		for _, n := range f.nodes {
			f.kill(n)
		}
	})
	for _, addr := range f.addrs {
		f.waitListening(addr)
	}
	f.lb = startBalancer(t, f.addrs)

	var in map[string]string
	f.admin(&in, "integrator-create", "--database", f.state, "--name", "Acme")
	f.key = in["primaryKey"]
	for i := range sites {
		var site map[string]string
		f.admin(&site, "site-create", "--database", f.state, "--name", fmt.Sprintf("Practice %d", i))
		f.admin(nil, "pair", "--database", f.state, "--integrator", in["integratorId"], "--site", site["siteId"])
		f.sites = append(f.sites, site["siteId"])
		cfg := filepath.Join(f.dir, fmt.Sprintf("agent%d.json", i))
		if err := os.WriteFile(cfg, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		a := f.start("agent", i, "agent", "run", "--config", cfg,
			"--server", "http://"+f.lb.addr(), "--site-id", site["siteId"], "--secret", site["secret"],
			"--engine", "postgres", "--catalogue", "BPSPatients="+practiceDSN, "--log-level", "debug")
		t.Cleanup(func() { f.kill(a) })
	}
	for _, site := range f.sites {
		for _, addr := range f.addrs {
			f.waitSite(addr, site, "online")
		}
	}
	return f
}

func (f *fleet) waitListening(addr string) {
	waittest.For(f.t, 30*time.Second, "node "+addr+" listening", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
}

// restart starts node i again (after a kill), as an operator would, and
// puts it back behind the balancer.
func (f *fleet) restart(i int) {
	f.t.Helper()
	f.restarts++
	f.nodes[i] = f.start("node", i+10*f.restarts, f.args[i]...)
	f.waitListening(f.addrs[i])
	f.lb.mu.Lock()
	f.lb.down[i] = false
	f.lb.mu.Unlock()
}

// call sends a request as the paired integrator to addr (a node or the
// balancer) and returns the status, headers and body.
func (f *fleet) call(ctx context.Context, addr, method, path string, body any, header ...string) (int, http.Header, []byte, error) {
	return fhirlinktest.Do(ctx, method, "http://"+addr+path, f.key, body, header...)
}

// get is call with a 30 s bound that fails the test on a transport error.
func (f *fleet) get(addr, path string, header ...string) (int, http.Header, []byte) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status, h, b, err := f.call(ctx, addr, http.MethodGet, path, nil, header...)
	if err != nil {
		f.t.Fatalf("GET %s%s: %v", addr, path, err)
	}
	return status, h, b
}

func (f *fleet) immediate(addr, site, text string) (int, http.Header, *fhirlinktest.QueryObject) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status, h, b, err := f.call(ctx, addr, http.MethodPost, "/integrator/sites/"+site+"/queries/immediate", fhirlinktest.Command(text))
	if err != nil {
		f.t.Fatalf("immediate at %s: %v", addr, err)
	}
	var q fhirlinktest.QueryObject
	if err := json.Unmarshal(b, &q); err != nil {
		f.t.Fatalf("immediate at %s: %d %s", addr, status, b)
	}
	q.Raw = b
	return status, h, &q
}

func (f *fleet) waitSite(addr, site, want string) {
	f.t.Helper()
	waittest.For(f.t, 30*time.Second, "site "+site+" "+want+" at "+addr, func() bool {
		var st struct{ Availability string }
		status, _, b := f.get(addr, "/integrator/sites/"+site)
		return status == http.StatusOK && json.Unmarshal(b, &st) == nil && st.Availability == want
	})
}

// balancer is a round-robin reverse proxy on 127.0.0.1 in front of the
// nodes, as production has one: it passes WebSocket upgrades (agents dial
// through it), stops sending to a node once a request to it failed, and
// answers 503 with Retry-After when it cannot reach the node it chose. It
// records which node each site's agent session went to, and a request with
// an X-Test-Node header goes to that node, so a test can aim.
type balancer struct {
	ln       net.Listener
	backends []*url.URL

	mu     sync.Mutex
	next   int
	down   map[int]bool
	agents map[string]int // site → node of its agent's last session
}

func startBalancer(t *testing.T, addrs []string) *balancer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{ln: ln, down: map[int]bool{}, agents: map[string]int{}}
	for _, a := range addrs {
		b.backends = append(b.backends, &url.URL{Scheme: "http", Host: a})
	}
	srv := &http.Server{Handler: b}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return b
}

func (b *balancer) addr() string { return b.ln.Addr().String() }

func (b *balancer) pick(r *http.Request) int {
	if n, err := strconv.Atoi(r.Header.Get("X-Test-Node")); err == nil {
		return n
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for range b.backends {
		i := b.next % len(b.backends)
		b.next++
		if !b.down[i] {
			return i
		}
	}
	return 0
}

// holder is the node holding site's agent session.
func (b *balancer) holder(site string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.agents[site]
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := b.pick(r)
	site, _, _ := r.BasicAuth()
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(b.backends[i]) },
		ModifyResponse: func(resp *http.Response) error {
			if r.URL.Path == wire.PathConnect && resp.StatusCode == http.StatusSwitchingProtocols {
				b.mu.Lock()
				b.agents[site] = i
				b.mu.Unlock()
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			b.mu.Lock()
			b.down[i] = true
			b.mu.Unlock()
			w.Header().Set("Retry-After", "1")
			http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
		},
	}
	p.ServeHTTP(w, r)
}

// practiceDB is a synthetic Bp Premier practice on PostgreSQL, which every
// site's agent serves.
func practiceDB(t *testing.T) (dsn string, db *sql.DB) {
	t.Helper()
	return synthtest.PostgresPractice(t)
}

// TestSeveralNodes is issue 11's routing and failure as an operator runs
// them: three server processes on one PostgreSQL and one NATS server behind
// a load balancer, twenty agents dialling the balancer. Every kind of request
// sent to every node reaches every site's agent, whichever node holds it; a
// paging walk hops nodes page by page; an export is polled and downloaded
// through other nodes, and one whose node is killed mid-way completes on
// another with every resource once; async queries go on when a node dies;
// a node killed mid-query fails its requests cleanly (503 + Retry-After, no
// hang) and its agents come back through other nodes.
func TestSeveralNodes(t *testing.T) {
	dsn, db := practiceDB(t)
	f := startFleet(t, 3, 20, dsn)
	var fhirOut []json.RawMessage
	var patients int
	if err := db.QueryRow(`SELECT count(*) FROM "PATIENTS" WHERE "RECORDSTATUS" = 1`).Scan(&patients); err != nil {
		t.Fatal(err)
	}

	t.Run("every request kind at every node", func(t *testing.T) {
		f.t = t
		holders := map[int]bool{}
		for _, site := range f.sites {
			holders[f.lb.holder(site)] = true
		}
		if len(holders) < 2 {
			t.Fatalf("every agent connected to the same node (%v): nothing would be routed", holders)
		}
		for n, addr := range f.addrs {
			for _, site := range f.sites {
				what := fmt.Sprintf("node %d, site held by node %d", n, f.lb.holder(site))
				status, _, q := f.immediate(addr, site, "SELECT 41 + 1 AS answer")
				if status != http.StatusOK || q.Status != "successful" || string(q.Result.Data) != `[{"answer":42}]` {
					t.Fatalf("%s: immediate answered %d %s", what, status, q.Raw)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				status, _, b, err := f.call(ctx, addr, http.MethodPost, "/integrator/sites/"+site+"/queries/immediate",
					fhirlinktest.Command("SELECT n, md5(n::text) AS h FROM generate_series(1, 20000) AS n"), "Accept", "application/x-ndjson")
				cancel()
				if lines := bytes.Count(b, []byte("\n")); err != nil || status != http.StatusOK || lines != 20000 {
					t.Fatalf("%s: NDJSON stream answered %d with %d lines, %v", what, status, lines, err)
				}
				base := "/integrator/sites/" + site + "/fhir/R4/"
				status, _, b = f.get(addr, base+"Patient?_count=3")
				var bundle struct {
					Entry []struct {
						Resource struct{ ID string }
					}
				}
				if status != http.StatusOK || json.Unmarshal(b, &bundle) != nil || len(bundle.Entry) != 3 {
					t.Fatalf("%s: search answered %d %.300s", what, status, b)
				}
				fhirOut = append(fhirOut, b)
				status, _, b = f.get(addr, base+"Patient/"+bundle.Entry[0].Resource.ID)
				if status != http.StatusOK {
					t.Fatalf("%s: read answered %d %.300s", what, status, b)
				}
				fhirOut = append(fhirOut, b)
			}
		}
	})

	t.Run("a paging walk across nodes", func(t *testing.T) {
		f.t = t
		site := f.sites[0]
		next := "http://" + f.addrs[0] + "/integrator/sites/" + site + "/fhir/R4/Patient?_count=40"
		seen := map[string]bool{}
		for page := 0; next != ""; page++ {
			u, err := url.Parse(next)
			if err != nil {
				t.Fatal(err)
			}
			status, _, b := f.get(f.addrs[page%len(f.addrs)], u.RequestURI()) // each page at the next node
			var bundle struct {
				Link  []struct{ Relation, URL string }
				Entry []struct {
					Resource struct{ ID string }
				}
			}
			if status != http.StatusOK || json.Unmarshal(b, &bundle) != nil {
				t.Fatalf("page %d: %d %.300s", page, status, b)
			}
			fhirOut = append(fhirOut, b)
			next = ""
			for _, l := range bundle.Link {
				if l.Relation == "next" {
					next = l.URL
				}
			}
			for _, e := range bundle.Entry {
				if seen[e.Resource.ID] {
					t.Fatalf("page %d repeats Patient/%s", page, e.Resource.ID)
				}
				seen[e.Resource.ID] = true
			}
		}
		if len(seen) != patients {
			t.Fatalf("the walk found %d patients, want %d", len(seen), patients)
		}
	})
	fhirvalidate.Resources(t, fhirOut...)

	sharedWork(t, f, db, patients)

	t.Run("a node killed mid-query", func(t *testing.T) {
		f.t = t
		site := f.sites[0]
		dead := f.lb.holder(site)
		other := (dead + 1) % len(f.addrs)
		// One query routed through another node to the doomed holder, one
		// sent through the balancer to the doomed node itself.
		type result struct {
			status int
			header http.Header
			err    error
			took   time.Duration
		}
		routed, direct := make(chan result, 1), make(chan result, 1)
		send := func(out chan<- result, addr, marker string, header ...string) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			start := time.Now()
			status, h, _, err := f.call(ctx, addr, http.MethodPost, "/integrator/sites/"+site+"/queries/immediate",
				fhirlinktest.Command("SELECT pg_sleep(30) AS "+marker), header...)
			out <- result{status, h, err, time.Since(start)}
		}
		go send(routed, f.addrs[other], "routed_marker")
		go send(direct, f.lb.addr(), "direct_marker", "X-Test-Node", strconv.Itoa(dead))
		waittest.For(f.t, 20*time.Second, "both statements running in the practice database", func() bool {
			var n int
			db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND (query LIKE '%routed_marker%' OR query LIKE '%direct_marker%') AND pid <> pg_backend_pid()`).Scan(&n)
			return n == 2
		})
		f.kill(f.nodes[dead])
		for name, c := range map[string]chan result{"routed through node " + strconv.Itoa(other): routed, "sent to the killed node": direct} {
			select {
			case r := <-c:
				if r.err != nil || r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
					t.Errorf("query %s: %d %v (Retry-After %q), want 503 with Retry-After", name, r.status, r.err, r.header.Get("Retry-After"))
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("query %s still waiting 15 s after the node died", name)
			}
		}
		waittest.For(f.t, 20*time.Second, "the statements cancelled in the practice database", func() bool {
			var n int
			db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%_marker%' AND pid <> pg_backend_pid()`).Scan(&n)
			return n == 0
		})

		// The dead node's agents reconnect through the balancer to the
		// others, and every site answers at every living node.
		for _, s := range f.sites {
			for n, addr := range f.addrs {
				if n == dead {
					continue
				}
				f.waitSite(addr, s, "online")
				if status, _, q := f.immediate(addr, s, "SELECT 1 AS one"); status != http.StatusOK {
					t.Fatalf("after the kill, site %s at node %d: %d %s", s, n, status, q.Raw)
				}
			}
			if h := f.lb.holder(s); h == dead {
				t.Fatalf("site %s's agent is still recorded at the dead node", s)
			}
		}
	})
}
