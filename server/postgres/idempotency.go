package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"fhirlink/server"
)

// ClaimIdempotencyKey implements [server.Store]: one upsert that replaces
// only an expired record, so of concurrent claims exactly one wins.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, k *server.IdempotencyKey) (*server.IdempotencyKey, bool, error) {
	var one int
	err := s.pool.QueryRow(ctx,
		`INSERT INTO idempotency_keys (integrator_id, key, fingerprint, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)
		 ON CONFLICT (integrator_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, created_at = excluded.created_at,
		 expires_at = excluded.expires_at, response = NULL
		 WHERE idempotency_keys.expires_at <= excluded.created_at
		 RETURNING 1`,
		k.IntegratorID, k.Key, k.Fingerprint, k.CreatedAt.UTC(), k.ExpiresAt.UTC()).Scan(&one)
	if err == nil {
		return k, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, false, err
	}
	rec := &server.IdempotencyKey{IntegratorID: k.IntegratorID, Key: k.Key}
	var resp []byte
	err = s.pool.QueryRow(ctx,
		`SELECT fingerprint, created_at, expires_at, response FROM idempotency_keys WHERE integrator_id = $1 AND key = $2`,
		k.IntegratorID, k.Key).Scan(&rec.Fingerprint, &rec.CreatedAt, &rec.ExpiresAt, &resp)
	if err != nil {
		return nil, false, err
	}
	rec.CreatedAt, rec.ExpiresAt = rec.CreatedAt.UTC(), rec.ExpiresAt.UTC()
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
	if _, err := s.pool.Exec(ctx,
		`UPDATE idempotency_keys SET response = $3 WHERE integrator_id = $1 AND key = $2 AND response IS NULL`,
		integratorID, key, b); err != nil {
		return nil, err
	}
	// A statement of its own: it sees the answer another caller stored
	// first, even one committed while the update above waited for it.
	var stored []byte
	err = s.pool.QueryRow(ctx, `SELECT response FROM idempotency_keys WHERE integrator_id = $1 AND key = $2`,
		integratorID, key).Scan(&stored)
	if err != nil {
		return nil, notFound(err, "idempotency key", key)
	}
	return decodeResponse(stored)
}

// PurgeIdempotencyKeys implements [server.Store].
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= $1`, now.UTC())
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
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
