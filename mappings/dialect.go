package mappings

import (
	"fmt"
	"strings"

	"fhirlink/agent/wire"
)

// Dialect renders what differs between database engines: row limits,
// case-insensitive matching, LIKE escaping, trimming of char(n) padding and
// the literals sort keys need. Mappings write everything else once, with
// double-quoted identifiers (which SQL Server, PostgreSQL, SQLite and
// Firebird all accept) and @name parameters (which the agent binds on every
// engine).
//
// Every method that takes a parameter takes its placeholder ("@p3"), never a
// value: request values reach the database only as bound parameters.
type Dialect interface {
	// Engine is the agent's engine name: sqlserver, postgres, sqlite,
	// firebird.
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
	// RTrim is expr without trailing spaces on every engine, for values
	// that are returned or sorted on (Trim only trims where equality
	// needs it).
	RTrim(expr string) string
	// AddSeconds is the datetime expression date plus an integer number of
	// seconds (a PMS's seconds-since-midnight time of day added to its
	// date). Both are SQL expressions of the mapping's own, never request
	// values. On SQLite the result is text in the form the synthetic
	// database stores datetimes in ("YYYY-MM-DD HH:MM:SS").
	AddSeconds(date, seconds string) string
	// CastDateTime is a datetime parameter cast to the engine's datetime
	// type, for places where nothing else gives it a type (a SELECT list).
	CastDateTime(param string) string
}

// Engine names, as the agent reports them: package wire's, under the names
// the mappings have always used.
const (
	EngineSQLServer = wire.EngineSQLServer
	EnginePostgres  = wire.EnginePostgres
	EngineSQLite    = wire.EngineSQLite
	EngineFirebird  = wire.EngineFirebird
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
	case EngineFirebird:
		return firebird{}, nil
	}
	return nil, fmt.Errorf("mappings: no SQL dialect for engine %q (supported: %s, %s, %s, %s)",
		engine, EngineSQLServer, EnginePostgres, EngineSQLite, EngineFirebird)
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

func (sqlServer) RTrim(expr string) string { return "RTRIM(" + expr + ")" }

func (sqlServer) AddSeconds(date, seconds string) string {
	return "DATEADD(second, " + seconds + ", " + date + ")"
}

func (sqlServer) CastDateTime(param string) string { return "CAST(" + param + " AS datetime2)" }

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

func (postgres) RTrim(expr string) string { return "RTRIM(" + expr + ")" }

func (postgres) AddSeconds(date, seconds string) string {
	return "(" + date + " + " + seconds + " * INTERVAL '1 second')"
}

func (postgres) CastDateTime(param string) string { return "CAST(" + param + " AS timestamp)" }

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

func (sqlite) RTrim(expr string) string { return "RTRIM(" + expr + ")" }

func (sqlite) AddSeconds(date, seconds string) string {
	return "datetime(" + date + ", '+' || (" + seconds + ") || ' seconds')"
}

// CastDateTime leaves the parameter as it is: SQLite compares datetimes as
// text, which it is bound as.
func (sqlite) CastDateTime(param string) string { return param }

// firebird is Firebird 3, Zedmed's engine. Comparisons with = ignore
// trailing spaces, as on SQL Server, so char(n) columns compare without
// trimming and stay index-friendly; they are case-sensitive under the
// character sets' default collations, and so is LIKE. CONTAINING and
// STARTING WITH have no ESCAPE, and only CONTAINING ignores case, so
// case-insensitive matching is UPPER on both sides of LIKE, which keeps
// LIKE's escaping exact. Rows are limited with the SQL standard FETCH
// FIRST, which Firebird 3 accepts with a parameter.
type firebird struct{}

func (firebird) Engine() string             { return EngineFirebird }
func (firebird) Top(string) string          { return "" }
func (firebird) Limit(n string) string      { return "\nFETCH FIRST " + n + " ROWS ONLY" }
func (firebird) Trim(expr string) string    { return expr }
func (firebird) MinDateTime() string        { return "TIMESTAMP '0001-01-01 00:00:00'" }
func (firebird) EscapeLike(s string) string { return likeEscaper.Replace(s) }

func (firebird) Like(expr, pattern string) string {
	return "UPPER(" + expr + ") LIKE UPPER(" + fbText(pattern) + `) ESCAPE '\'`
}

func (firebird) Equal(expr, param string) string { return expr + " = " + fbText(param) }

func (firebird) EqualFold(expr, param string) string {
	return "UPPER(" + expr + ") = UPPER(" + fbText(param) + ")"
}

// fbText gives a text parameter its own width. Compared with a column,
// Firebird types a parameter like the column, so a value longer than the
// column (a 16-digit IHI against a 9-character DVA number, '2121%' against
// a 4-character postcode) failed with "string right truncation" instead of
// not matching. Request values are at most 1 KiB; escaping can double them.
func fbText(param string) string { return "CAST(" + param + " AS VARCHAR(4096))" }

// RTrim: Firebird 3 has no RTRIM function.
func (firebird) RTrim(expr string) string { return "TRIM(TRAILING FROM " + expr + ")" }

func (firebird) AddSeconds(date, seconds string) string {
	return "DATEADD(SECOND, " + seconds + ", " + date + ")"
}

func (firebird) CastDateTime(param string) string { return "CAST(" + param + " AS TIMESTAMP)" }
