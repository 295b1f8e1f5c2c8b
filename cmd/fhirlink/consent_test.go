package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fhirlink/server/api"
	"fhirlink/server/hub"
	"fhirlink/server/sqlite"
)

// The practice's and the operator's consent commands against a running
// server sharing the state store.
func TestConsentCLI(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	db := "--database=" + state
	decode := func(out string) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		return m
	}
	_, out, _ := runCmd(t, "admin", "site-create", db, "--name", "Harbour Medical", "--pms-site-id", "BP-9")
	site := decode(out)
	siteID := site["siteId"].(string)
	_, out, _ = runCmd(t, "admin", "integrator-create", db, "--name", "Acme")
	acme := decode(out)
	_, out, _ = runCmd(t, "admin", "integrator-create", db, "--name", "Bolt")
	bolt := decode(out)

	store, err := sqlite.Open(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv := &api.Server{Store: store, Mappings: api.DefaultMappings()}
	srv.Hub = &hub.Hub{Authenticate: srv.AuthenticateAgent}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	cfg := filepath.Join(dir, "agent.json")
	b, _ := json.Marshal(map[string]string{"server": base, "site-id": siteID, "secret": site["secret"].(string)})
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	call := func(method, path, key string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		req.Header.Set(api.KeyHeader, key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	redeem := func(key, code string) (int, string) {
		t.Helper()
		q := url.Values{"pairingCode": {code}, "practiceManagementSiteId": {"BP-9"}, "practiceManagementName": {"Best Practice"}}
		return call(http.MethodPost, "/integrator/pair-site?"+q.Encode(), key)
	}
	status := func(key string) (int, string) {
		t.Helper()
		return call(http.MethodGet, "/integrator/sites/"+siteID, key)
	}
	codeRe := regexp.MustCompile(`pairing code: (\S+)`)

	// The practice issues a code; Acme redeems it.
	code, out, errOut := runCmd(t, "agent", "pairing-code", "--config", cfg, "--ttl", "1h")
	m := codeRe.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("agent pairing-code: %d %s %s", code, out, errOut)
	}
	if st, body := redeem(acme["primaryKey"].(string), m[1]); st != http.StatusOK || !strings.Contains(body, siteID) {
		t.Fatalf("pair-site: %d %s", st, body)
	}
	if st, body := redeem(bolt["primaryKey"].(string), m[1]); st != http.StatusConflict {
		t.Fatalf("code reused: %d %s", st, body)
	}
	// The operator issues one; Bolt redeems it, but not for another practice.
	code, out, errOut = runCmd(t, "admin", "pairing-code", db, "--site", siteID)
	issued := decode(out)
	if code != 0 || issued["pairingCode"] == "" {
		t.Fatalf("admin pairing-code: %d %s %s", code, out, errOut)
	}
	q := url.Values{"pairingCode": {issued["pairingCode"].(string)}, "practiceManagementSiteId": {"BP-10"}}
	if st, body := call(http.MethodPost, "/integrator/pair-site?"+q.Encode(), bolt["primaryKey"].(string)); st != http.StatusNotFound {
		t.Fatalf("another practice's id: %d %s", st, body)
	}
	if st, body := redeem(bolt["primaryKey"].(string), issued["pairingCode"].(string)); st != http.StatusOK {
		t.Fatalf("pair-site with the operator's code: %d %s", st, body)
	}

	code, out, errOut = runCmd(t, "agent", "pairings", "--config", cfg)
	if code != 0 || !strings.Contains(out, acme["integratorId"].(string)) || !strings.Contains(out, "Bolt") {
		t.Fatalf("agent pairings: %d %s %s", code, out, errOut)
	}
	_, out, _ = runCmd(t, "admin", "pairings", db, "--site", siteID)
	var pairings []map[string]any
	if json.Unmarshal([]byte(out), &pairings); len(pairings) != 2 || pairings[0]["integratorName"] != "Acme" || pairings[0]["pairedAt"] == "" {
		t.Fatalf("admin pairings: %s", out)
	}

	// The practice revokes Acme.
	if code, out, errOut := runCmd(t, "agent", "revoke", "--config", cfg, acme["integratorId"].(string)); code != 0 {
		t.Fatalf("agent revoke: %d %s %s", code, out, errOut)
	}
	if st, body := status(acme["primaryKey"].(string)); st != http.StatusForbidden || !strings.Contains(body, "not paired") {
		t.Fatalf("revoked: %d %s", st, body)
	}
	if code, _, errOut := runCmd(t, "agent", "revoke", "--config", cfg); code == 0 || !strings.Contains(errOut, "integrator's id") {
		t.Fatalf("revoke without an id: %d %s", code, errOut)
	}

	// The operator blocks Bolt, then quarantines the site.
	boltKey, boltID := bolt["primaryKey"].(string), bolt["integratorId"].(string)
	if code, _, errOut := runCmd(t, "admin", "block", db, "--integrator", boltID, "--site", siteID); code != 0 {
		t.Fatalf("block: %s", errOut)
	}
	if st, body := status(boltKey); st != http.StatusForbidden || !strings.Contains(body, "blocked") {
		t.Fatalf("blocked: %d %s", st, body)
	}
	_, out, _ = runCmd(t, "admin", "blocks", db)
	if !strings.Contains(out, boltID) {
		t.Fatalf("blocks: %s", out)
	}
	if code, _, errOut := runCmd(t, "admin", "unblock", db, "--integrator", boltID); code != 1 || !strings.Contains(errOut, "not found") {
		t.Fatalf("lifting a block from every site that is not there: %d %s", code, errOut)
	}
	runCmd(t, "admin", "unblock", db, "--integrator", boltID, "--site", siteID)
	if st, body := status(boltKey); st != http.StatusOK {
		t.Fatalf("unblocked: %d %s", st, body)
	}
	runCmd(t, "admin", "block", db, "--integrator", boltID)
	if st, body := status(boltKey); st != http.StatusForbidden || !strings.Contains(body, "every site") {
		t.Fatalf("blocked everywhere: %d %s", st, body)
	}
	runCmd(t, "admin", "unblock", db, "--integrator", boltID)

	if code, _, errOut := runCmd(t, "admin", "quarantine", db, "--site", siteID); code != 0 {
		t.Fatalf("quarantine: %s", errOut)
	}
	if st, body := status(boltKey); st != http.StatusForbidden || !strings.Contains(body, "quarantined") {
		t.Fatalf("quarantined: %d %s", st, body)
	}
	if _, out, _ := runCmd(t, "admin", "blocks", db); !strings.Contains(out, siteID) {
		t.Fatalf("blocks lists no quarantine: %s", out)
	}
	runCmd(t, "admin", "unquarantine", db, "--site", siteID)
	if st, body := status(boltKey); st != http.StatusOK {
		t.Fatalf("after the quarantine: %d %s", st, body)
	}

	// The practice grants Bolt writes, then revokes them: its own record
	// (beside the config) and the server's follow.
	grantsFile := filepath.Join(dir, "write-grants.json")
	writes := func() bool {
		t.Helper()
		acc, err := store.Access(context.Background(), boltID, siteID)
		if err != nil {
			t.Fatal(err)
		}
		return acc.WritesGranted
	}
	if code, out, errOut := runCmd(t, "agent", "grant-writes", "--config", cfg, "--integrator", boltID); code != 0 || !strings.Contains(out, "granted") {
		t.Fatalf("grant-writes: %d %s %s", code, out, errOut)
	}
	if b, _ := os.ReadFile(grantsFile); !strings.Contains(string(b), boltID) || !writes() {
		t.Fatalf("after grant-writes: the agent's record %s, the server's %v", b, writes())
	}
	if code, out, _ := runCmd(t, "agent", "grant-writes", "--config", cfg); code != 0 || !strings.Contains(out, boltID) {
		t.Fatalf("grant-writes lists: %d %s", code, out)
	}
	if code, _, errOut := runCmd(t, "agent", "grant-writes", "--config", cfg, "--integrator", "no-such-integrator"); code == 0 || !strings.Contains(errOut, "no integrator no-such-integrator") {
		t.Fatalf("grant-writes of an unknown id: %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(grantsFile); strings.Contains(string(b), "no-such-integrator") {
		t.Fatalf("an unknown id is in the agent's record: %s", b)
	}
	if code, out, errOut := runCmd(t, "agent", "grant-writes", "--config", cfg, "--integrator", boltID, "--revoke"); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("grant-writes --revoke: %d %s %s", code, out, errOut)
	}
	if b, _ := os.ReadFile(grantsFile); strings.Contains(string(b), boltID) || writes() {
		t.Fatalf("after the revocation: the agent's record %s, the server's %v", b, writes())
	}

	// A rotated credential no longer speaks for the site.
	runCmd(t, "admin", "site-rotate-secret", db, "--site", siteID)
	if code, _, errOut := runCmd(t, "agent", "pairings", "--config", cfg); code == 0 || !strings.Contains(errOut, "invalid site credential") {
		t.Fatalf("old credential: %d %s", code, errOut)
	}
}
