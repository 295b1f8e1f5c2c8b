package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strings"
	"time"

	"fhirlink/server"
)

// SetQuota implements [server.Store].
func (s *Store) SetQuota(ctx context.Context, q *server.Quota) error {
	if _, err := s.Integrator(ctx, q.IntegratorID); err != nil {
		return err
	}
	if q.SiteID != "" {
		if _, err := s.Site(ctx, q.SiteID); err != nil {
			return err
		}
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO quotas (integrator_id, site_id, daily_queries, daily_bytes, updated_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (integrator_id, site_id) DO UPDATE SET daily_queries = excluded.daily_queries,
		 daily_bytes = excluded.daily_bytes, updated_at = excluded.updated_at`,
		q.IntegratorID, q.SiteID, q.DailyQueries, q.DailyBytes, now())
	return err
}

// Quotas implements [server.Store].
func (s *Store) Quotas(ctx context.Context, integratorID string) ([]*server.Quota, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT integrator_id, site_id, daily_queries, daily_bytes FROM quotas WHERE integrator_id = ? ORDER BY site_id`, integratorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*server.Quota
	for rows.Next() {
		var q server.Quota
		if err := rows.Scan(&q.IntegratorID, &q.SiteID, &q.DailyQueries, &q.DailyBytes); err != nil {
			return nil, err
		}
		out = append(out, &q)
	}
	return out, rows.Err()
}

// noLimit turns "zero or less" into a maximum no counter reaches.
func noLimit(n int64) int64 {
	if n <= 0 {
		return math.MaxInt64
	}
	return n
}

// CountQuery implements [server.Store]: one upsert whose update only
// happens under the limits, so concurrent callers never overshoot.
func (s *Store) CountQuery(ctx context.Context, integratorID, siteID, day string, maxQueries, maxBytes int64) (bool, *server.Usage, error) {
	u := &server.Usage{IntegratorID: integratorID, SiteID: siteID, Day: day}
	err := s.db.QueryRowContext(ctx,
		`INSERT INTO usage_daily (integrator_id, site_id, day, queries, bytes) VALUES (?, ?, ?, 1, 0)
		 ON CONFLICT (integrator_id, site_id, day) DO UPDATE SET queries = usage_daily.queries + 1
		 WHERE usage_daily.queries < ? AND usage_daily.bytes < ?
		 RETURNING queries, bytes`,
		integratorID, siteID, day, noLimit(maxQueries), noLimit(maxBytes)).Scan(&u.Queries, &u.Bytes)
	if err == nil {
		return true, u, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, nil, err
	}
	err = s.db.QueryRowContext(ctx,
		`SELECT queries, bytes FROM usage_daily WHERE integrator_id = ? AND site_id = ? AND day = ?`,
		integratorID, siteID, day).Scan(&u.Queries, &u.Bytes)
	return false, u, err
}

// AddUsage implements [server.Store].
func (s *Store) AddUsage(ctx context.Context, deltas []server.Usage) error {
	if len(deltas) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, d := range deltas {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO usage_daily (integrator_id, site_id, day, queries, bytes) VALUES (?, ?, ?, ?, ?)
			 ON CONFLICT (integrator_id, site_id, day) DO UPDATE SET queries = usage_daily.queries + excluded.queries,
			 bytes = usage_daily.bytes + excluded.bytes`,
			d.IntegratorID, d.SiteID, d.Day, d.Queries, d.Bytes); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Usage implements [server.Store].
func (s *Store) Usage(ctx context.Context, integratorID, siteID, from, to string) ([]*server.Usage, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT integrator_id, site_id, day, queries, bytes FROM usage_daily
		 WHERE integrator_id = ? AND (? = '' OR site_id = ?) AND day >= ? AND day <= ?
		 ORDER BY day, site_id`, integratorID, siteID, siteID, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*server.Usage{}
	for rows.Next() {
		var u server.Usage
		if err := rows.Scan(&u.IntegratorID, &u.SiteID, &u.Day, &u.Queries, &u.Bytes); err != nil {
			return nil, err
		}
		out = append(out, &u)
	}
	return out, rows.Err()
}

const auditColumns = `id, at_us, integrator_id, site_id, method, path, kind, interaction, resource_type,
	query, query_id, row_count, byte_count, status, duration_us, client_addr, targets, outcome, request_id`

// AppendAudit implements [server.Store].
func (s *Store) AppendAudit(ctx context.Context, recs []*server.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_log (at_us, integrator_id, site_id, method, path, kind,
		interaction, resource_type, query, query_id, row_count, byte_count, status, duration_us, client_addr, targets, outcome, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range recs {
		res, err := stmt.ExecContext(ctx, r.Time.UnixMicro(), r.IntegratorID, r.SiteID, r.Method, r.Path, r.Kind,
			r.Interaction, r.ResourceType, r.Query, r.QueryID, r.Rows, r.Bytes, r.Status, r.DurationUS, r.ClientAddr,
			r.Targets, r.Outcome, r.RequestID)
		if err != nil {
			return err
		}
		if r.ID, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Audit implements [server.Store].
func (s *Store) Audit(ctx context.Context, f server.AuditFilter) ([]*server.AuditRecord, error) {
	var where []string
	var args []any
	if f.SiteID != "" {
		where, args = append(where, "site_id = ?"), append(args, f.SiteID)
	}
	if f.IntegratorID != "" {
		where, args = append(where, "integrator_id = ?"), append(args, f.IntegratorID)
	}
	if !f.From.IsZero() {
		where, args = append(where, "at_us >= ?"), append(args, f.From.UnixMicro())
	}
	if !f.To.IsZero() {
		where, args = append(where, "at_us < ?"), append(args, f.To.UnixMicro())
	}
	if f.Before.ID != 0 {
		where, args = append(where, "(at_us, id) < (?, ?)"), append(args, f.Before.Time.UnixMicro(), f.Before.ID)
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Newest {
		q += " ORDER BY at_us DESC, id DESC LIMIT ?"
	} else {
		q += " ORDER BY at_us, id LIMIT ?"
	}
	rows, err := s.db.QueryContext(ctx, q, append(args, f.EffectiveLimit())...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*server.AuditRecord{}
	for rows.Next() {
		var r server.AuditRecord
		var at int64
		if err := rows.Scan(&r.ID, &at, &r.IntegratorID, &r.SiteID, &r.Method, &r.Path, &r.Kind, &r.Interaction,
			&r.ResourceType, &r.Query, &r.QueryID, &r.Rows, &r.Bytes, &r.Status, &r.DurationUS, &r.ClientAddr,
			&r.Targets, &r.Outcome, &r.RequestID); err != nil {
			return nil, err
		}
		r.Time = time.UnixMicro(at).UTC()
		out = append(out, &r)
	}
	return out, rows.Err()
}

// PruneAudit implements [server.Store].
func (s *Store) PruneAudit(ctx context.Context, before time.Time, limit int) (int64, error) {
	if err := server.CheckPruneBefore(before); err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx,
		`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at_us < ? ORDER BY at_us, id LIMIT ?)`,
		before.UnixMicro(), limit)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
