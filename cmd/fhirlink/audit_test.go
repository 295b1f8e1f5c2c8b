package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/server"
	"fhirlink/server/api"
	"fhirlink/server/hub"
	"fhirlink/server/sqlite"
)

func TestAuditAndQuotaCLI(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	db := "--database=" + state
	decode := func(out string) map[string]string {
		t.Helper()
		var m map[string]string
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		return m
	}
	_, out, _ := runCmd(t, "admin", "site-create", db, "--name", "Harbour Medical")
	site := decode(out)
	_, out, _ = runCmd(t, "admin", "integrator-create", db, "--name", "Acme")
	acme := decode(out)
	if code, _, errOut := runCmd(t, "admin", "pair", db, "--integrator", acme["integratorId"], "--site", site["siteId"]); code != 0 {
		t.Fatal(errOut)
	}

	// Quotas: set, list, refuse nonsense.
	code, out, errOut := runCmd(t, "admin", "quota", db, "--integrator", acme["integratorId"], "--site", site["siteId"], "--daily-queries", "3")
	if code != 0 || !strings.Contains(out, `"dailyQueries": 3`) || !strings.Contains(out, `"dailyBytes": -1`) {
		t.Fatalf("quota: %d %s %s", code, out, errOut)
	}
	if code, _, _ := runCmd(t, "admin", "quota", db, "--integrator", acme["integratorId"], "--daily-bytes", "-5"); code != 1 {
		t.Fatalf("negative limit: exit %d", code)
	}
	if code, _, _ := runCmd(t, "admin", "quota", db, "--integrator", "nobody", "--daily-bytes", "5"); code != 1 {
		t.Fatalf("unknown integrator: exit %d", code)
	}
	if code, _, errOut := runCmd(t, "server", db, "--listen", "127.0.0.1:0", "--audit-retention", "24h"); code != 1 || !strings.Contains(errOut, "8760h") {
		t.Fatalf("short retention: %d %s", code, errOut)
	}

	// A server over the same store; one audited request.
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
	req, _ := http.NewRequest(http.MethodGet, base+"/integrator/sites/"+site["siteId"], nil)
	req.Header.Set(api.KeyHeader, acme["primaryKey"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waittest.For(t, 5*time.Second, "the request's audit record", func() bool {
		srv.FlushAudit(context.Background())
		recs, _ := store.Audit(context.Background(), server.AuditFilter{})
		return len(recs) == 1
	})

	code, out, errOut = runCmd(t, "admin", "audit", db, "--site", site["siteId"], "--from", time.Now().UTC().Format(time.DateOnly))
	var recs []server.AuditRecord
	if err := json.Unmarshal([]byte(out), &recs); code != 0 || err != nil || len(recs) != 1 || recs[0].IntegratorID != acme["integratorId"] || recs[0].Status != http.StatusOK {
		t.Fatalf("admin audit: %d %s %s", code, out, errOut)
	}
	if code, out, _ := runCmd(t, "admin", "audit", db, "--integrator", "nobody"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("admin audit of nobody: %d %s", code, out)
	}
	if code, _, _ := runCmd(t, "admin", "audit", db, "--from", "last tuesday"); code != 1 {
		t.Fatalf("bad --from: exit %d", code)
	}

	cfg := filepath.Join(dir, "agent.json")
	b, _ := json.Marshal(map[string]string{"server": base, "site-id": site["siteId"], "secret": site["secret"]})
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCmd(t, "agent", "audit", "--config", cfg)
	if code != 0 || !strings.Contains(out, acme["integratorId"]) || !strings.Contains(out, "GET /integrator/sites/"+site["siteId"]) {
		t.Fatalf("agent audit: %d %s %s", code, out, errOut)
	}
	bad, _ := json.Marshal(map[string]string{"server": base, "site-id": site["siteId"], "secret": "wrong"})
	os.WriteFile(cfg, bad, 0o600)
	if code, _, errOut := runCmd(t, "agent", "audit", "--config", cfg); code != 1 || !strings.Contains(errOut, "invalid site credential") {
		t.Fatalf("wrong secret: %d %s", code, errOut)
	}
}
