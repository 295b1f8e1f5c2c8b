package main

import (
	"context"
	"net/url"
	"strings"

	"fhirlink/server"
	"fhirlink/server/postgres"
	"fhirlink/server/sqlite"
)

// databaseHelp describes the --database flag's two forms.
const databaseHelp = "the state store: a postgres:// or postgresql:// URL for PostgreSQL (several server nodes),\n      else the path of a SQLite file (created if missing; one node)"

// openStore opens the state store database names: PostgreSQL for a
// postgres:// or postgresql:// URL, else the SQLite file at that path.
func openStore(ctx context.Context, database string) (server.Store, error) {
	if isPostgresURL(database) {
		st, err := postgres.Open(ctx, database)
		if err != nil {
			return nil, err // not a nil *Store in a non-nil interface
		}
		return st, nil
	}
	st, err := sqlite.Open(ctx, database)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// storeForLog is database as it may be logged: a URL's password is masked.
func storeForLog(database string) string {
	if !isPostgresURL(database) {
		return database
	}
	u, err := url.Parse(database)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// isPostgresURL reports whether s is a URL pgx accepts: it takes the two
// schemes in lower case only.
func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}
