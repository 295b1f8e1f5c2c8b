package grants

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGrantRevoke(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent", "write-grants.json")
	f := Open(path)
	granted := func(id string) bool {
		t.Helper()
		ok, err := f.Granted(id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if granted("a") {
		t.Fatal("granted without a file")
	}
	for _, id := range []string{"a", "b", "a"} {
		if err := f.Grant(id); err != nil {
			t.Fatal(err)
		}
	}
	if !granted("a") || !granted("b") || granted("c") || granted("") {
		t.Fatal("grants are not what was granted")
	}
	if list, _ := f.List(); len(list) != 2 || list[0].IntegratorID != "a" || list[0].GrantedAt.IsZero() {
		t.Fatalf("list = %+v", list)
	}
	// Another process's view: a fresh record of the same file.
	if err := Open(path).Revoke("a"); err != nil {
		t.Fatal(err)
	}
	if granted("a") || !granted("b") {
		t.Fatal("revocation not seen by the next read")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("file mode %v, %v: want 0644", fi.Mode(), err)
	}
}

func TestUnreadableGrantsNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "write-grants.json")
	os.WriteFile(path, []byte("not json"), 0o600)
	ok, err := Open(path).Granted("a")
	if ok || err == nil || !strings.Contains(err.Error(), "grant-writes") {
		t.Fatalf("granted %v, %v: want nothing and an error", ok, err)
	}
	if err := Open("").Grant("a"); err == nil {
		t.Fatal("granted without a file")
	}
}
