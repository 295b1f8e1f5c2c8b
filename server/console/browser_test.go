package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fhirlink/agent/apttest"
	"fhirlink/server/fhirlinktest"
)

// chromiumPath is Debian's Chromium, which the browser test drives.
const chromiumPath = "/usr/bin/chromium"

// browserDir is the Node harness driving it with playwright-core.
const browserDir = "testdata/browser"

// needChromium makes sure Debian's chromium is installed: with apt-get when
// missing, as root, unless FHIRLINK_NO_INSTALL is set. When it cannot be,
// the test fails under CI=true and is skipped, saying why, elsewhere.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	err := fmt.Errorf("%s is missing and FHIRLINK_NO_INSTALL is set or this is not root: install it with `apt-get install -y chromium`", chromiumPath)
	if os.Geteuid() == 0 && os.Getenv("FHIRLINK_NO_INSTALL") == "" {
		err = apttest.Install("chromium", 10*time.Minute)
	}
	if err == nil {
		if _, err = os.Stat(chromiumPath); err == nil {
			return
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("the browser test needs Debian's chromium (CI=true, so it must run): %v", err)
	}
	t.Skipf("skipping the browser test: Debian's chromium could not be installed (%v); under CI=true this fails", err)
}

// needPlaywright installs the harness's npm packages from its lock file
// (`npm ci`) unless the installed playwright-core is the locked one.
func needPlaywright(t *testing.T) {
	t.Helper()
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	b, err := os.ReadFile(filepath.Join(browserDir, "package-lock.json"))
	if err != nil || json.Unmarshal(b, &lock) != nil {
		t.Fatalf("%s/package-lock.json: %v", browserDir, err)
	}
	var installed struct{ Version string }
	b, _ = os.ReadFile(filepath.Join(browserDir, "node_modules", "playwright-core", "package.json"))
	if json.Unmarshal(b, &installed) == nil && installed.Version == lock.Packages["node_modules/playwright-core"].Version {
		return
	}
	if os.Getenv("FHIRLINK_NO_INSTALL") != "" {
		t.Fatalf("playwright-core is not installed and FHIRLINK_NO_INSTALL is set: run `npm ci --prefix server/console/%s`", browserDir)
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = browserDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s (Node.js 20.19+ with npm needed, e.g. `apt-get install -y nodejs npm`): %v\n%s", browserDir, err, out)
	}
}

// TestConsoleInChromium drives the console in headless Chromium: a practice
// signs in with its site credential, grants an integrator writes (its
// agent takes grants from the console), whose write then succeeds, and
// revokes them, whose next write is refused; it revokes that integrator,
// whose next request to the API is refused; an integrator signs in with its key and
// rotates it, after which the old key fails and the new one works.
// FHIRLINK_SCREENSHOTS=DIR keeps screenshots of the pages there.
func TestConsoleInChromium(t *testing.T) {
	needChromium(t)
	needPlaywright(t)
	e := startWith(t, fhirlinktest.Options{AllowWrites: true, ConsoleGrants: true})
	if got := e.apiStatus(t, e.keyB, e.SiteID); got != http.StatusOK {
		t.Fatalf("integrator B before the revocation: %d", got)
	}
	write := func(table string) map[string]any {
		return map[string]any{"url": e.SiteURL() + "/queries/immediate",
			"body": map[string]any{"command": map[string]any{"text": "CREATE TABLE " + table + " (n int)", "executionMode": "nonQuery"}}}
	}
	cfg, _ := json.Marshal(map[string]any{
		"base": e.URL(), "siteId": e.SiteID, "secret": "site-secret", "revoke": e.idB, "revokeKey": e.keyB, "key": e.Key,
		"write": write("granted_write"), "userDataDir": t.TempDir(), "shots": os.Getenv("FHIRLINK_SCREENSHOTS"),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "console.mjs", string(cfg))
	cmd.Dir = browserDir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("the browser run failed: %v\n%s", err, stderr.String())
	}
	var got struct {
		Who, Availability, Notice, NewKey                       string
		GrantNotice, WritesGranted, RevokeNotice, WritesRevoked string
		ListedBefore, ListedAfter, Sites                        int
		WriteAfterGrant, WriteAfterRevoke                       int
	}
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatalf("the browser run printed %q: %v", stdout, err)
	}
	if got.Who != "Test Practice" || got.Availability != "online" || got.ListedBefore != 1 || got.ListedAfter != 0 ||
		!strings.Contains(got.Notice, "revoked") || got.Sites != 1 {
		t.Fatalf("what the pages showed: %+v", got)
	}
	if got.WritesGranted != "granted" || !strings.Contains(got.GrantNotice, "granted the integrator writes") || got.WriteAfterGrant != http.StatusOK ||
		got.WritesRevoked != "not granted" || !strings.Contains(got.RevokeNotice, "writes at this site are revoked") || got.WriteAfterRevoke != http.StatusForbidden {
		t.Fatalf("granting and revoking writes: %+v", got)
	}
	if ok, err := e.Grants.Granted(e.idB); err != nil || ok {
		t.Fatalf("the agent's record still grants B: %v %v", ok, err)
	}
	if rec := e.records(t, "write-grant"); len(rec) != 2 || rec[0].Query != "integrator="+e.idB+" grant=on" || rec[1].Query != "integrator="+e.idB+" grant=off" {
		t.Fatalf("write-grant records: %+v", rec)
	}
	if status := e.apiStatus(t, e.keyB, e.SiteID); status != http.StatusForbidden {
		t.Fatalf("the revoked integrator's next request: %d, want 403", status)
	}
	if status := e.apiStatus(t, e.Key, e.SiteID); status != http.StatusUnauthorized {
		t.Fatalf("the rotated key: %d, want 401", status)
	}
	if status := e.apiStatus(t, got.NewKey, e.SiteID); status != http.StatusOK {
		t.Fatalf("the new key from the page: %d, want 200", status)
	}
}
