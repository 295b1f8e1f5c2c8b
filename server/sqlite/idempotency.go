package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"fhirlink/server"
)

// ClaimIdempotencyKey implements [server.Store]: one upsert that replaces
// only an expired record, so of concurrent claims exactly one wins.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, k *server.IdempotencyKey) (*server.IdempotencyKey, bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx,
		`INSERT INTO idempotency_keys (integrator_id, key, fingerprint, created_us, expires_us) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (integrator_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, created_us = excluded.created_us,
		 expires_us = excluded.expires_us, response = NULL
		 WHERE idempotency_keys.expires_us <= excluded.created_us
		 RETURNING 1`,
		k.IntegratorID, k.Key, k.Fingerprint, k.CreatedAt.UnixMicro(), k.ExpiresAt.UnixMicro()).Scan(&one)
	if err == nil {
		return k, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, err
	}
	rec := &server.IdempotencyKey{IntegratorID: k.IntegratorID, Key: k.Key}
	var created, expires int64
	var resp []byte
	err = s.db.QueryRowContext(ctx,
		`SELECT fingerprint, created_us, expires_us, response FROM idempotency_keys WHERE integrator_id = ? AND key = ?`,
		k.IntegratorID, k.Key).Scan(&rec.Fingerprint, &created, &expires, &resp)
	if err != nil {
		return nil, false, err
	}
	rec.CreatedAt, rec.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC()
	if rec.Response, err = decodeResponse(resp); err != nil {
		return nil, false, err
	}
	return rec, false, nil
}

// CompleteIdempotencyKey implements [server.Store].
func (s *Store) CompleteIdempotencyKey(ctx context.Context, integratorID, key string, resp *server.IdempotentResponse) (*server.IdempotentResponse, error) {
	b, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx,
		`UPDATE idempotency_keys SET response = ? WHERE integrator_id = ? AND key = ? AND response IS NULL`,
		b, integratorID, key); err != nil {
		return nil, err
	}
	var stored []byte
	err = s.db.QueryRowContext(ctx, `SELECT response FROM idempotency_keys WHERE integrator_id = ? AND key = ?`,
		integratorID, key).Scan(&stored)
	if err != nil {
		return nil, notFound(err, "idempotency key", key)
	}
	return decodeResponse(stored)
}

// PurgeIdempotencyKeys implements [server.Store].
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE expires_us <= ?`, now.UnixMicro())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func decodeResponse(b []byte) (*server.IdempotentResponse, error) {
	if b == nil {
		return nil, nil
	}
	var r server.IdempotentResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
