package logfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "agent.log")
	l, err := Open(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("x"), 39)
	line = append(line, '\n') // 40 bytes: two lines fit in 100, a third does not
	for i := range 7 {
		if _, err := l.Write(append([]byte(fmt.Sprint(i)), line[1:]...)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	// 7 lines, two per file: the current file has line 6, .1 lines 4-5,
	// .2 lines 2-3; lines 0-1 were deleted with the third old file.
	want := map[string]string{"": "6", ".1": "45", ".2": "23"}
	for suffix, first := range want {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for _, ln := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			got += string(ln[:1])
		}
		if got != first || len(b) > 100 {
			t.Errorf("agent.log%s holds lines %q (%d bytes), want %q", suffix, got, len(b), first)
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("a third old file exists: %v", err)
	}
	// Reopening appends and counts what is there.
	l, _ = Open(path, 100, 2)
	l.Write(line)
	l.Write(line)
	l.Close()
	if b, _ := os.ReadFile(path + ".1"); string(b[:1]) != "6" {
		t.Errorf("after reopening, agent.log.1 starts %q, want line 6", b[:1])
	}
}
