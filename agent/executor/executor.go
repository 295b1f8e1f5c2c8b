// Package executor runs one query of the agent on the practice database and
// streams its rows as JSON, guarding the database while it does.
//
// The scheduler decides when a query runs; the executor decides how: every
// value is bound as a parameter, reader and scalar queries run read-only
// where the engine can (a read-only session or transaction) and otherwise in
// a transaction that is always rolled back, writes need the site's permission, the deadline
// cancels the statement in the database itself, and the result cap is
// enforced row by row while streaming, so the agent's memory stays flat.
//
// Rows are encoded once, here, as the JSON objects the wire protocol carries
// (see package wire), with hand-written encoders: this is the agent's hot
// path.
package executor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"fhirlink/agent/wire"
)

// Config describes the practice database(s) the agent serves.
type Config struct {
	// Engine is one of the wire.Engine names: sqlserver, postgres, sqlite
	// or firebird.
	Engine string
	// Catalogues are the databases of the site (Zedmed has a pair); at least
	// one. The one with IsDefault, or else the first, serves requests that
	// name none.
	Catalogues []Catalogue
	// AllowWrites enables nonQuery and stored procedures, which the practice
	// must have agreed to; everything else is refused with KindForbidden.
	AllowWrites bool
}

// Catalogue is one database of the site and the driver DSN that reaches it.
// The DSN holds credentials: the executor does not quote it in errors.
type Catalogue struct {
	Name      string
	DSN       string
	IsDefault bool
}

// Executor runs queries against the configured databases. It is safe for
// concurrent use; the scheduler bounds how many queries run at once.
type Executor struct {
	eng         engine
	allowWrites bool
	cats        []*catalogue // in configuration order; the default is marked
	// resets are the connections being reset after their request's answer
	// (see RunOnce); Close waits for them.
	resets resetting
	// large remembers the statements whose results were large, which read
	// faster described first (see largeReads).
	large largeReads
}

// catalogue is an open Catalogue.
type catalogue struct {
	name      string
	isDefault bool
	read      *sql.DB // reader and scalar
	// prepared runs the readers and scalars marked Prepare (the server's
	// own SQL), keeping their statements prepared; nil for an engine
	// without such a pool. No integrator's SQL runs on it, so nothing of
	// theirs can replace or read a kept statement.
	prepared *sql.DB
	write    *sql.DB // nonQuery and stored procedures; nil without AllowWrites
}

// Pool settings. A practice server is small and shared with the PMS itself:
// keep few connections, and let idle ones go.
const (
	maxIdleConns    = 2
	connMaxIdleTime = 5 * time.Minute
)

// Open opens every catalogue and checks that each can be reached, so that a
// wrong DSN or a stopped database is reported when the agent starts rather
// than on the first query. Errors are *wire.Error.
func Open(ctx context.Context, cfg Config) (*Executor, error) {
	eng, ok := engines[cfg.Engine]
	if !ok {
		names := make([]string, 0, len(engines))
		for n := range engines {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, wire.Errorf(wire.KindInvalid, "unknown database engine %q (supported: %s)", cfg.Engine, strings.Join(names, ", "))
	}
	if err := checkCatalogues(cfg.Catalogues); err != nil {
		return nil, err
	}
	e := &Executor{eng: eng, allowWrites: cfg.AllowWrites}
	hasDefault := false
	for _, c := range cfg.Catalogues {
		hasDefault = hasDefault || c.IsDefault
	}
	for i, c := range cfg.Catalogues {
		read, write, err := eng.open(c.DSN, cfg.AllowWrites)
		if err != nil {
			e.Close()
			return nil, wire.Errorf(wire.KindInvalid, "catalogue %q: %v", c.Name, err)
		}
		cat := &catalogue{name: c.Name, isDefault: c.IsDefault || (!hasDefault && i == 0), read: read, write: write}
		if p, ok := eng.(preparer); ok {
			if cat.prepared, err = p.openPrepared(c.DSN); err != nil {
				e.Close()
				return nil, wire.Errorf(wire.KindInvalid, "catalogue %q: %v", c.Name, err)
			}
		}
		e.cats = append(e.cats, cat)
		for _, db := range []*sql.DB{read, write, cat.prepared} {
			if db == nil || (db == write && write == read) {
				continue
			}
			db.SetMaxIdleConns(maxIdleConns)
			db.SetConnMaxIdleTime(connMaxIdleTime)
			if err := db.PingContext(ctx); err != nil {
				e.Close()
				we := classify(eng, err)
				we.Message = fmt.Sprintf("catalogue %q: %s", c.Name, we.Message)
				return nil, we
			}
		}
	}
	return e, nil
}

func checkCatalogues(cs []Catalogue) *wire.Error {
	if len(cs) == 0 {
		return wire.Errorf(wire.KindInvalid, "no catalogue configured: at least one database is needed")
	}
	defaults, seen := 0, map[string]bool{}
	for _, c := range cs {
		key := strings.ToLower(c.Name)
		switch {
		case c.Name == "":
			return wire.Errorf(wire.KindInvalid, "a catalogue has no name")
		case seen[key]:
			return wire.Errorf(wire.KindInvalid, "catalogue %q is configured twice", c.Name)
		case c.DSN == "":
			return wire.Errorf(wire.KindInvalid, "catalogue %q has no DSN", c.Name)
		}
		seen[key] = true
		if c.IsDefault {
			defaults++
		}
	}
	if defaults > 1 {
		return wire.Errorf(wire.KindInvalid, "%d catalogues are marked default; mark one", defaults)
	}
	return nil
}

// Close waits for the connections being reset, then closes every database
// handle.
func (e *Executor) Close() error {
	e.resets.wait(context.Background())
	var errs []error
	for _, c := range e.cats {
		errs = append(errs, c.read.Close())
		if c.prepared != nil {
			errs = append(errs, c.prepared.Close())
		}
		if c.write != nil && c.write != c.read {
			errs = append(errs, c.write.Close())
		}
	}
	e.cats = nil
	return errors.Join(errs...)
}

// Info reports the database server's version, as the server itself words
// it, and the site's catalogues, for the agent's [wire.Info].
func (e *Executor) Info(ctx context.Context) (engineVersion string, catalogues []wire.Catalogue, err error) {
	for _, c := range e.cats {
		catalogues = append(catalogues, wire.Catalogue{Name: c.name, IsDefault: c.isDefault})
	}
	def, werr := e.catalogue("")
	if werr != nil { // closed
		return "", nil, werr
	}
	if err := def.read.QueryRowContext(ctx, e.eng.versionSQL()).Scan(&engineVersion); err != nil {
		if ctx.Err() != nil {
			return "", catalogues, wire.Errorf(wire.KindCanceled, "the caller went away")
		}
		return "", catalogues, classify(e.eng, err)
	}
	return engineVersion, catalogues, nil
}

// catalogue returns the named catalogue (case-insensitively), or the default
// one for an empty name.
func (e *Executor) catalogue(name string) (*catalogue, *wire.Error) {
	var names []string
	for _, c := range e.cats {
		if (name == "" && c.isDefault) || (name != "" && strings.EqualFold(name, c.name)) {
			return c, nil
		}
		names = append(names, c.name)
	}
	return nil, wire.Errorf(wire.KindInvalid, "unknown catalogue %q; this site has %s", name, strings.Join(names, ", "))
}
