// Package grants is the practice's own record of the integrators it lets
// write through its agent.
//
// A write (a nonQuery or a stored procedure, from the passthrough API or a
// FHIR create, update or patch) runs only when the agent allows writes
// (--allow-writes) and the integrator it is made for is granted here. The
// record is a small JSON file next to the agent's configuration, which
// 'fhirlink agent grant-writes' changes and the agent reads again for each
// write, so a grant or a revocation takes effect with the next request,
// whether the agent runs or not. The server keeps a copy (it refuses early
// and advertises only what will work), but the agent does not trust it:
// this file is what the practice controls.
package grants

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Grant is one integrator the practice lets write.
type Grant struct {
	IntegratorID string    `json:"integratorId"`
	GrantedAt    time.Time `json:"grantedAt"`
}

// file is the file's content.
type file struct {
	Grants []Grant `json:"writeGrants"`
}

// File is the record at a path. Its methods read the file each time: it is
// a few lines, and read once per write.
type File struct {
	path string
	mu   sync.Mutex // serialises this process's changes
}

// Open returns the record at path, which need not exist yet (no integrator
// is granted). An empty path is a record in no file: nothing is granted
// and nothing can be.
func Open(path string) *File { return &File{path: path} }

// Path is the file's path.
func (f *File) Path() string { return f.path }

// List returns the grants, oldest first.
func (f *File) List() ([]Grant, error) {
	if f.path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("write grants: %w", err)
	}
	var c file
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("write grants %s: the file is not what 'fhirlink agent grant-writes' writes: %w", f.path, err)
	}
	return c.Grants, nil
}

// Granted reports whether integratorID may write. An unreadable record
// grants nothing.
func (f *File) Granted(integratorID string) (bool, error) {
	if integratorID == "" {
		return false, nil
	}
	list, err := f.List()
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(list, func(g Grant) bool { return g.IntegratorID == integratorID }), nil
}

// Grant lets integratorID write; granting twice keeps the first grant.
func (f *File) Grant(integratorID string) error {
	return f.change(func(list []Grant) []Grant {
		if slices.ContainsFunc(list, func(g Grant) bool { return g.IntegratorID == integratorID }) {
			return list
		}
		return append(list, Grant{IntegratorID: integratorID, GrantedAt: time.Now().UTC().Truncate(time.Second)})
	})
}

// Revoke stops integratorID's writes; revoking what was not granted is not
// an error.
func (f *File) Revoke(integratorID string) error {
	return f.change(func(list []Grant) []Grant {
		return slices.DeleteFunc(list, func(g Grant) bool { return g.IntegratorID == integratorID })
	})
}

// change rewrites the file with edit's list, atomically: a reader sees the
// old file or the new one, never part of one.
func (f *File) change(edit func([]Grant) []Grant) error {
	if f.path == "" {
		return errors.New("write grants: no file is configured")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	list, err := f.List()
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(file{Grants: append([]Grant{}, edit(list)...)}, "", "  ")
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("write grants: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".write-grants-*")
	if err != nil {
		return fmt.Errorf("write grants: %w", err)
	}
	defer os.Remove(tmp.Name())
	// Integrator ids are not secret, and the agent's service account
	// must read what an administrator wrote: readable by all, writable by
	// its owner only.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write grants: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write grants: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write grants: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write grants: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("write grants: %w", err)
	}
	return nil
}
