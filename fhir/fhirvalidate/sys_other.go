//go:build !linux

package fhirvalidate

import "syscall"

// childAttr: without a death signal, node still exits when the test binary's end of its stdin
// closes.
func childAttr() *syscall.SysProcAttr { return nil }

// lockFile is a no-op here: concurrent `npm ci` runs are only guarded on Linux.
func lockFile(string) (func(), error) { return func() {}, nil }
