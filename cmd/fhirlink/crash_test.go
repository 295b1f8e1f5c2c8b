//go:build linux

package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/nakagami/firebirdsql"

	"fhirlink/agent/fbtest"
	"fhirlink/agent/pgtest"
	"fhirlink/agent/waittest"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	fbtest.Stop()
	fhirvalidate.Stop()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// fhirlinkBinary builds the fhirlink binary once for the test run.
func fhirlinkBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "fhirlink-bin-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "fhirlink")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// procs is a server and an agent run as separate fhirlink processes on
// loopback, the agent's tunnel through a [fhirlinktest.Proxy], as a new
// user would run them.
type procs struct {
	t            testing.TB
	bin, dir     string
	listen       string
	siteID, key  string
	integratorID string
	agentArgs    []string
	proxy        *fhirlinktest.Proxy
	server       *exec.Cmd
	agent        *exec.Cmd
	serverStarts int
	agentStarts  int
	exited       map[*exec.Cmd]chan struct{} // closed once the process is gone
}

func startProcs(t *testing.T, engine, dsn string) *procs {
	p := &procs{t: t, bin: fhirlinkBinary(t), dir: t.TempDir(), exited: map[*exec.Cmd]chan struct{}{}}
	t.Cleanup(p.stop) // kills what runs, and shows the logs when the test failed
	state := "--database=" + filepath.Join(p.dir, "state.db")
	var site, in map[string]string
	p.admin(&site, "site-create", state, "--name", "Crash Practice")
	p.admin(&in, "integrator-create", state, "--name", "Acme")
	p.admin(nil, "pair", state, "--integrator", in["integratorId"], "--site", site["siteId"])
	p.siteID, p.key, p.integratorID = site["siteId"], in["primaryKey"], in["integratorId"]

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.listen = ln.Addr().String()
	ln.Close()
	p.startServer()
	p.proxy = fhirlinktest.NewProxy(t, p.listen)
	cfg := filepath.Join(p.dir, "agent", "agent.json")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	os.WriteFile(cfg, []byte("{}"), 0o600)
	p.agentArgs = []string{"agent", "run", "--config", cfg, "--server", "http://" + p.proxy.Addr(),
		"--site-id", site["siteId"], "--secret", site["secret"], "--engine", engine,
		"--catalogue", "BPSPatients=" + dsn, "--allow-writes", "--log-level", "debug"}
	// The practice grants the integrator writes, as it would.
	if out, err := exec.Command(p.bin, "agent", "grant-writes", "--config", cfg, "--server", "http://"+p.listen,
		"--site-id", site["siteId"], "--secret", site["secret"], "--integrator", in["integratorId"]).CombinedOutput(); err != nil {
		t.Fatalf("grant-writes: %v\n%s", err, out)
	}
	p.startAgent()
	p.waitOnline()
	return p
}

func (p *procs) admin(out any, args ...string) {
	p.t.Helper()
	cmd := exec.Command(p.bin, append([]string{"admin"}, args...)...)
	b, err := cmd.Output()
	if err != nil {
		p.t.Fatalf("admin %v: %v %s", args, err, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			p.t.Fatalf("admin %v: %s", args, b)
		}
	}
}

func (p *procs) start(name string, n int, args ...string) *exec.Cmd {
	p.t.Helper()
	log, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("%s-%d.log", name, n)))
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(p.bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	exited := make(chan struct{})
	p.exited[cmd] = exited
	go func() { cmd.Wait(); log.Close(); close(exited) }()
	return cmd
}

func (p *procs) startServer() {
	p.serverStarts++
	p.server = p.start("server", p.serverStarts, "server", "--listen", p.listen,
		"--database", filepath.Join(p.dir, "state.db"), "--results-dir", filepath.Join(p.dir, "results"), "--log-level", "debug",
		"--rate-limit", "0") // the test polls
	waittest.For(p.t, 20*time.Second, "the server to listen", func() bool {
		resp, err := http.Get("http://" + p.listen + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
}

func (p *procs) startAgent() {
	p.agentStarts++
	p.agent = p.start("agent", p.agentStarts, p.agentArgs...)
}

// kill kills a process (stopped or not) and waits (at most 10 s) for it to
// be gone.
func (p *procs) kill(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited[cmd]:
	case <-time.After(10 * time.Second):
	}
}

func (p *procs) stop() {
	if p.t.Failed() {
		p.t.Log(p.logs())
	}
	p.kill(p.agent)
	p.kill(p.server)
}

func (p *procs) logs() string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(p.dir, "*.log"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if len(data) > 20000 {
			data = data[len(data)-20000:]
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", filepath.Base(f), data)
	}
	return b.String()
}

func (p *procs) do(method, path string, body any, out any) int {
	p.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, "http://"+p.listen+"/integrator/sites/"+p.siteID+path, rd)
	req.Header.Set(api.KeyHeader, p.key)
	req.Header.Set("Content-Type", "application/json")
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func (p *procs) waitOnline() {
	p.t.Helper()
	waittest.For(p.t, 30*time.Second, "the site online", func() bool {
		var st struct{ Availability string }
		return p.do("GET", "", nil, &st) == 200 && st.Availability == "online"
	})
}

type asyncObject struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Result *struct {
		RowsAffected *int64 `json:"rowsAffected"`
	} `json:"result"`
	ErrorDetails *struct {
		ErrorType    string `json:"errorType"`
		ErrorCode    int    `json:"errorCode"`
		ErrorMessage string `json:"errorMessage"`
	} `json:"errorDetails"`
}

func (p *procs) createAsync(text, mode string) string {
	p.t.Helper()
	var obj asyncObject
	code := p.do("POST", "/queries/async", map[string]any{"command": map[string]any{"text": text, "executionMode": mode}}, &obj)
	if code != http.StatusCreated || obj.ID == "" {
		p.t.Fatalf("create async: %d %+v", code, obj)
	}
	return obj.ID
}

func (p *procs) status(id string) asyncObject {
	var obj asyncObject
	p.do("GET", "/queries/"+id, nil, &obj)
	return obj
}

// waitEnded waits (at most bound) for the query to end, recording the
// statuses it went through.
func (p *procs) waitEnded(id string, bound time.Duration) (asyncObject, []string) {
	p.t.Helper()
	var seen []string
	var obj asyncObject
	waittest.For(p.t, bound, "query "+id+" to end", func() bool {
		obj = p.status(id)
		if obj.Status != "" && (len(seen) == 0 || seen[len(seen)-1] != obj.Status) {
			seen = append(seen, obj.Status)
		}
		switch obj.Status {
		case "", "queued", "initialising", "executing", "uploading":
			return false
		}
		return true
	})
	return obj, seen
}

// journalState reads the agent's execution journal (beside its config) as
// another process may: what it recorded of id.
func (p *procs) journalState(id string) string {
	path := filepath.Join(p.dir, "agent", "executions.db")
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return ""
	}
	defer db.Close()
	var state string
	db.QueryRow("SELECT state FROM executions WHERE id = ?", id).Scan(&state)
	return state
}

// journalResult is the result the agent's journal keeps with id's record: what a repeat of
// the id is answered with.
func (p *procs) journalResult(id string) string {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(p.dir, "agent", "executions.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return ""
	}
	defer db.Close()
	var result sql.NullString
	db.QueryRow("SELECT result FROM executions WHERE id = ?", id).Scan(&result)
	return result.String
}

// crashDB is a practice database for the crash tests: a gate row the test
// holds locked so that the agent's write waits for it, and the tables the
// writes insert into.
type crashDB struct {
	engine, dsn string
	db          *sql.DB
	// write is the async write of table: one row into it, waiting for the
	// gate; returning is the same write returning the row (n).
	write, returning func(table string) string
	// waiting reports whether the agent's write into table waits for the
	// gate in the database.
	waiting func(p *procs, table, id string) bool
}

// hold takes the gate in a transaction of the test; release rolls it back
// and lets the waiting write go on.
func (c *crashDB) hold(t *testing.T) (release func()) {
	t.Helper()
	tx, err := c.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("UPDATE gate SET n = n + 1 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback() }) }
	t.Cleanup(release)
	return release
}

func (c *crashDB) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := c.db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (c *crashDB) setup(t *testing.T, tables ...string) {
	t.Helper()
	stmts := []string{"CREATE TABLE gate (id INTEGER NOT NULL PRIMARY KEY, n INTEGER NOT NULL)"}
	for _, tb := range tables {
		stmts = append(stmts, "CREATE TABLE "+tb+" (n INTEGER)")
	}
	for _, s := range stmts {
		if _, err := c.db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if _, err := c.db.Exec("INSERT INTO gate (id, n) VALUES (1, 0)"); err != nil {
		t.Fatal(err)
	}
}

func openCrashDB(t *testing.T, engine string) *crashDB {
	t.Helper()
	c := &crashDB{engine: engine}
	var driver, testDSN string
	switch engine {
	case "postgres":
		c.dsn = pgtest.DSN(t)
		driver, testDSN = "pgx", c.dsn
		c.write = func(table string) string {
			return "INSERT INTO " + table + " (n) SELECT 1 FROM gate WHERE id = 1 FOR UPDATE"
		}
		c.returning = func(table string) string { return c.write(table) + " RETURNING n" }
		c.waiting = func(_ *procs, table, _ string) bool {
			var n int
			c.db.QueryRow("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1",
				"INSERT INTO "+table+" %").Scan(&n)
			return n > 0
		}
	case "firebird":
		c.dsn = fbtest.DSN(t)
		driver, testDSN = "firebirdsql", c.dsn
		c.write = func(table string) string {
			return "EXECUTE BLOCK AS BEGIN UPDATE gate SET n = n WHERE id = 1; INSERT INTO " + table + " (n) VALUES (1); END"
		}
		c.returning = func(table string) string {
			return "EXECUTE BLOCK RETURNS (n INTEGER) AS BEGIN UPDATE gate SET n = n WHERE id = 1; INSERT INTO " + table +
				" (n) VALUES (1) RETURNING n INTO :n; SUSPEND; END"
		}
		c.waiting = func(_ *procs, table, _ string) bool {
			// A new transaction for each look: the monitoring tables are a
			// snapshot taken once per transaction.
			tx, err := c.db.Begin()
			if err != nil {
				return false
			}
			defer tx.Rollback()
			var n int
			tx.QueryRow("SELECT COUNT(*) FROM MON$STATEMENTS WHERE MON$STATE <> 0 AND MON$ATTACHMENT_ID <> CURRENT_CONNECTION AND MON$SQL_TEXT CONTAINING ?",
				"INSERT INTO "+table+" ").Scan(&n)
			return n > 0
		}
	case "sqlite":
		path := filepath.Join(t.TempDir(), "practice.db")
		c.dsn = path + "?_pragma=busy_timeout(30000)"
		driver, testDSN = "sqlite", c.dsn
		c.write = func(table string) string { return "INSERT INTO " + table + " (n) VALUES (1)" }
		c.returning = func(table string) string { return c.write(table) + " RETURNING n" }
		// SQLite shows no waiting statement: the agent's journal shows
		// the write handed to the database (it then waits for the lock).
		c.waiting = func(p *procs, _, id string) bool { return p.journalState(id) == "running" }
	}
	db, err := sql.Open(driver, testDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c.db = db
	return c
}

// TestAsyncWriteRunsOnceThroughCrashes is issue 16 as a new user met it, with
// separate processes on loopback: an async nonQuery is executing when the
// server, the agent or the tunnel fails around the agent's commit, and the
// write must take effect once, whatever happens after.
func TestAsyncWriteRunsOnceThroughCrashes(t *testing.T) {
	for _, engine := range []string{"postgres", "sqlite", "firebird"} {
		t.Run(engine, func(t *testing.T) {
			c := openCrashDB(t, engine)
			c.setup(t, "w_server", "w_agent", "w_rows", "w_cut_before", "w_cut_after")
			p := startProcs(t, engine, c.dsn)

			// The write waits for the gate; the agent has it.
			begin := func(t *testing.T, table string) (string, func()) {
				p.t = t // failures belong to the subtest
				release := c.hold(t)
				text := c.write(table)
				if table == "w_rows" {
					text = c.returning(table)
				}
				id := p.createAsync(text, "nonQuery")
				waittest.For(p.t, 30*time.Second, "the agent's write waiting in the database", func() bool { return c.waiting(p, table, id) })
				return id, release
			}
			wantOnce := func(t *testing.T, table, id string, obj asyncObject, seen []string) {
				t.Helper()
				if obj.Status != "successful" || obj.Result == nil || obj.Result.RowsAffected == nil {
					t.Fatalf("%s: ended %+v (statuses %v), want successful with rowsAffected", table, obj, seen)
				}
				if n := c.count(t, table); n != 1 {
					t.Fatalf("%s has %d rows after the crash (statuses %v), want 1: the write ran %d times", table, n, seen, n)
				}
			}

			t.Run("server frozen after the agent's commit, then killed", func(t *testing.T) {
				id, release := begin(t, "w_server")
				p.server.Process.Signal(syscall.SIGSTOP)
				release()
				waittest.For(p.t, 30*time.Second, "the agent's commit", func() bool { return c.count(t, "w_server") == 1 })
				p.kill(p.server)
				restarted := time.Now()
				p.startServer()
				obj, seen := p.waitEnded(id, 30*time.Second)
				wantOnce(t, "w_server", id, obj, seen)
				// The lease: the interrupted write was taken up within
				// seconds of the restart, not after a minute.
				if took := time.Since(restarted); took > 20*time.Second {
					t.Errorf("the write was settled %s after the restart, want within 20 s", took)
				}
			})

			// The agent dies after its commit, before its answer arrives; w_rows is a
			// write that returns rows, which are on disk with the commit, before any of
			// the answer left, so that a repeat of the id is answered with them.
			for _, table := range []string{"w_agent", "w_rows"} {
				t.Run("agent killed after its commit, before answering: "+table, func(t *testing.T) {
					p.t = t
					p.waitOnline()
					id, release := begin(t, table)
					p.proxy.Freeze()
					release()
					waittest.For(p.t, 30*time.Second, "the agent's commit recorded", func() bool {
						return c.count(t, table) == 1 && p.journalState(id) == "committed"
					})
					kept := func() {
						r := p.journalResult(id)
						if table == "w_rows" && (!strings.Contains(strings.ToLower(r), `"rows":[{"n":1}]`) || !strings.Contains(r, `"count":1`)) {
							t.Errorf("the journal keeps %s for the write, want its row", r)
						}
					}
					kept()
					p.kill(p.agent)
					p.proxy.Cut() // what the agent wrote before it died never arrives
					p.proxy.Thaw()
					p.startAgent()
					obj, seen := p.waitEnded(id, 30*time.Second)
					wantOnce(t, table, id, obj, seen)
					kept()
				})
			}

			t.Run("tunnel cut after the agent's commit", func(t *testing.T) {
				p.t = t
				p.waitOnline()
				id, release := begin(t, "w_cut_after")
				p.proxy.Freeze()
				release()
				waittest.For(p.t, 30*time.Second, "the agent's commit", func() bool { return c.count(t, "w_cut_after") == 1 })
				p.proxy.Cut()
				p.proxy.Thaw()
				obj, seen := p.waitEnded(id, 30*time.Second)
				wantOnce(t, "w_cut_after", id, obj, seen)
			})

			t.Run("tunnel cut while the write waits in the database", func(t *testing.T) {
				p.t = t
				p.waitOnline()
				id, release := begin(t, "w_cut_before")
				p.proxy.Cut()
				// The agent cancels the statement when its session ends; the
				// write is then never run again, even once the gate opens.
				obj, seen := p.waitEnded(id, 30*time.Second)
				release()
				if obj.Status != "executionFailed" || obj.ErrorDetails == nil || !strings.Contains(obj.ErrorDetails.ErrorMessage, "not run again") {
					t.Fatalf("ended %+v %+v (statuses %v), want executionFailed saying it is not run again", obj, obj.ErrorDetails, seen)
				}
				p.waitOnline()
				// A read through the same agent: it is back, and the row
				// count is what the database says after the gate opened.
				if n := c.count(t, "w_cut_before"); n != 0 {
					t.Fatalf("w_cut_before has %d rows, want 0: the cancelled write ran", n)
				}
			})
		})
	}
}
