// Package logfile is a log file that rotates by size: when a write would take
// it past MaxBytes, agent.log becomes agent.log.1, agent.log.1 becomes
// agent.log.2 and so on up to Keep files, the oldest is deleted, and writing
// goes on in a fresh agent.log. A practice server's disk never fills with
// the agent's logs, and nothing outside the Go standard library is needed.
package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// File is an io.Writer safe for concurrent use. Open it with [Open].
type File struct {
	path     string
	maxBytes int64
	keep     int

	mu   sync.Mutex
	f    *os.File
	size int64
}

// Open opens (appending) the log file at path, creating its directory, and
// rotates it past maxBytes (default 10 MB) keeping keep old files (default 5).
func Open(path string, maxBytes int64, keep int) (*File, error) {
	if maxBytes <= 0 {
		maxBytes = 10 << 20
	}
	if keep <= 0 {
		keep = 5
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	l := &File{path: path, maxBytes: maxBytes, keep: keep}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *File) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// Write writes p, rotating first when p would not fit. A single write larger
// than the limit is written whole to a fresh file.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	if l.size > 0 && l.size+int64(len(p)) > l.maxBytes {
		if err := l.rotate(); err != nil {
			// Keep logging into the current file rather than losing lines.
			fmt.Fprintf(l.f, "logfile: rotation failed: %v\n", err)
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// rotate shifts the old files up by one and starts a new file. Call with mu
// held. The file is closed before it is renamed: Windows cannot rename an
// open file.
func (l *File) rotate() error {
	if err := l.f.Close(); err != nil {
		return err
	}
	l.f = nil
	os.Remove(fmt.Sprintf("%s.%d", l.path, l.keep))
	for i := l.keep - 1; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", l.path, i), fmt.Sprintf("%s.%d", l.path, i+1))
	}
	renameErr := os.Rename(l.path, l.path+".1")
	if err := l.open(); err != nil {
		return err
	}
	return renameErr
}

// Close closes the file.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
