package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminSMARTClientsAndSigningKeys(t *testing.T) {
	dir := t.TempDir()
	db := "--database=" + filepath.Join(dir, "state.db")
	_, out, _ := runCmd(t, "admin", "integrator-create", db, "--name", "Acme")
	var in map[string]string
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCmd(t, "admin", "client-create", db, "--integrator", in["integratorId"],
		"--jwks-url", "https://acme.example/.well-known/jwks.json", "--scope", "system/Patient.read system/*.s")
	if code != 0 {
		t.Fatalf("client-create: %d %s", code, errOut)
	}
	var cl map[string]string
	json.Unmarshal([]byte(out), &cl)
	if cl["clientId"] == "" || cl["scope"] != "system/*.s system/Patient.rs" {
		t.Fatalf("client-create printed %s", out)
	}

	jwks := filepath.Join(dir, "jwks.json")
	os.WriteFile(jwks, []byte(`{"keys":[{"kty":"EC","kid":"k","crv":"P-384","x":"`+strings.Repeat("A", 64)+`","y":"`+strings.Repeat("A", 64)+`"}]}`), 0o600)
	if code, _, errOut := runCmd(t, "admin", "client-create", db, "--integrator", in["integratorId"], "--jwks-file", jwks, "--scope", "system/*.rs"); code != 1 || !strings.Contains(errOut, "not a point") {
		t.Fatalf("bad inline key: %d %s", code, errOut)
	}
	for _, bad := range [][]string{
		{"--jwks-url", "http://acme.example/jwks", "--scope", "system/*.rs"},                       // plain http
		{"--jwks-url", "https://acme.example/jwks", "--scope", "patient/*.rs"},                     // not a system scope
		{"--jwks-url", "https://acme.example/jwks", "--jwks-file", jwks, "--scope", "system/*.rs"}, // both
		{"--scope", "system/*.rs"}, // neither
	} {
		args := append([]string{"admin", "client-create", db, "--integrator", in["integratorId"]}, bad...)
		if code, _, _ := runCmd(t, args...); code != 1 {
			t.Errorf("%v: exit %d", bad, code)
		}
	}
	if code, out, _ := runCmd(t, "admin", "client-list", db, "--integrator", in["integratorId"]); code != 0 || !strings.Contains(out, cl["clientId"]) {
		t.Fatalf("client-list: %d %s", code, out)
	}
	if code, _, errOut := runCmd(t, "admin", "client-delete", db, "--client", cl["clientId"]); code != 0 {
		t.Fatalf("client-delete: %s", errOut)
	}

	var kids []string
	for range 3 {
		code, out, errOut := runCmd(t, "admin", "rotate-signing-key", db)
		if code != 0 {
			t.Fatalf("rotate-signing-key: %s", errOut)
		}
		var r struct {
			Current string
			Removed []string
		}
		json.Unmarshal([]byte(out), &r)
		kids = append(kids, r.Current)
		if len(kids) == 3 && (len(r.Removed) != 1 || r.Removed[0] != kids[0]) {
			t.Fatalf("third rotation removed %v, want [%s]", r.Removed, kids[0])
		}
	}
}
