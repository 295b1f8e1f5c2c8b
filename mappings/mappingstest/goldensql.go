package mappingstest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// Shape is one search whose SQL a golden file keeps: a change to the SQL
// a mapping renders shows in review as a diff of that file.
type Shape struct {
	Name  string // the golden file's name, without .sql
	Res   mappings.Resource
	Query string   // the search's query string
	After []string // a next page's cursor
	Count bool     // the count query instead of the page
}

// Parser parses a search's query string as the calling package's tests do
// (their zone and reference day).
type Parser func(t testing.TB, r mappings.Resource, query string) *fhir.Search

// Render is the shape's SQL in dialect d.
func (sh Shape) Render(t testing.TB, d mappings.Dialect, parse Parser) mappings.Query {
	t.Helper()
	s := parse(t, sh.Res, sh.Query)
	s.After = sh.After
	var q mappings.Query
	var err error
	if sh.Count {
		q, err = sh.Res.Count(d, s)
	} else {
		q, err = sh.Res.Search(d, s)
	}
	if err != nil {
		t.Fatalf("%s: %v", sh.Name, err)
	}
	return q
}

// golden is a shape's golden text: the search, then [SQLText].
func (sh Shape) golden(q mappings.Query) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s?%s\n", sh.Res.Decl().Type, sh.Query)
	if sh.After != nil {
		fmt.Fprintf(&b, "-- after %q\n", sh.After)
	}
	if sh.Count {
		b.WriteString("-- count\n")
	}
	b.WriteString(SQLText(q))
	return b.String()
}

// SQLText is a query as the golden files keep it: a comment per parameter
// (name, type, value as an SQL literal), then the SQL.
func SQLText(q mappings.Query) string {
	var b strings.Builder
	for _, p := range q.Params {
		v := "NULL"
		if p.Value != nil {
			v = "'" + strings.ReplaceAll(*p.Value, "'", "''") + "'"
		}
		fmt.Fprintf(&b, "-- @%s %s = %s\n", p.Name, p.Type, v)
	}
	b.WriteString(q.SQL)
	if !strings.HasSuffix(q.SQL, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

// CheckShapes compares the SQL of every shape, rendered in d, with its
// golden file dir/NAME.sql, and fails for a file no shape has; update
// rewrites the files instead (and removes those without a shape).
func CheckShapes(t *testing.T, dir string, shapes []Shape, d mappings.Dialect, parse Parser, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	names := map[string]bool{}
	for _, sh := range shapes {
		if names[sh.Name] {
			t.Fatalf("shape %s twice", sh.Name)
		}
		names[sh.Name] = true
		t.Run(sh.Name, func(t *testing.T) {
			CheckGoldenText(t, filepath.Join(dir, sh.Name+".sql"), sh.golden(sh.Render(t, d, parse)), update)
		})
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.sql"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sql")
		if !names[name] {
			if update {
				os.Remove(f)
				continue
			}
			t.Errorf("%s has no shape; delete it or run the test with -update", f)
		}
	}
}

// CheckGoldenText compares got with the golden file at path; update writes
// it there instead.
func CheckGoldenText(t *testing.T, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update)", err)
	}
	if got != string(want) {
		t.Errorf("SQL differs from %s (run the test with -update if the change is intended):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
