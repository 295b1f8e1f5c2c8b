package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFlagPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(file, []byte(`{"listen": "file:1", "level": "file", "depth": 7, "catalogue": ["a=1", "b=2"]}`), 0o600)
	t.Setenv("FHIRLINK_LEVEL", "env")
	t.Setenv("FHIRLINK_LISTEN", "env:1")

	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	listen := fs.String("listen", "default", "")
	level := fs.String("level", "default", "")
	depth := fs.Int("depth", 1, "")
	unset := fs.String("unset", "default", "")
	var cats listFlag
	fs.Var(&cats, "catalogue", "")
	if err := parseFlags(fs, []string{"--listen", "flag:1", "--config", file}); err != nil {
		t.Fatal(err)
	}
	got := []any{*listen, *level, *depth, *unset, cats.String()}
	want := []any{"flag:1", "env", 7, "default", "a=1,b=2"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v (command line > environment > file > default)", got, want)
		}
	}

	os.WriteFile(file, []byte(`{"lisen": "typo"}`), 0o600)
	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("listen", "", "")
	if err := parseFlags(fs, []string{"--config", file}); err == nil || !strings.Contains(err.Error(), `unknown setting "lisen"`) {
		t.Fatalf("a misspelt setting must be refused, got %v", err)
	}
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelp(t *testing.T) {
	code, out, _ := runCmd(t, "--help")
	for _, c := range []string{"server", "agent", "demo", "admin"} {
		if code != 0 || !strings.Contains(out, "  "+c+" ") {
			t.Fatalf("top help (exit %d) lacks %s:\n%s", code, c, out)
		}
	}
	code, out, _ = runCmd(t, "agent", "run", "--help")
	if code != 0 || !strings.Contains(out, "--allow-writes  [FHIRLINK_ALLOW_WRITES]") || !strings.Contains(out, "read-only") {
		t.Fatalf("agent help (exit %d):\n%s", code, out)
	}
	if code, _, errOut := runCmd(t, "nonsense"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: exit %d %s", code, errOut)
	}
}

func TestAdminFlow(t *testing.T) {
	db := "--database=" + filepath.Join(t.TempDir(), "state.db")
	decode := func(out string) map[string]string {
		var m map[string]string
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		return m
	}
	code, out, errOut := runCmd(t, "admin", "site-create", db, "--name", "Harbour Medical", "--pms-site-id", "BP-1")
	if code != 0 {
		t.Fatalf("site-create: %d %s", code, errOut)
	}
	site := decode(out)
	if site["siteId"] == "" || len(site["secret"]) < 40 {
		t.Fatalf("site-create printed %v", site)
	}
	_, out, _ = runCmd(t, "admin", "integrator-create", db, "--name", "Acme")
	in := decode(out)
	if in["primaryKey"] == "" || in["secondaryKey"] == "" || in["primaryKey"] == in["secondaryKey"] {
		t.Fatalf("integrator-create printed %v", in)
	}
	if code, _, errOut := runCmd(t, "admin", "pair", db, "--integrator", in["integratorId"], "--site", site["siteId"]); code != 0 {
		t.Fatalf("pair: %s", errOut)
	}
	if code, _, errOut := runCmd(t, "admin", "pair", db, "--integrator", in["integratorId"], "--site", "00000000-0000-4000-8000-000000000000"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Fatalf("pairing an unknown site: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "admin", "site-create", db, "--name", "X", "--pms-type", "Medtech"); code != 1 || !strings.Contains(errOut, "BestPractice, Zedmed or D4w") {
		t.Fatalf("bad pms type: %d %s", code, errOut)
	}
}
