// Package results keeps the result pages of async queries: a directory on
// the server's disk by default, or object storage shared by every server
// node (see S3). Pages are written once, as rows arrive from the agent, and
// read back whole or streamed; nothing here holds a whole page in memory.
package results

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"fhirlink/server"
)

// Store keeps objects under slash-separated keys (async/<query id>/1).
type Store interface {
	// Create starts writing the object key. It becomes visible to Open
	// only once the writer's Close returned nil; Abort discards it.
	Create(ctx context.Context, key string) (Writer, error)
	// Open reads the object key; [server.ENOTFOUND] when there is none.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes every object whose key starts with prefix + "/", and
	// the object prefix itself. Deleting what is not there is not an error.
	Delete(ctx context.Context, prefix string) error
}

// Writer writes one object.
type Writer interface {
	io.Writer
	// Close completes the object.
	Close() error
	// Abort discards the object; calling it after Close does nothing.
	Abort()
}

// checkKey refuses keys that could escape the store's root.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return fmt.Errorf("result key %q: empty, or starts or ends with /", key)
	}
	for part := range strings.SplitSeq(key, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("result key %q has an empty, . or .. element", key)
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
				return fmt.Errorf("result key %q: only letters, digits, -, _ and . are allowed", key)
			}
		}
	}
	return nil
}

// Dir is a [Store] in a local directory: each object a file, written under a
// temporary name and renamed into place when complete. It suits one server
// node; several nodes need object storage (or a shared file system).
type Dir struct {
	Root string
}

// NewDir returns the store in root, creating the directory if needed.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	return &Dir{Root: root}, nil
}

func (d *Dir) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(d.Root, filepath.FromSlash(key)), nil
}

// Create implements [Store].
func (d *Dir) Create(_ context.Context, key string) (Writer, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".part-*")
	if err != nil {
		return nil, err
	}
	return &dirWriter{f: f, bw: bufio.NewWriterSize(f, 64<<10), final: p}, nil
}

type dirWriter struct {
	f     *os.File
	bw    *bufio.Writer
	final string
	done  bool
}

func (w *dirWriter) Write(p []byte) (int, error) { return w.bw.Write(p) }

func (w *dirWriter) Close() error {
	if w.done {
		return errors.New("result writer already closed")
	}
	w.done = true
	err := w.bw.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.final)
	}
	if err != nil {
		os.Remove(w.f.Name())
	}
	return err
}

func (w *dirWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
}

// Open implements [Store].
func (d *Dir) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, server.Errorf(server.ENOTFOUND, "result %s not found", key)
	}
	return f, err
}

// Delete implements [Store].
func (d *Dir) Delete(_ context.Context, prefix string) error {
	p, err := d.path(prefix)
	if err != nil {
		return err
	}
	return os.RemoveAll(p)
}
