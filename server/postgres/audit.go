package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	_, err := s.pool.Exec(ctx,
		`INSERT INTO quotas (integrator_id, site_id, daily_queries, daily_bytes, updated_at) VALUES ($1, $2, $3, $4, $5)
		 ON CONFLICT (integrator_id, site_id) DO UPDATE SET daily_queries = excluded.daily_queries,
		 daily_bytes = excluded.daily_bytes, updated_at = excluded.updated_at`,
		q.IntegratorID, q.SiteID, q.DailyQueries, q.DailyBytes, now())
	return err
}

// Quotas implements [server.Store].
func (s *Store) Quotas(ctx context.Context, integratorID string) ([]*server.Quota, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT integrator_id, site_id, daily_queries, daily_bytes FROM quotas WHERE integrator_id = $1 ORDER BY site_id`, integratorID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row pgx.Row) (*server.Quota, error) {
		var q server.Quota
		return &q, row.Scan(&q.IntegratorID, &q.SiteID, &q.DailyQueries, &q.DailyBytes)
	})
}

func noLimit(n int64) int64 {
	if n <= 0 {
		return math.MaxInt64
	}
	return n
}

// CountQuery implements [server.Store]: one upsert whose update only
// happens under the limits, so concurrent callers never overshoot (the row
// lock serialises them).
func (s *Store) CountQuery(ctx context.Context, integratorID, siteID, day string, maxQueries, maxBytes int64) (bool, *server.Usage, error) {
	u := &server.Usage{IntegratorID: integratorID, SiteID: siteID, Day: day}
	err := s.pool.QueryRow(ctx,
		`INSERT INTO usage_daily (integrator_id, site_id, day, queries, bytes) VALUES ($1, $2, $3, 1, 0)
		 ON CONFLICT (integrator_id, site_id, day) DO UPDATE SET queries = usage_daily.queries + 1
		 WHERE usage_daily.queries < $4 AND usage_daily.bytes < $5
		 RETURNING queries, bytes`,
		integratorID, siteID, day, noLimit(maxQueries), noLimit(maxBytes)).Scan(&u.Queries, &u.Bytes)
	if err == nil {
		return true, u, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, nil, err
	}
	err = s.pool.QueryRow(ctx,
		`SELECT queries, bytes FROM usage_daily WHERE integrator_id = $1 AND site_id = $2 AND day = $3`,
		integratorID, siteID, day).Scan(&u.Queries, &u.Bytes)
	return false, u, err
}

// AddUsage implements [server.Store].
func (s *Store) AddUsage(ctx context.Context, deltas []server.Usage) error {
	if len(deltas) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var b pgx.Batch
		for _, d := range deltas {
			b.Queue(`INSERT INTO usage_daily (integrator_id, site_id, day, queries, bytes) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (integrator_id, site_id, day) DO UPDATE SET queries = usage_daily.queries + excluded.queries,
				bytes = usage_daily.bytes + excluded.bytes`, d.IntegratorID, d.SiteID, d.Day, d.Queries, d.Bytes)
		}
		return tx.SendBatch(ctx, &b).Close()
	})
}

// Usage implements [server.Store].
func (s *Store) Usage(ctx context.Context, integratorID, siteID, from, to string) ([]*server.Usage, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT integrator_id, site_id, day, queries, bytes FROM usage_daily
		 WHERE integrator_id = $1 AND ($2 = '' OR site_id = $2) AND day >= $3 AND day <= $4
		 ORDER BY day, site_id`, integratorID, siteID, from, to)
	if err != nil {
		return nil, err
	}
	out, err := collect(rows, func(row pgx.Row) (*server.Usage, error) {
		var u server.Usage
		return &u, row.Scan(&u.IntegratorID, &u.SiteID, &u.Day, &u.Queries, &u.Bytes)
	})
	if out == nil && err == nil {
		out = []*server.Usage{}
	}
	return out, err
}

// AppendAudit implements [server.Store].
func (s *Store) AppendAudit(ctx context.Context, recs []*server.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var b pgx.Batch
		for _, r := range recs {
			b.Queue(`INSERT INTO audit_log (at, integrator_id, site_id, method, path, kind, interaction, resource_type,
				query, query_id, row_count, byte_count, status, duration_us, client_addr, targets, outcome, request_id)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`,
				r.Time.UTC(), r.IntegratorID, r.SiteID, r.Method, r.Path, r.Kind, r.Interaction, r.ResourceType,
				r.Query, r.QueryID, r.Rows, r.Bytes, r.Status, r.DurationUS, r.ClientAddr, r.Targets, r.Outcome, r.RequestID).
				QueryRow(func(row pgx.Row) error { return row.Scan(&r.ID) })
		}
		return tx.SendBatch(ctx, &b).Close()
	})
}

// Audit implements [server.Store].
func (s *Store) Audit(ctx context.Context, f server.AuditFilter) ([]*server.AuditRecord, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.SiteID != "" {
		add("site_id = $%d", f.SiteID)
	}
	if f.IntegratorID != "" {
		add("integrator_id = $%d", f.IntegratorID)
	}
	if !f.From.IsZero() {
		add("at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("at < $%d", f.To)
	}
	if f.Before.ID != 0 {
		args = append(args, f.Before.Time.UTC(), f.Before.ID)
		where = append(where, fmt.Sprintf("(at, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	q := `SELECT id, at, integrator_id, site_id, method, path, kind, interaction, resource_type,
		query, query_id, row_count, byte_count, status, duration_us, client_addr, targets, outcome, request_id FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.EffectiveLimit())
	order := "at, id"
	if f.Newest {
		order = "at DESC, id DESC"
	}
	q += fmt.Sprintf(" ORDER BY %s LIMIT $%d", order, len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out, err := collect(rows, func(row pgx.Row) (*server.AuditRecord, error) {
		var r server.AuditRecord
		err := row.Scan(&r.ID, &r.Time, &r.IntegratorID, &r.SiteID, &r.Method, &r.Path, &r.Kind, &r.Interaction,
			&r.ResourceType, &r.Query, &r.QueryID, &r.Rows, &r.Bytes, &r.Status, &r.DurationUS, &r.ClientAddr,
			&r.Targets, &r.Outcome, &r.RequestID)
		r.Time = r.Time.UTC()
		return &r, err
	})
	if out == nil && err == nil {
		out = []*server.AuditRecord{}
	}
	return out, err
}

// PruneAudit implements [server.Store].
func (s *Store) PruneAudit(ctx context.Context, before time.Time, limit int) (int64, error) {
	if err := server.CheckPruneBefore(before); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx,
		`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY at, id LIMIT $2)`,
		before, limit)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
