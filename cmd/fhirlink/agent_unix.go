//go:build !windows

package main

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// defaultConfigPath is where the installed agent's config file lives.
func defaultConfigPath() string { return "/etc/fhirlink/agent.json" }

// defaultLogPath is the installed agent's log file.
func defaultLogPath() string { return "/var/log/fhirlink/agent.log" }

// defaultJournalPath is the installed agent's execution journal: the
// service sees /etc read-only (ProtectSystem=full), so it lives in the
// state directory systemd gives the service.
func defaultJournalPath() string { return "/var/lib/fhirlink/executions.db" }

// restrictFile makes the config file readable and writable by its owner
// only. With an account (install --user), the file and its directory are
// given to that account, which the service runs as; otherwise the owner is
// whoever wrote it (root).
func restrictFile(path, account string) error {
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	if account == "" {
		return nil
	}
	u, err := user.Lookup(account)
	if err != nil {
		return err
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("account %s: uid %q gid %q", account, u.Uid, u.Gid)
	}
	if err := os.Chown(path, uid, gid); err != nil {
		return err
	}
	return os.Chown(filepath.Dir(path), uid, gid)
}

// restrictDir limits the config directory: on Linux its mode (0750, set when
// it is created) and restrictFile's chown are enough.
func restrictDir(string, string) error { return nil }

// keepAccess gives the file to (mode 0600) the owner of the file from, so a
// re-enrolled config file stays readable by the service account install
// gave the old one to.
func keepAccess(from, to string) error {
	fi, err := os.Stat(from)
	if err != nil {
		return err
	}
	if err := os.Chmod(to, 0o600); err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return os.Chown(to, int(st.Uid), int(st.Gid))
	}
	return nil
}
