package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"fhirlink/server"
)

const clientColumns = `id, integrator_id, name, jwks_url, jwks, scope, created_at`

func scanClient(row pgx.Row) (*server.Client, error) {
	var c server.Client
	if err := row.Scan(&c.ID, &c.IntegratorID, &c.Name, &c.JWKSURL, &c.JWKS, &c.Scope, &c.CreatedAt); err != nil {
		return nil, err
	}
	c.CreatedAt = c.CreatedAt.UTC()
	return &c, nil
}

// CreateClient implements [server.Store].
func (s *Store) CreateClient(ctx context.Context, c *server.Client) error {
	// Checked first, as the SQLite store does, so that an unknown integrator
	// is ENOTFOUND even when the client id is taken too.
	if _, err := s.Integrator(ctx, c.IntegratorID); err != nil {
		return err
	}
	c.CreatedAt = now()
	_, err := s.pool.Exec(ctx, `INSERT INTO oauth_clients (`+clientColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.ID, c.IntegratorID, c.Name, c.JWKSURL, c.JWKS, c.Scope, c.CreatedAt)
	if sqlState(err) == foreignKeyViolation { // the integrator went away since the check
		return server.Errorf(server.ENOTFOUND, "integrator %s not found", c.IntegratorID)
	}
	return conflict(err, "client "+c.ID)
}

// Client implements [server.Store].
func (s *Store) Client(ctx context.Context, id string) (*server.Client, error) {
	c, err := scanClient(s.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM oauth_clients WHERE id = $1`, id))
	return c, notFound(err, "client", id)
}

// Clients implements [server.Store].
func (s *Store) Clients(ctx context.Context, integratorID string) ([]*server.Client, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+clientColumns+` FROM oauth_clients WHERE integrator_id = $1 ORDER BY created_at, id`, integratorID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanClient)
}

// DeleteClient implements [server.Store].
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.updateOne(ctx, "client "+id, `DELETE FROM oauth_clients WHERE id = $1`, id)
}

// UseJTI implements [server.Store]. The insert takes over an existing record
// only when that one has expired, in one statement: of nodes racing with one
// jti, the later inserts wait for the first, find its unexpired record and
// change nothing.
func (s *Store) UseJTI(ctx context.Context, iss, jti string, expires time.Time) error {
	at := time.Now()
	// Purge records well past expiry; those just past are taken over below.
	if _, err := s.pool.Exec(ctx, `DELETE FROM oauth_jtis WHERE expires_at < $1`, at.Add(-time.Minute)); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx,
		`INSERT INTO oauth_jtis (iss, jti, expires_at) VALUES ($1, $2, $3)
		 ON CONFLICT (iss, jti) DO UPDATE SET expires_at = excluded.expires_at WHERE oauth_jtis.expires_at < $4`,
		iss, jti, expires, at)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return server.Errorf(server.ECONFLICT, "jti %q of %s was used already", jti, iss)
	}
	return nil
}

// AddSigningKey implements [server.Store].
func (s *Store) AddSigningKey(ctx context.Context, k *server.SigningKey) error {
	k.CreatedAt = now()
	_, err := s.pool.Exec(ctx, `INSERT INTO signing_keys (id, private_key, created_at) VALUES ($1, $2, $3)`,
		k.ID, k.Private, k.CreatedAt)
	return conflict(err, "signing key "+k.ID)
}

// SigningKeys implements [server.Store].
func (s *Store) SigningKeys(ctx context.Context) ([]*server.SigningKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, private_key, created_at FROM signing_keys ORDER BY created_at DESC, seq DESC`)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r pgx.Row) (*server.SigningKey, error) {
		var k server.SigningKey
		if err := r.Scan(&k.ID, &k.Private, &k.CreatedAt); err != nil {
			return nil, err
		}
		k.CreatedAt = k.CreatedAt.UTC()
		return &k, nil
	})
}

// DeleteSigningKey implements [server.Store].
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	return s.updateOne(ctx, "signing key "+id, `DELETE FROM signing_keys WHERE id = $1`, id)
}
