package bpsynth

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Engine names accepted by Apply, Schema and Generate.
const (
	EngineMSSQL    = "mssql"
	EnginePostgres = "postgres"
	EngineSQLite   = "sqlite"
)

//go:embed schema.mssql.sql
var schemaMSSQL string

//go:embed schema.postgres.sql
var schemaPostgres string

//go:embed schema.sqlite.sql
var schemaSQLite string

// proceduresPostgres are the practice's stored procedures as PL/pgSQL functions, which Apply
// creates with the PostgreSQL schema (see procedures.postgres.sql).
//
//go:embed procedures.postgres.sql
var proceduresPostgres string

// Schema returns the DDL script for engine ("mssql", "postgres" or "sqlite").
// The mssql script is the T-SQL shape of BPSPatients; it is reference material for golden
// files and cannot be executed in the test environment.
func Schema(engine string) (string, error) {
	switch engine {
	case EngineMSSQL:
		return schemaMSSQL, nil
	case EnginePostgres:
		return schemaPostgres, nil
	case EngineSQLite:
		return schemaSQLite, nil
	}
	return "", fmt.Errorf("bpsynth: unknown engine %q (want %q, %q or %q)", engine, EngineMSSQL, EnginePostgres, EngineSQLite)
}

// Apply creates every table, index and BPS_* view of the synthetic BPSPatients database on db,
// and on PostgreSQL the practice's stored procedures (procedures.postgres.sql), in one
// transaction. engine is "postgres" or "sqlite"; the database should be empty.
func Apply(ctx context.Context, db *sql.DB, engine string) error {
	if engine != EnginePostgres && engine != EngineSQLite {
		return fmt.Errorf("bpsynth: Apply supports %q and %q, not %q", EnginePostgres, EngineSQLite, engine)
	}
	script, err := Schema(engine)
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("bpsynth: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	stmts := Statements(script)
	if engine == EnginePostgres {
		stmts = append(stmts, ProcedureStatements(proceduresPostgres)...)
	}
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("bpsynth: applying schema on %s: %w\nstatement: %.200s", engine, err, stmt)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("bpsynth: commit schema: %w", err)
	}
	return nil
}

// ProcedureStatements splits a script of function definitions, each ending with a line "$$;"
// (their bodies hold ';' everywhere), into single statements.
func ProcedureStatements(script string) []string {
	var out []string
	for _, chunk := range strings.SplitAfter(script, "\n$$;\n") {
		if strings.HasSuffix(chunk, "\n$$;\n") {
			out = append(out, strings.TrimSpace(strings.TrimSuffix(chunk, ";\n")))
		}
	}
	return out
}

// Statements splits a DDL script of this package into single statements (each ends with ';' at
// the end of a line; comment-only chunks are dropped). Each statement can be sent on its own,
// which also suits SQL Server, where CREATE VIEW must be alone in its batch.
func Statements(script string) []string {
	var out []string
	for _, chunk := range strings.Split(script, ";\n") {
		body := strings.TrimSpace(chunk)
		code := false
		for _, line := range strings.Split(body, "\n") {
			l := strings.TrimSpace(line)
			if l != "" && !strings.HasPrefix(l, "--") {
				code = true
				break
			}
		}
		if code {
			out = append(out, strings.TrimSuffix(body, ";"))
		}
	}
	return out
}

// colKind is the storage class of a column, common to the three dialects.
type colKind int

const (
	kindInt colKind = iota
	kindChar
	kindVarchar
	kindText
	kindDatetime
	kindBlob
)

func (k colKind) String() string {
	return [...]string{"int", "char", "varchar", "text", "datetime", "blob"}[k]
}

// column is one column of a table as declared in a DDL file.
type column struct {
	Name     string
	Kind     colKind
	Size     int // char/varchar length; 0 for unbounded
	NotNull  bool
	Identity bool // IDENTITY / GENERATED ... AS IDENTITY (never detected in SQLite)
}

// tableDef is one CREATE TABLE of a DDL file, in declaration order.
type tableDef struct {
	Name string
	Cols []column
	idx  map[string]int
}

func (t *tableDef) col(name string) (int, bool) {
	i, ok := t.idx[name]
	return i, ok
}

// viewDef is one CREATE VIEW and its output column names.
type viewDef struct {
	Name string
	Cols []string
}

// catalog is the parsed shape of one DDL file.
type catalog struct {
	Tables []*tableDef
	Views  []viewDef
	byName map[string]*tableDef
}

var (
	reCreateTable = regexp.MustCompile(`^CREATE TABLE (?:dbo\.)?"?(\w+)"? \($`)
	reCreateView  = regexp.MustCompile(`^CREATE VIEW (?:dbo\.)?"?(\w+)"? AS$`)
	reColumn      = regexp.MustCompile(`^\s+"?(\w+)"?\s+(\w+)(?:\((\d+|max)\))?(.*?),?$`)
	reViewCol     = regexp.MustCompile(` AS "?\[?(\w+)\]?"?,?$`)
)

// parseCatalog reads the tables and views of one of this package's DDL scripts. It relies on
// the layout of those files (one column per line, view select lists one column per line).
func parseCatalog(script string) (*catalog, error) {
	c := &catalog{byName: map[string]*tableDef{}}
	lines := strings.Split(script, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := reCreateTable.FindStringSubmatch(line); m != nil {
			t := &tableDef{Name: m[1], idx: map[string]int{}}
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], ");"); i++ {
				l := lines[i]
				tl := strings.TrimSpace(l)
				if tl == "" || strings.HasPrefix(tl, "--") || strings.HasPrefix(tl, "CONSTRAINT") {
					continue
				}
				cm := reColumn.FindStringSubmatch(l)
				if cm == nil {
					return nil, fmt.Errorf("table %s: cannot parse column line %q", t.Name, l)
				}
				col := column{Name: cm[1]}
				typ := strings.ToLower(cm[2])
				switch typ {
				case "int", "integer", "tinyint", "smallint":
					col.Kind = kindInt
				case "char":
					col.Kind = kindChar
				case "varchar":
					col.Kind = kindVarchar
				case "text":
					col.Kind = kindText
				case "datetime", "timestamp":
					col.Kind = kindDatetime
				case "image", "bytea", "blob":
					col.Kind = kindBlob
				default:
					return nil, fmt.Errorf("table %s column %s: unknown type %q", t.Name, col.Name, cm[2])
				}
				if cm[3] != "" && cm[3] != "max" && col.Kind != kindDatetime {
					n, _ := strconv.Atoi(cm[3])
					col.Size = n
				}
				rest := strings.ToUpper(cm[4])
				col.NotNull = strings.Contains(rest, "NOT NULL")
				col.Identity = strings.Contains(rest, "IDENTITY")
				t.idx[col.Name] = len(t.Cols)
				t.Cols = append(t.Cols, col)
			}
			c.Tables = append(c.Tables, t)
			c.byName[t.Name] = t
			continue
		}
		if m := reCreateView.FindStringSubmatch(line); m != nil {
			v := viewDef{Name: m[1]}
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], "FROM "); i++ {
				if vm := reViewCol.FindStringSubmatch(lines[i]); vm != nil {
					v.Cols = append(v.Cols, vm[1])
				}
			}
			c.Views = append(c.Views, v)
		}
	}
	return c, nil
}

func loadCatalog(engine string) (*catalog, error) {
	script, err := Schema(engine)
	if err != nil {
		return nil, err
	}
	return parseCatalog(script)
}

type indexDef struct{ name, create string }

var reCreateIndex = regexp.MustCompile(`^CREATE INDEX "?(\w+)"? ON .*;$`)

// indexStatements returns the CREATE INDEX statements of an engine's script.
func indexStatements(engine string) []indexDef {
	script, _ := Schema(engine)
	var out []indexDef
	for _, line := range strings.Split(script, "\n") {
		if m := reCreateIndex.FindStringSubmatch(line); m != nil {
			out = append(out, indexDef{m[1], strings.TrimSuffix(line, ";")})
		}
	}
	return out
}

// TableNames lists the tables of the synthetic database in creation order.
func TableNames() []string {
	c, err := loadCatalog(EnginePostgres)
	if err != nil {
		panic(err) // the embedded file is covered by tests
	}
	var out []string
	for _, t := range c.Tables {
		out = append(out, t.Name)
	}
	return out
}

// ViewColumns returns the BPS_* views and their column names, in declaration order.
func ViewColumns() map[string][]string {
	c, err := loadCatalog(EnginePostgres)
	if err != nil {
		panic(err)
	}
	out := map[string][]string{}
	for _, v := range c.Views {
		out[v.Name] = v.Cols
	}
	return out
}
