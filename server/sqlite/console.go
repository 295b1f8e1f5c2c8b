package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"fhirlink/server"
)

// CreateConsoleToken implements [server.Store].
func (s *Store) CreateConsoleToken(ctx context.Context, t *server.ConsoleToken) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM console_tokens WHERE expires_us <= ?`, time.Now().UnixMicro()); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO console_tokens (token_hash, link, role, subject_id, credential_hash, expires_us) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Hash, t.Link, t.Role, t.SubjectID, t.Credential, t.Expires.UnixMicro())
	return conflict(err, "console token")
}

// ConsoleToken implements [server.Store].
func (s *Store) ConsoleToken(ctx context.Context, hash []byte, now time.Time) (*server.ConsoleToken, error) {
	return scanConsoleToken(hash, s.db.QueryRowContext(ctx,
		`SELECT link, role, subject_id, credential_hash, expires_us FROM console_tokens WHERE token_hash = ? AND expires_us > ?`, hash, now.UnixMicro()))
}

// RedeemConsoleLink implements [server.Store].
func (s *Store) RedeemConsoleLink(ctx context.Context, hash []byte, now time.Time) (*server.ConsoleToken, error) {
	return scanConsoleToken(hash, s.db.QueryRowContext(ctx,
		`DELETE FROM console_tokens WHERE token_hash = ? AND link = 1 AND expires_us > ? RETURNING link, role, subject_id, credential_hash, expires_us`, hash, now.UnixMicro()))
}

// DeleteConsoleToken implements [server.Store].
func (s *Store) DeleteConsoleToken(ctx context.Context, hash []byte) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM console_tokens WHERE token_hash = ?`, hash)
	return err
}

func scanConsoleToken(hash []byte, row *sql.Row) (*server.ConsoleToken, error) {
	t := &server.ConsoleToken{Hash: hash}
	var us int64
	err := row.Scan(&t.Link, &t.Role, &t.SubjectID, &t.Credential, &us)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, server.Errorf(server.ENOTFOUND, "no such console link or session (unknown, used or expired)")
	}
	if err != nil {
		return nil, err
	}
	t.Expires = time.UnixMicro(us).UTC()
	return t, nil
}
