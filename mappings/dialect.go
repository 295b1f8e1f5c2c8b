package mappings

import (
	"fmt"
	"strings"
)

// Dialect renders what differs between database engines: row limits,
// case-insensitive matching, LIKE escaping, trimming of char(n) padding and
// the literals sort keys need. Mappings write everything else once, with
// double-quoted identifiers (which SQL Server, PostgreSQL and SQLite all
// accept) and @name parameters (which the agent binds on every engine).
//
// Every method that takes a parameter takes its placeholder ("@p3"), never a
// value: request values reach the database only as bound parameters.
type Dialect interface {
	// Engine is the agent's engine name: sqlserver, postgres, sqlite.
	Engine() string
	// Top is what follows SELECT to return at most n rows (n a
	// placeholder); "" where Limit does it.
	Top(n string) string
	// Limit is what ends a SELECT to return at most n rows, with a leading
	// newline; "" where Top does it.
	Limit(n string) string
	// EscapeLike escapes s so that a LIKE pattern built from it, used with
	// ESCAPE '\', matches s literally.
	EscapeLike(s string) string
	// Like is expr matching the LIKE pattern in the parameter pattern
	// (escaped with EscapeLike), ignoring case (at least for ASCII letters).
	Like(expr, pattern string) string
	// Equal is expr, without char(n) padding, equal to the parameter param
	// with case significant (FHIR :exact).
	Equal(expr, param string) string
	// EqualFold is expr, without char(n) padding, equal to the parameter
	// param ignoring case.
	EqualFold(expr, param string) string
	// Trim is expr with char(n) padding removed where the engine's equality
	// would otherwise see it. Use it on char(n) columns compared with =.
	Trim(expr string) string
	// MinDateTime is a datetime literal earlier than any real value, which
	// makes a nullable datetime sort key non-null.
	MinDateTime() string
}

// Engine names, as the agent reports them.
const (
	EngineSQLServer = "sqlserver"
	EnginePostgres  = "postgres"
	EngineSQLite    = "sqlite"
)

// DialectFor returns the dialect of an agent's engine.
func DialectFor(engine string) (Dialect, error) {
	switch engine {
	case EngineSQLServer:
		return sqlServer{}, nil
	case EnginePostgres:
		return postgres{}, nil
	case EngineSQLite:
		return sqlite{}, nil
	}
	return nil, fmt.Errorf("mappings: no SQL dialect for engine %q (supported: %s, %s, %s)",
		engine, EngineSQLServer, EnginePostgres, EngineSQLite)
}

// likeEscaper escapes the metacharacters LIKE has on every engine.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// sqlServer is T-SQL as Bp Premier's SQL Server runs it. Bp databases use a
// case-insensitive collation (Latin1_General_CI_AS), so LIKE and = already
// ignore case, and = ignores trailing spaces (ANSI padding), so char(n)
// columns compare without RTRIM and stay index-friendly.
type sqlServer struct{}

func (sqlServer) Engine() string          { return EngineSQLServer }
func (sqlServer) Top(n string) string     { return "TOP (" + n + ")" }
func (sqlServer) Limit(string) string     { return "" }
func (sqlServer) Trim(expr string) string { return expr }
func (sqlServer) MinDateTime() string     { return "CAST('0001-01-01T00:00:00' AS datetime2)" }

// sqlServerLike also escapes '[', which opens a character class in T-SQL
// patterns.
var sqlServerLike = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`, `[`, `\[`)

func (sqlServer) EscapeLike(s string) string { return sqlServerLike.Replace(s) }

func (sqlServer) Like(expr, pattern string) string {
	return expr + " LIKE " + pattern + ` ESCAPE '\'`
}

func (sqlServer) Equal(expr, param string) string {
	return expr + " = " + param + " COLLATE Latin1_General_CS_AS"
}

func (sqlServer) EqualFold(expr, param string) string { return expr + " = " + param }

// postgres is PostgreSQL, where the synthetic database runs in tests. Text
// comparisons are case-sensitive; char(n) is padded like SQL Server's.
type postgres struct{}

func (postgres) Engine() string             { return EnginePostgres }
func (postgres) Top(string) string          { return "" }
func (postgres) Limit(n string) string      { return "\nLIMIT " + n }
func (postgres) Trim(expr string) string    { return "rtrim(" + expr + ")" }
func (postgres) MinDateTime() string        { return "TIMESTAMP '0001-01-01 00:00:00'" }
func (postgres) EscapeLike(s string) string { return likeEscaper.Replace(s) }

func (postgres) Like(expr, pattern string) string {
	return expr + " ILIKE " + pattern + ` ESCAPE '\'`
}

func (postgres) Equal(expr, param string) string {
	return "rtrim(" + expr + ") = " + param
}

func (postgres) EqualFold(expr, param string) string {
	return "lower(rtrim(" + expr + ")) = lower(" + param + ")"
}

// sqlite is SQLite, the demo practice's engine. LIKE ignores ASCII case by
// default; = is binary. SQLite does not pad char(n), but the synthetic data
// is written padded, as SQL Server returns it, so equality trims.
type sqlite struct{}

func (sqlite) Engine() string             { return EngineSQLite }
func (sqlite) Top(string) string          { return "" }
func (sqlite) Limit(n string) string      { return "\nLIMIT " + n }
func (sqlite) Trim(expr string) string    { return "RTRIM(" + expr + ")" }
func (sqlite) MinDateTime() string        { return "'0001-01-01 00:00:00'" }
func (sqlite) EscapeLike(s string) string { return likeEscaper.Replace(s) }

func (sqlite) Like(expr, pattern string) string {
	return expr + " LIKE " + pattern + ` ESCAPE '\'`
}

func (sqlite) Equal(expr, param string) string {
	return "RTRIM(" + expr + ") = " + param
}

func (sqlite) EqualFold(expr, param string) string {
	return "RTRIM(" + expr + ") = " + param + " COLLATE NOCASE"
}
