// Package pgtest starts a real, throwaway PostgreSQL for tests.
//
// One cluster is started lazily per test binary, the first time a test asks
// for a database, and every caller gets a fresh database of its own in it, so
// tests may run in parallel. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and call [DSN] in each test. The server listens on 127.0.0.1 only, runs
// with fsync off, is stopped by [Main] and dies with the test binary if that
// is killed. Tests never skip for want of PostgreSQL: missing binaries are
// installed with apt-get when running as root (unless FHIRLINK_NO_INSTALL is
// set); otherwise the test fails saying how to install them.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"fhirlink/agent/apttest"
)

// Bounds on every wait, so that a broken machine fails tests instead of hanging them.
const (
	installTimeout = 5 * time.Minute
	readyTimeout   = 30 * time.Second
	stopTimeout    = 15 * time.Second
	adminTimeout   = 30 * time.Second
)

var (
	once     sync.Once
	srv      *server
	startErr error
	dbCount  atomic.Int64
)

// server is the running cluster.
type server struct {
	root   string // temporary directory: data directory, socket, log
	port   int
	proc   *os.Process
	exited chan struct{} // closed when postgres has exited
}

// Main runs the tests and then stops the cluster, if one was started. It
// returns the exit code for os.Exit.
func Main(m *testing.M) int {
	code := m.Run()
	if srv != nil {
		srv.stop()
	}
	return code
}

// DSN returns the URL of a new, empty database for the calling test,
// starting the cluster on first use. The database is dropped when the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(func() { srv, startErr = start() })
	if startErr != nil {
		t.Fatalf("pgtest: %v", startErr)
	}
	name := fmt.Sprintf("pgtest_%d", dbCount.Add(1))
	if err := srv.admin("CREATE DATABASE " + name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	// Best effort: the whole cluster is removed at the end anyway.
	t.Cleanup(func() { _ = srv.admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	return srv.dsn(name)
}

func start() (*server, error) {
	bin := binDir()
	if bin == "" {
		if os.Geteuid() != 0 || os.Getenv("FHIRLINK_NO_INSTALL") != "" {
			return nil, fmt.Errorf("the PostgreSQL server (initdb, postgres) is not in /usr/lib/postgresql/*/bin " +
				"nor on PATH: install it, e.g. `sudo apt-get install -y postgresql` on Debian")
		}
		if err := apttest.Install("postgresql", installTimeout); err != nil {
			return nil, err
		}
		if bin = binDir(); bin == "" {
			return nil, fmt.Errorf("initdb not found after installing postgresql")
		}
	}
	root, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &server{root: root, exited: make(chan struct{})}
	data := filepath.Join(root, "data")
	attr := &syscall.SysProcAttr{}
	if os.Geteuid() == 0 { // initdb and postgres refuse to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			return s.fail(fmt.Errorf("running as root needs the postgres OS user: %v", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(root, uid, gid); err != nil {
			return s.fail(err)
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.Dir, initdb.SysProcAttr = root, attr // the postgres user may not enter the current directory
	if out, err := initdb.CombinedOutput(); err != nil {
		return s.fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0") // a free port; postgres binds it just after
	if err != nil {
		return s.fail(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	logFile, err := os.Create(filepath.Join(root, "postgres.log"))
	if err != nil {
		return s.fail(err)
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(s.port), "-k", data,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, logFile, logFile
	attr.Pdeathsig = syscall.SIGINT // stop postgres if the test binary dies first
	cmd.SysProcAttr = attr
	started := make(chan error)
	go func() {
		// The death signal follows the OS thread that started the child, not
		// the process: keep this goroutine, and so its thread, until postgres exits.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return s.fail(fmt.Errorf("start postgres: %v", err))
	}
	s.proc = cmd.Process
	if err := s.waitReady(); err != nil {
		out, _ := os.ReadFile(logFile.Name())
		return s.fail(fmt.Errorf("%v\npostgres log:\n%s", err, out))
	}
	return s, nil
}

// binDir is the directory of initdb and postgres: the highest version under
// /usr/lib/postgresql, else the one of postgres on PATH; "" when missing.
func binDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	major := func(d string) int { n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d))); return n }
	sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) > major(dirs[j]) })
	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

func (s *server) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	for {
		err := s.admin("SELECT 1")
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited during startup")
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within %v: %v", readyTimeout, err)
		}
	}
}

func (s *server) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// admin runs one statement on the maintenance database.
func (s *server) admin(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// stop shuts postgres down with SIGINT (fast shutdown) and removes its files.
func (s *server) stop() {
	if s.proc != nil {
		_ = s.proc.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			_ = s.proc.Kill()
			select {
			case <-s.exited:
			case <-time.After(stopTimeout):
			}
		}
	}
	os.RemoveAll(s.root)
}

// fail cleans up a cluster that did not start.
func (s *server) fail(err error) (*server, error) {
	s.stop()
	return nil, err
}
