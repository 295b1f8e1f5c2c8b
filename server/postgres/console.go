package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"fhirlink/server"
)

// CreateConsoleToken implements [server.Store].
func (s *Store) CreateConsoleToken(ctx context.Context, t *server.ConsoleToken) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM console_tokens WHERE expires_at <= $1`, time.Now()); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO console_tokens (token_hash, link, role, subject_id, credential_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.Hash, t.Link, t.Role, t.SubjectID, t.Credential, t.Expires)
	return conflict(err, "console token")
}

// ConsoleToken implements [server.Store].
func (s *Store) ConsoleToken(ctx context.Context, hash []byte, now time.Time) (*server.ConsoleToken, error) {
	return scanConsoleToken(hash, s.pool.QueryRow(ctx,
		`SELECT link, role, subject_id, credential_hash, expires_at FROM console_tokens WHERE token_hash = $1 AND expires_at > $2`, hash, now))
}

// RedeemConsoleLink implements [server.Store].
func (s *Store) RedeemConsoleLink(ctx context.Context, hash []byte, now time.Time) (*server.ConsoleToken, error) {
	return scanConsoleToken(hash, s.pool.QueryRow(ctx,
		`DELETE FROM console_tokens WHERE token_hash = $1 AND link AND expires_at > $2 RETURNING link, role, subject_id, credential_hash, expires_at`, hash, now))
}

// DeleteConsoleToken implements [server.Store].
func (s *Store) DeleteConsoleToken(ctx context.Context, hash []byte) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM console_tokens WHERE token_hash = $1`, hash)
	return err
}

func scanConsoleToken(hash []byte, row pgx.Row) (*server.ConsoleToken, error) {
	t := &server.ConsoleToken{Hash: hash}
	err := row.Scan(&t.Link, &t.Role, &t.SubjectID, &t.Credential, &t.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, server.Errorf(server.ENOTFOUND, "no such console link or session (unknown, used or expired)")
	}
	if err != nil {
		return nil, err
	}
	t.Expires = t.Expires.UTC()
	return t, nil
}
