package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"fhirlink/server"
)

const exportColumns = `id, integrator_id, site_id, state, request, doc, holder, attempt, created_us, updated_us, lease_us, expires_us`

func scanExport(row interface{ Scan(...any) error }) (*server.ExportJob, error) {
	var j server.ExportJob
	var c, u, l, e int64
	if err := row.Scan(&j.ID, &j.IntegratorID, &j.SiteID, &j.State, &j.Request, &j.Doc, &j.Holder, &j.Attempt, &c, &u, &l, &e); err != nil {
		return nil, err
	}
	j.CreatedAt, j.UpdatedAt, j.LeaseUntil, j.ExpiresAt = fromUS(c), fromUS(u), fromUS(l), fromUS(e)
	return &j, nil
}

// CreateExportJob implements [server.Store]; the transaction takes the
// write lock at its start, so the count and the insert are one step.
func (s *Store) CreateExportJob(ctx context.Context, j *server.ExportJob, maxPerSite int) (bool, error) {
	j.CreatedAt = nowUS()
	j.UpdatedAt = j.CreatedAt
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM export_jobs WHERE site_id = ? AND state IN ('queued', 'running')`, j.SiteID).Scan(&n); err != nil {
		return false, err
	}
	if n >= maxPerSite {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO export_jobs (id, integrator_id, site_id, state, request, doc, created_us, updated_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, j.ID, j.IntegratorID, j.SiteID, server.ExportQueued, j.Request, j.Doc, us(j.CreatedAt), us(j.UpdatedAt)); err != nil {
		return false, conflict(err, "export job "+j.ID)
	}
	j.State = server.ExportQueued
	return true, tx.Commit()
}

// ExportJob implements [server.Store].
func (s *Store) ExportJob(ctx context.Context, id string) (*server.ExportJob, error) {
	j, err := scanExport(s.db.QueryRowContext(ctx, `SELECT `+exportColumns+` FROM export_jobs WHERE id = ?`, id))
	return j, notFound(err, "export job", id)
}

// ClaimExportJob implements [server.Store]: one statement under SQLite's
// single writer.
func (s *Store) ClaimExportJob(ctx context.Context, holder string, at, leaseUntil time.Time) (*server.ExportJob, error) {
	j, err := scanExport(s.db.QueryRowContext(ctx, `UPDATE export_jobs
		SET state = 'running', holder = ?, attempt = attempt + 1, lease_us = ?, updated_us = ?
		WHERE id = (
			SELECT c.id FROM export_jobs c
			WHERE (c.state = 'running' AND c.lease_us < ?)
			   OR (c.state = 'queued' AND NOT EXISTS (SELECT 1 FROM export_jobs r WHERE r.site_id = c.site_id AND r.state = 'running'))
			ORDER BY c.created_us, c.id LIMIT 1)
		RETURNING `+exportColumns, holder, us(leaseUntil), us(at), us(at)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return j, err
}

// UpdateExportJob implements [server.Store].
func (s *Store) UpdateExportJob(ctx context.Context, j *server.ExportJob) error {
	updated := nowUS()
	res, err := s.db.ExecContext(ctx, `UPDATE export_jobs SET state = ?, doc = ?, lease_us = ?, expires_us = ?, updated_us = ?
		WHERE id = ? AND state = 'running' AND holder = ? AND attempt = ?`,
		j.State, j.Doc, us(j.LeaseUntil), us(j.ExpiresAt), us(updated), j.ID, j.Holder, j.Attempt)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
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
	return s.updateOne(ctx, "export job "+id, `DELETE FROM export_jobs WHERE id = ?`, id)
}

// ExpiredExportJobs implements [server.Store].
func (s *Store) ExpiredExportJobs(ctx context.Context, t time.Time, limit int) ([]*server.ExportJob, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+exportColumns+` FROM export_jobs
		WHERE state IN ('completed', 'failed') AND expires_us < ? ORDER BY expires_us LIMIT ?`, us(t), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*server.ExportJob
	for rows.Next() {
		j, err := scanExport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}
