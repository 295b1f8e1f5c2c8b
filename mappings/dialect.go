package mappings

// Dialect renders what differs between database engines: row limits,
// case-insensitive matching, LIKE escaping, date arithmetic. Mappings write
// everything else once, with double-quoted identifiers (which SQL Server,
// PostgreSQL and SQLite all accept) and @name parameters (which the agent
// binds on every engine).
type Dialect interface {
	// Engine is the agent's engine name: sqlserver, postgres, sqlite.
	Engine() string
}
