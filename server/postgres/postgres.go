// Package postgres is the [server.Store] in PostgreSQL, through pgx: the
// production store, which several server nodes share.
package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"fhirlink/server"
)

// migrations are applied in order, each in the one transaction that brings
// the schema up to date; schema_migrations records the versions applied
// (version n is migrations[n-1]). Append, never edit.
//
// Identifiers are text, as in the SQLite store: they are UUIDs in practice,
// but the store does not insist on it.
var migrations = []string{
	`CREATE TABLE sites (
		id text PRIMARY KEY,
		name text NOT NULL,
		pms_type text NOT NULL,
		pms_site_id text NOT NULL DEFAULT '',
		secret_hash bytea NOT NULL,
		created_at timestamptz NOT NULL
	);
	CREATE INDEX sites_pms_site_id ON sites (pms_site_id);
	CREATE TABLE integrators (
		id text PRIMARY KEY,
		name text NOT NULL,
		created_at timestamptz NOT NULL
	);
	CREATE TABLE integrator_keys (
		integrator_id text NOT NULL REFERENCES integrators (id),
		slot smallint NOT NULL CHECK (slot IN (1, 2)),
		key_hash bytea NOT NULL UNIQUE,
		created_at timestamptz NOT NULL,
		PRIMARY KEY (integrator_id, slot)
	);
	CREATE TABLE pairings (
		integrator_id text NOT NULL REFERENCES integrators (id),
		site_id text NOT NULL REFERENCES sites (id),
		created_at timestamptz NOT NULL,
		PRIMARY KEY (integrator_id, site_id)
	);
	CREATE INDEX pairings_site_id ON pairings (site_id);
	CREATE TABLE secrets (
		name text PRIMARY KEY,
		value bytea NOT NULL,
		created_at timestamptz NOT NULL
	);`,
	`CREATE TABLE enrollment_codes (
		code_hash bytea PRIMARY KEY,
		site_id text NOT NULL REFERENCES sites (id),
		created_at timestamptz NOT NULL,
		expires_at timestamptz NOT NULL,
		redeemed_at timestamptz
	);
	CREATE INDEX enrollment_codes_site_id ON enrollment_codes (site_id);`,
	`CREATE TABLE oauth_clients (
		id text PRIMARY KEY,
		integrator_id text NOT NULL REFERENCES integrators (id),
		name text NOT NULL DEFAULT '',
		jwks_url text NOT NULL DEFAULT '',
		jwks bytea,
		scope text NOT NULL,
		created_at timestamptz NOT NULL
	);
	CREATE INDEX oauth_clients_integrator_id ON oauth_clients (integrator_id);
	CREATE TABLE oauth_jtis (
		iss text NOT NULL,
		jti text NOT NULL,
		expires_at timestamptz NOT NULL,
		PRIMARY KEY (iss, jti)
	);
	CREATE INDEX oauth_jtis_expires_at ON oauth_jtis (expires_at);
	CREATE TABLE signing_keys (
		id text PRIMARY KEY,
		private_key bytea NOT NULL,
		created_at timestamptz NOT NULL,
		seq bigint GENERATED ALWAYS AS IDENTITY -- insertion order, to order keys created in one microsecond
	);`,
	// Practice consent and incident controls: pairing codes, blocks
	// (site_id '' is every site) and quarantine.
	`CREATE TABLE pairing_codes (
		code_hash bytea PRIMARY KEY,
		site_id text NOT NULL REFERENCES sites (id),
		created_at timestamptz NOT NULL,
		expires_at timestamptz NOT NULL,
		redeemed_at timestamptz,
		redeemed_by text
	);
	CREATE INDEX pairing_codes_site_id ON pairing_codes (site_id);
	CREATE TABLE integrator_blocks (
		integrator_id text NOT NULL REFERENCES integrators (id),
		site_id text NOT NULL,
		created_at timestamptz NOT NULL,
		PRIMARY KEY (integrator_id, site_id)
	);
	ALTER TABLE sites ADD COLUMN quarantined_at timestamptz;`,
	// Quotas, usage counters and the audit log. The log is append-only: a
	// trigger refuses every UPDATE and TRUNCATE, and a DELETE of a record
	// younger than server.MinAuditRetention (365 days), which only pruning
	// does.
	`CREATE TABLE quotas (
		integrator_id text NOT NULL REFERENCES integrators (id),
		site_id text NOT NULL,
		daily_queries bigint NOT NULL,
		daily_bytes bigint NOT NULL,
		updated_at timestamptz NOT NULL,
		PRIMARY KEY (integrator_id, site_id)
	);
	CREATE TABLE usage_daily (
		integrator_id text NOT NULL,
		site_id text NOT NULL,
		day text NOT NULL,
		queries bigint NOT NULL DEFAULT 0,
		bytes bigint NOT NULL DEFAULT 0,
		PRIMARY KEY (integrator_id, site_id, day)
	);
	CREATE TABLE audit_log (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		at timestamptz NOT NULL,
		integrator_id text NOT NULL DEFAULT '',
		site_id text NOT NULL DEFAULT '',
		method text NOT NULL,
		path text NOT NULL,
		kind text NOT NULL,
		interaction text NOT NULL DEFAULT '',
		resource_type text NOT NULL DEFAULT '',
		query text NOT NULL DEFAULT '',
		query_id text NOT NULL DEFAULT '',
		row_count bigint NOT NULL,
		byte_count bigint NOT NULL,
		status integer NOT NULL,
		duration_us bigint NOT NULL,
		client_addr text NOT NULL DEFAULT ''
	);
	CREATE INDEX audit_log_at ON audit_log (at);
	CREATE INDEX audit_log_site_at ON audit_log (site_id, at);
	CREATE INDEX audit_log_integrator_at ON audit_log (integrator_id, at);
	CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF TG_OP <> 'DELETE' THEN
			RAISE EXCEPTION 'the audit log is append-only';
		END IF;
		IF OLD.at > now() - interval '365 days' THEN
			RAISE EXCEPTION 'audit records younger than 365 days cannot be deleted';
		END IF;
		RETURN OLD;
	END $$;
	CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON audit_log
		FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
	CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
		FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard();`,
	// Async queries, webhooks and their deliveries.
	`CREATE TABLE async_queries (
		id text PRIMARY KEY,
		integrator_id text NOT NULL,
		site_id text NOT NULL,
		status text NOT NULL,
		request bytea NOT NULL,
		doc bytea NOT NULL,
		created_at timestamptz NOT NULL,
		updated_at timestamptz NOT NULL,
		expires_at timestamptz,
		purged boolean NOT NULL DEFAULT false
	);
	CREATE INDEX async_queries_status ON async_queries (status, created_at);
	CREATE INDEX async_queries_expires_at ON async_queries (expires_at) WHERE expires_at IS NOT NULL;
	CREATE TABLE webhooks (
		integrator_id text PRIMARY KEY REFERENCES integrators (id),
		url text NOT NULL,
		secret bytea NOT NULL,
		created_at timestamptz NOT NULL
	);
	CREATE TABLE webhook_deliveries (
		id text PRIMARY KEY,
		integrator_id text NOT NULL,
		site_id text NOT NULL,
		query_id text NOT NULL,
		source text NOT NULL,
		url text NOT NULL,
		body bytea NOT NULL,
		status text NOT NULL,
		attempts integer NOT NULL DEFAULT 0,
		next_attempt_at timestamptz NOT NULL,
		last_status_code integer NOT NULL DEFAULT 0,
		last_error text NOT NULL DEFAULT '',
		created_at timestamptz NOT NULL,
		updated_at timestamptz NOT NULL,
		delivered_at timestamptz
	);
	CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
	CREATE INDEX webhook_deliveries_integrator ON webhook_deliveries (integrator_id, created_at);`,
	// Registered queries.
	`CREATE TABLE registered_queries (
		id text PRIMARY KEY,
		integrator_id text NOT NULL,
		site_id text NOT NULL,
		status text NOT NULL,
		request bytea NOT NULL,
		doc bytea NOT NULL,
		next_run_at timestamptz NOT NULL,
		created_at timestamptz NOT NULL,
		updated_at timestamptz NOT NULL
	);
	CREATE INDEX registered_queries_due ON registered_queries (status, next_run_at);
	CREATE INDEX registered_queries_owner ON registered_queries (integrator_id, site_id, created_at);`,
	// Writes: the practice's write grants, the idempotency keys of writes
	// (response is the first answer as JSON, NULL while there is none) and
	// what the audit log says of a write.
	`CREATE TABLE write_grants (
		integrator_id text NOT NULL REFERENCES integrators (id),
		site_id text NOT NULL REFERENCES sites (id),
		created_at timestamptz NOT NULL,
		PRIMARY KEY (integrator_id, site_id)
	);
	CREATE TABLE idempotency_keys (
		integrator_id text NOT NULL,
		key text NOT NULL,
		fingerprint bytea NOT NULL,
		created_at timestamptz NOT NULL,
		expires_at timestamptz NOT NULL,
		response bytea,
		PRIMARY KEY (integrator_id, key)
	);
	CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
	ALTER TABLE audit_log ADD COLUMN targets text NOT NULL DEFAULT '';
	ALTER TABLE audit_log ADD COLUMN outcome text NOT NULL DEFAULT '';`,
	// The web console's one-time sign-in links and sessions, by hash.
	`CREATE TABLE console_tokens (
		token_hash bytea PRIMARY KEY,
		link boolean NOT NULL,
		role text NOT NULL,
		subject_id text NOT NULL,
		credential_hash bytea,
		expires_at timestamptz NOT NULL
	);
	CREATE INDEX console_tokens_expires ON console_tokens (expires_at);`,
	// FHIR Bulk Data export jobs: at most one running per site, which the
	// partial unique index guarantees whatever the nodes claiming at once.
	`CREATE TABLE export_jobs (
		id text PRIMARY KEY,
		integrator_id text NOT NULL,
		site_id text NOT NULL,
		state text NOT NULL,
		request bytea NOT NULL,
		doc bytea NOT NULL,
		holder text NOT NULL DEFAULT '',
		attempt integer NOT NULL DEFAULT 0,
		created_at timestamptz NOT NULL,
		updated_at timestamptz NOT NULL,
		lease_until timestamptz,
		expires_at timestamptz
	);
	CREATE INDEX export_jobs_state ON export_jobs (state, created_at);
	CREATE INDEX export_jobs_site ON export_jobs (site_id, state);
	CREATE UNIQUE INDEX export_jobs_one_running ON export_jobs (site_id) WHERE state = 'running';`,
	// The rate limit's token buckets, shared by every node (quota.SharedRateLimiter).
	`CREATE TABLE rate_buckets (
		key text PRIMARY KEY,
		tokens double precision NOT NULL,
		at timestamptz NOT NULL
	);`,
	// Changes of the sites' agent credentials (a secret replaced, a site
	// deleted), noted by trigger whatever made them, for the servers'
	// credential sweep (Store.CredentialChanges); kept an hour
	// (server.CredentialChangesKept), the trigger deleting older ones.
	`CREATE TABLE credential_changes (
		site_id text NOT NULL,
		changed_at timestamptz NOT NULL
	);
	CREATE INDEX credential_changes_at ON credential_changes (changed_at);
	CREATE FUNCTION note_credential_change() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF TG_OP = 'UPDATE' AND NEW.secret_hash IS NOT DISTINCT FROM OLD.secret_hash THEN
			RETURN NULL;
		END IF;
		DELETE FROM credential_changes WHERE changed_at < clock_timestamp() - interval '1 hour';
		INSERT INTO credential_changes (site_id, changed_at) VALUES (OLD.id, clock_timestamp());
		RETURN NULL;
	END $$;
	CREATE TRIGGER sites_credential_changed AFTER UPDATE OF secret_hash OR DELETE ON sites
		FOR EACH ROW EXECUTE FUNCTION note_credential_change();`,
	// Each audit record's request id (X-Request-Id).
	`ALTER TABLE audit_log ADD COLUMN request_id text NOT NULL DEFAULT '';`,
	// The access version (server.Store.AccessVersion), counted by
	// triggers on every table deciding who may reach what.
	`CREATE TABLE access_version (n bigint NOT NULL);
	INSERT INTO access_version VALUES (0);
	CREATE FUNCTION access_version_count() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		UPDATE access_version SET n = n + 1;
		RETURN NULL;
	END $$;
	CREATE TRIGGER access_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sites FOR EACH STATEMENT EXECUTE FUNCTION access_version_count();
	CREATE TRIGGER access_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON integrators FOR EACH STATEMENT EXECUTE FUNCTION access_version_count();
	CREATE TRIGGER access_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON integrator_keys FOR EACH STATEMENT EXECUTE FUNCTION access_version_count();
	CREATE TRIGGER access_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pairings FOR EACH STATEMENT EXECUTE FUNCTION access_version_count();
	CREATE TRIGGER access_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON integrator_blocks FOR EACH STATEMENT EXECUTE FUNCTION access_version_count();
	CREATE TRIGGER access_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON write_grants FOR EACH STATEMENT EXECUTE FUNCTION access_version_count();
	CREATE TRIGGER access_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON quotas FOR EACH STATEMENT EXECUTE FUNCTION access_version_count();`,
}

// migrationLock is the key of the transaction-level advisory lock held while
// migrating, so that nodes starting at once migrate one after the other.
// Advisory locks are per database, so other databases are not blocked.
const migrationLock int64 = 0x6668_6972_6c69_6e6b // "fhirlink"

// connectTimeout bounds each connection attempt unless the URL sets
// connect_timeout, so an unreachable server fails start-up instead of
// hanging it.
const connectTimeout = 15 * time.Second

// SQLSTATE codes the store maps to [server.Error] codes.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// Store is a [server.Store] in a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
}

var _ server.Store = (*Store)(nil)

// Open connects to the database at url (postgres://user:password@host/db?...)
// and brings its schema up to date. The database must exist; the store's
// tables are created in it.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("state store: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 { // no connect_timeout in url
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("state store %s: %w", where, err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("state store %s: %w", where, err)
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		var version int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
			return err
		}
		if version > len(migrations) {
			return fmt.Errorf("schema version %d is newer than this build knows (%d): upgrade fhirlink", version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, i+1); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close closes the connection pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// now is the current time at the precision PostgreSQL keeps, so a value set
// on a struct equals the one read back later.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func sqlState(err error) string {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code
	}
	return ""
}

// conflict turns a uniqueness violation into ECONFLICT.
func conflict(err error, what string) error {
	if sqlState(err) == uniqueViolation {
		return server.Errorf(server.ECONFLICT, "%s already exists", what)
	}
	return err
}

func notFound(err error, what, id string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return server.Errorf(server.ENOTFOUND, "%s %s not found", what, id)
	}
	return err
}

// CreateSite implements [server.Store].
func (s *Store) CreateSite(ctx context.Context, site *server.Site, secretHash []byte) error {
	site.CreatedAt = now()
	_, err := s.pool.Exec(ctx,
		`INSERT INTO sites (id, name, pms_type, pms_site_id, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		site.ID, site.Name, site.PMSType, site.PracticeManagementSiteID, secretHash, site.CreatedAt)
	return conflict(err, "site "+site.ID)
}

const siteColumns = `id, name, pms_type, pms_site_id, created_at`

func scanSite(row pgx.Row) (*server.Site, error) {
	var site server.Site
	if err := row.Scan(&site.ID, &site.Name, &site.PMSType, &site.PracticeManagementSiteID, &site.CreatedAt); err != nil {
		return nil, err
	}
	site.CreatedAt = site.CreatedAt.UTC()
	return &site, nil
}

// Site implements [server.Store].
func (s *Store) Site(ctx context.Context, id string) (*server.Site, error) {
	site, err := scanSite(s.pool.QueryRow(ctx, `SELECT `+siteColumns+` FROM sites WHERE id = $1`, id))
	return site, notFound(err, "site", id)
}

// Sites implements [server.Store].
func (s *Store) Sites(ctx context.Context) ([]*server.Site, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+siteColumns+` FROM sites ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanSite)
}

// SiteSecretHash implements [server.Store].
func (s *Store) SiteSecretHash(ctx context.Context, id string) ([]byte, error) {
	var h []byte
	err := s.pool.QueryRow(ctx, `SELECT secret_hash FROM sites WHERE id = $1`, id).Scan(&h)
	return h, notFound(err, "site", id)
}

// SetSiteSecretHash implements [server.Store].
func (s *Store) SetSiteSecretHash(ctx context.Context, id string, hash []byte) error {
	return s.updateOne(ctx, "site "+id, `UPDATE sites SET secret_hash = $1 WHERE id = $2`, hash, id)
}

// CredentialChanges implements [server.Store], in one round trip.
func (s *Store) CredentialChanges(ctx context.Context, since time.Time) ([]string, time.Time, error) {
	var ids []string
	var at time.Time
	err := s.pool.QueryRow(ctx, `SELECT now(), ARRAY(SELECT DISTINCT site_id FROM credential_changes WHERE changed_at >= $1)`, since).
		Scan(&at, &ids)
	return ids, at.UTC(), err
}

// CreateIntegrator implements [server.Store].
func (s *Store) CreateIntegrator(ctx context.Context, in *server.Integrator) error {
	in.CreatedAt = now()
	_, err := s.pool.Exec(ctx, `INSERT INTO integrators (id, name, created_at) VALUES ($1, $2, $3)`,
		in.ID, in.Name, in.CreatedAt)
	return conflict(err, "integrator "+in.ID)
}

func scanIntegrator(row pgx.Row) (*server.Integrator, error) {
	var in server.Integrator
	if err := row.Scan(&in.ID, &in.Name, &in.CreatedAt); err != nil {
		return nil, err
	}
	in.CreatedAt = in.CreatedAt.UTC()
	return &in, nil
}

// Integrator implements [server.Store].
func (s *Store) Integrator(ctx context.Context, id string) (*server.Integrator, error) {
	in, err := scanIntegrator(s.pool.QueryRow(ctx, `SELECT id, name, created_at FROM integrators WHERE id = $1`, id))
	return in, notFound(err, "integrator", id)
}

// Integrators implements [server.Store].
func (s *Store) Integrators(ctx context.Context) ([]*server.Integrator, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, created_at FROM integrators ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanIntegrator)
}

// SetIntegratorKey implements [server.Store].
func (s *Store) SetIntegratorKey(ctx context.Context, integratorID string, slot int, hash []byte) error {
	if slot != server.KeyPrimary && slot != server.KeySecondary {
		return server.Errorf(server.EINVALID, "key slot must be 1 (primary) or 2 (secondary)")
	}
	if _, err := s.Integrator(ctx, integratorID); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO integrator_keys (integrator_id, slot, key_hash, created_at) VALUES ($1, $2, $3, $4)
		 ON CONFLICT (integrator_id, slot) DO UPDATE SET key_hash = excluded.key_hash, created_at = excluded.created_at`,
		integratorID, slot, hash, now())
	if sqlState(err) == foreignKeyViolation { // the integrator went away since the check
		return server.Errorf(server.ENOTFOUND, "integrator %s not found", integratorID)
	}
	return conflict(err, "key")
}

// IntegratorByKeyHash implements [server.Store]. An unknown key is
// EUNAUTHORIZED.
func (s *Store) IntegratorByKeyHash(ctx context.Context, hash []byte) (*server.Integrator, error) {
	in, err := scanIntegrator(s.pool.QueryRow(ctx,
		`SELECT i.id, i.name, i.created_at FROM integrators i JOIN integrator_keys k ON k.integrator_id = i.id WHERE k.key_hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, server.Errorf(server.EUNAUTHORIZED, "unknown key")
	}
	return in, err
}

// Pair implements [server.Store]. Pairing twice, or at once from two nodes,
// is not an error.
func (s *Store) Pair(ctx context.Context, integratorID, siteID string) error {
	if _, err := s.Integrator(ctx, integratorID); err != nil {
		return err
	}
	if _, err := s.Site(ctx, siteID); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO pairings (integrator_id, site_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		integratorID, siteID, now())
	if sqlState(err) == foreignKeyViolation { // the integrator or site went away since the checks
		return server.Errorf(server.ENOTFOUND, "integrator %s or site %s not found", integratorID, siteID)
	}
	return err
}

// AccessVersion implements [server.Store].
func (s *Store) AccessVersion(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT n FROM access_version`).Scan(&n)
	return n, err
}

// Unpair implements [server.Store].
func (s *Store) Unpair(ctx context.Context, integratorID, siteID string) error {
	return s.updateOne(ctx, "pairing", `DELETE FROM pairings WHERE integrator_id = $1 AND site_id = $2`, integratorID, siteID)
}

// Paired implements [server.Store].
func (s *Store) Paired(ctx context.Context, integratorID, siteID string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM pairings WHERE integrator_id = $1 AND site_id = $2)`, integratorID, siteID).Scan(&ok)
	return ok, err
}

// CreateEnrollmentCode implements [server.Store].
func (s *Store) CreateEnrollmentCode(ctx context.Context, siteID string, codeHash []byte, expires time.Time) error {
	if _, err := s.Site(ctx, siteID); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO enrollment_codes (code_hash, site_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		codeHash, siteID, now(), expires)
	if sqlState(err) == foreignKeyViolation { // the site went away since the check
		return server.Errorf(server.ENOTFOUND, "site %s not found", siteID)
	}
	return conflict(err, "enrollment code")
}

// RedeemEnrollmentCode implements [server.Store].
func (s *Store) RedeemEnrollmentCode(ctx context.Context, codeHash, secretHash []byte, at time.Time) (string, error) {
	var siteID string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The conditional update is the claim: a concurrent redeemer of the
		// same code waits on the row lock, re-checks redeemed_at once the
		// winner commits, and updates nothing.
		err := tx.QueryRow(ctx,
			`UPDATE enrollment_codes SET redeemed_at = $2
			 WHERE code_hash = $1 AND redeemed_at IS NULL AND expires_at > $2
			 RETURNING site_id`, codeHash, at).Scan(&siteID)
		if errors.Is(err, pgx.ErrNoRows) {
			return s.whyNotRedeemable(ctx, tx, codeHash, at)
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE sites SET secret_hash = $1 WHERE id = $2`, secretHash, siteID)
		if err == nil && tag.RowsAffected() == 0 {
			err = server.Errorf(server.ENOTFOUND, "site %s not found", siteID)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return siteID, nil
}

// whyNotRedeemable explains why the code whose hash is codeHash could not
// be claimed at at.
func (s *Store) whyNotRedeemable(ctx context.Context, tx pgx.Tx, codeHash []byte, at time.Time) error {
	// Compared in SQL, as in the claim: PostgreSQL keeps microseconds and
	// rounds at to them, so a comparison in Go could disagree.
	var redeemed, expired bool
	var expires time.Time
	err := tx.QueryRow(ctx,
		`SELECT redeemed_at IS NOT NULL, expires_at <= $2, expires_at FROM enrollment_codes WHERE code_hash = $1`,
		codeHash, at).Scan(&redeemed, &expired, &expires)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return server.Errorf(server.ENOTFOUND, "unknown enrollment code")
	case err != nil:
		return err
	case redeemed:
		return server.Errorf(server.ECONFLICT, "enrollment code already used")
	case expired:
		return server.Errorf(server.EFORBIDDEN, "enrollment code expired at %s", expires.UTC().Format(time.RFC3339))
	}
	return fmt.Errorf("enrollment code neither redeemable nor refused") // unreachable
}

// Secret implements [server.Store].
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	b := make([]byte, 32)
	rand.Read(b)
	// Insert-if-absent, then read in a second statement: an insert racing
	// another node's waits for it and does nothing, and the read, taking a
	// fresh snapshot, sees the winner's row. (One statement would not: its
	// snapshot predates the other node's commit.)
	if _, err := s.pool.Exec(ctx,
		`INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, name, b, now()); err != nil {
		return nil, err
	}
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	return v, err
}

// collect scans every row with scan and closes rows. Like the SQLite store
// it returns nil, not an empty slice, when there are no rows.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// updateOne runs a statement that must touch exactly one row.
func (s *Store) updateOne(ctx context.Context, what, query string, args ...any) error {
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return server.Errorf(server.ENOTFOUND, "%s not found", what)
	}
	return nil
}
