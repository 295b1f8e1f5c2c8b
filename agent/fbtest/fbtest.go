// Package fbtest starts a real, throwaway Firebird 3 server for tests.
//
// One server is started lazily per test binary, the first time a test asks
// for a database, and every caller gets a new database file of its own, so
// tests may run in parallel. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(fbtest.Main(m)) }
//
// and call [DSN] in each test.
//
// The Debian server binary binds every address when started plainly, so the
// server runs from a private copy of the Firebird root directory whose
// firebird.conf binds 127.0.0.1 on a free port, with a private copy of the
// security database whose SYSDBA password is set here (the system one is
// never opened). Once started, every listening socket of the server process
// is checked to be on 127.0.0.1, and the tests fail otherwise. The server
// runs as the firebird OS user, is stopped by [Main] and dies with the test
// binary if that is killed.
//
// Tests never skip for want of Firebird: the firebird3.0-server package is
// installed with apt-get when running as root (unless FHIRLINK_NO_INSTALL
// is set); otherwise the test fails saying how to install it. Running the
// server as the firebird user needs root.
package fbtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/nakagami/firebirdsql" // registers firebirdsql_createdb

	"fhirlink/agent/apttest"
)

// Files of the Debian firebird3.0-server package.
const (
	serverBin   = "/usr/sbin/firebird"
	isqlBin     = "/usr/bin/isql-fb"
	rootGlob    = "/usr/lib/*/firebird/3.0" // the multiarch directory varies
	systemSecDB = "/var/lib/firebird/3.0/system/security3.fdb"
	aptPackage  = "firebird3.0-server"
)

// Bounds on every wait, so that a broken machine fails tests instead of hanging them.
const (
	installTimeout = 5 * time.Minute
	setupTimeout   = 30 * time.Second
	readyTimeout   = 30 * time.Second
	termGrace      = 2 * time.Second
	stopTimeout    = 15 * time.Second
	adminTimeout   = 30 * time.Second
)

var (
	once     sync.Once
	srv      *server
	startErr error
	dbCount  atomic.Int64
)

// server is the running Firebird.
type server struct {
	dir      string // temporary directory: root copy, security db, databases, locks
	port     int
	password string // SYSDBA's, in the private security database
	proc     *os.Process
	exited   chan struct{} // closed when the server has exited
}

// Main runs the tests and then stops the server, if one was started. It
// returns the exit code for os.Exit.
func Main(m *testing.M) int {
	code := m.Run()
	Stop()
	return code
}

// Stop stops the server, if one was started, and removes its files: for a
// TestMain that already runs the tests through another helper's Main.
func Stop() {
	if srv != nil {
		srv.stop()
		srv = nil
	}
}

// DSN returns the firebirdsql DSN (SYSDBA on 127.0.0.1) of a new, empty
// database file for the calling test, starting the server on first use. The
// database's default character set is UTF8. The file is removed when the
// test ends.
func DSN(t testing.TB) string {
	t.Helper()
	return DSNCharset(t, "UTF8")
}

// DSNCharset is [DSN] with the database's default character set, such as
// WIN1252 or NONE, which columns without one of their own get. The DSN
// itself does not set the connection's character set: the driver's default
// (UTF8) applies.
func DSNCharset(t testing.TB, charset string) string {
	t.Helper()
	once.Do(func() { srv, startErr = start() })
	if startErr != nil {
		t.Fatalf("fbtest: %v", startErr)
	}
	path := filepath.Join(srv.dir, "db", fmt.Sprintf("fbtest_%d.fdb", dbCount.Add(1)))
	dsn := srv.dsn(path)
	// The driver creates the database with its connection's character set
	// as the default.
	if err := create(dsn + "?charset=" + url.QueryEscape(charset)); err != nil {
		t.Fatalf("fbtest: create %s: %v", path, err)
	}
	// Best effort: the whole directory is removed at the end anyway.
	t.Cleanup(func() { _ = os.Remove(path) })
	return dsn
}

// Listeners returns the addresses ("127.0.0.1:3050") the server's process
// listens on, starting the server if needed; for tests of this package.
func Listeners(t testing.TB) []string {
	t.Helper()
	once.Do(func() { srv, startErr = start() })
	if startErr != nil {
		t.Fatalf("fbtest: %v", startErr)
	}
	addrs, err := listeners(srv.proc.Pid)
	if err != nil {
		t.Fatalf("fbtest: %v", err)
	}
	return addrs
}

func (s *server) dsn(path string) string {
	return fmt.Sprintf("SYSDBA:%s@127.0.0.1:%d/%s", s.password, s.port, path)
}

// create makes the database file through the driver.
func create(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	db, err := sql.Open("firebirdsql_createdb", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.PingContext(ctx)
}

func start() (*server, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("running the Firebird server as the firebird OS user needs root; " +
			"run the tests as root (the package " + aptPackage + " is installed if missing)")
	}
	root := fbRoot()
	if root == "" {
		if os.Getenv("FHIRLINK_NO_INSTALL") != "" {
			return nil, fmt.Errorf("the Firebird 3 server (%s, %s) is not installed: "+
				"install it, e.g. `sudo apt-get install -y %s` on Debian", serverBin, rootGlob, aptPackage)
		}
		if err := apttest.Install(aptPackage, installTimeout); err != nil {
			return nil, err
		}
		if root = fbRoot(); root == "" {
			return nil, fmt.Errorf("%s not found after installing %s", serverBin, aptPackage)
		}
	}
	fb, err := user.Lookup("firebird")
	if err != nil {
		return nil, fmt.Errorf("the firebird OS user is missing (the package creates it): %v", err)
	}
	uid, _ := strconv.Atoi(fb.Uid)
	gid, _ := strconv.Atoi(fb.Gid)

	dir, err := os.MkdirTemp("", "fbtest-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, exited: make(chan struct{})}
	l, err := net.Listen("tcp", "127.0.0.1:0") // a free port; the server binds it just after
	if err != nil {
		return s.fail(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	if err := s.setup(root); err != nil {
		return s.fail(err)
	}
	if err := chownTree(dir, uid, gid); err != nil {
		return s.fail(err)
	}

	logFile, err := os.Create(filepath.Join(dir, "server.out"))
	if err != nil {
		return s.fail(err)
	}
	defer logFile.Close()
	cmd := exec.Command(serverBin)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logFile, logFile
	cmd.Env = s.env()
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}},
		Pdeathsig:  syscall.SIGKILL, // stop the server if the test binary dies first
	}
	started := make(chan error)
	go func() {
		// The death signal follows the OS thread that started the child, not
		// the process: keep this goroutine, and so its thread, until the
		// server exits.
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
		return s.fail(fmt.Errorf("start %s: %v", serverBin, err))
	}
	s.proc = cmd.Process
	if err := s.waitReady(); err != nil {
		return s.fail(fmt.Errorf("%v\n%s", err, s.logs()))
	}
	return s, nil
}

// fbRoot is the Firebird 3 root directory of the Debian package; "" when
// the package is missing.
func fbRoot() string {
	if _, err := os.Stat(serverBin); err != nil {
		return ""
	}
	if _, err := os.Stat(isqlBin); err != nil {
		return ""
	}
	if _, err := os.Stat(systemSecDB); err != nil {
		return ""
	}
	dirs, _ := filepath.Glob(rootGlob)
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "firebird.conf")); err == nil {
			return d
		}
	}
	return ""
}

// env is the environment of the server and of the embedded isql: the
// private root and its own lock and temporary directories, so that nothing
// is shared with another Firebird on the machine.
func (s *server) env() []string {
	return []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"FIREBIRD=" + filepath.Join(s.dir, "root"),
		"FIREBIRD_LOCK=" + filepath.Join(s.dir, "lock"),
		"FIREBIRD_TMP=" + filepath.Join(s.dir, "tmp"),
	}
}

// setup copies the root directory and the security database into s.dir,
// configures them, and sets a random SYSDBA password in the copy.
func (s *server) setup(root string) error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	priv := filepath.Join(s.dir, "root")
	// -L: the package's config files are symlinks into /etc.
	if out, err := exec.CommandContext(ctx, "cp", "-rL", root, priv).CombinedOutput(); err != nil {
		return fmt.Errorf("copy %s: %v\n%s", root, err, out)
	}
	for _, d := range []string{"lock", "tmp", "db"} {
		if err := os.Mkdir(filepath.Join(s.dir, d), 0o700); err != nil {
			return err
		}
	}
	secDB := filepath.Join(s.dir, "security3.fdb")
	if out, err := exec.CommandContext(ctx, "cp", systemSecDB, secDB).CombinedOutput(); err != nil {
		return fmt.Errorf("copy the security database: %v\n%s", err, out)
	}
	conf := map[string]string{
		"RemoteBindAddress": "127.0.0.1",
		"RemoteServicePort": strconv.Itoa(s.port),
		"SecurityDatabase":  secDB,
		"TempDirectories":   filepath.Join(s.dir, "tmp"),
	}
	if err := rewriteConf(filepath.Join(priv, "firebird.conf"), conf); err != nil {
		return err
	}
	// Only the security database's alias: no other aliases of the system.
	if err := os.WriteFile(filepath.Join(priv, "databases.conf"), []byte("security.db = "+secDB+"\n"), 0o644); err != nil {
		return err
	}

	pw := make([]byte, 12)
	if _, err := rand.Read(pw); err != nil {
		return err
	}
	s.password = hex.EncodeToString(pw)
	// Embedded isql, as root, on the private copy; the private firebird.conf
	// names the copy as the security database, so the user change lands
	// there.
	script := filepath.Join(s.dir, "sysdba.sql")
	sqlText := "CREATE OR ALTER USER SYSDBA PASSWORD '" + s.password + "' USING PLUGIN Srp;\nCOMMIT;\n"
	if err := os.WriteFile(script, []byte(sqlText), 0o600); err != nil {
		return err
	}
	defer os.Remove(script)
	isql := exec.CommandContext(ctx, isqlBin, "-q", "-b", "-user", "SYSDBA", "-i", script, secDB)
	isql.Dir, isql.Env = s.dir, s.env()
	if out, err := isql.CombinedOutput(); err != nil {
		return fmt.Errorf("set the SYSDBA password in the private security database: %v\n%s", err, out)
	}
	return nil
}

// rewriteConf comments out the active settings of keys in a firebird.conf
// and appends the values of keys.
func rewriteConf(path string, keys map[string]string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, line := range strings.Split(string(old), "\n") {
		k, _, ok := strings.Cut(line, "=")
		if _, set := keys[strings.TrimSpace(k)]; ok && set {
			line = "# " + line
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("\n# fbtest\n")
	for k, v := range keys {
		b.WriteString(k + " = " + v + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func chownTree(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// waitReady waits until the server accepts connections on its port, then
// checks that it listens on 127.0.0.1 only.
func (s *server) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-s.exited:
			return fmt.Errorf("the Firebird server exited during startup")
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the Firebird server did not accept connections on %s within %v: %v", addr, readyTimeout, err)
		}
	}
	addrs, err := listeners(s.proc.Pid)
	if err != nil {
		return err
	}
	found := false
	for _, a := range addrs {
		host, port, _ := net.SplitHostPort(a)
		if host != "127.0.0.1" {
			return fmt.Errorf("the Firebird server listens on %s: it must listen on 127.0.0.1 only (all: %v)", a, addrs)
		}
		found = found || port == strconv.Itoa(s.port)
	}
	if !found {
		return fmt.Errorf("the Firebird server does not listen on 127.0.0.1:%d (it listens on %v)", s.port, addrs)
	}
	return nil
}

// listeners returns the local addresses of the listening TCP sockets
// (IPv4 and IPv6) that process pid holds, from /proc.
func listeners(pid int) ([]string, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if ino, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	var addrs []string
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		found, err := listening(table, inodes)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		addrs = append(addrs, found...)
	}
	return addrs, nil
}

// listening reads one /proc/net/tcp table: the sockets in state LISTEN (0A)
// among inodes, as host:port.
func listening(table string, inodes map[string]bool) ([]string, error) {
	f, err := os.Open(table)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var addrs []string
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] {
			continue
		}
		hexIP, hexPort, _ := strings.Cut(fields[1], ":")
		raw, err1 := hex.DecodeString(hexIP)
		port, err2 := strconv.ParseUint(hexPort, 16, 16)
		if err1 != nil || err2 != nil || (len(raw) != 4 && len(raw) != 16) {
			return nil, fmt.Errorf("%s: cannot parse %q", table, fields[1])
		}
		// The kernel prints each 32-bit word of the address in host (little-endian) order.
		ip := make(net.IP, len(raw))
		for w := 0; w < len(raw); w += 4 {
			ip[w], ip[w+1], ip[w+2], ip[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
		}
		addrs = append(addrs, net.JoinHostPort(ip.String(), strconv.FormatUint(port, 10)))
	}
	return addrs, sc.Err()
}

// logs returns the server's output and its firebird.log, for errors.
func (s *server) logs() string {
	out, _ := os.ReadFile(filepath.Join(s.dir, "server.out"))
	log, _ := os.ReadFile(filepath.Join(s.dir, "root", "firebird.log"))
	return fmt.Sprintf("server output:\n%s\nfirebird.log:\n%s", out, log)
}

// stop ends the server with SIGTERM, and SIGKILL if it has not exited
// after termGrace (Firebird's orderly shutdown can take many seconds, and
// the databases are thrown away anyway), and removes its files.
func (s *server) stop() {
	if s.proc != nil {
		_ = s.proc.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(termGrace):
			_ = s.proc.Kill()
			select {
			case <-s.exited:
			case <-time.After(stopTimeout):
			}
		}
	}
	os.RemoveAll(s.dir)
}

// fail cleans up a server that did not start.
func (s *server) fail(err error) (*server, error) {
	s.stop()
	return nil, err
}

// Running counts the statements containing marker that the server is executing (MON$STATE
// 1: running, or waiting for a lock), seen from another connection of db. The MON$ tables
// are a snapshot taken once per transaction, so each look is a transaction of its own (the
// driver's autocommit only commits retaining).
func Running(t testing.TB, db *sql.DB, marker string) int {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM mon$statements WHERE mon$state = 1
		AND mon$attachment_id <> current_connection AND mon$sql_text CONTAINING ?`, marker).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
