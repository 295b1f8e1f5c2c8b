package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"fhirlink/server"
)

const exportColumns = `id, integrator_id, site_id, state, request, doc, holder, attempt, created_at, updated_at, lease_until, expires_at`

func scanExport(row pgx.Row) (*server.ExportJob, error) {
	var j server.ExportJob
	var lease, exp *time.Time
	if err := row.Scan(&j.ID, &j.IntegratorID, &j.SiteID, &j.State, &j.Request, &j.Doc, &j.Holder, &j.Attempt,
		&j.CreatedAt, &j.UpdatedAt, &lease, &exp); err != nil {
		return nil, err
	}
	j.CreatedAt, j.UpdatedAt, j.LeaseUntil, j.ExpiresAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC(), fromNull(lease), fromNull(exp)
	return &j, nil
}

// CreateExportJob implements [server.Store]. A transaction-level advisory
// lock on the site makes the count and the insert one step, so nodes
// accepting kick-offs at once never exceed maxPerSite.
func (s *Store) CreateExportJob(ctx context.Context, j *server.ExportJob, maxPerSite int) (bool, error) {
	j.CreatedAt = now()
	j.UpdatedAt = j.CreatedAt
	created := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('export:' || $1, 0))`, j.SiteID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM export_jobs WHERE site_id = $1 AND state IN ('queued', 'running')`, j.SiteID).Scan(&n); err != nil {
			return err
		}
		if n >= maxPerSite {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO export_jobs (id, integrator_id, site_id, state, request, doc, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, j.ID, j.IntegratorID, j.SiteID, server.ExportQueued, j.Request, j.Doc, j.CreatedAt, j.UpdatedAt)
		created = err == nil
		return conflict(err, "export job "+j.ID)
	})
	if created {
		j.State = server.ExportQueued
	}
	return created, err
}

// ExportJob implements [server.Store].
func (s *Store) ExportJob(ctx context.Context, id string) (*server.ExportJob, error) {
	j, err := scanExport(s.pool.QueryRow(ctx, `SELECT `+exportColumns+` FROM export_jobs WHERE id = $1`, id))
	return j, notFound(err, "export job", id)
}

// ClaimExportJob implements [server.Store]: FOR UPDATE SKIP LOCKED gives
// each candidate to one claimer; two claims of two queued jobs of one site
// meet at the one-running-per-site index, and the later finds nothing.
func (s *Store) ClaimExportJob(ctx context.Context, holder string, at, leaseUntil time.Time) (*server.ExportJob, error) {
	j, err := scanExport(s.pool.QueryRow(ctx, `UPDATE export_jobs
		SET state = 'running', holder = $1, attempt = attempt + 1, lease_until = $3, updated_at = $2
		WHERE id = (
			SELECT c.id FROM export_jobs c
			WHERE (c.state = 'running' AND c.lease_until < $2)
			   OR (c.state = 'queued' AND NOT EXISTS (SELECT 1 FROM export_jobs r WHERE r.site_id = c.site_id AND r.state = 'running'))
			ORDER BY c.created_at, c.id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING `+exportColumns, holder, at.UTC(), leaseUntil.UTC()))
	if errors.Is(err, pgx.ErrNoRows) || sqlState(err) == uniqueViolation {
		return nil, nil
	}
	return j, err
}

// UpdateExportJob implements [server.Store].
func (s *Store) UpdateExportJob(ctx context.Context, j *server.ExportJob) error {
	updated := now()
	tag, err := s.pool.Exec(ctx, `UPDATE export_jobs SET state = $1, doc = $2, lease_until = $3, expires_at = $4, updated_at = $5
		WHERE id = $6 AND state = 'running' AND holder = $7 AND attempt = $8`,
		j.State, j.Doc, nullTime(j.LeaseUntil), nullTime(j.ExpiresAt), updated, j.ID, j.Holder, j.Attempt)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.ExportJob(ctx, j.ID); err != nil {
			return err
		}
		return server.Errorf(server.ECONFLICT, "export job %s is no longer run by %s", j.ID, j.Holder)
	}
	j.UpdatedAt = updated
	return nil
}

// DeleteExportJob implements [server.Store].
func (s *Store) DeleteExportJob(ctx context.Context, id string) error {
	return s.updateOne(ctx, "export job "+id, `DELETE FROM export_jobs WHERE id = $1`, id)
}

// ExpiredExportJobs implements [server.Store].
func (s *Store) ExpiredExportJobs(ctx context.Context, t time.Time, limit int) ([]*server.ExportJob, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+exportColumns+` FROM export_jobs
		WHERE state IN ('completed', 'failed') AND expires_at < $1 ORDER BY expires_at LIMIT $2`, t.UTC(), limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanExport)
}
