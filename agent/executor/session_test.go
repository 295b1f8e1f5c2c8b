package executor

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fhirlink/agent/tdstest"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
)

// onePool makes each of e's pools hold a single connection, so that every
// request reuses the connection the last one left behind.
func onePool(e *Executor) {
	for _, c := range e.cats {
		c.read.SetMaxOpenConns(1)
		if c.prepared != nil {
			c.prepared.SetMaxOpenConns(1)
		}
		if c.write != nil {
			c.write.SetMaxOpenConns(1)
		}
	}
}

// A SQLite reader (or writer) cannot attach another database file, create
// one, or change the connection with a PRAGMA; reading PRAGMAs still work.
func TestSQLiteRefusesAttachAndConnectionPragmas(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other-site.db")
	sqliteExec(t, other, "CREATE TABLE PATIENTS (name TEXT)", "INSERT INTO PATIENTS VALUES ('someone else''s patient')").Close()
	for _, writes := range []bool{false, true} {
		e, _ := newSQLite(t, writes, "CREATE TABLE PATIENTS (name TEXT)", "PRAGMA user_version = 7")
		onePool(e)
		created := filepath.Join(dir, "created.db")
		refused := []wire.QueryRequest{
			{Text: "ATTACH DATABASE '" + other + "' AS other; SELECT count(*) FROM other.PATIENTS"},
			{Text: "ATTACH DATABASE '" + created + "' AS n"},
			{Text: "ATTACH '" + other + "' AS other", Mode: wire.ModeNonQuery},
			{Text: "DETACH DATABASE temp"},
			{Text: "PRAGMA writable_schema = ON"},
			{Text: "PRAGMA query_only = OFF"},
			{Text: "PRAGMA journal_mode = DELETE"},
			{Text: "PRAGMA main.journal_mode = WAL", Mode: wire.ModeNonQuery},
			{Text: "PRAGMA case_sensitive_like = ON"},
			{Text: "PRAGMA foreign_keys = OFF", Mode: wire.ModeNonQuery},
			{Text: "SELECT 1; PRAGMA cache_size = 1"},
			{Text: "PRAGMA integrity_check"},
		}
		for _, r := range refused {
			if r.Mode == wire.ModeNonQuery && !writes {
				continue
			}
			rec, _, we := run(t, e, r)
			if we == nil || we.Kind != wire.KindForbidden || !strings.Contains(we.Message, "not allowed") {
				t.Errorf("writes %v, %q: %+v %v, want refused", writes, r.Text, we, rec.rows)
			}
		}
		if _, err := os.Stat(created); !os.IsNotExist(err) {
			t.Errorf("ATTACH created %s: %v", created, err)
		}
		for text, want := range map[string]string{
			"PRAGMA user_version":                            `{"user_version":7}`,
			"PRAGMA table_info(PATIENTS)":                    `"name":"name"`,
			"SELECT name FROM pragma_table_info('PATIENTS')": `{"name":"name"}`,
			"SELECT count(*) AS n FROM pragma_database_list": `{"n":2}`,
			"SELECT name FROM pragma_index_list('PATIENTS')": ``,
			"PRAGMA query_only":                              `{"query_only":0}`,
			"SELECT count(*) AS n FROM PATIENTS":             `{"n":0}`,
		} {
			rec, _, we := run(t, e, wire.QueryRequest{Text: text})
			if we != nil || (want != "" && (len(rec.rows) == 0 || !strings.Contains(rec.rows[0], want))) {
				t.Errorf("writes %v, %q: %v %+v, want %s", writes, text, rec.rows, we, want)
			}
		}
	}
}

// What one request leaves in its connection's session is gone for the
// next request on the same connection: SQLite temp objects (made after
// leaving the read transaction) and a writer's open transaction.
func TestSQLiteSessionStateDoesNotLeak(t *testing.T) {
	e, path := newSQLite(t, true, "CREATE TABLE t (v INTEGER)")
	onePool(e)
	mustRun(t, e, wire.QueryRequest{Text: "ROLLBACK; CREATE TEMP TABLE leak (x); INSERT INTO leak VALUES (1); SELECT 1"})
	if _, _, we := run(t, e, wire.QueryRequest{Text: "SELECT x FROM leak"}); we == nil || !strings.Contains(we.Message, "no such table") {
		t.Errorf("the next reader sees the temp table: %+v", we)
	}
	mustRun(t, e, wire.QueryRequest{Text: "CREATE TEMP TABLE wleak (x); CREATE TEMP TRIGGER tr AFTER INSERT ON main.t BEGIN INSERT INTO wleak VALUES (1); END", Mode: wire.ModeNonQuery})
	mustRun(t, e, wire.QueryRequest{Text: "INSERT INTO t VALUES (1)", Mode: wire.ModeNonQuery})
	if _, _, we := run(t, e, wire.QueryRequest{Text: "DELETE FROM wleak", Mode: wire.ModeNonQuery}); we == nil || !strings.Contains(we.Message, "no such table") {
		t.Errorf("the next writer sees the temp table and trigger: %+v", we)
	}
	mustRun(t, e, wire.QueryRequest{Text: "BEGIN; INSERT INTO t VALUES (2)", Mode: wire.ModeNonQuery})
	mustRun(t, e, wire.QueryRequest{Text: "INSERT INTO t VALUES (3)", Mode: wire.ModeNonQuery})
	var got string
	if err := sqliteExec(t, path).QueryRow("SELECT group_concat(v) FROM (SELECT v FROM t ORDER BY v)").Scan(&got); err != nil || got != "1,3" {
		t.Errorf("rows %q, %v: want 1,3 (the open transaction's insert rolled back, the next write committed on its own)", got, err)
	}
}

// On PostgreSQL a request's session settings, temp tables, prepared
// statements and advisory locks are gone for the next request on the same
// connection.
func TestPostgresSessionStateDoesNotLeak(t *testing.T) {
	e, _ := newPostgres(t, true)
	onePool(e)
	pid := func() string {
		rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT pg_backend_pid() AS pid"})
		return rec.rows[0]
	}
	first := pid()
	if again := pid(); again != first {
		t.Errorf("a clean connection was replaced: %s then %s", first, again)
	}
	for _, r := range []wire.QueryRequest{
		{Text: "SET application_name = 'leak'", Mode: wire.ModeNonQuery},
		{Text: "SET search_path = pg_catalog", Mode: wire.ModeNonQuery},
		{Text: "CREATE TEMP TABLE leak (x int)", Mode: wire.ModeNonQuery},
		{Text: "PREPARE leak AS SELECT 1", Mode: wire.ModeNonQuery},
		{Text: "SELECT pg_advisory_lock(42)"},
		{Text: "SELECT set_config('app.leak', 'x', false)", Mode: wire.ModeNonQuery},
	} {
		mustRun(t, e, r)
	}
	rec, _ := mustRun(t, e, wire.QueryRequest{Text: `SELECT current_setting('application_name') AS app, current_setting('search_path') AS path,
		to_regclass('leak')::text AS tmp, (SELECT count(*) FROM pg_prepared_statements WHERE name = 'leak') AS prepared,
		(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks,
		current_setting('app.leak', true) AS custom`})
	if want := `{"app":"","path":"\"$user\", public","tmp":null,"prepared":0,"locks":0,"custom":""}`; rec.rows[0] != want && rec.rows[0] != strings.Replace(want, `"custom":""`, `"custom":null`, 1) {
		t.Errorf("the next request sees %s, want %s", rec.rows[0], want)
	}
	if pid() != first {
		t.Errorf("the connection was replaced rather than reset")
	}
}

// On Firebird 3 (no ALTER SESSION RESET) a request's USER_SESSION context
// variables and rows left in a global temporary table (ON COMMIT PRESERVE
// ROWS) are gone for the next request on the same pool.
func TestFirebirdSessionStateDoesNotLeak(t *testing.T) {
	e, _ := newFirebird(t, true, "CREATE GLOBAL TEMPORARY TABLE gtt (x INT) ON COMMIT PRESERVE ROWS")
	onePool(e)
	// A clean attachment is kept, not replaced.
	attachment := func() string {
		rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT CURRENT_CONNECTION AS c FROM rdb$database"})
		return rec.rows[0]
	}
	if a, b := attachment(), attachment(); a != b {
		t.Errorf("a clean attachment was replaced: %s then %s", a, b)
	}
	mustRun(t, e, wire.QueryRequest{Text: "SELECT rdb$set_context('USER_SESSION', 'leak', 'x') AS s FROM rdb$database"})
	rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT rdb$get_context('USER_SESSION', 'leak') AS s FROM rdb$database"})
	if rec.rows[0] != `{"S":null}` {
		t.Errorf("the next reader sees %s", rec.rows[0])
	}
	mustRun(t, e, wire.QueryRequest{Text: "INSERT INTO gtt VALUES (1)", Mode: wire.ModeNonQuery})
	// A reader can fill one too, from an autonomous transaction.
	mustRun(t, e, wire.QueryRequest{Text: "EXECUTE BLOCK AS BEGIN IN AUTONOMOUS TRANSACTION DO INSERT INTO gtt VALUES (2); END"})
	for _, mode := range []wire.Mode{wire.ModeReader, wire.ModeNonQuery} {
		text := "SELECT count(*) AS n FROM gtt"
		if mode == wire.ModeNonQuery {
			text = "DELETE FROM gtt"
		}
		rec, tr := mustRun(t, e, wire.QueryRequest{Text: text, Mode: mode})
		if (mode == wire.ModeReader && rec.rows[0] != `{"N":0}`) || (mode == wire.ModeNonQuery && *tr.RowsAffected != 0) {
			t.Errorf("%s: the next request sees the temporary rows: %v %v", mode, rec.rows, tr.RowsAffected)
		}
	}
}

// go-mssqldb asks SQL Server to reset the session (sp_reset_connection's
// RESETCONNECTION flag) on the first request of every reuse of a pooled
// connection, which drops temp tables and restores SET options, so the
// agent has nothing more to do there; this checks it keeps happening.
func TestSQLServerResetsReusedConnections(t *testing.T) {
	e, s := newTDS(t, func(ctx context.Context, q tdstest.Query) (*tdstest.Result, error) {
		return &tdstest.Result{Columns: []tdstest.Column{{Name: "v", Type: tdstest.Int}}, Rows: [][]any{{1}}}, nil
	})
	onePool(e)
	before := s.Resets()
	const n = 4
	for range n {
		mustRun(t, e, wire.QueryRequest{Text: "SELECT 1 AS v"})
		mustRun(t, e, wire.QueryRequest{Text: "SET DATEFORMAT dmy", Mode: wire.ModeNonQuery})
	}
	if got := s.Resets() - before; got < 2*n-1 || s.Connections() != 1 {
		t.Errorf("%d resets over %d uses of %d connection(s), want one per reuse", got, 2*n, s.Connections())
	}
}

// gatedReset holds each reset until gate closes.
type gatedReset struct {
	engine
	gate chan struct{}
}

func (g gatedReset) reset(ctx context.Context, conn *sql.Conn) error {
	<-g.gate
	return g.engine.reset(ctx, conn)
}

// Run returns, and the answer's trailer goes out, without waiting for the
// connection's reset (a round trip); the reset still runs before the
// connection is used again, and Close waits for it.
func TestPostgresAnswersBeforeReset(t *testing.T) {
	e, _ := newPostgres(t, false)
	onePool(e)
	gate := make(chan struct{})
	open := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(open) // before the executor closes, should the test fail
	e.eng = gatedReset{engine: e.eng, gate: gate}
	var returned atomic.Bool
	go func() {
		if _, err := e.Run(context.Background(), wire.QueryRequest{Text: "SELECT set_config('application_name', 'leak', false) AS a", TimeoutMS: 30000}, &recorder{}); err == nil {
			returned.Store(true)
		}
	}()
	waittest.For(t, 10*time.Second, "Run to return while its connection's reset waits", returned.Load)
	open()
	rec, _ := mustRun(t, e, wire.QueryRequest{Text: "SELECT current_setting('application_name') AS app"})
	if rec.rows[0] != `{"app":""}` {
		t.Fatalf("the next request on the connection sees %s; want it reset", rec.rows[0])
	}
}
