package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"fhirlink/server"
)

// CreatePairingCode implements [server.Store].
func (s *Store) CreatePairingCode(ctx context.Context, siteID string, codeHash []byte, expires time.Time) error {
	if _, err := s.Site(ctx, siteID); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO pairing_codes (code_hash, site_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		codeHash, siteID, now(), expires)
	if sqlState(err) == foreignKeyViolation { // the site went away since the check
		return server.Errorf(server.ENOTFOUND, "site %s not found", siteID)
	}
	return conflict(err, "pairing code")
}

// RedeemPairingCode implements [server.Store]. The code's row is locked
// first: a concurrent redeemer of the same code waits for the first one's
// transaction and then reads the code as redeemed.
func (s *Store) RedeemPairingCode(ctx context.Context, codeHash []byte, integratorID string, at time.Time, accept func(*server.Site) error) (*server.Site, error) {
	var site *server.Site
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var siteID string
		var redeemed, expired bool
		var expires time.Time
		// Expiry compared in SQL: PostgreSQL rounds at to microseconds.
		err := tx.QueryRow(ctx,
			`SELECT site_id, redeemed_at IS NOT NULL, expires_at <= $2, expires_at FROM pairing_codes
			 WHERE code_hash = $1 FOR UPDATE`, codeHash, at).Scan(&siteID, &redeemed, &expired, &expires)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return server.Errorf(server.ENOTFOUND, "unknown pairing code")
		case err != nil:
			return err
		case redeemed:
			return server.Errorf(server.ECONFLICT, "pairing code already used")
		case expired:
			return server.Errorf(server.EFORBIDDEN, "pairing code expired at %s", expires.UTC().Format(time.RFC3339))
		}
		site, err = scanSite(tx.QueryRow(ctx, `SELECT `+siteColumns+` FROM sites WHERE id = $1`, siteID))
		if err != nil {
			return notFound(err, "site", siteID)
		}
		var known bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM integrators WHERE id = $1)`, integratorID).Scan(&known); err != nil {
			return err
		}
		if !known {
			return server.Errorf(server.ENOTFOUND, "integrator %s not found", integratorID)
		}
		if accept != nil {
			if err := accept(site); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE pairing_codes SET redeemed_at = $1, redeemed_by = $2 WHERE code_hash = $3`,
			at, integratorID, codeHash); err != nil {
			return err
		}
		_, err = tx.Exec(ctx,
			`INSERT INTO pairings (integrator_id, site_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			integratorID, siteID, now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return site, nil
}

// Pairings implements [server.Store].
func (s *Store) Pairings(ctx context.Context, siteID string) ([]*server.Pairing, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT p.integrator_id, i.name, p.site_id, p.created_at FROM pairings p JOIN integrators i ON i.id = p.integrator_id
		 WHERE p.site_id = $1 ORDER BY p.created_at, p.integrator_id`, siteID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r pgx.Row) (*server.Pairing, error) {
		var p server.Pairing
		if err := r.Scan(&p.IntegratorID, &p.IntegratorName, &p.SiteID, &p.CreatedAt); err != nil {
			return nil, err
		}
		p.CreatedAt = p.CreatedAt.UTC()
		return &p, nil
	})
}

// Block implements [server.Store].
func (s *Store) Block(ctx context.Context, integratorID, siteID string) error {
	if _, err := s.Integrator(ctx, integratorID); err != nil {
		return err
	}
	if siteID != "" {
		if _, err := s.Site(ctx, siteID); err != nil {
			return err
		}
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO integrator_blocks (integrator_id, site_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		integratorID, siteID, now())
	if sqlState(err) == foreignKeyViolation {
		return server.Errorf(server.ENOTFOUND, "integrator %s not found", integratorID)
	}
	return err
}

// Unblock implements [server.Store].
func (s *Store) Unblock(ctx context.Context, integratorID, siteID string) error {
	return s.updateOne(ctx, "block", `DELETE FROM integrator_blocks WHERE integrator_id = $1 AND site_id = $2`, integratorID, siteID)
}

// Blocks implements [server.Store].
func (s *Store) Blocks(ctx context.Context) ([]*server.Block, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT integrator_id, site_id, created_at FROM integrator_blocks ORDER BY created_at, integrator_id, site_id`)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r pgx.Row) (*server.Block, error) {
		var b server.Block
		if err := r.Scan(&b.IntegratorID, &b.SiteID, &b.CreatedAt); err != nil {
			return nil, err
		}
		b.CreatedAt = b.CreatedAt.UTC()
		return &b, nil
	})
}

// SetQuarantined implements [server.Store].
func (s *Store) SetQuarantined(ctx context.Context, siteID string, on bool) error {
	if on {
		return s.updateOne(ctx, "site "+siteID,
			`UPDATE sites SET quarantined_at = coalesce(quarantined_at, $1) WHERE id = $2`, now(), siteID)
	}
	return s.updateOne(ctx, "site "+siteID, `UPDATE sites SET quarantined_at = NULL WHERE id = $1`, siteID)
}

// Quarantined implements [server.Store].
func (s *Store) Quarantined(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM sites WHERE quarantined_at IS NOT NULL ORDER BY quarantined_at, id`)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r pgx.Row) (string, error) {
		var id string
		err := r.Scan(&id)
		return id, err
	})
}

// Access implements [server.Store].
func (s *Store) Access(ctx context.Context, integratorID, siteID string) (server.Access, error) {
	var a server.Access
	err := s.pool.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM pairings WHERE integrator_id = $1 AND site_id = $2),
		EXISTS (SELECT 1 FROM integrator_blocks WHERE integrator_id = $1 AND site_id = $2 AND $2 <> ''),
		EXISTS (SELECT 1 FROM integrator_blocks WHERE integrator_id = $1 AND site_id = ''),
		EXISTS (SELECT 1 FROM sites WHERE id = $2 AND quarantined_at IS NOT NULL),
		EXISTS (SELECT 1 FROM write_grants WHERE integrator_id = $1 AND site_id = $2)`,
		integratorID, siteID).Scan(&a.Paired, &a.Blocked, &a.BlockedEverywhere, &a.Quarantined, &a.WritesGranted)
	return a, err
}

// GrantWrites implements [server.Store].
func (s *Store) GrantWrites(ctx context.Context, integratorID, siteID string) error {
	if err := s.bothExist(ctx, integratorID, siteID); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO write_grants (integrator_id, site_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		integratorID, siteID, now())
	if sqlState(err) == foreignKeyViolation {
		return server.Errorf(server.ENOTFOUND, "integrator %s or site %s not found", integratorID, siteID)
	}
	return err
}

// RevokeWrites implements [server.Store].
func (s *Store) RevokeWrites(ctx context.Context, integratorID, siteID string) error {
	if err := s.bothExist(ctx, integratorID, siteID); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM write_grants WHERE integrator_id = $1 AND site_id = $2`, integratorID, siteID)
	return err
}

// bothExist is [server.ENOTFOUND] unless the integrator and the site exist.
func (s *Store) bothExist(ctx context.Context, integratorID, siteID string) error {
	if _, err := s.Integrator(ctx, integratorID); err != nil {
		return err
	}
	_, err := s.Site(ctx, siteID)
	return err
}
