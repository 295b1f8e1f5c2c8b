package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// smartClientDir holds the jose client (client.mjs) and its npm lock.
const smartClientDir = "testdata/smartclient"

// installJose runs `npm ci` in smartClientDir when jose is not installed.
// Like the FHIR validators, it fails rather than skips without Node: the
// suite needs Node anyway.
func installJose(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(smartClientDir, "node_modules", "jose", "package.json")); err == nil {
		return
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("npm is not on PATH: install Node.js 20.19+ with npm, then run `npm ci --prefix server/api/%s`", smartClientDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = smartClientDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", smartClientDir, err, out)
	}
}

// TestSMARTJoseClient: a client written with another stack (Node, jose)
// signs RS384 and ES384 assertions, gets tokens and searches Patient.
func TestSMARTJoseClient(t *testing.T) {
	installJose(t)
	env, _ := fhirEnv(t)
	s := &smart{Env: env, t: t}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "client.mjs")
	cmd.Dir = smartClientDir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	if !lines.Scan() {
		t.Fatalf("the jose client printed no JWKS: %v", lines.Err())
	}
	client := s.client(env.IntegratorID, "system/*.rs", append([]byte(nil), lines.Bytes()...), "")
	cfg, _ := json.Marshal(map[string]string{"clientId": client, "tokenUrl": s.tokenURL(),
		"fhirBase": env.SiteURL() + "/fhir/R4", "scope": "system/Patient.rs system/Observation.cruds"})
	if _, err := stdin.Write(append(cfg, '\n')); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for lines.Scan() {
		var r struct {
			Alg               string
			TokenStatus       int
			TokenCacheControl string
			Token             struct {
				TokenType string `json:"token_type"`
				ExpiresIn int    `json:"expires_in"`
				Scope     string
				Error     string
			}
			SearchStatus int
			ResourceType string
			Entries      int
		}
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", lines.Bytes(), err)
		}
		seen[r.Alg] = true
		if r.TokenStatus != 200 || r.Token.TokenType != "bearer" || r.Token.ExpiresIn > 300 || r.TokenCacheControl != "no-store" ||
			r.Token.Scope != "system/Observation.rs system/Patient.rs" {
			t.Errorf("%s token: %s", r.Alg, lines.Bytes())
		}
		if r.SearchStatus != 200 || r.ResourceType != "Bundle" || r.Entries == 0 {
			t.Errorf("%s search: %s", r.Alg, lines.Bytes())
		}
	}
	if !seen["RS384"] || !seen["ES384"] {
		t.Fatalf("results for %v, want RS384 and ES384", seen)
	}
}
