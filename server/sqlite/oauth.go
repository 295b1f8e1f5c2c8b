package sqlite

import (
	"context"
	"time"

	"fhirlink/server"
)

const clientColumns = `id, integrator_id, name, jwks_url, jwks, scope, created_at`

func scanClient(row interface{ Scan(...any) error }) (*server.Client, error) {
	var c server.Client
	var created string
	if err := row.Scan(&c.ID, &c.IntegratorID, &c.Name, &c.JWKSURL, &c.JWKS, &c.Scope, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = parseTime(created)
	return &c, nil
}

// CreateClient implements [server.Store].
func (s *Store) CreateClient(ctx context.Context, c *server.Client) error {
	if _, err := s.Integrator(ctx, c.IntegratorID); err != nil {
		return err
	}
	c.CreatedAt = time.Now().UTC()
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.IntegratorID, c.Name, c.JWKSURL, c.JWKS, c.Scope, c.CreatedAt.Format(time.RFC3339Nano))
	return conflict(err, "client "+c.ID)
}

// Client implements [server.Store].
func (s *Store) Client(ctx context.Context, id string) (*server.Client, error) {
	c, err := scanClient(s.db.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM oauth_clients WHERE id = ?`, id))
	return c, notFound(err, "client", id)
}

// Clients implements [server.Store].
func (s *Store) Clients(ctx context.Context, integratorID string) ([]*server.Client, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+clientColumns+` FROM oauth_clients WHERE integrator_id = ? ORDER BY created_at, id`, integratorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*server.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteClient implements [server.Store].
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.updateOne(ctx, "client "+id, `DELETE FROM oauth_clients WHERE id = ?`, id)
}

// UseJTI implements [server.Store]. The insert replaces a record only when
// that one has expired, in one statement, so concurrent uses of one jti
// cannot both succeed.
func (s *Store) UseJTI(ctx context.Context, iss, jti string, expires time.Time) error {
	nowUnix := time.Now().Unix()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM oauth_jtis WHERE expires_unix < ?`, nowUnix-60); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO oauth_jtis (iss, jti, expires_unix) VALUES (?, ?, ?)
		 ON CONFLICT (iss, jti) DO UPDATE SET expires_unix = excluded.expires_unix WHERE oauth_jtis.expires_unix < ?`,
		iss, jti, expires.Unix(), nowUnix)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return server.Errorf(server.ECONFLICT, "jti %q of %s was used already", jti, iss)
	}
	return nil
}

// AddSigningKey implements [server.Store].
func (s *Store) AddSigningKey(ctx context.Context, k *server.SigningKey) error {
	k.CreatedAt = time.Now().UTC()
	_, err := s.db.ExecContext(ctx, `INSERT INTO signing_keys (id, private_key, created_at) VALUES (?, ?, ?)`,
		k.ID, k.Private, k.CreatedAt.Format(time.RFC3339Nano))
	return conflict(err, "signing key "+k.ID)
}

// SigningKeys implements [server.Store].
func (s *Store) SigningKeys(ctx context.Context) ([]*server.SigningKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, private_key, created_at FROM signing_keys ORDER BY created_at DESC, rowid DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*server.SigningKey
	for rows.Next() {
		var k server.SigningKey
		var created string
		if err := rows.Scan(&k.ID, &k.Private, &created); err != nil {
			return nil, err
		}
		k.CreatedAt = parseTime(created)
		out = append(out, &k)
	}
	return out, rows.Err()
}

// DeleteSigningKey implements [server.Store].
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	return s.updateOne(ctx, "signing key "+id, `DELETE FROM signing_keys WHERE id = ?`, id)
}
