package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"fhirlink/fhir/fhirvalidate"
	"fhirlink/server/fhirlinktest"
)

// TestDemoExamplesWorkVerbatim runs the demo command for each PMS, takes the
// commands out of what it prints, runs each as printed with sh and checks
// that it returns data; every FHIR resource it gets goes through the
// validators. Zedmed's runs on a fixed Sunday (--today), so its book is laid
// out around that day and the appointments example moves to the Monday.
func TestDemoExamplesWorkVerbatim(t *testing.T) {
	for _, tool := range []string{"sh", "curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the demo's examples need %s: install it (Debian: apt-get install %s)", tool, tool)
		}
	}
	for _, c := range []struct{ pms, today string }{
		{"BestPractice", ""},
		{"Zedmed", "2027-03-14"},
	} {
		t.Run(c.pms, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			out := startDemoCommand(t, ctx, "--pms", c.pms, "--today", c.today)
			titles, printed := printedCommands(out)
			// the examples' checks, by position: they do not depend on the values
			examples := demoExamples("", demoPractices[c.pms], &demoValues{surname: "X", metricsURL: "x"})
			if len(printed) != len(examples) {
				t.Fatalf("%d commands printed, %d examples:\n%s", len(printed), len(examples), out)
			}
			if c.today != "" && !strings.Contains(out, "Appointments on Monday 2027-03-15") {
				t.Errorf("on a Sunday the appointments example is not Monday's:\n%s", out)
			}
			for i, e := range examples {
				t.Run(titles[i], func(t *testing.T) {
					cmd := exec.CommandContext(ctx, "sh", "-c", printed[i])
					var stderr bytes.Buffer
					cmd.Stderr = &stderr
					got, err := cmd.Output()
					if err != nil {
						t.Fatalf("%v: %s\n%s", err, stderr.Bytes(), printed[i])
					}
					checkDemoOutput(t, e.want, got)
				})
			}
			t.Run("console", func(t *testing.T) { checkDemoConsole(t, ctx, out) })
		})
	}
}

// startDemoCommand runs the demo command as a user would, with args after
// a fresh directory and a free port, until ctx is done, and returns what it
// printed up to its last example.
func startDemoCommand(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	runCtx, stop := context.WithCancel(ctx)
	go func() {
		done <- run(runCtx, append([]string{"demo", "--listen", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--dir", t.TempDir()}, args...), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("the demo did not stop within 15 s")
		}
	})
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if sc.Text() == "Press Ctrl-C to stop." {
			go io.Copy(io.Discard, pr)
			return out.String()
		}
	}
	t.Fatalf("the demo stopped (exit status %d) before printing its examples:\n%s", <-done, out.String())
	return ""
}

// printedCommands takes the commands out of the demo's output, with their
// titles: the lines indented by two spaces after each title, unindented.
func printedCommands(out string) (titles, cmds []string) {
	var cur []string
	title := ""
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "  "); ok {
			cur = append(cur, rest)
			continue
		}
		if cur != nil {
			titles, cmds = append(titles, title), append(cmds, strings.Join(cur, "\n"))
			cur = nil
		}
		if t, ok := strings.CutSuffix(line, ":"); ok {
			title = t
		}
	}
	return titles, cmds
}

// checkDemoOutput checks that an example printed the data it promises.
func checkDemoOutput(t *testing.T, want demoWant, got []byte) {
	t.Helper()
	short := string(got[:min(len(got), 600)])
	var obj map[string]json.RawMessage
	switch want {
	case wantBundle:
		var b struct {
			ResourceType string            `json:"resourceType"`
			Entry        []json.RawMessage `json:"entry"`
		}
		if err := json.Unmarshal(got, &b); err != nil || b.ResourceType != "Bundle" || len(b.Entry) == 0 {
			t.Fatalf("want a Bundle with entries, got (%v) %s", err, short)
		}
		fhirvalidate.Bundle(t, got)
	case wantResource:
		checkResources(t, got)
	case wantStatus:
		if err := json.Unmarshal(got, &obj); err != nil || string(obj["availability"]) != `"online"` {
			t.Fatalf("want the site online, got (%v) %s", err, short)
		}
	case wantRows, wantRegistered:
		data := checkSuccessful(t, want, got)
		var v any
		if err := json.Unmarshal(data, &v); err != nil || v == nil {
			t.Fatalf("want rows in data, got %q (%v)", data, err)
		}
		if rows, ok := v.([]any); ok && len(rows) == 0 {
			t.Fatalf("want rows, got none: %s", short)
		}
	case wantNDJSON:
		lines := jsonLines(t, got)
		if len(lines) == 0 {
			t.Fatalf("want NDJSON rows, got %s", short)
		}
		for _, l := range lines {
			if bytes.HasPrefix(l, []byte(`{"error"`)) {
				t.Fatalf("an error among the rows: %s", l)
			}
		}
	case wantPairings:
		var p []struct{ IntegratorID string }
		if err := json.Unmarshal(got, &p); err != nil || len(p) == 0 || p[0].IntegratorID == "" {
			t.Fatalf("want the site's pairings, got (%v) %s", err, short)
		}
	case wantRefused:
		var e struct {
			Error struct{ Status int } `json:"error"`
		}
		if err := json.Unmarshal(got, &e); err != nil || e.Error.Status != 403 {
			t.Fatalf("want the write refused (403), got (%v) %s", err, short)
		}
	case wantExport:
		lines := jsonLines(t, got)
		var m struct {
			Output []struct {
				Type, URL string
				Count     int
			} `json:"output"`
		}
		if len(lines) < 2 || json.Unmarshal(lines[0], &m) != nil || len(m.Output) == 0 {
			t.Fatalf("want a manifest with files then resources, got %s", short)
		}
		for _, f := range m.Output {
			if f.Count == 0 || f.URL == "" {
				t.Errorf("an empty output file in the manifest: %+v", f)
			}
		}
		var rest [][]byte
		for _, l := range lines[1:] {
			rest = append(rest, l)
		}
		checkResources(t, bytes.Join(rest, []byte("\n")))
	case wantMetrics:
		// By now every example before this one has been answered.
		m := fhirlinktest.ParseMetrics(t, got)
		if v, _ := m.Value("fhirlink_agents_connected"); v != 1 {
			t.Errorf("want 1 agent connected, got %v:\n%s", v, short)
		}
		if v, _ := m.Value("fhirlink_http_requests_total", "route", "/integrator/sites/:siteId/fhir/R4/:type", "code", "200"); v < 1 {
			t.Errorf("want the FHIR searches counted, got %v:\n%s", v, short)
		}
	case wantBooked:
		var a struct{ ResourceType, Status, ID string }
		if err := json.Unmarshal(got, &a); err != nil || a.ResourceType != "Appointment" || a.Status != "booked" || a.ID == "" {
			t.Fatalf("want the booked Appointment, got (%v) %s", err, short)
		}
		checkResources(t, got)
	default:
		t.Fatalf("no check for %d", want)
	}
}

// checkSuccessful checks a passthrough query object or registered query
// result and returns its rows, decoded from base64.
func checkSuccessful(t *testing.T, want demoWant, got []byte) []byte {
	t.Helper()
	var q struct {
		Status string `json:"status"`
		Data   string `json:"data"` // a registered query's result
		Result struct {
			Data string `json:"data"`
		} `json:"result"`
	}
	if err := json.Unmarshal(got, &q); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	data := q.Data
	if want == wantRows {
		if q.Status != "successful" {
			t.Fatalf("want a successful query, got %s", got)
		}
		data = q.Result.Data
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(b) == 0 {
		t.Fatalf("want base64 rows in data, got %q (%v)", data, err)
	}
	return b
}

// checkResources validates each FHIR resource in got, one a line, and
// checks that none is an OperationOutcome.
func checkResources(t *testing.T, got []byte) {
	t.Helper()
	var raws []json.RawMessage
	for _, l := range jsonLines(t, got) {
		var r struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(l, &r); err != nil || r.ResourceType == "" || r.ResourceType == "OperationOutcome" {
			t.Fatalf("want a FHIR resource, got (%v) %s", err, l[:min(len(l), 600)])
		}
		raws = append(raws, l)
	}
	if len(raws) == 0 {
		t.Fatal("want a FHIR resource, got nothing")
	}
	fhirvalidate.Resources(t, raws...)
}

// jsonLines splits got into its non-empty lines, each of which must be JSON.
func jsonLines(t *testing.T, got []byte) []json.RawMessage {
	t.Helper()
	var lines []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(got))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		l := bytes.TrimSpace(sc.Bytes())
		if len(l) == 0 {
			continue
		}
		if !json.Valid(l) {
			t.Fatalf("not JSON: %s", l[:min(len(l), 600)])
		}
		lines = append(lines, append(json.RawMessage(nil), l...))
	}
	return lines
}

// TestNextMonday: "next week" of the free-slots example starts on the
// Monday after today, also when today is a Monday or a Sunday.
func TestNextMonday(t *testing.T) {
	syd, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		t.Fatal(err)
	}
	for day, want := range map[string]string{
		"2027-03-14": "2027-03-15", // Sunday
		"2027-03-15": "2027-03-22", // Monday
		"2027-03-20": "2027-03-22", // Saturday
		"2027-04-01": "2027-04-05", // Thursday; daylight saving ends on the Sunday between
	} {
		d, _ := time.ParseInLocation(time.DateOnly, day, syd)
		if got := nextMonday(d).Format(time.DateOnly); got != want {
			t.Errorf("nextMonday(%s) = %s, want %s", day, got, want)
		}
	}
}
