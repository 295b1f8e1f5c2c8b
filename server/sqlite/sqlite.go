// Package sqlite is the embedded [server.Store]: one SQLite file, no set-up,
// for a single server node and for the demo.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver

	"fhirlink/server"
)

// migrations are applied in order; PRAGMA user_version counts the applied
// ones. Append, never edit.
var migrations = []string{
	`CREATE TABLE sites (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		pms_type TEXT NOT NULL,
		pms_site_id TEXT NOT NULL DEFAULT '',
		secret_hash BLOB NOT NULL,
		created_at TEXT NOT NULL
	);
	CREATE INDEX sites_pms_site_id ON sites (pms_site_id);
	CREATE TABLE integrators (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		created_at TEXT NOT NULL
	);
	CREATE TABLE integrator_keys (
		integrator_id TEXT NOT NULL REFERENCES integrators (id),
		slot INTEGER NOT NULL,
		key_hash BLOB NOT NULL UNIQUE,
		created_at TEXT NOT NULL,
		PRIMARY KEY (integrator_id, slot)
	);
	CREATE TABLE pairings (
		integrator_id TEXT NOT NULL REFERENCES integrators (id),
		site_id TEXT NOT NULL REFERENCES sites (id),
		created_at TEXT NOT NULL,
		PRIMARY KEY (integrator_id, site_id)
	);`,
	`CREATE TABLE secrets (
		name TEXT PRIMARY KEY,
		value BLOB NOT NULL,
		created_at TEXT NOT NULL
	);`,
	`CREATE TABLE enrollment_codes (
		code_hash BLOB PRIMARY KEY,
		site_id TEXT NOT NULL REFERENCES sites (id),
		expires_at TEXT NOT NULL,
		created_at TEXT NOT NULL,
		redeemed_at TEXT
	);
	CREATE INDEX enrollment_codes_site ON enrollment_codes (site_id);`,
	`CREATE TABLE oauth_clients (
		id TEXT PRIMARY KEY,
		integrator_id TEXT NOT NULL REFERENCES integrators (id),
		name TEXT NOT NULL DEFAULT '',
		jwks_url TEXT NOT NULL DEFAULT '',
		jwks BLOB,
		scope TEXT NOT NULL,
		created_at TEXT NOT NULL
	);
	CREATE INDEX oauth_clients_integrator ON oauth_clients (integrator_id);
	CREATE TABLE oauth_jtis (
		iss TEXT NOT NULL,
		jti TEXT NOT NULL,
		expires_unix INTEGER NOT NULL,
		PRIMARY KEY (iss, jti)
	);
	CREATE INDEX oauth_jtis_expires ON oauth_jtis (expires_unix);
	CREATE TABLE signing_keys (
		id TEXT PRIMARY KEY,
		private_key BLOB NOT NULL,
		created_at TEXT NOT NULL
	);`,
	// Practice consent and incident controls: pairing codes, blocks
	// (site_id '' is every site) and quarantine.
	`CREATE TABLE pairing_codes (
		code_hash BLOB PRIMARY KEY,
		site_id TEXT NOT NULL REFERENCES sites (id),
		expires_at TEXT NOT NULL,
		created_at TEXT NOT NULL,
		redeemed_at TEXT,
		redeemed_by TEXT
	);
	CREATE INDEX pairing_codes_site ON pairing_codes (site_id);
	CREATE TABLE integrator_blocks (
		integrator_id TEXT NOT NULL REFERENCES integrators (id),
		site_id TEXT NOT NULL,
		created_at TEXT NOT NULL,
		PRIMARY KEY (integrator_id, site_id)
	);
	ALTER TABLE sites ADD COLUMN quarantined_at TEXT;`,
	// Quotas, usage counters and the audit log. The log is append-only:
	// triggers refuse every UPDATE, and a DELETE of a record younger than
	// server.MinAuditRetention (365 days), which only pruning does.
	`CREATE TABLE quotas (
		integrator_id TEXT NOT NULL REFERENCES integrators (id),
		site_id TEXT NOT NULL,
		daily_queries INTEGER NOT NULL,
		daily_bytes INTEGER NOT NULL,
		updated_at TEXT NOT NULL,
		PRIMARY KEY (integrator_id, site_id)
	);
	CREATE TABLE usage_daily (
		integrator_id TEXT NOT NULL,
		site_id TEXT NOT NULL,
		day TEXT NOT NULL,
		queries INTEGER NOT NULL DEFAULT 0,
		bytes INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (integrator_id, site_id, day)
	);
	CREATE TABLE audit_log (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		at_us INTEGER NOT NULL,
		integrator_id TEXT NOT NULL DEFAULT '',
		site_id TEXT NOT NULL DEFAULT '',
		method TEXT NOT NULL,
		path TEXT NOT NULL,
		kind TEXT NOT NULL,
		interaction TEXT NOT NULL DEFAULT '',
		resource_type TEXT NOT NULL DEFAULT '',
		query TEXT NOT NULL DEFAULT '',
		query_id TEXT NOT NULL DEFAULT '',
		row_count INTEGER NOT NULL,
		byte_count INTEGER NOT NULL,
		status INTEGER NOT NULL,
		duration_us INTEGER NOT NULL,
		client_addr TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX audit_log_at ON audit_log (at_us);
	CREATE INDEX audit_log_site_at ON audit_log (site_id, at_us);
	CREATE INDEX audit_log_integrator_at ON audit_log (integrator_id, at_us);
	CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
	BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
	CREATE TRIGGER audit_log_no_early_delete BEFORE DELETE ON audit_log
	WHEN OLD.at_us > (CAST(strftime('%s', 'now') AS INTEGER) - 31536000) * 1000000
	BEGIN SELECT RAISE(ABORT, 'audit records younger than 365 days cannot be deleted'); END;`,
	// Async queries (times in microseconds since 1970, 0 for none),
	// webhooks and their deliveries.
	`CREATE TABLE async_queries (
		id TEXT PRIMARY KEY,
		integrator_id TEXT NOT NULL,
		site_id TEXT NOT NULL,
		status TEXT NOT NULL,
		request BLOB NOT NULL,
		doc BLOB NOT NULL,
		created_us INTEGER NOT NULL,
		updated_us INTEGER NOT NULL,
		expires_us INTEGER NOT NULL DEFAULT 0,
		purged INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX async_queries_status ON async_queries (status, created_us);
	CREATE INDEX async_queries_expires ON async_queries (expires_us) WHERE expires_us > 0;
	CREATE TABLE webhooks (
		integrator_id TEXT PRIMARY KEY REFERENCES integrators (id),
		url TEXT NOT NULL,
		secret BLOB NOT NULL,
		created_us INTEGER NOT NULL
	);
	CREATE TABLE webhook_deliveries (
		id TEXT PRIMARY KEY,
		integrator_id TEXT NOT NULL,
		site_id TEXT NOT NULL,
		query_id TEXT NOT NULL,
		source TEXT NOT NULL,
		url TEXT NOT NULL,
		body BLOB NOT NULL,
		status TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		next_attempt_us INTEGER NOT NULL,
		last_status_code INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL DEFAULT '',
		created_us INTEGER NOT NULL,
		updated_us INTEGER NOT NULL,
		delivered_us INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_us);
	CREATE INDEX webhook_deliveries_integrator ON webhook_deliveries (integrator_id, created_us);`,
	// Registered queries (times in microseconds since 1970).
	`CREATE TABLE registered_queries (
		id TEXT PRIMARY KEY,
		integrator_id TEXT NOT NULL,
		site_id TEXT NOT NULL,
		status TEXT NOT NULL,
		request BLOB NOT NULL,
		doc BLOB NOT NULL,
		next_run_us INTEGER NOT NULL,
		created_us INTEGER NOT NULL,
		updated_us INTEGER NOT NULL
	);
	CREATE INDEX registered_queries_due ON registered_queries (status, next_run_us);
	CREATE INDEX registered_queries_owner ON registered_queries (integrator_id, site_id, created_us);`,
	// Writes: the practice's write grants, the idempotency keys of writes
	// (times in microseconds since 1970; response is the first answer as
	// JSON, NULL while there is none) and what the audit log says of a
	// write.
	`CREATE TABLE write_grants (
		integrator_id TEXT NOT NULL REFERENCES integrators (id),
		site_id TEXT NOT NULL REFERENCES sites (id),
		created_at TEXT NOT NULL,
		PRIMARY KEY (integrator_id, site_id)
	);
	CREATE TABLE idempotency_keys (
		integrator_id TEXT NOT NULL,
		key TEXT NOT NULL,
		fingerprint BLOB NOT NULL,
		created_us INTEGER NOT NULL,
		expires_us INTEGER NOT NULL,
		response BLOB,
		PRIMARY KEY (integrator_id, key)
	);
	CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_us);
	ALTER TABLE audit_log ADD COLUMN targets TEXT NOT NULL DEFAULT '';
	ALTER TABLE audit_log ADD COLUMN outcome TEXT NOT NULL DEFAULT '';`,
	// The web console's one-time sign-in links and sessions, by hash.
	`CREATE TABLE console_tokens (
		token_hash BLOB PRIMARY KEY,
		link INTEGER NOT NULL,
		role TEXT NOT NULL,
		subject_id TEXT NOT NULL,
		credential_hash BLOB,
		expires_us INTEGER NOT NULL
	);
	CREATE INDEX console_tokens_expires ON console_tokens (expires_us);`,
	// FHIR Bulk Data export jobs (times in microseconds since 1970): at most
	// one running per site.
	`CREATE TABLE export_jobs (
		id TEXT PRIMARY KEY,
		integrator_id TEXT NOT NULL,
		site_id TEXT NOT NULL,
		state TEXT NOT NULL,
		request BLOB NOT NULL,
		doc BLOB NOT NULL,
		holder TEXT NOT NULL DEFAULT '',
		attempt INTEGER NOT NULL DEFAULT 0,
		created_us INTEGER NOT NULL,
		updated_us INTEGER NOT NULL,
		lease_us INTEGER NOT NULL DEFAULT 0,
		expires_us INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX export_jobs_state ON export_jobs (state, created_us);
	CREATE INDEX export_jobs_site ON export_jobs (site_id, state);
	CREATE UNIQUE INDEX export_jobs_one_running ON export_jobs (site_id) WHERE state = 'running';`,
	// Changes of the sites' agent credentials (a secret replaced, a site
	// deleted), noted by trigger whatever made them, for the servers'
	// credential sweep (Store.CredentialChanges). Times in microseconds
	// since 1970 by the database's clock; kept an hour
	// (server.CredentialChangesKept), the trigger deleting older ones.
	`CREATE TABLE credential_changes (
		site_id TEXT NOT NULL,
		changed_us INTEGER NOT NULL
	);
	CREATE INDEX credential_changes_at ON credential_changes (changed_us);
	CREATE TRIGGER sites_secret_changed AFTER UPDATE OF secret_hash ON sites
	WHEN NEW.secret_hash IS NOT OLD.secret_hash
	BEGIN
		DELETE FROM credential_changes WHERE changed_us < ` + sqlNowUS + ` - 3600000000;
		INSERT INTO credential_changes (site_id, changed_us) VALUES (OLD.id, ` + sqlNowUS + `);
	END;
	CREATE TRIGGER sites_deleted AFTER DELETE ON sites
	BEGIN
		DELETE FROM credential_changes WHERE changed_us < ` + sqlNowUS + ` - 3600000000;
		INSERT INTO credential_changes (site_id, changed_us) VALUES (OLD.id, ` + sqlNowUS + `);
	END;`,
	// Each audit record's request id (X-Request-Id).
	`ALTER TABLE audit_log ADD COLUMN request_id TEXT NOT NULL DEFAULT '';`,
	// The access version (server.Store.AccessVersion), counted by triggers.
	accessVersionMigration(),
}

// accessTables are the tables whose rows decide who may reach what: every
// change to them counts in access_version.
var accessTables = []string{"sites", "integrators", "integrator_keys", "pairings", "integrator_blocks", "write_grants", "quotas"}

func accessVersionMigration() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE access_version (n INTEGER NOT NULL);\nINSERT INTO access_version VALUES (0);\n")
	for _, t := range accessTables {
		for _, ev := range []string{"INSERT", "UPDATE", "DELETE"} {
			fmt.Fprintf(&b, "CREATE TRIGGER %s_access_%s AFTER %s ON %s BEGIN UPDATE access_version SET n = n + 1; END;\n",
				t, strings.ToLower(ev), ev, t)
		}
	}
	return b.String()
}

// sqlNowUS is SQLite's clock in microseconds since 1970 (julianday counts
// days from 4714 BC; 2440587.5 of them end in 1970).
const sqlNowUS = `CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)`

// maxConns bounds a file store's connections.
const maxConns = 8

// Store is a [server.Store] in a SQLite file.
type Store struct {
	db *sql.DB
	// accessVersion is AccessVersion's statement, prepared once (on each
	// connection as it is first used): every request reads it, and parsing
	// the statement cost more than running it.
	accessVersion *sql.Stmt
}

var _ server.Store = (*Store)(nil)

// Open opens (creating if needed) the store at path and brings its schema up
// to date. ":memory:" gives a private in-memory store.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if path == ":memory:" {
		db.SetMaxOpenConns(1) // every connection would be a different database
	} else {
		// SQLite runs one writer at a time and each connection keeps its
		// own page cache and descriptors: a few connections serve best.
		// Unbounded, 10,000 agent sessions re-checking their credential at
		// once opened 7,000 connections (and as many descriptors).
		db.SetMaxOpenConns(maxConns)
		db.SetMaxIdleConns(maxConns)
	}
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("state store %s: %w", path, err)
	}
	if s.accessVersion, err = db.PrepareContext(ctx, `SELECT n FROM access_version`); err != nil {
		db.Close()
		return nil, fmt.Errorf("state store %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this build knows (%d): upgrade fhirlink", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return err
	}
	return tx.Commit()
}

// Close closes the database.
func (s *Store) Close() error {
	s.accessVersion.Close()
	return s.db.Close()
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// conflict turns a uniqueness violation into ECONFLICT.
func conflict(err error, what string) error {
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return server.Errorf(server.ECONFLICT, "%s already exists", what)
	}
	return err
}

func notFound(err error, what, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return server.Errorf(server.ENOTFOUND, "%s %s not found", what, id)
	}
	return err
}

// CreateSite implements [server.Store].
func (s *Store) CreateSite(ctx context.Context, site *server.Site, secretHash []byte) error {
	site.CreatedAt = time.Now().UTC()
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO sites (id, name, pms_type, pms_site_id, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		site.ID, site.Name, site.PMSType, site.PracticeManagementSiteID, secretHash, site.CreatedAt.Format(time.RFC3339Nano))
	return conflict(err, "site "+site.ID)
}

const siteColumns = `id, name, pms_type, pms_site_id, created_at`

func scanSite(row interface{ Scan(...any) error }) (*server.Site, error) {
	var site server.Site
	var created string
	if err := row.Scan(&site.ID, &site.Name, &site.PMSType, &site.PracticeManagementSiteID, &created); err != nil {
		return nil, err
	}
	site.CreatedAt = parseTime(created)
	return &site, nil
}

// Site implements [server.Store].
func (s *Store) Site(ctx context.Context, id string) (*server.Site, error) {
	site, err := scanSite(s.db.QueryRowContext(ctx, `SELECT `+siteColumns+` FROM sites WHERE id = ?`, id))
	return site, notFound(err, "site", id)
}

// Sites implements [server.Store].
func (s *Store) Sites(ctx context.Context) ([]*server.Site, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+siteColumns+` FROM sites ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var sites []*server.Site
	for rows.Next() {
		site, err := scanSite(rows)
		if err != nil {
			return nil, err
		}
		sites = append(sites, site)
	}
	return sites, rows.Err()
}

// SiteSecretHash implements [server.Store].
func (s *Store) SiteSecretHash(ctx context.Context, id string) ([]byte, error) {
	var h []byte
	err := s.db.QueryRowContext(ctx, `SELECT secret_hash FROM sites WHERE id = ?`, id).Scan(&h)
	return h, notFound(err, "site", id)
}

// SetSiteSecretHash implements [server.Store].
func (s *Store) SetSiteSecretHash(ctx context.Context, id string, hash []byte) error {
	return s.updateOne(ctx, "site "+id, `UPDATE sites SET secret_hash = ? WHERE id = ?`, hash, id)
}

// CredentialChanges implements [server.Store].
func (s *Store) CredentialChanges(ctx context.Context, since time.Time) ([]string, time.Time, error) {
	var at int64
	if err := s.db.QueryRowContext(ctx, `SELECT `+sqlNowUS).Scan(&at); err != nil {
		return nil, time.Time{}, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT site_id FROM credential_changes WHERE changed_us >= ?`, since.UnixMicro())
	if err != nil {
		return nil, time.Time{}, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, time.Time{}, err
		}
		ids = append(ids, id)
	}
	return ids, time.UnixMicro(at).UTC(), rows.Err()
}

// CreateIntegrator implements [server.Store].
func (s *Store) CreateIntegrator(ctx context.Context, in *server.Integrator) error {
	in.CreatedAt = time.Now().UTC()
	_, err := s.db.ExecContext(ctx, `INSERT INTO integrators (id, name, created_at) VALUES (?, ?, ?)`,
		in.ID, in.Name, in.CreatedAt.Format(time.RFC3339Nano))
	return conflict(err, "integrator "+in.ID)
}

func scanIntegrator(row interface{ Scan(...any) error }) (*server.Integrator, error) {
	var in server.Integrator
	var created string
	if err := row.Scan(&in.ID, &in.Name, &created); err != nil {
		return nil, err
	}
	in.CreatedAt = parseTime(created)
	return &in, nil
}

// Integrator implements [server.Store].
func (s *Store) Integrator(ctx context.Context, id string) (*server.Integrator, error) {
	in, err := scanIntegrator(s.db.QueryRowContext(ctx, `SELECT id, name, created_at FROM integrators WHERE id = ?`, id))
	return in, notFound(err, "integrator", id)
}

// Integrators implements [server.Store].
func (s *Store) Integrators(ctx context.Context) ([]*server.Integrator, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at FROM integrators ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*server.Integrator
	for rows.Next() {
		in, err := scanIntegrator(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// SetIntegratorKey implements [server.Store].
func (s *Store) SetIntegratorKey(ctx context.Context, integratorID string, slot int, hash []byte) error {
	if slot != server.KeyPrimary && slot != server.KeySecondary {
		return server.Errorf(server.EINVALID, "key slot must be 1 (primary) or 2 (secondary)")
	}
	if _, err := s.Integrator(ctx, integratorID); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO integrator_keys (integrator_id, slot, key_hash, created_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (integrator_id, slot) DO UPDATE SET key_hash = excluded.key_hash, created_at = excluded.created_at`,
		integratorID, slot, hash, now())
	return conflict(err, "key")
}

// IntegratorByKeyHash implements [server.Store].
func (s *Store) IntegratorByKeyHash(ctx context.Context, hash []byte) (*server.Integrator, error) {
	in, err := scanIntegrator(s.db.QueryRowContext(ctx,
		`SELECT i.id, i.name, i.created_at FROM integrators i JOIN integrator_keys k ON k.integrator_id = i.id WHERE k.key_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, server.Errorf(server.EUNAUTHORIZED, "unknown key")
	}
	return in, err
}

// Pair implements [server.Store]. Pairing twice is not an error.
func (s *Store) Pair(ctx context.Context, integratorID, siteID string) error {
	if _, err := s.Integrator(ctx, integratorID); err != nil {
		return err
	}
	if _, err := s.Site(ctx, siteID); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO pairings (integrator_id, site_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		integratorID, siteID, now())
	return err
}

// AccessVersion implements [server.Store].
func (s *Store) AccessVersion(ctx context.Context) (int64, error) {
	var n int64
	// Without the request's cancellation: a context that can end makes
	// database/sql and the driver each start a goroutine to watch it, which
	// cost more than this read of one row (every request makes it).
	err := s.accessVersion.QueryRowContext(context.WithoutCancel(ctx)).Scan(&n)
	return n, err
}

// Unpair implements [server.Store].
func (s *Store) Unpair(ctx context.Context, integratorID, siteID string) error {
	return s.updateOne(ctx, "pairing", `DELETE FROM pairings WHERE integrator_id = ? AND site_id = ?`, integratorID, siteID)
}

// Paired implements [server.Store].
func (s *Store) Paired(ctx context.Context, integratorID, siteID string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx,
		`SELECT count(*) FROM pairings WHERE integrator_id = ? AND site_id = ?`, integratorID, siteID).Scan(&n)
	return n > 0, err
}

// Secret implements [server.Store].
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	b := make([]byte, 32)
	rand.Read(b)
	// Insert-if-absent then read: concurrent first uses agree on one value.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, name, b, now()); err != nil {
		return nil, err
	}
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&v)
	return v, err
}

// CreateEnrollmentCode implements [server.Store].
func (s *Store) CreateEnrollmentCode(ctx context.Context, siteID string, codeHash []byte, expires time.Time) error {
	if _, err := s.Site(ctx, siteID); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO enrollment_codes (code_hash, site_id, expires_at, created_at) VALUES (?, ?, ?, ?)`,
		codeHash, siteID, expires.UTC().Format(time.RFC3339Nano), now())
	return conflict(err, "enrollment code")
}

// RedeemEnrollmentCode implements [server.Store]. The transaction starts
// with BEGIN IMMEDIATE (see Open), so concurrent redeemers are serialised.
func (s *Store) RedeemEnrollmentCode(ctx context.Context, codeHash, secretHash []byte, now time.Time) (string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var siteID, expires string
	var redeemed sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT site_id, expires_at, redeemed_at FROM enrollment_codes WHERE code_hash = ?`, codeHash).
		Scan(&siteID, &expires, &redeemed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", server.Errorf(server.ENOTFOUND, "unknown enrollment code")
	case err != nil:
		return "", err
	case redeemed.Valid:
		return "", server.Errorf(server.ECONFLICT, "enrollment code already used (at %s)", redeemed.String)
	case !parseTime(expires).After(now):
		return "", server.Errorf(server.EFORBIDDEN, "enrollment code expired at %s", expires)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE enrollment_codes SET redeemed_at = ? WHERE code_hash = ?`,
		now.UTC().Format(time.RFC3339Nano), codeHash); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sites SET secret_hash = ? WHERE id = ?`, secretHash, siteID); err != nil {
		return "", err
	}
	return siteID, tx.Commit()
}

// updateOne runs a statement that must touch exactly one row.
func (s *Store) updateOne(ctx context.Context, what, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return server.Errorf(server.ENOTFOUND, "%s not found", what)
	}
	return nil
}
