package zedsynth

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/nakagami/firebirdsql"

	"fhirlink/agent/fbtest"
)

func TestMain(m *testing.M) { os.Exit(fbtest.Main(m)) }

// TestFirebirdMatchesSQLite generates the Small practice on a real Firebird 3 server and on
// SQLite and compares every row of every table.
func TestFirebirdMatchesSQLite(t *testing.T) {
	ctx := context.Background()
	fb, err := sql.Open("firebirdsql", fbtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	if err := Apply(ctx, fb, EngineFirebird); err != nil {
		t.Fatal(err)
	}
	if err := Generate(ctx, fb, EngineFirebird, Small()); err != nil {
		t.Fatal(err)
	}
	lite := load(t, Small())
	for _, tb := range mainTables {
		a, b := dump(t, fb, tb), dump(t, lite, tb)
		if len(a) != len(b) || len(a) == 0 {
			t.Errorf("%s: %d rows on Firebird, %d on SQLite", tb.name, len(a), len(b))
			continue
		}
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("%s row %d differs:\nfirebird %s\nsqlite   %s", tb.name, i, a[i], b[i])
				break
			}
		}
	}
}

// dump is every row of a table in key order, each value written the same way on every engine.
func dump(t *testing.T, db *sql.DB, tb *table) []string {
	t.Helper()
	names := make([]string, len(tb.cols))
	for i, c := range tb.cols {
		names[i] = c.name
	}
	rows, err := db.Query("SELECT " + strings.Join(names, ", ") + " FROM " + tb.name + " ORDER BY " + tb.key)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = canonical(tb.cols[i], v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func canonical(c column, v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return x.Format(sqliteTime)
	case []byte:
		return string(x)
	case float32:
		return fmt.Sprintf("%.4f", x)
	case float64:
		if c.kind == kReal {
			return fmt.Sprintf("%.4f", x)
		}
		return fmt.Sprintf("%d", int64(x))
	}
	if c.kind == kReal {
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprint(v)
}
