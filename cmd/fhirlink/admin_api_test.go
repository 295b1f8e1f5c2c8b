package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/server"
	"fhirlink/server/admin"
)

// lockedBuffer is a bytes.Buffer safe for a command's goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeAddr is a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// background runs a command line until the test ends; its log is printed
// if the test failed.
func background(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var log lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, &log, &log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not stop", name)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, log.String())
		}
	})
}

// shape is a JSON value with every string, number and boolean blanked:
// what two answers of one command share when their ids and secrets differ.
func shape(t *testing.T, out string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %q", out)
	}
	var blank func(any) any
	blank = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				v[k] = blank(x)
			}
			return v
		case []any:
			if len(v) == 0 {
				return v
			}
			return []any{blank(v[0])}
		}
		return nil
	}
	return blank(v)
}

// Every admin command runs the same on the state store and through a
// running server's admin API: same output (up to fresh ids and secrets),
// same errors, and the changes of either seen by the other. Over the API,
// a wrong token is refused with 401, and every call is audited with the
// operator's name.
func TestAdminCommandsOnStoreAndServer(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	operators := filepath.Join(dir, "operators")
	code, out, errOut := runCmd(t, "admin", "operator-token", "--name", "alice@example", "--file", operators)
	var tok map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil || len(tok["token"]) < 40 {
		t.Fatalf("operator-token: %d %s %s", code, out, errOut)
	}
	if b, _ := os.ReadFile(operators); bytes.Contains(b, []byte(tok["token"])) {
		t.Fatal("the operators file holds the token itself")
	}
	if code, _, _ := runCmd(t, "admin", "operator-token", "--name", "bad name", "--file", operators); code != 1 {
		t.Fatalf("a name with a space: exit %d", code)
	}

	listen, adminAddr := freeAddr(t), freeAddr(t)
	background(t, "server", "server", "--listen", listen, "--database", state, "--admin-addr", adminAddr, "--admin-tokens", operators, "--log-level", "debug")
	waittest.For(t, 30*time.Second, "the admin API listening", func() bool {
		resp, err := http.Get("http://" + adminAddr + "/openapi.json")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	t.Setenv("FHIRLINK_ADMIN_TOKEN", tok["token"])
	onStore := []string{"--database", state}
	onServer := []string{"--server", "http://" + adminAddr}

	// both runs one command both ways and checks the answers agree; it
	// returns them decoded.
	bothWith := func(wantCode int, storeArgs, serverArgs []string) (store, srv map[string]any) {
		t.Helper()
		var outs [2]string
		for i, where := range [][]string{onStore, onServer} {
			args := [][]string{storeArgs, serverArgs}[i]
			a := append([]string{"admin", args[0]}, append(slices.Clone(where), args[1:]...)...)
			code, out, errOut := runCmd(t, a...)
			if code != wantCode {
				t.Fatalf("%v: exit %d, want %d: %s %s", a, code, wantCode, out, errOut)
			}
			outs[i] = out + errOut
		}
		if wantCode != 0 {
			if outs[0] != outs[1] {
				t.Fatalf("%s: the store said %q, the server %q", storeArgs[0], outs[0], outs[1])
			}
			return nil, nil
		}
		if a, b := shape(t, outs[0]), shape(t, outs[1]); !reflect.DeepEqual(a, b) {
			t.Fatalf("%s answers differ:\nstore:  %s\nserver: %s", storeArgs[0], outs[0], outs[1])
		}
		var m [2]map[string]any
		for i := range outs {
			json.Unmarshal([]byte(outs[i]), &m[i])
		}
		return m[0], m[1]
	}
	both := func(wantCode int, args ...string) (store, srv map[string]any) {
		t.Helper()
		return bothWith(wantCode, args, args)
	}
	// same runs a command both ways and wants the very same output.
	same := func(args ...string) string {
		t.Helper()
		var outs [2]string
		for i, where := range [][]string{onStore, onServer} {
			a := append([]string{"admin", args[0]}, append(slices.Clone(where), args[1:]...)...)
			code, out, errOut := runCmd(t, a...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", a, code, errOut)
			}
			outs[i] = out
		}
		if outs[0] != outs[1] {
			t.Fatalf("%s: the store said\n%s\nthe server\n%s", args[0], outs[0], outs[1])
		}
		return outs[0]
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }

	sa, sb := both(0, "site-create", "--name", "Harbour Medical", "--pms-type", "Zedmed")
	siteA, siteB := str(sa, "siteId"), str(sb, "siteId")
	both(1, "site-create", "--name", "")
	both(1, "site-create", "--name", "X", "--pms-type", "Medtech")
	both(1, "site-create", "--name", "X", "--id", "not-a-uuid")
	if list := same("site-list"); !strings.Contains(list, siteA) || !strings.Contains(list, siteB) {
		t.Fatalf("site-list lacks a site: %s", list)
	}
	both(0, "site-rotate-secret", "--site", siteA)
	both(1, "site-rotate-secret", "--site", "00000000-0000-0000-0000-000000000000")
	both(0, "site-enroll-code", "--site", siteA, "--ttl", "1h")
	both(1, "site-enroll-code", "--site", siteA, "--ttl", "1000h")

	ia, ib := both(0, "integrator-create", "--name", "Acme")
	inA, inB := str(ia, "integratorId"), str(ib, "integratorId")
	if list := same("integrator-list"); !strings.Contains(list, inA) || !strings.Contains(list, inB) {
		t.Fatalf("integrator-list: %s", list)
	}
	both(0, "integrator-rotate-key", "--integrator", inA, "--slot", "secondary")
	both(1, "integrator-rotate-key", "--integrator", inA, "--slot", "tertiary")

	// Pairings: each way pairs its own integrator; both see both.
	for _, in := range []string{"--store", "--server"} {
		where, integrator := onStore, inA
		if in == "--server" {
			where, integrator = onServer, inB
		}
		if code, _, errOut := runCmd(t, append(append([]string{"admin", "pair"}, where...), "--integrator", integrator, "--site", siteA)...); code != 0 {
			t.Fatalf("pair %s: %s", in, errOut)
		}
	}
	if p := same("pairings", "--site", siteA); !strings.Contains(p, inA) || !strings.Contains(p, inB) {
		t.Fatalf("pairings: %s", p)
	}
	both(1, "pairings", "--site", "")
	both(0, "pairing-code", "--site", siteA)
	both(0, "block", "--integrator", inA, "--site", siteA)
	both(1, "block", "--site", siteA)
	both(0, "quarantine", "--site", siteB)
	if b := same("blocks"); !strings.Contains(b, inA) || !strings.Contains(b, siteB) {
		t.Fatalf("blocks: %s", b)
	}
	both(0, "unquarantine", "--site", siteB)
	both(1, "unblock", "--integrator", inA) // no block from every site, either way
	if code, _, errOut := runCmd(t, "admin", "unblock", "--server", "http://"+adminAddr, "--integrator", inA, "--site", siteA); code != 0 {
		t.Fatalf("unblock: %s", errOut)
	}
	if b := same("blocks"); strings.Contains(b, inA) {
		t.Fatalf("the block stayed: %s", b)
	}

	jwks := filepath.Join(dir, "jwks.json")
	os.WriteFile(jwks, []byte(`{"keys":[{"kty":"EC","kid":"k","crv":"P-384","x":"`+strings.Repeat("A", 64)+`","y":"`+strings.Repeat("A", 64)+`"}]}`), 0o600)
	both(1, "client-create", "--integrator", inA, "--jwks-file", jwks, "--scope", "system/*.rs")
	both(1, "client-create", "--integrator", inA, "--jwks-url", "http://acme.example/jwks", "--scope", "system/*.rs")
	ca, cb := both(0, "client-create", "--integrator", inA, "--jwks-url", "https://acme.example/jwks", "--scope", "system/*.rs")
	if cl := same("client-list", "--integrator", inA); !strings.Contains(cl, str(ca, "clientId")) || !strings.Contains(cl, str(cb, "clientId")) {
		t.Fatalf("client-list: %s", cl)
	}
	bothWith(0, []string{"client-delete", "--client", str(ca, "clientId")}, []string{"client-delete", "--client", str(cb, "clientId")})
	both(1, "client-delete", "--client", str(ca, "clientId"))
	both(0, "rotate-signing-key")

	both(0, "quota", "--integrator", inA, "--site", siteA, "--daily-queries", "3")
	both(1, "quota", "--integrator", inA, "--daily-bytes", "-5")
	if q := same("quota", "--integrator", inA); !strings.Contains(q, `"dailyQueries": 3`) {
		t.Fatalf("quota: %s", q)
	}
	both(0, "webhook", "--integrator", inA, "--url", "https://acme.example/hook")
	both(1, "webhook", "--integrator", inA, "--url", "ftp://x")
	if code, _, _ := runCmd(t, "admin", "webhook", "--database", state, "--integrator", inA, "--delete"); code != 0 {
		t.Fatal("webhook --delete failed")
	}
	both(1, "webhook", "--integrator", inA, "--delete") // nothing left to delete
	both(0, "console-link", "--site", siteA, "--base-url", "https://fhirlink.example")
	both(0, "console-link", "--integrator", inA, "--ttl", "1h")
	both(1, "console-link", "--site", siteA, "--integrator", inA)
	both(1, "console-link", "--site", siteA, "--ttl", "48h")
	bothWith(0, []string{"unpair", "--integrator", inA, "--site", siteA}, []string{"unpair", "--integrator", inB, "--site", siteA})
	both(1, "audit", "--from", "last tuesday")
	// The audit writer gathers records for a moment before it writes them,
	// so the quarantine's record shows within that.
	waittest.For(t, 10*time.Second, "the quarantine's audit record over the API", func() bool {
		var code int
		code, out, errOut = runCmd(t, "admin", "audit", "--server", "http://"+adminAddr, "--site", siteB)
		if code != 0 {
			t.Fatalf("audit over the API: %d %s %s", code, out, errOut)
		}
		return strings.Contains(out, `"interaction": "quarantine"`)
	})

	// Pushing settings reaches the agent only through the server.
	secret, _ := runCmdJSON(t, "admin", "site-rotate-secret", "--database", state, "--site", siteA)
	practice := filepath.Join(dir, "practice.db")
	os.WriteFile(practice, nil, 0o600)
	agentCfg := filepath.Join(dir, "agent.json")
	os.WriteFile(agentCfg, []byte("{}"), 0o600)
	background(t, "agent", "agent", "run", "--config", agentCfg, "--server", "http://"+listen, "--site-id", siteA, "--secret", secret["secret"],
		"--engine", "sqlite", "--catalogue", "BPSPatients="+practice, "--pms-type", "Zedmed", "--journal", filepath.Join(dir, "journal.db"))
	var pushed map[string]any
	waittest.For(t, 30*time.Second, "the agent taking pushed settings", func() bool {
		code, out, _ := runCmd(t, "admin", "push-settings", "--server", "http://"+adminAddr, "--site", siteA, "--concurrency", "3", "--max-timeout", "20s")
		return code == 0 && json.Unmarshal([]byte(out), &pushed) == nil
	})
	if pushed["concurrency"] != 3.0 || pushed["maxTimeoutMs"] != 20000.0 {
		t.Fatalf("settings in force: %v", pushed)
	}
	if code, _, errOut := runCmd(t, "admin", "push-settings", "--database", state, "--site", siteA, "--concurrency", "3"); code != 1 || !strings.Contains(errOut, "--server") {
		t.Fatalf("push-settings on the store: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "admin", "push-settings", "--server", "http://"+adminAddr, "--site", siteB, "--concurrency", "3"); code != 1 || !strings.Contains(errOut, "not connected") {
		t.Fatalf("push-settings to a site without agent: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "admin", "push-settings", "--server", "http://"+adminAddr, "--site", siteA, "--concurrency", "100000"); code != 1 || !strings.Contains(errOut, "refused") {
		t.Fatalf("settings the agent refuses: %d %s", code, errOut)
	}

	// A wrong or missing token: 401, nothing done.
	t.Setenv("FHIRLINK_ADMIN_TOKEN", "wrong")
	if code, _, errOut := runCmd(t, "admin", "site-create", "--server", "http://"+adminAddr, "--name", "Intruder"); code != 1 || !strings.Contains(errOut, "unknown operator token") {
		t.Fatalf("wrong token: %d %s", code, errOut)
	}
	resp, err := http.Post("http://"+adminAddr+admin.PathPrefix+"site-list", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %s", resp.Status)
	}
	t.Setenv("FHIRLINK_ADMIN_TOKEN", tok["token"])
	if list := same("site-list"); strings.Contains(list, "Intruder") {
		t.Fatal("a refused call changed the store")
	}
	// Deleting the operator's line revokes the token at once.
	os.WriteFile(operators, []byte("# nobody\n"), 0o600)
	if code, _, errOut := runCmd(t, "admin", "site-list", "--server", "http://"+adminAddr); code != 1 || !strings.Contains(errOut, "unknown operator token") {
		t.Fatalf("revoked token: %d %s", code, errOut)
	}

	// The audit log has every call over the API, with the operator.
	var recs []server.AuditRecord
	waittest.For(t, 10*time.Second, "the admin calls' audit records", func() bool {
		_, out, _ := runCmd(t, "admin", "audit", "--database", state, "--limit", "10000")
		recs = nil
		json.Unmarshal([]byte(out), &recs)
		n := 0
		for _, r := range recs {
			if r.Kind == server.AuditAdmin && r.Status == http.StatusUnauthorized {
				n++
			}
		}
		return n == 3
	})
	ops := map[string]bool{}
	for _, r := range recs {
		if r.Kind != server.AuditAdmin {
			continue
		}
		if r.Status != http.StatusUnauthorized {
			if !strings.HasPrefix(r.Query, "operator=alice@example ") || r.ClientAddr != "127.0.0.1" {
				t.Fatalf("admin record without its operator: %+v", r)
			}
			ops[r.Interaction] = true
		}
		if r.Interaction == "quarantine" && r.SiteID != siteB {
			t.Fatalf("quarantine record without its site: %+v", r)
		}
	}
	for _, o := range admin.Ops {
		if !ops[o.Name] {
			t.Errorf("no audit record of a successful %s over the API", o.Name)
		}
	}
}

// runCmdJSON runs a command that must succeed and decodes its output.
func runCmdJSON(t *testing.T, args ...string) (map[string]string, string) {
	t.Helper()
	code, out, errOut := runCmd(t, args...)
	var m map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil {
		t.Fatalf("%v: %d %s %s", args, code, out, errOut)
	}
	return m, out
}
