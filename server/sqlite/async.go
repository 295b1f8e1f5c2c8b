package sqlite

import (
	"context"
	"strings"
	"time"

	"fhirlink/server"
)

// us is t in microseconds since 1970, 0 for the zero time.
func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromUS is the inverse of us.
func fromUS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func nowUS() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// CreateAsyncQuery implements [server.Store].
func (s *Store) CreateAsyncQuery(ctx context.Context, q *server.AsyncQuery) error {
	if q.CreatedAt.IsZero() {
		q.CreatedAt = nowUS()
	}
	if q.UpdatedAt.IsZero() {
		q.UpdatedAt = q.CreatedAt
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO async_queries (id, integrator_id, site_id, status, request, doc, created_us, updated_us, expires_us, purged)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		q.ID, q.IntegratorID, q.SiteID, q.Status, q.Request, q.Doc, us(q.CreatedAt), us(q.UpdatedAt), us(q.ExpiresAt), q.Purged)
	return conflict(err, "async query "+q.ID)
}

const asyncColumns = `id, integrator_id, site_id, status, request, doc, created_us, updated_us, expires_us, purged`

func scanAsync(row interface{ Scan(...any) error }) (*server.AsyncQuery, error) {
	var q server.AsyncQuery
	var c, u, e int64
	if err := row.Scan(&q.ID, &q.IntegratorID, &q.SiteID, &q.Status, &q.Request, &q.Doc, &c, &u, &e, &q.Purged); err != nil {
		return nil, err
	}
	q.CreatedAt, q.UpdatedAt, q.ExpiresAt = fromUS(c), fromUS(u), fromUS(e)
	return &q, nil
}

// AsyncQuery implements [server.Store].
func (s *Store) AsyncQuery(ctx context.Context, id string) (*server.AsyncQuery, error) {
	q, err := scanAsync(s.db.QueryRowContext(ctx, `SELECT `+asyncColumns+` FROM async_queries WHERE id = ?`, id))
	return q, notFound(err, "async query", id)
}

// UpdateAsyncQuery implements [server.Store].
func (s *Store) UpdateAsyncQuery(ctx context.Context, q *server.AsyncQuery, from ...string) error {
	updated := nowUS()
	query := `UPDATE async_queries SET status = ?, doc = ?, expires_us = ?, purged = ?, updated_us = ? WHERE id = ?`
	args := []any{q.Status, q.Doc, us(q.ExpiresAt), q.Purged, us(updated), q.ID}
	if len(from) > 0 {
		query += ` AND status IN (?` + strings.Repeat(", ?", len(from)-1) + `)`
		for _, f := range from {
			args = append(args, f)
		}
	}
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		cur, err := s.AsyncQuery(ctx, q.ID)
		if err != nil {
			return err
		}
		return server.Errorf(server.ECONFLICT, "async query %s is %s", q.ID, cur.Status)
	}
	q.UpdatedAt = updated
	return nil
}

// AsyncQueries implements [server.Store].
func (s *Store) AsyncQueries(ctx context.Context, f server.AsyncFilter) ([]*server.AsyncQuery, error) {
	var where []string
	var args []any
	if len(f.Statuses) > 0 {
		where = append(where, `status IN (?`+strings.Repeat(", ?", len(f.Statuses)-1)+`)`)
		for _, st := range f.Statuses {
			args = append(args, st)
		}
	}
	if !f.UpdatedBefore.IsZero() {
		where = append(where, `updated_us < ?`)
		args = append(args, us(f.UpdatedBefore))
	}
	if !f.ExpiredBefore.IsZero() {
		where = append(where, `expires_us > 0 AND expires_us < ? AND purged = 0`)
		args = append(args, us(f.ExpiredBefore))
	}
	query := `SELECT ` + asyncColumns + ` FROM async_queries`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY created_us, id LIMIT ?`
	args = append(args, server.AsyncLimit(f.Limit))
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*server.AsyncQuery
	for rows.Next() {
		q, err := scanAsync(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// DeleteAsyncQueries implements [server.Store].
func (s *Store) DeleteAsyncQueries(ctx context.Context, expiredBefore time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM async_queries WHERE expires_us > 0 AND expires_us < ?`, us(expiredBefore))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// SetWebhook implements [server.Store].
func (s *Store) SetWebhook(ctx context.Context, w *server.Webhook) error {
	if _, err := s.Integrator(ctx, w.IntegratorID); err != nil {
		return err
	}
	w.CreatedAt = nowUS()
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO webhooks (integrator_id, url, secret, created_us) VALUES (?, ?, ?, ?)
		 ON CONFLICT (integrator_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, created_us = excluded.created_us`,
		w.IntegratorID, w.URL, w.Secret, us(w.CreatedAt))
	return err
}

// Webhook implements [server.Store].
func (s *Store) Webhook(ctx context.Context, integratorID string) (*server.Webhook, error) {
	w := server.Webhook{IntegratorID: integratorID}
	var c int64
	err := s.db.QueryRowContext(ctx, `SELECT url, secret, created_us FROM webhooks WHERE integrator_id = ?`, integratorID).
		Scan(&w.URL, &w.Secret, &c)
	if err != nil {
		return nil, notFound(err, "webhook of integrator", integratorID)
	}
	w.CreatedAt = fromUS(c)
	return &w, nil
}

// DeleteWebhook implements [server.Store].
func (s *Store) DeleteWebhook(ctx context.Context, integratorID string) error {
	return s.updateOne(ctx, "webhook of integrator "+integratorID, `DELETE FROM webhooks WHERE integrator_id = ?`, integratorID)
}

// CreateWebhookDelivery implements [server.Store].
func (s *Store) CreateWebhookDelivery(ctx context.Context, d *server.WebhookDelivery) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = nowUS()
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = d.CreatedAt
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO webhook_deliveries (id, integrator_id, site_id, query_id, source, url, body, status, attempts,
		 next_attempt_us, last_status_code, last_error, created_us, updated_us, delivered_us)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.IntegratorID, d.SiteID, d.QueryID, d.Source, d.URL, d.Body, d.Status, d.Attempts,
		us(d.NextAttemptAt), d.LastStatusCode, d.LastError, us(d.CreatedAt), us(d.UpdatedAt), us(d.DeliveredAt))
	return conflict(err, "webhook delivery "+d.ID)
}

const deliveryColumns = `id, integrator_id, site_id, query_id, source, url, body, status, attempts,
	next_attempt_us, last_status_code, last_error, created_us, updated_us, delivered_us`

func scanDelivery(row interface{ Scan(...any) error }) (*server.WebhookDelivery, error) {
	var d server.WebhookDelivery
	var next, c, u, del int64
	if err := row.Scan(&d.ID, &d.IntegratorID, &d.SiteID, &d.QueryID, &d.Source, &d.URL, &d.Body, &d.Status, &d.Attempts,
		&next, &d.LastStatusCode, &d.LastError, &c, &u, &del); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt, d.DeliveredAt = fromUS(next), fromUS(c), fromUS(u), fromUS(del)
	return &d, nil
}

func (s *Store) deliveries(ctx context.Context, query string, args ...any) ([]*server.WebhookDelivery, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*server.WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DueWebhookDeliveries implements [server.Store].
func (s *Store) DueWebhookDeliveries(ctx context.Context, now time.Time, limit int) ([]*server.WebhookDelivery, error) {
	return s.deliveries(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE status = ? AND next_attempt_us <= ? ORDER BY next_attempt_us, id LIMIT ?`,
		server.DeliveryPending, us(now), server.AsyncLimit(limit))
}

// UpdateWebhookDelivery implements [server.Store].
func (s *Store) UpdateWebhookDelivery(ctx context.Context, d *server.WebhookDelivery, fromAttempts int) error {
	updated := nowUS()
	res, err := s.db.ExecContext(ctx,
		`UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_us = ?, last_status_code = ?, last_error = ?,
		 delivered_us = ?, updated_us = ? WHERE id = ? AND attempts = ?`,
		d.Status, d.Attempts, us(d.NextAttemptAt), d.LastStatusCode, d.LastError, us(d.DeliveredAt), us(updated), d.ID, fromAttempts)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var x int
		if err := s.db.QueryRowContext(ctx, `SELECT attempts FROM webhook_deliveries WHERE id = ?`, d.ID).Scan(&x); err != nil {
			return notFound(err, "webhook delivery", d.ID)
		}
		return server.Errorf(server.ECONFLICT, "webhook delivery %s: attempt %d already claimed", d.ID, x)
	}
	d.UpdatedAt = updated
	return nil
}

// WebhookDeliveries implements [server.Store].
func (s *Store) WebhookDeliveries(ctx context.Context, integratorID string, limit int) ([]*server.WebhookDelivery, error) {
	return s.deliveries(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE integrator_id = ? ORDER BY created_us DESC, id DESC LIMIT ?`, integratorID, server.AsyncLimit(limit))
}

// CreateRegisteredQuery implements [server.Store].
func (s *Store) CreateRegisteredQuery(ctx context.Context, q *server.RegisteredQuery) error {
	if q.CreatedAt.IsZero() {
		q.CreatedAt = nowUS()
	}
	if q.UpdatedAt.IsZero() {
		q.UpdatedAt = q.CreatedAt
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO registered_queries (id, integrator_id, site_id, status, request, doc, next_run_us, created_us, updated_us)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		q.ID, q.IntegratorID, q.SiteID, q.Status, q.Request, q.Doc, us(q.NextRunAt), us(q.CreatedAt), us(q.UpdatedAt))
	return conflict(err, "registered query "+q.ID)
}

const registeredColumns = `id, integrator_id, site_id, status, request, doc, next_run_us, created_us, updated_us`

func scanRegistered(row interface{ Scan(...any) error }) (*server.RegisteredQuery, error) {
	var q server.RegisteredQuery
	var n, c, u int64
	if err := row.Scan(&q.ID, &q.IntegratorID, &q.SiteID, &q.Status, &q.Request, &q.Doc, &n, &c, &u); err != nil {
		return nil, err
	}
	q.NextRunAt, q.CreatedAt, q.UpdatedAt = fromUS(n), fromUS(c), fromUS(u)
	return &q, nil
}

func (s *Store) registered(ctx context.Context, query string, args ...any) ([]*server.RegisteredQuery, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*server.RegisteredQuery
	for rows.Next() {
		q, err := scanRegistered(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// RegisteredQuery implements [server.Store].
func (s *Store) RegisteredQuery(ctx context.Context, id string) (*server.RegisteredQuery, error) {
	q, err := scanRegistered(s.db.QueryRowContext(ctx, `SELECT `+registeredColumns+` FROM registered_queries WHERE id = ?`, id))
	return q, notFound(err, "registered query", id)
}

// RegisteredQueries implements [server.Store].
func (s *Store) RegisteredQueries(ctx context.Context, integratorID, siteID string) ([]*server.RegisteredQuery, error) {
	return s.registered(ctx, `SELECT `+registeredColumns+` FROM registered_queries
		WHERE integrator_id = ? AND site_id = ? ORDER BY created_us, id`, integratorID, siteID)
}

// DueRegisteredQueries implements [server.Store].
func (s *Store) DueRegisteredQueries(ctx context.Context, status string, now time.Time, limit int) ([]*server.RegisteredQuery, error) {
	return s.registered(ctx, `SELECT `+registeredColumns+` FROM registered_queries
		WHERE status = ? AND next_run_us <= ? ORDER BY next_run_us, id LIMIT ?`, status, us(now), server.AsyncLimit(limit))
}

// UpdateRegisteredQuery implements [server.Store].
func (s *Store) UpdateRegisteredQuery(ctx context.Context, q *server.RegisteredQuery, fromNextRun time.Time) error {
	updated := nowUS()
	res, err := s.db.ExecContext(ctx,
		`UPDATE registered_queries SET status = ?, doc = ?, next_run_us = ?, updated_us = ? WHERE id = ? AND next_run_us = ?`,
		q.Status, q.Doc, us(q.NextRunAt), us(updated), q.ID, us(fromNextRun))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.RegisteredQuery(ctx, q.ID); err != nil {
			return err
		}
		return server.Errorf(server.ECONFLICT, "registered query %s changed meanwhile", q.ID)
	}
	q.UpdatedAt = updated
	return nil
}
