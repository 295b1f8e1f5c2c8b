package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"fhirlink/fhir/fhirvalidate"
	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
)

// The streaming tests stop the practice database in the middle of a
// search's rows: PATIENTS becomes a view whose rows pass a gate, and the
// gate waits on an advisory lock the test holds when it reaches a chosen
// patient. The agent has then sent the rows before that patient and is
// still in the query: what reaches the client meanwhile was written while
// the agent was still sending rows.

// gateLock is the advisory lock key the gate waits on.
const gateLock = 4242

// gatedPractice is a synthetic Bp Premier practice of its own whose
// Patient rows stop, while the returned connection holds gateLock, at
// the live patient of rank at (from 0, in id order). The planner is told
// to use the id index and nested loops, so rows leave the database as the
// scan reaches them rather than after a sort.
func gatedPractice(t *testing.T, at int) (dsn string, db *sql.DB, lock *sql.Conn) {
	t.Helper()
	dsn, db = ownBpPractice(t)
	ctx := context.Background()
	var stop int
	if err := db.QueryRow(`SELECT "INTERNALID" FROM "PATIENTS" WHERE "RECORDSTATUS" = 1 ORDER BY "INTERNALID" OFFSET $1 LIMIT 1`, at).Scan(&stop); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`ALTER TABLE "PATIENTS" RENAME TO "PATIENTS_T"`,
		`CREATE FUNCTION gate_open(pid integer) RETURNS boolean VOLATILE LANGUAGE plpgsql AS $$
		BEGIN
			IF pid = ` + strconv.Itoa(stop) + ` THEN
				PERFORM pg_advisory_lock(` + strconv.Itoa(gateLock) + `);
				PERFORM pg_advisory_unlock(` + strconv.Itoa(gateLock) + `);
			END IF;
			RETURN true;
		END $$`,
		`CREATE VIEW "PATIENTS" AS SELECT * FROM "PATIENTS_T" WHERE gate_open("INTERNALID")`,
		`DO $$ BEGIN
			EXECUTE format('ALTER DATABASE %I SET enable_sort = off', current_database());
			EXECUTE format('ALTER DATABASE %I SET enable_seqscan = off', current_database());
			EXECUTE format('ALTER DATABASE %I SET enable_hashjoin = off', current_database());
			EXECUTE format('ALTER DATABASE %I SET enable_mergejoin = off', current_database());
			-- The disabled plans' huge costs would have every query compiled.
			EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
		END $$`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	lock, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	if _, err := lock.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, gateLock); err != nil {
		t.Fatal(err)
	}
	return dsn, db, lock
}

// openGate lets the waiting query go on.
func openGate(t *testing.T, lock *sql.Conn) {
	t.Helper()
	if _, err := lock.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, gateLock); err != nil {
		t.Fatal(err)
	}
}

// atGate selects the backends of the queries waiting at the gate.
const atGate = ` FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory' AND pid <> pg_backend_pid()`

// awaitGate waits (at most 15 s) until the search's query waits at the
// gate, and fails the test unless it is the only one.
func awaitGate(t *testing.T, db *sql.DB) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		n := len(dbIDs(t, db, `SELECT pid::text`+atGate))
		switch {
		case n == 1:
			return
		case n > 1 || time.Now().After(deadline):
			t.Fatalf("%d queries wait at the gate, want the search's one", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// failAtGate cancels the query waiting at the gate.
func failAtGate(t *testing.T, db *sql.DB) {
	t.Helper()
	if _, err := db.Exec(`SELECT pg_cancel_backend(pid)` + atGate); err != nil {
		t.Fatal(err)
	}
}

// startSearch sends a FHIR search and returns the response once its body
// has shown the first entry, with what was read so far. It fails the test
// when no entry arrives within 15 s: with the gate closed, an entry can
// only arrive when the server streams.
func startSearch(t *testing.T, env *fhirlinktest.Env, path string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.SiteURL()+"/fhir/R4/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(api.KeyHeader, env.Key)
	stop := time.AfterFunc(15*time.Second, cancel)
	defer stop.Stop()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("no response while the database holds the rest of the rows: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	got, buf := []byte{}, make([]byte, 4<<10)
	for !bytes.Contains(got, []byte(`"search":{"mode":"match"}`)) {
		n, err := resp.Body.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("no entry arrived while the database holds the rest of the rows (%d bytes read): %v", len(got), err)
		}
	}
	return resp, got
}

// streamAt is the rank of the patient the gate stops at: the rows before
// it are well over the agent's 128 KiB write buffer, so some of them have
// left the agent while it waits.
const streamAt = 160

func TestFHIRSearchStreamsEntriesAsRowsArrive(t *testing.T) {
	dsn, db, lock := gatedPractice(t, streamAt)
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "postgres", DSN: dsn})
	const path = "Patient?_count=200"
	resp, head := startSearch(t, env, path)
	if !bytes.HasPrefix(head, []byte(`{"resourceType":"Bundle","type":"searchset","entry":[`)) {
		t.Fatalf("the Bundle does not start with its head: %.200s", head)
	}
	// The query cannot end while the gate is closed: the entry was
	// written while the agent was still in it.
	awaitGate(t, db)
	openGate(t, lock)
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the rest: %v", err)
	}
	body := append(head, rest...)
	fhirvalidate.Bundle(t, body)
	var b bundle
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	want := dbIDs(t, db, `SELECT p."INTERNALID"::text FROM "PATIENTS_T" p WHERE p."RECORDSTATUS" = 1 ORDER BY p."INTERNALID" LIMIT 200`)
	if got := b.ids(t, "match"); !slices.Equal(got, want) {
		t.Fatalf("the streamed page's matches\n%v\nare not the database's first 200\n%v", got, want)
	}
	if self := b.link("self"); self != env.SiteURL()+"/fhir/R4/"+path {
		t.Errorf("self link %q", self)
	}
}

func TestFHIRSearchFailingMidwayBreaksTheResponse(t *testing.T) {
	dsn, db, lock := gatedPractice(t, streamAt)
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "postgres", DSN: dsn})
	resp, head := startSearch(t, env, "Patient?_count=200")
	// The query fails while the server streams: the response must end as
	// a failure, not as a short Bundle.
	awaitGate(t, db)
	failAtGate(t, db)
	rest, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("the response ended cleanly after the query failed (%d bytes): a client would take it for whole", len(head)+len(rest))
	}
	if json.Valid(append(head, rest...)) {
		t.Fatal("the cut response is valid JSON")
	}
	openGate(t, lock)
	// The site goes on serving.
	search(t, env, "Patient?_count=5")
}

func TestFHIRSearchFailingBeforeItsFirstRowIsAnOutcome(t *testing.T) {
	dsn, db, _ := gatedPractice(t, 0)
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "postgres", DSN: dsn})
	type answer struct {
		status int
		body   []byte
	}
	done := make(chan answer, 1)
	go func() {
		status, _, body, err := env.Do(context.Background(), http.MethodGet, env.SiteURL()+"/fhir/R4/Patient", env.Key, nil)
		if err != nil {
			body = []byte(err.Error())
		}
		done <- answer{status, body}
	}()
	awaitGate(t, db)
	failAtGate(t, db)
	a := <-done
	if a.status != http.StatusInternalServerError {
		t.Fatalf("status %d %s, want 500", a.status, a.body)
	}
	fhirvalidate.Resources(t, a.body)
	var oo struct {
		ResourceType string
		Issue        []struct{ Severity, Code string }
	}
	if err := json.Unmarshal(a.body, &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) != 1 || oo.Issue[0].Code != "exception" {
		t.Fatalf("not an OperationOutcome of an exception: %s", a.body)
	}
}
