package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"fhirlink/server/sqlite"
)

// The webhook command prints the signing secret once and stores it for
// signing; --delete removes the webhook.
func TestAdminWebhook(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db := "--database=" + path
	_, out, _ := runCmd(t, "admin", "integrator-create", db, "--name", "Acme")
	var in map[string]string
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runCmd(t, "admin", "webhook", db, "--integrator", in["integratorId"], "--url", "ftp://x"); code != 1 {
		t.Fatalf("ftp URL: exit %d", code)
	}
	code, out, errOut := runCmd(t, "admin", "webhook", db, "--integrator", in["integratorId"], "--url", "https://acme.example/hook")
	if code != 0 {
		t.Fatalf("webhook: %d %s", code, errOut)
	}
	var wh map[string]string
	json.Unmarshal([]byte(out), &wh)
	if len(wh["secret"]) < 40 || wh["url"] != "https://acme.example/hook" {
		t.Fatalf("printed %s", out)
	}
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Webhook(context.Background(), in["integratorId"])
	st.Close()
	if err != nil || string(got.Secret) != wh["secret"] || got.URL != wh["url"] {
		t.Fatalf("stored %+v, %v", got, err)
	}
	if code, _, errOut := runCmd(t, "admin", "webhook", db, "--integrator", in["integratorId"], "--delete"); code != 0 {
		t.Fatalf("delete: %s", errOut)
	}
	if code, _, _ := runCmd(t, "admin", "webhook", db, "--integrator", in["integratorId"], "--delete"); code != 1 {
		t.Fatal("deleting twice succeeded")
	}
}
