package api_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"go.uber.org/goleak"

	"fhirlink/agent/fbtest"
	"fhirlink/agent/pgtest"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
	"fhirlink/server/hub"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	fhirvalidate.Stop()
	fbtest.Stop()
	if code == 0 {
		// Every session, stream and query goroutine must be gone once the
		// tests' servers and agents are stopped.
		if err := goleak.Find(goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener")); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// practice returns a PostgreSQL database with a small table of every type
// family, and a handle on it for checks behind the agent's back.
func practice(t testing.TB) (string, *sql.DB) {
	t.Helper()
	dsn := pgtest.DSN(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`
		CREATE TABLE patients (
			id bigint PRIMARY KEY, surname char(40), given varchar(40), dob date,
			balance numeric(12,2), weight double precision, created timestamp(3),
			seen timestamptz, photo bytea, active boolean, ref uuid);
		INSERT INTO patients VALUES
			(9223372036854775807, 'O''Brien', 'Siobhan', '1984-02-29', 1234567890.12, 72.5,
			 '2024-05-31 09:30:00.125', '2024-05-31 09:30:00+10', '\x00ff10', true, '6f9619ff-8b86-d011-b42d-00c04fc964ff'),
			(2, 'Nguyen', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);`)
	if err != nil {
		t.Fatal(err)
	}
	return dsn, db
}

func start(t *testing.T, opt fhirlinktest.Options) (*fhirlinktest.Env, *sql.DB) {
	t.Helper()
	dsn, db := practice(t)
	opt.Engine, opt.DSN = "postgres", dsn
	return fhirlinktest.Start(t, opt), db
}

func TestRowsAndTypesRoundTrip(t *testing.T) {
	env, _ := start(t, fhirlinktest.Options{})
	status, q := env.Immediate(fhirlinktest.Command(
		"SELECT id, surname, given, dob, balance, weight, created, seen AT TIME ZONE 'UTC' AS seen_utc, photo, active, ref FROM patients WHERE id > @min ORDER BY id DESC",
		map[string]any{"name": "@min", "type": "BigInt", "value": "1"}))
	if status != http.StatusOK || q.Status != "successful" {
		t.Fatalf("status %d %s: %s", status, q.Status, q.Raw)
	}
	rows := q.Rows(t)
	if len(rows) != 2 || *q.Result.Rows != 2 {
		t.Fatalf("rows = %d (result.rows %d), want 2", len(rows), *q.Result.Rows)
	}
	want := map[string]any{
		"id":       json.Number("9223372036854775807"),
		"surname":  "O'Brien" + strings.Repeat(" ", 33), // char(40) keeps its padding
		"given":    "Siobhan",
		"dob":      "1984-02-29",
		"balance":  "1234567890.12",
		"weight":   json.Number("72.5"),
		"created":  "2024-05-31T09:30:00.125",
		"seen_utc": "2024-05-30T23:30:00",
		"photo":    "AP8Q",
		"active":   true,
		"ref":      "6f9619ff-8b86-d011-b42d-00c04fc964ff",
	}
	for k, v := range want {
		if rows[0][k] != v {
			t.Errorf("%s = %#v, want %#v", k, rows[0][k], v)
		}
	}
	for k, v := range rows[1] {
		if k != "id" && k != "surname" && v != nil {
			t.Errorf("row 2 %s = %#v, want null", k, v)
		}
	}
	types := map[string]string{}
	for _, c := range q.Result.Columns {
		types[c.Name] = c.Type
	}
	for col, typ := range map[string]string{"id": "integer", "balance": "decimal", "dob": "date", "created": "datetime", "photo": "binary", "ref": "uuid", "active": "boolean"} {
		if types[col] != typ {
			t.Errorf("column %s type %q, want %q", col, types[col], typ)
		}
	}
	if q.Metrics == nil || q.StatusTiming["executing"].EndTime.IsZero() || q.Result.Size != int64(len(q.Result.Data)) {
		t.Errorf("metrics, timing or size missing: %s", q.Raw)
	}
}

func TestScalarAndNDJSON(t *testing.T) {
	env, _ := start(t, fhirlinktest.Options{})
	status, q := env.Immediate(map[string]any{"command": map[string]any{"text": "SELECT count(*) FROM patients", "executionMode": "scalar"}})
	if status != http.StatusOK || string(q.Result.Data) != "2" {
		t.Fatalf("scalar: %d %s", status, q.Raw)
	}
	status, h, body, err := env.Do(context.Background(), http.MethodPost, env.SiteURL()+"/queries/immediate", env.Key,
		fhirlinktest.Command("SELECT id, given FROM patients ORDER BY id"), "Accept", "application/x-ndjson")
	if err != nil || status != http.StatusOK {
		t.Fatalf("ndjson: %d %v %s", status, err, body)
	}
	if got, want := string(body), "{\"id\":2,\"given\":null}\n{\"id\":9223372036854775807,\"given\":\"Siobhan\"}\n"; got != want {
		t.Fatalf("ndjson body %q, want %q", got, want)
	}
	if !strings.Contains(h.Get("Fhirlink-Columns"), `"integer"`) || h.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("ndjson headers %v", h)
	}
}

// activeQueries counts statements matching pattern on the server, other
// than the one counting.
func activeQueries(t *testing.T, db *sql.DB, pattern string) int {
	t.Helper()
	var n int
	err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE $1 AND state = 'active' AND pid <> pg_backend_pid()`, pattern).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitGone waits (at most 5 s) until no statement matches pattern.
func waitGone(t *testing.T, db *sql.DB, pattern string) {
	t.Helper()
	waittest.For(t, 5*time.Second, "statement "+pattern+" to leave the database", func() bool {
		return activeQueries(t, db, pattern) == 0
	})
}

func TestDeadlineCancelsInDatabase(t *testing.T) {
	env, db := start(t, fhirlinktest.Options{ImmediateTimeout: 500 * time.Millisecond})
	began := time.Now()
	status, q := env.Immediate(fhirlinktest.Command("SELECT pg_sleep(30) /* deadline */"))
	if status != http.StatusGatewayTimeout || q.Status != "executionFailed" || q.ErrorDetails == nil || q.ErrorDetails.ErrorCode != 504 {
		t.Fatalf("status %d: %s", status, q.Raw)
	}
	if time.Since(began) > 10*time.Second {
		t.Fatalf("answered after %v", time.Since(began))
	}
	waitGone(t, db, "%pg_sleep(30) /* deadline */%")
}

func TestIntegratorDisconnectCancelsInDatabase(t *testing.T) {
	env, db := start(t, fhirlinktest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		env.Do(ctx, http.MethodPost, env.SiteURL()+"/queries/immediate", env.Key, fhirlinktest.Command("SELECT pg_sleep(30) /* walkaway */"))
	}()
	waittest.For(t, 10*time.Second, "the query to run in the database", func() bool {
		return activeQueries(t, db, "%walkaway%") > 0
	})
	cancel()
	<-done
	waitGone(t, db, "%pg_sleep(30) /* walkaway */%")
}

func TestSizeCap(t *testing.T) {
	env, db := start(t, fhirlinktest.Options{ImmediateMaxBytes: 64 << 10})
	status, q := env.Immediate(fhirlinktest.Command("SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 10000000) g /* big */"))
	if status != http.StatusRequestEntityTooLarge || q.ErrorDetails == nil || q.ErrorDetails.ErrorCode != 413 ||
		!strings.Contains(q.ErrorDetails.ErrorMessage, "size limit") {
		t.Fatalf("status %d: %s", status, q.Raw)
	}
	waitGone(t, db, "%/* big */%")
	// Under the cap the same shape succeeds.
	if status, q := env.Immediate(fhirlinktest.Command("SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 100) g")); status != http.StatusOK {
		t.Fatalf("small result: %d %s", status, q.Raw)
	}
}

func TestReaderCannotWrite(t *testing.T) {
	env, db := start(t, fhirlinktest.Options{})
	status, q := env.Immediate(fhirlinktest.Command("INSERT INTO patients (id, surname) VALUES (3, 'Intruder')"))
	if status != http.StatusBadRequest || q.ErrorDetails == nil || q.ErrorDetails.ErrorType != "postgres" || q.ErrorDetails.SQLState != "25006" {
		t.Fatalf("status %d: %s", status, q.Raw)
	}
	status, q = env.Immediate(map[string]any{"command": map[string]any{"text": "DELETE FROM patients", "executionMode": "nonQuery"}})
	if status != http.StatusForbidden || q.Error == nil || !strings.Contains(q.Error.Message, "read-only") {
		t.Fatalf("nonQuery: status %d: %s", status, q.Raw)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM patients").Scan(&n); err != nil || n != 2 {
		t.Fatalf("patients = %d (%v), want 2 unchanged", n, err)
	}
}

func TestWritesWhenAllowed(t *testing.T) {
	env, db := start(t, fhirlinktest.Options{AllowWrites: true})
	status, q := env.Immediate(map[string]any{"command": map[string]any{
		"text": "UPDATE patients SET given = @g WHERE id = @id", "executionMode": "nonQuery",
		"parameters": []map[string]any{{"name": "@g", "type": "NVarChar", "value": "Mai"}, {"name": "@id", "type": "BigInt", "value": "2"}}}})
	if status != http.StatusOK || q.Result == nil || q.Result.RowsAffected == nil || *q.Result.RowsAffected != 1 {
		t.Fatalf("status %d: %s", status, q.Raw)
	}
	var given string
	if err := db.QueryRow("SELECT given FROM patients WHERE id = 2").Scan(&given); err != nil || given != "Mai" {
		t.Fatalf("given = %q (%v)", given, err)
	}
}

func TestQueueExpiry(t *testing.T) {
	env, db := start(t, fhirlinktest.Options{Concurrency: 1})
	hold := make(chan struct{})
	go func() {
		defer close(hold)
		env.Immediate(fhirlinktest.Command("SELECT pg_sleep(1.5) /* holds the slot */"))
	}()
	waittest.For(t, 10*time.Second, "the first query to take the only slot", func() bool {
		return activeQueries(t, db, "%holds the slot%") > 0
	})
	status, q := env.Immediate(map[string]any{"command": map[string]any{"text": "SELECT 1"}, "maxTimeInQueue": 100})
	if status != http.StatusServiceUnavailable || q.Status != "expiredInQueue" {
		t.Fatalf("status %d: %s", status, q.Raw)
	}
	<-hold
	if status, q := env.Immediate(map[string]any{"command": map[string]any{"text": "SELECT 1"}, "maxTimeInQueue": 100}); status != http.StatusOK {
		t.Fatalf("after the slot freed: %d %s", status, q.Raw)
	}
}

func TestAgentReconnectsAfterServerRestart(t *testing.T) {
	env, _ := start(t, fhirlinktest.Options{})
	restart := time.Now()
	env.RestartServer()
	env.WaitReconnected(restart)
	if status, q := env.Immediate(fhirlinktest.Command("SELECT 1 AS one")); status != http.StatusOK {
		t.Fatalf("after restart: %d %s", status, q.Raw)
	}
}

func TestAvailability(t *testing.T) {
	env, _ := start(t, fhirlinktest.Options{KeepAlive: 50 * time.Millisecond, UnreachableAfter: 300 * time.Millisecond})
	status, _, body, _ := env.Do(context.Background(), http.MethodGet, env.SiteURL(), env.Key, nil)
	var site struct {
		Availability, PMSType, HaloLinkVersion, Engine string
		Catalogue                                      []struct{ Name string }
	}
	json.Unmarshal(body, &site)
	if status != http.StatusOK || site.Availability != "online" || site.Engine != "postgres" || site.HaloLinkVersion == "" || len(site.Catalogue) != 1 {
		t.Fatalf("site status %d %s", status, body)
	}
	env.StopAgent()
	env.WaitAvailability(hub.Offline)
	status, q := env.Immediate(fhirlinktest.Command("SELECT 1"))
	if status != http.StatusServiceUnavailable || q.Status != "initialisationFailedSiteOffline" {
		t.Fatalf("offline: %d %s", status, q.Raw)
	}
	env.StartAgent()
	env.WaitAvailability(hub.Online)
}

func TestSeveralIntegratorsAtOnce(t *testing.T) {
	env, _ := start(t, fhirlinktest.Options{Concurrency: 2})
	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for i := range 8 {
		_, key := env.NewIntegrator(true)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				status, _, body, err := env.Do(context.Background(), http.MethodPost, env.SiteURL()+"/queries/immediate", key,
					fhirlinktest.Command("SELECT @n::int AS n", map[string]any{"name": "@n", "type": "Int", "value": fmt.Sprint(i*100 + j)}))
				if err != nil || status != http.StatusOK || !strings.Contains(string(body), `"successful"`) {
					errs <- fmt.Sprintf("integrator %d query %d: %d %v %s", i, j, status, err, body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// A body cut short (the client sent less than its Content-Length, then
// closed its side) is a request that could not be read: 400, not a size
// error, and nothing runs (bookingScenario checks a FHIR write's too).
func TestBodyCutShort(t *testing.T) {
	env, _ := start(t, fhirlinktest.Options{})
	for _, c := range []struct{ name, path, contentType string }{
		{"passthrough", "/queries/immediate", "application/json"},
		{"FHIR POST _search", "/fhir/R4/Patient/_search", "application/x-www-form-urlencoded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if status, body := postCutShort(t, env, c.path, c.contentType); status != http.StatusBadRequest || !strings.Contains(string(body), "could not be read") {
				t.Fatalf("status %d body %s; want 400 saying the body could not be read", status, body)
			}
		})
	}
}

// postCutShort posts to the site's path a body that stops short of its
// Content-Length, the client's side then closed, and returns the answer.
func postCutShort(t *testing.T, env *fhirlinktest.Env, path, contentType string) (int, []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(env.URL(), "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(conn, "POST /integrator/sites/%s%s HTTP/1.1\r\nHost: fhirlink.test\r\n%s: %s\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\n{\"resourceType\":",
		env.SiteID, path, api.KeyHeader, env.Key, contentType)
	conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func TestBadInput(t *testing.T) {
	env, _ := start(t, fhirlinktest.Options{})
	_, unpairedKey := env.NewIntegrator(false)
	immediate := env.SiteURL() + "/queries/immediate"
	cases := []struct {
		name, url, key string
		body           any
		status         int
		message        string
	}{
		{"malformed JSON", immediate, env.Key, `{"command":`, 400, "malformed JSON"},
		{"missing text", immediate, env.Key, `{"command":{}}`, 400, "command.text is required"},
		{"unknown mode", immediate, env.Key, `{"command":{"text":"SELECT 1","executionMode":"stream"}}`, 400, "executionMode"},
		{"unknown type", immediate, env.Key, `{"command":{"text":"SELECT 1","type":"script"}}`, 400, "command.type"},
		{"unknown parameter type", immediate, env.Key, `{"command":{"text":"SELECT @a","parameters":[{"name":"@a","type":"Integer","value":"1"}]}}`, 400, "unknown type"},
		{"bad parameter value", immediate, env.Key, `{"command":{"text":"SELECT @a","parameters":[{"name":"@a","type":"Int","value":"one"}]}}`, 400, "@a"},
		{"queue wait too long", immediate, env.Key, `{"command":{"text":"SELECT 1"},"maxTimeInQueue":60001}`, 400, "maxTimeInQueue"},
		{"unknown catalogue", immediate, env.Key, `{"command":{"text":"SELECT 1"},"catalogue":"Other"}`, 400, "unknown catalogue"},
		{"wrong key", immediate, "not-a-key", `{"command":{"text":"SELECT 1"}}`, 401, "invalid"},
		{"no key", immediate, "", `{"command":{"text":"SELECT 1"}}`, 401, "missing"},
		{"unknown site", env.URL() + "/integrator/sites/00000000-0000-4000-8000-000000000000/queries/immediate", env.Key, `{"command":{"text":"SELECT 1"}}`, 404, "not found"},
		{"malformed site id", env.URL() + "/integrator/sites/nope/queries/immediate", env.Key, `{"command":{"text":"SELECT 1"}}`, 400, "not a UUID"},
		{"unpaired site", immediate, unpairedKey, `{"command":{"text":"SELECT 1"}}`, 403, "not paired"},
		{"oversize body", immediate, env.Key, `{"command":{"text":"SELECT '` + strings.Repeat("x", 2<<20) + `'"}}`, 413, "over"},
		{"database error", immediate, env.Key, `{"command":{"text":"SELECT * FROM no_such_table"}}`, 400, "no_such_table"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, body, err := env.Do(context.Background(), http.MethodPost, c.url, c.key, c.body)
			if err != nil {
				t.Fatal(err)
			}
			if status != c.status || !strings.Contains(string(body), c.message) {
				t.Fatalf("status %d body %s; want %d containing %q", status, body, c.status, c.message)
			}
			var shape struct {
				Error        *struct{ Status int }
				ErrorDetails *struct{ ErrorType string }
			}
			if json.Unmarshal(body, &shape) != nil || (shape.Error == nil && shape.ErrorDetails == nil) {
				t.Fatalf("body is neither the error shape nor a query object with errorDetails: %s", body)
			}
			if shape.ErrorDetails != nil && c.name == "database error" && shape.ErrorDetails.ErrorType != "postgres" {
				t.Fatalf("errorType %q, want postgres", shape.ErrorDetails.ErrorType)
			}
		})
	}
}

func TestUnreachableThenReconnect(t *testing.T) {
	env, _ := start(t, fhirlinktest.Options{Proxy: true, KeepAlive: 50 * time.Millisecond, UnreachableAfter: 500 * time.Millisecond})
	env.Proxy.Freeze() // the link goes silent without closing
	env.WaitAvailability(hub.Unreachable)
	status, q := env.Immediate(fhirlinktest.Command("SELECT 1"))
	if status != http.StatusServiceUnavailable || q.Status != "initialisationFailedSiteUnreachable" {
		t.Fatalf("unreachable: %d %s", status, q.Raw)
	}
	env.Proxy.Thaw()
	env.WaitAvailability(hub.Online)
	if status, q := env.Immediate(fhirlinktest.Command("SELECT 1")); status != http.StatusOK {
		t.Fatalf("after reconnecting: %d %s", status, q.Raw)
	}
	// A cut connection (network loss) is seen at once and the agent redials.
	cut := time.Now()
	env.Proxy.Cut()
	env.WaitReconnected(cut)
	if status, q := env.Immediate(fhirlinktest.Command("SELECT 1")); status != http.StatusOK {
		t.Fatalf("after a cut: %d %s", status, q.Raw)
	}
}

func TestInteractiveOvertakesAsync(t *testing.T) {
	env, db := start(t, fhirlinktest.Options{Concurrency: 2})
	ctx := context.Background()
	query := func(p wire.Priority, sql string) (time.Duration, error) {
		began := time.Now()
		rows, err := env.Hub.Query(ctx, env.SiteID, wire.QueryRequest{Text: sql, Mode: wire.ModeReader, Type: wire.CommandText,
			Priority: p, TimeoutMS: 30000, MaxTimeInQueueMS: 30000})
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		for rows.Next() {
		}
		return time.Since(began), rows.Err()
	}
	type result struct {
		name string
		took time.Duration
		err  error
	}
	results := make(chan result, 3)
	run := func(name string, p wire.Priority, sql string) {
		took, err := query(p, sql)
		results <- result{name, took, err}
	}
	go run("async1", wire.PriorityAsync, "SELECT pg_sleep(1) /* async1 */")
	waittest.For(t, 10*time.Second, "async1 to run in the database", func() bool {
		return activeQueries(t, db, "%async1 */%") > 0
	})
	go run("async2", wire.PriorityAsync, "SELECT pg_sleep(0.1)") // must wait: one slot stays for interactive work
	waittest.For(t, 10*time.Second, "async2 to queue behind async1 in the agent", func() bool {
		running, queued := env.AgentLoad()
		return running == 1 && queued == 1
	})
	go run("interactive", wire.PriorityInteractive, "SELECT 1")
	var order []string
	took := map[string]time.Duration{}
	for range 3 {
		r := <-results
		if r.err != nil {
			t.Fatalf("%s: %v", r.name, r.err)
		}
		order = append(order, r.name)
		took[r.name] = r.took
	}
	if order[0] != "interactive" || took["interactive"] > 500*time.Millisecond {
		t.Fatalf("order %v, interactive took %v: it must not wait behind async work", order, took["interactive"])
	}
	if took["async2"] < 500*time.Millisecond {
		t.Fatalf("async2 took %v: it should have queued until async1 finished", took["async2"])
	}
}
