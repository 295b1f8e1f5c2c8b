package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"fhirlink/server"
)

// CreatePairingCode implements [server.Store].
func (s *Store) CreatePairingCode(ctx context.Context, siteID string, codeHash []byte, expires time.Time) error {
	if _, err := s.Site(ctx, siteID); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO pairing_codes (code_hash, site_id, expires_at, created_at) VALUES (?, ?, ?, ?)`,
		codeHash, siteID, expires.UTC().Format(time.RFC3339Nano), now())
	return conflict(err, "pairing code")
}

// RedeemPairingCode implements [server.Store]. The transaction starts with
// BEGIN IMMEDIATE (see Open), so concurrent redeemers are serialised.
func (s *Store) RedeemPairingCode(ctx context.Context, codeHash []byte, integratorID string, at time.Time, accept func(*server.Site) error) (*server.Site, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var siteID, expires string
	var redeemed sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT site_id, expires_at, redeemed_at FROM pairing_codes WHERE code_hash = ?`, codeHash).
		Scan(&siteID, &expires, &redeemed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, server.Errorf(server.ENOTFOUND, "unknown pairing code")
	case err != nil:
		return nil, err
	case redeemed.Valid:
		return nil, server.Errorf(server.ECONFLICT, "pairing code already used (at %s)", redeemed.String)
	case !parseTime(expires).After(at):
		return nil, server.Errorf(server.EFORBIDDEN, "pairing code expired at %s", expires)
	}
	site, err := scanSite(tx.QueryRowContext(ctx, `SELECT `+siteColumns+` FROM sites WHERE id = ?`, siteID))
	if err != nil {
		return nil, notFound(err, "site", siteID)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM integrators WHERE id = ?`, integratorID).Scan(&n); err != nil {
		return nil, err
	} else if n == 0 {
		return nil, server.Errorf(server.ENOTFOUND, "integrator %s not found", integratorID)
	}
	if accept != nil {
		if err := accept(site); err != nil {
			return nil, err
		}
	}
	stamp := at.UTC().Format(time.RFC3339Nano)
	if _, err := tx.ExecContext(ctx, `UPDATE pairing_codes SET redeemed_at = ?, redeemed_by = ? WHERE code_hash = ?`,
		stamp, integratorID, codeHash); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO pairings (integrator_id, site_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		integratorID, siteID, now()); err != nil {
		return nil, err
	}
	return site, tx.Commit()
}

// Pairings implements [server.Store].
func (s *Store) Pairings(ctx context.Context, siteID string) ([]*server.Pairing, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT p.integrator_id, i.name, p.site_id, p.created_at FROM pairings p JOIN integrators i ON i.id = p.integrator_id
		 WHERE p.site_id = ? ORDER BY p.created_at, p.integrator_id`, siteID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*server.Pairing
	for rows.Next() {
		var p server.Pairing
		var created string
		if err := rows.Scan(&p.IntegratorID, &p.IntegratorName, &p.SiteID, &created); err != nil {
			return nil, err
		}
		p.CreatedAt = parseTime(created)
		out = append(out, &p)
	}
	return out, rows.Err()
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
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO integrator_blocks (integrator_id, site_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		integratorID, siteID, now())
	return err
}

// Unblock implements [server.Store].
func (s *Store) Unblock(ctx context.Context, integratorID, siteID string) error {
	return s.updateOne(ctx, "block", `DELETE FROM integrator_blocks WHERE integrator_id = ? AND site_id = ?`, integratorID, siteID)
}

// Blocks implements [server.Store].
func (s *Store) Blocks(ctx context.Context) ([]*server.Block, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT integrator_id, site_id, created_at FROM integrator_blocks ORDER BY created_at, integrator_id, site_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*server.Block
	for rows.Next() {
		var b server.Block
		var created string
		if err := rows.Scan(&b.IntegratorID, &b.SiteID, &created); err != nil {
			return nil, err
		}
		b.CreatedAt = parseTime(created)
		out = append(out, &b)
	}
	return out, rows.Err()
}

// SetQuarantined implements [server.Store].
func (s *Store) SetQuarantined(ctx context.Context, siteID string, on bool) error {
	if on {
		return s.updateOne(ctx, "site "+siteID, `UPDATE sites SET quarantined_at = coalesce(quarantined_at, ?) WHERE id = ?`, now(), siteID)
	}
	return s.updateOne(ctx, "site "+siteID, `UPDATE sites SET quarantined_at = NULL WHERE id = ?`, siteID)
}

// Quarantined implements [server.Store].
func (s *Store) Quarantined(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM sites WHERE quarantined_at IS NOT NULL ORDER BY quarantined_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Access implements [server.Store].
func (s *Store) Access(ctx context.Context, integratorID, siteID string) (server.Access, error) {
	var a server.Access
	err := s.db.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM pairings WHERE integrator_id = ?1 AND site_id = ?2),
		EXISTS (SELECT 1 FROM integrator_blocks WHERE integrator_id = ?1 AND site_id = ?2 AND ?2 <> ''),
		EXISTS (SELECT 1 FROM integrator_blocks WHERE integrator_id = ?1 AND site_id = ''),
		EXISTS (SELECT 1 FROM sites WHERE id = ?2 AND quarantined_at IS NOT NULL),
		EXISTS (SELECT 1 FROM write_grants WHERE integrator_id = ?1 AND site_id = ?2)`,
		integratorID, siteID).Scan(&a.Paired, &a.Blocked, &a.BlockedEverywhere, &a.Quarantined, &a.WritesGranted)
	return a, err
}

// GrantWrites implements [server.Store].
func (s *Store) GrantWrites(ctx context.Context, integratorID, siteID string) error {
	if err := s.bothExist(ctx, integratorID, siteID); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO write_grants (integrator_id, site_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		integratorID, siteID, now())
	return err
}

// RevokeWrites implements [server.Store].
func (s *Store) RevokeWrites(ctx context.Context, integratorID, siteID string) error {
	if err := s.bothExist(ctx, integratorID, siteID); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `DELETE FROM write_grants WHERE integrator_id = ? AND site_id = ?`, integratorID, siteID)
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
