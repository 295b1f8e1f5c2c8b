package admin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fhirlink/server"
)

// Issuing a token again for an operator replaces only that operator's; the
// file keeps hashes, never tokens; anything else is refused as
// unauthorized.
func TestOperators(t *testing.T) {
	file := filepath.Join(t.TempDir(), "operators")
	ops := &Operators{File: file}
	if _, err := ops.Authenticate("x"); err == nil || server.ErrorCode(err) == server.EUNAUTHORIZED {
		t.Fatalf("a missing operators file must fail as a server fault, not a wrong token: %v", err)
	}
	alice1, err := AddOperator(file, "alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := AddOperator(file, "bob")
	alice2, _ := AddOperator(file, "alice")
	b, _ := os.ReadFile(file)
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 || strings.Contains(string(b), alice2) || strings.Count(string(b), "alice ") != 1 {
		t.Fatalf("operators file (%v):\n%s", fi.Mode(), b)
	}
	for token, want := range map[string]string{alice2: "alice", bob: "bob"} {
		if got, err := ops.Authenticate(token); err != nil || got != want {
			t.Errorf("token of %s: %q %v", want, got, err)
		}
	}
	for _, bad := range []string{alice1, "", "alice", strings.TrimSpace(strings.Fields(string(b))[len(strings.Fields(string(b)))-1])} {
		if _, err := ops.Authenticate(bad); server.ErrorCode(err) != server.EUNAUTHORIZED {
			t.Errorf("token %q: %v, want unauthorized", bad, err)
		}
	}
	if _, err := AddOperator(file, "no spaces"); server.ErrorCode(err) != server.EINVALID {
		t.Errorf("a name with a space: %v", err)
	}
}
