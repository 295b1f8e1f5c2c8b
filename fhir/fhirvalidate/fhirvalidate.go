// Package fhirvalidate checks FHIR R4 JSON with validators independent of fhirlink's own code.
//
// Every FHIR resource a test receives should go through it; a resource that fails is a bug:
//
//	fhirvalidate.Resources(t, raw...) // each resource, every issue reported with t.Errorf
//	fhirvalidate.Bundle(t, raw)       // a Bundle, its entries' resources included
//
// The checks run in Node (validate.mjs beside this file): @medplum/core's StructureDefinition
// validator, the official FHIR R4 JSON schema with ajv, the R4 invariants evaluated by
// fhirpath.js, and the Australian identifier rules (IHI, HPI-I, HPI-O, Medicare, AHPRA, PBS
// prescriber, Medicare provider number, ABN). One `node validate.mjs` process is started per test
// binary, on first use, and shared by all tests (requests are serialised). It dies with the test
// binary: its stdin is closed by [Main] or [Stop], and on Linux it gets SIGKILL if the test
// binary exits first. Use
//
//	func TestMain(m *testing.M) { os.Exit(fhirvalidate.Main(m)) }
//
// to stop it cleanly. When node_modules is missing or does not match package-lock.json, the
// first use runs `npm ci` in this directory (unless FHIRLINK_NO_INSTALL is set). Tests never
// skip for want of Node: a missing node or npm fails them with a message saying what to do.
package fhirvalidate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Bounds on every wait, so that a broken machine fails tests instead of hanging them.
const (
	installTimeout = 5 * time.Minute
	readyTimeout   = 2 * time.Minute // loading the R4 definitions takes 1-3 s, more on a busy machine
	requestTimeout = time.Minute     // per request, plus perResource for each resource in it
	perResource    = time.Second
	stopTimeout    = 5 * time.Second
)

// Issue is one problem a validator found.
type Issue struct {
	// Validator is "json-schema", "medplum", "fhirpath", "au-identifier", or "input" when the
	// text is not a JSON object with a resourceType.
	Validator string `json:"validator"`
	// Path is a FHIRPath-like location such as "Bundle.entry[0].resource.gender".
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (i Issue) String() string { return fmt.Sprintf("[%s] %s: %s", i.Validator, i.Path, i.Message) }

// Result is the verdict on one resource.
type Result struct {
	OK     bool    `json:"ok"`
	Issues []Issue `json:"issues"`
	// Warnings never make a resource fail (for example an invariant fhirpath.js could not
	// evaluate); Resources and Bundle log them.
	Warnings []Issue `json:"warnings"`
}

// HasValidator reports whether any issue came from the named validator.
func (r Result) HasValidator(name string) bool {
	for _, i := range r.Issues {
		if i.Validator == name {
			return true
		}
	}
	return false
}

// Resources validates each resource and reports every issue of every resource with t.Errorf.
// It stops the test with t.Fatalf only when the validators themselves cannot run.
func Resources(t testing.TB, raw ...json.RawMessage) {
	t.Helper()
	results, err := CheckAll(raw...)
	if err != nil {
		t.Fatalf("fhirvalidate: %v", err)
	}
	for i, res := range results {
		report(t, raw[i], i, len(raw), res)
	}
}

// Bundle validates a Bundle, with the resource of each of its entries (and any contained or
// Parameters-held resource) checked against its own type too.
func Bundle(t testing.TB, raw json.RawMessage) {
	t.Helper()
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(raw, &head); err == nil && head.ResourceType != "Bundle" {
		t.Errorf("fhirvalidate.Bundle: resourceType is %q, want \"Bundle\"", head.ResourceType)
	}
	Resources(t, raw)
}

func report(t testing.TB, raw json.RawMessage, i, n int, res Result) {
	t.Helper()
	label := describe(raw)
	if n > 1 {
		label = fmt.Sprintf("resource %d of %d (%s)", i+1, n, label)
	}
	for _, w := range res.Warnings {
		t.Logf("fhirvalidate: %s: warning %s", label, w)
	}
	if res.OK && len(res.Issues) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "fhirvalidate: %s is invalid (%d issue(s)):", label, len(res.Issues))
	for _, is := range res.Issues {
		b.WriteString("\n    ")
		b.WriteString(is.String())
	}
	b.WriteString("\n  resource: ")
	b.WriteString(excerpt(raw, 2000))
	t.Error(b.String())
}

// describe names a resource as Type/id for messages.
func describe(raw json.RawMessage) string {
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if json.Unmarshal(raw, &head) != nil || head.ResourceType == "" {
		return "(not a resource)"
	}
	if head.ID == "" {
		return head.ResourceType + " (no id)"
	}
	return head.ResourceType + "/" + head.ID
}

func excerpt(raw json.RawMessage, max int) string {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		buf.Reset()
		buf.Write(raw)
	}
	s := buf.String()
	if len(s) > max {
		s = s[:max] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}

// Check validates one resource.
func Check(raw json.RawMessage) (Result, error) {
	rs, err := CheckAll(raw)
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

// CheckAll validates resources in one round trip; the results are in the same order. The error
// is about the validators (they could not start or died), never about the resources.
func CheckAll(raw ...json.RawMessage) ([]Result, error) {
	results := make([]Result, len(raw))
	var lines [][]byte
	var index []int // results index of each line sent
	for i, r := range raw {
		line, bad := encode(r)
		if bad != nil {
			results[i] = Result{Issues: []Issue{*bad}}
			continue
		}
		lines = append(lines, line)
		index = append(index, i)
	}
	if len(lines) == 0 {
		return results, nil
	}
	v, err := get()
	if err != nil {
		return nil, err
	}
	got, err := v.roundTrip(lines)
	if err != nil {
		return nil, err
	}
	for k, res := range got {
		results[index[k]] = res
	}
	return results, nil
}

// encode makes the NDJSON line for a resource, or reports why it cannot be sent.
func encode(raw json.RawMessage) ([]byte, *Issue) {
	if !utf8.Valid(raw) {
		return nil, &Issue{Validator: "input", Message: "not valid UTF-8"}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, &Issue{Validator: "input", Message: "not JSON: " + err.Error()}
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// ---- the node process ----

var (
	startOnce sync.Once
	shared    *validator
	startErr  error
)

func get() (*validator, error) {
	startOnce.Do(func() { shared, startErr = start() })
	if startErr != nil {
		return nil, startErr
	}
	return shared, nil
}

// Main runs the tests and then stops the validator process; use it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	Stop()
	return code
}

// Stop ends the validator process, if one was started: it closes its stdin (the script exits
// at end of input) and kills it if it has not exited within a few seconds. Later checks fail.
func Stop() {
	startOnce.Do(func() { startErr = errors.New("the validator was stopped before it was used") })
	if shared != nil {
		shared.stop()
	}
}

type validator struct {
	mu     sync.Mutex // one request at a time
	broken error      // set once the process is unusable

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte   // stdout, line by line; closed at EOF
	exited chan struct{} // closed when the process has exited
	stderr *tail
	dir    string
}

func start() (*validator, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node is not on PATH: the FHIR validators need Node.js 20.19+ with npm " +
			"(e.g. `apt-get install -y nodejs npm` on Debian), then `npm ci --prefix testdata/fhirvalidate`")
	}
	if err := ensureInstalled(dir); err != nil {
		return nil, err
	}

	v := &validator{
		lines:  make(chan []byte, 16),
		exited: make(chan struct{}),
		stderr: &tail{max: 16 << 10},
		dir:    dir,
	}
	cmd := exec.Command(node, "validate.mjs", "--ready")
	cmd.Dir = dir
	cmd.Stderr = v.stderr
	cmd.SysProcAttr = childAttr()
	if v.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	// A plain pipe rather than cmd.StdoutPipe, which Wait closes under a reader still busy.
	stdout, stdoutW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = stdoutW
	cmd.WaitDelay = stopTimeout
	v.cmd = cmd

	// On Linux the child's death signal fires when the thread that started it exits, so start
	// it from a goroutine that keeps its thread locked until the child has exited.
	started := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		stdoutW.Close() // the child has its own copy
		if err != nil {
			stdout.Close()
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(v.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("cannot start `node validate.mjs` in %s: %v", dir, err)
	}
	go func() {
		defer stdout.Close()
		r := bufio.NewReaderSize(stdout, 64<<10)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 && err == nil {
				v.lines <- line
			}
			if err != nil {
				close(v.lines)
				return
			}
		}
	}()

	line, err := v.next(readyTimeout)
	if err != nil {
		v.kill()
		return nil, fmt.Errorf("`node validate.mjs` did not start: %v", err)
	}
	var ready struct {
		Ready bool `json:"ready"`
	}
	if json.Unmarshal(line, &ready) != nil || !ready.Ready {
		v.kill()
		return nil, fmt.Errorf("`node validate.mjs` said %q instead of ready%s", line, v.stderrNote())
	}
	return v, nil
}

// next returns the next stdout line, or an error if the process ends or stays silent.
func (v *validator) next(timeout time.Duration) ([]byte, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case line, ok := <-v.lines:
		if !ok {
			select {
			case <-v.exited:
				return nil, fmt.Errorf("node exited (%v)%s", v.cmd.ProcessState, v.stderrNote())
			case <-timer.C:
				return nil, fmt.Errorf("node closed its stdout%s", v.stderrNote())
			}
		}
		return line, nil
	case <-timer.C:
		return nil, fmt.Errorf("no answer from node within %v%s", timeout, v.stderrNote())
	}
}

func (v *validator) roundTrip(lines [][]byte) ([]Result, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.broken != nil {
		return nil, v.broken
	}
	fail := func(err error) ([]Result, error) {
		v.broken = fmt.Errorf("the validator process failed earlier: %w", err)
		v.kill()
		return nil, err
	}

	// Write from another goroutine: node answers while we are still writing, and a large batch
	// would otherwise fill both pipes.
	wrote := make(chan error, 1)
	go func() {
		for _, l := range lines {
			if _, err := v.stdin.Write(l); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	results := make([]Result, 0, len(lines))
	timeout := requestTimeout + time.Duration(len(lines))*perResource
	deadline := time.Now().Add(timeout)
	for range lines {
		line, err := v.next(time.Until(deadline))
		if err != nil {
			return fail(err)
		}
		var res Result
		if err := json.Unmarshal(line, &res); err != nil {
			return fail(fmt.Errorf("bad answer from validate.mjs %q: %v", line, err))
		}
		results = append(results, res)
	}
	if err := <-wrote; err != nil {
		return fail(fmt.Errorf("writing to node: %v%s", err, v.stderrNote()))
	}
	return results, nil
}

func (v *validator) stop() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.broken == nil {
		v.broken = errors.New("the validator was stopped (fhirvalidate.Stop or Main)")
	}
	_ = v.stdin.Close()
	select {
	case <-v.exited:
	case <-time.After(stopTimeout):
		v.kill()
	}
}

func (v *validator) kill() {
	_ = v.stdin.Close()
	if v.cmd.Process != nil {
		_ = v.cmd.Process.Kill()
	}
	select {
	case <-v.exited:
	case <-time.After(stopTimeout):
	}
}

func (v *validator) stderrNote() string {
	s := strings.TrimSpace(v.stderr.String())
	if s == "" {
		return ""
	}
	return "; node's stderr:\n" + s
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// ---- locating and installing ----

// Dir returns the directory holding validate.mjs and package.json: the
// Node harness lives in testdata/fhirvalidate at the module root, apart from
// this package, so that its node_modules stays outside every Go package.
func Dir() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok {
		d := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "fhirvalidate")
		if isFile(filepath.Join(d, "validate.mjs")) {
			return filepath.Clean(d), nil
		}
	}
	// Built with -trimpath: look for the module root above the working directory.
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		c := filepath.Join(d, "testdata", "fhirvalidate")
		if isFile(filepath.Join(d, "go.mod")) && isFile(filepath.Join(c, "validate.mjs")) {
			return c, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("cannot find testdata/fhirvalidate/validate.mjs above %s", wd)
		}
	}
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// ensureInstalled runs `npm ci` unless node_modules matches package-lock.json. Test binaries
// of several packages may get here at once: a lock on package-lock.json lets one install.
func ensureInstalled(dir string) error {
	unlock, err := lockFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return fmt.Errorf("locking %s: %v", filepath.Join(dir, "package-lock.json"), err)
	}
	defer unlock()
	stale := installedMismatch(dir)
	if stale == "" {
		return nil
	}
	how := fmt.Sprintf("`npm ci` in %s (from the repository root: `npm ci --prefix testdata/fhirvalidate`)", dir)
	if os.Getenv("FHIRLINK_NO_INSTALL") != "" {
		return fmt.Errorf("the validators' npm packages are not installed (%s) and FHIRLINK_NO_INSTALL is set: run %s", stale, how)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("npm is not on PATH, and the validators' npm packages are not installed (%s): "+
			"install Node.js 20.19+ with npm (e.g. `apt-get install -y nodejs npm` on Debian), then run %s", stale, how)
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v", installTimeout)
	}
	if err != nil {
		return fmt.Errorf("%s failed (%v; it was needed because %s):\n%s", how, err, stale, lastLines(string(out), 40))
	}
	if stale := installedMismatch(dir); stale != "" {
		return fmt.Errorf("%s ran but node_modules still does not match package-lock.json: %s", how, stale)
	}
	return nil
}

// installedMismatch says what in node_modules differs from package-lock.json, or "".
func installedMismatch(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return "no package-lock.json: " + err.Error()
	}
	var lock struct {
		Packages map[string]struct {
			Version  string `json:"version"`
			Optional bool   `json:"optional"`
			Link     bool   `json:"link"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return "package-lock.json: " + err.Error()
	}
	if fi, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil || !fi.IsDir() {
		return "there is no node_modules"
	}
	paths := make([]string, 0, len(lock.Packages))
	for path := range lock.Packages {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, path := range paths {
		p := lock.Packages[path]
		if path == "" || p.Optional || p.Link || !strings.HasPrefix(path, "node_modules/") {
			continue
		}
		var got struct {
			Version string `json:"version"`
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path), "package.json"))
		if err != nil {
			return path + " is missing"
		}
		if json.Unmarshal(b, &got) != nil || got.Version != p.Version {
			return fmt.Sprintf("%s is %q, package-lock.json wants %q", path, got.Version, p.Version)
		}
	}
	return ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// R4Definitions returns the path of the FHIR R4 (4.0.1) StructureDefinitions of the
// resources (profiles-resources.json, a Bundle) that the validators' packages ship,
// installing them first when needed: tests check tables derived from the specification
// against it.
func R4Definitions() (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	if err := ensureInstalled(dir); err != nil {
		return "", err
	}
	return filepath.Join(dir, "node_modules", "@medplum", "definitions", "dist", "fhir", "r4", "profiles-resources.json"), nil
}
