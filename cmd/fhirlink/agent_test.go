package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"fhirlink/server/api"
	"fhirlink/server/hub"
	"fhirlink/server/sqlite"
)

// TestServiceConfig checks the service definition generated for each
// platform: the command line it runs, restart on failure, start at boot, and
// the systemd unit's content.
func TestServiceConfig(t *testing.T) {
	const path = "/etc/fhirlink/agent.json"
	for _, goos := range []string{"windows", "linux"} {
		c := serviceConfig(path, "", goos)
		if c.Name != "fhirlink-agent" || c.DisplayName == "" || c.Description == "" {
			t.Errorf("%s: names %q %q %q", goos, c.Name, c.DisplayName, c.Description)
		}
		if got := strings.Join(c.Arguments, " "); got != "agent run --config "+path {
			t.Errorf("%s: arguments %q", goos, got)
		}
	}
	w := serviceConfig(`C:\ProgramData\fhirlink\agent.json`, `NT SERVICE\fhirlink-agent`, "windows")
	want := map[string]any{"StartType": "automatic", "DelayedAutoStart": true, "OnFailure": "restart", "OnFailureDelayDuration": "30s", "OnFailureResetPeriod": 86400}
	for k, v := range want {
		if w.Option[k] != v {
			t.Errorf("windows option %s = %v, want %v", k, w.Option[k], v)
		}
	}
	if w.UserName != `NT SERVICE\fhirlink-agent` || len(w.Dependencies) != 0 {
		t.Errorf("windows: user %q, dependencies %v (Windows dependencies are service names)", w.UserName, w.Dependencies)
	}
	if _, err := time.ParseDuration(w.Option["OnFailureDelayDuration"].(string)); err != nil {
		t.Error(err)
	}

	l := serviceConfig(path, "fhirlink", "linux")
	if strings.Join(l.Dependencies, ",") != "Wants=network-online.target,After=network-online.target" || l.Option["Restart"] != "always" {
		t.Errorf("linux: dependencies %v, restart %v", l.Dependencies, l.Option["Restart"])
	}
	unit, _ := l.Option["SystemdScript"].(string)
	for _, line := range []string{
		"ExecStart={{Path | cmdEscape}}{{range Arguments}} {{. | cmd}}{{end}}",
		"{{if UserName}}User={{UserName}}",
		"{{range Dependencies}}{{.}}",
		"Restart=always", "RestartSec=10", "KillSignal=SIGTERM", "NoNewPrivileges=yes", "ProtectSystem=full",
		"LogsDirectory=fhirlink", "StateDirectory=fhirlink", "UMask=0077", "WantedBy=multi-user.target", "EnvironmentFile=-/etc/fhirlink/agent.env",
	} {
		if !strings.Contains(unit, line) {
			t.Errorf("systemd unit lacks %q", line)
		}
	}
	// Stopping must leave time for the drain (30 s by default) before
	// systemd kills the process.
	if !strings.Contains(unit, "TimeoutStopSec=45") {
		t.Error("systemd unit: TimeoutStopSec must exceed the drain timeout")
	}
	// The template uses only keys kardianos/service's systemd backend
	// passes (an unknown key fails the install).
	known := map[string]bool{"Description": true, "Path": true, "Name": true, "Dependencies": true, "Arguments": true,
		"ChRoot": true, "WorkingDirectory": true, "UserName": true, "ReloadSignal": true, "PIDFile": true, "LogDirectory": true,
		"OutputFileSupport": true, "LimitNOFILE": true, "Restart": true, "SuccessExitStatus": true, "EnvVars": true}
	for _, part := range strings.Split(unit, "{{")[1:] {
		action, _, _ := strings.Cut(part, "}}")
		fields := strings.Fields(strings.NewReplacer("|", " ").Replace(action))
		if len(fields) == 0 {
			continue
		}
		key := fields[0]
		if key == "if" || key == "range" {
			key = fields[1]
		}
		if key != "end" && key != "." && key != "else" && !known[key] {
			t.Errorf("systemd unit uses unknown key %q", key)
		}
	}
}

func TestDefaultConfigPath(t *testing.T) {
	p := defaultConfigPath()
	switch runtime.GOOS {
	case "windows":
		if !strings.HasSuffix(p, `\fhirlink\agent.json`) {
			t.Errorf("config path %s", p)
		}
	default:
		if p != "/etc/fhirlink/agent.json" {
			t.Errorf("config path %s", p)
		}
	}
}

// TestAgentRunAlias: "fhirlink agent --flags" is "fhirlink agent run".
func TestAgentRunAlias(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "empty.json")
	os.WriteFile(cfg, []byte("{}"), 0o600)
	for _, args := range [][]string{{"agent", "--config", cfg, "--catalogue", "a=b"}, {"agent", "run", "--config", cfg, "--catalogue", "a=b"}} {
		code, _, errOut := runCmd(t, args...)
		if code == 0 || !strings.Contains(errOut, "server, site-id and secret are required") {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
	// A --config named explicitly must exist; the default one may not.
	if code, _, errOut := runCmd(t, "agent", "--config", cfg+".missing"); code == 0 || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing explicit config: exit %d %s", code, errOut)
	}
}

// TestEnrollDoctorCLI goes through the commands an operator and a practice's
// IT provider type: issue a code, enroll (the config file is written, owner
// only), doctor against a reachable then an unreachable database.
func TestEnrollDoctorCLI(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	_, out, errOut := runCmd(t, "admin", "site-create", "--database", state, "--name", "Harbour Medical")
	var site map[string]string
	if err := json.Unmarshal([]byte(out), &site); err != nil {
		t.Fatalf("site-create: %s %s", out, errOut)
	}
	code, out, errOut := runCmd(t, "admin", "site-enroll-code", "--database", state, "--site", site["siteId"], "--ttl", "1h")
	var issued map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &issued) != nil || len(issued["code"]) != 24 || issued["expires"] == "" {
		t.Fatalf("site-enroll-code: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCmd(t, "admin", "site-enroll-code", "--database", state, "--site", site["siteId"], "--ttl", "-1h"); code == 0 {
		t.Fatalf("negative ttl accepted: %s", errOut)
	}

	// The server on the same state.
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
	serverURL := "http://" + ln.Addr().String()

	practice := filepath.Join(dir, "practice.db")
	db, err := sql.Open("sqlite", practice)
	if err != nil {
		t.Fatal(err)
	}
	db.Exec("CREATE TABLE t (x INTEGER)")
	db.Close()

	cfg := filepath.Join(dir, "etc", "agent.json")
	code, out, errOut = runCmd(t, "agent", "enroll", "--config", cfg, "--server", serverURL, "--code", issued["code"],
		"--set", "engine=sqlite", "--set", "catalogue=BPSPatients="+practice)
	if code != 0 || !strings.Contains(out, site["siteId"]) {
		t.Fatalf("enroll: %d %s %s", code, out, errOut)
	}
	fi, err := os.Stat(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("config file mode %v, want 0600", fi.Mode().Perm())
	}
	written, _ := readConfigFile(cfg)
	if written["site-id"] != site["siteId"] || written["secret"] == "" || written["server"] != serverURL || written["practice-name"] != "Harbour Medical" {
		t.Fatalf("config file %v", written)
	}
	if code, _, errOut := runCmd(t, "agent", "enroll", "--config", cfg, "--server", serverURL, "--code", issued["code"]); code == 0 || !strings.Contains(errOut, "already used") {
		t.Fatalf("reused code: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "agent", "enroll", "--config", cfg, "--server", serverURL, "--code", "x", "--set", "nonsense=1"); code == 0 || !strings.Contains(errOut, "NAME one of") {
		t.Fatalf("unknown --set: %d %s", code, errOut)
	}

	// Re-enrolling keeps the file's owner (the service account install
	// gave it to) and its mode.
	if os.Geteuid() == 0 {
		if err := os.Chown(cfg, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	_, out, _ = runCmd(t, "admin", "site-enroll-code", "--database", state, "--site", site["siteId"])
	json.Unmarshal([]byte(out), &issued)
	if code, out, errOut := runCmd(t, "agent", "enroll", "--config", cfg, "--server", serverURL, "--code", issued["code"]); code != 0 {
		t.Fatalf("re-enroll: %d %s %s", code, out, errOut)
	}
	if rewritten, _ := readConfigFile(cfg); rewritten["secret"] == written["secret"] || rewritten["engine"] != "sqlite" {
		t.Fatalf("re-enrolled config %v", rewritten)
	}
	if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("re-enrolled config file: %v %v", fi.Mode(), err)
	} else if uid, ok := fileOwner(fi); ok && os.Geteuid() == 0 && uid != 65534 {
		t.Errorf("re-enrolling gave the config file to uid %d, want the service account's 65534", uid)
	}

	code, out, errOut = runCmd(t, "agent", "doctor", "--config", cfg)
	if code != 0 || !strings.Contains(out, "OK    database read") || !strings.Contains(out, "OK    clock") {
		t.Fatalf("doctor on a healthy set-up: exit %d\n%s%s", code, out, errOut)
	}
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := closed.Addr().String()
	closed.Close()
	code, out, errOut = runCmd(t, "agent", "doctor", "--config", cfg, "--engine", "postgres", "--catalogue", "BPSPatients=postgres://u:p@"+addr+"/db")
	if code != 1 || !strings.Contains(out, "FAIL  database connection") || !strings.Contains(errOut, "FAIL") {
		t.Fatalf("doctor with an unreachable database: exit %d\n%s%s", code, out, errOut)
	}
}
