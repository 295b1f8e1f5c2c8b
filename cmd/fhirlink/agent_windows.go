//go:build windows

package main

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

func programData() string {
	if d := os.Getenv("ProgramData"); d != "" {
		return d
	}
	return `C:\ProgramData`
}

// defaultConfigPath is where the installed agent's config file lives.
func defaultConfigPath() string { return filepath.Join(programData(), "fhirlink", "agent.json") }

// defaultLogPath is the installed agent's log file.
func defaultLogPath() string { return filepath.Join(programData(), "fhirlink", "logs", "agent.log") }

// defaultJournalPath is the installed agent's execution journal, beside its
// config file.
func defaultJournalPath() string { return filepath.Join(programData(), "fhirlink", "executions.db") }

// restrictFile replaces the file's inherited permissions (ProgramData lets
// every local user read) with a protected DACL granting full control to
// LocalSystem, the Administrators group and, when set, the service account.
// The Go standard library only toggles the read-only attribute on Windows,
// so this goes through golang.org/x/sys/windows.
func restrictFile(path, account string) error {
	return setDACL(path, "D:P(A;;FA;;;SY)(A;;FA;;;BA)", account, "")
}

// restrictDir gives the config directory the same protected DACL, inherited
// by the files created in it (a temporary config file is never readable by
// other users, even before restrictFile, and the log directory under it is
// writable by the service account).
func restrictDir(dir, account string) error {
	return setDACL(dir, "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", account, "OICI")
}

// setDACL sets a protected DACL from SDDL, adding full control for account
// (with the inheritance flags given) when it is set.
func setDACL(path, sddl, account, inherit string) error {
	if account != "" {
		sid, _, _, err := windows.LookupSID("", account)
		if err != nil {
			return err
		}
		sddl += "(A;" + inherit + ";FA;;;" + sid.String() + ")"
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	return windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
}

// keepAccess gives the file to the permissions of the file from, so a
// re-enrolled config file stays readable by the service account install
// granted the old one to.
func keepAccess(from, to string) error {
	sd, err := windows.GetNamedSecurityInfo(from, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	return windows.SetNamedSecurityInfo(to, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
}
