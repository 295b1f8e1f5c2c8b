package fbtest_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/nakagami/firebirdsql"

	"fhirlink/agent/fbtest"
)

// The system's security database is never written: the server and the
// SYSDBA password use a private copy.
func TestMain(m *testing.M) {
	before := fileSum(systemSecDB)
	code := fbtest.Main(m)
	if after := fileSum(systemSecDB); after != before {
		fmt.Fprintf(os.Stderr, "%s changed during the tests\n", systemSecDB)
		code = 1
	}
	os.Exit(code)
}

const systemSecDB = "/var/lib/firebird/3.0/system/security3.fdb"

func fileSum(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "missing"
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// DSNCharset sets the new database's default character set.
func TestDSNCharset(t *testing.T) {
	for cs, want := range map[string]string{"WIN1252": "WIN1252", "NONE": "NONE"} {
		db, err := sql.Open("firebirdsql", fbtest.DSNCharset(t, cs))
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := db.QueryRow("SELECT TRIM(rdb$character_set_name) FROM rdb$database").Scan(&got); err != nil || got != want {
			t.Errorf("%s: default character set %q, %v", cs, got, err)
		}
		db.Close()
	}
}

// Each caller gets its own database on one shared Firebird 3 server.
func TestDSNGivesSeparateDatabases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	open := func(dsn string) *sql.DB {
		t.Helper()
		db, err := sql.Open("firebirdsql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dsnA, dsnB := fbtest.DSN(t), fbtest.DSN(t)
	if dsnA == dsnB {
		t.Fatalf("two calls returned the same DSN")
	}
	a, b := open(dsnA), open(dsnB)
	if _, err := a.ExecContext(ctx, "CREATE TABLE only_in_a (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRowContext(ctx, "SELECT count(*) FROM rdb$relations WHERE rdb$relation_name = 'ONLY_IN_A'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("a table created in one database is visible in the other")
	}
	var version string
	if err := a.QueryRowContext(ctx, "SELECT rdb$get_context('SYSTEM', 'ENGINE_VERSION') FROM rdb$database").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(version, "3.") {
		t.Errorf("engine version %q, want Firebird 3", version)
	}
	var charset string
	if err := a.QueryRowContext(ctx, "SELECT TRIM(rdb$character_set_name) FROM rdb$database").Scan(&charset); err != nil || charset != "UTF8" {
		t.Errorf("default character set %q, %v; want UTF8", charset, err)
	}
}

// The server listens on 127.0.0.1 only, and cannot be reached on the
// machine's other addresses.
func TestLoopbackOnly(t *testing.T) {
	addrs := fbtest.Listeners(t)
	if len(addrs) == 0 {
		t.Fatal("no listening socket found")
	}
	var port string
	for _, a := range addrs {
		host, p, _ := net.SplitHostPort(a)
		if host != "127.0.0.1" {
			t.Errorf("listens on %s", a)
		}
		port = p
	}
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, ia := range ifAddrs {
		ipnet, ok := ia.(*net.IPNet)
		if !ok || ipnet.IP.IsLoopback() || ipnet.IP.IsLinkLocalUnicast() {
			continue
		}
		addr := net.JoinHostPort(ipnet.IP.String(), port)
		if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
			c.Close()
			t.Errorf("the server accepts connections on %s", addr)
		}
	}
	if _, err := strconv.Atoi(port); err != nil {
		t.Errorf("port %q", port)
	}
}
