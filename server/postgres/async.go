package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"fhirlink/server"
)

// nullTime is t for a nullable column: NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	return &t
}

func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// CreateAsyncQuery implements [server.Store].
func (s *Store) CreateAsyncQuery(ctx context.Context, q *server.AsyncQuery) error {
	if q.CreatedAt.IsZero() {
		q.CreatedAt = now()
	}
	if q.UpdatedAt.IsZero() {
		q.UpdatedAt = q.CreatedAt
	}
	q.CreatedAt, q.UpdatedAt = q.CreatedAt.UTC().Truncate(time.Microsecond), q.UpdatedAt.UTC().Truncate(time.Microsecond)
	_, err := s.pool.Exec(ctx,
		`INSERT INTO async_queries (id, integrator_id, site_id, status, request, doc, created_at, updated_at, expires_at, purged)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		q.ID, q.IntegratorID, q.SiteID, q.Status, q.Request, q.Doc, q.CreatedAt, q.UpdatedAt, nullTime(q.ExpiresAt), q.Purged)
	return conflict(err, "async query "+q.ID)
}

const asyncColumns = `id, integrator_id, site_id, status, request, doc, created_at, updated_at, expires_at, purged`

func scanAsync(row pgx.Row) (*server.AsyncQuery, error) {
	var q server.AsyncQuery
	var exp *time.Time
	if err := row.Scan(&q.ID, &q.IntegratorID, &q.SiteID, &q.Status, &q.Request, &q.Doc, &q.CreatedAt, &q.UpdatedAt, &exp, &q.Purged); err != nil {
		return nil, err
	}
	q.CreatedAt, q.UpdatedAt, q.ExpiresAt = q.CreatedAt.UTC(), q.UpdatedAt.UTC(), fromNull(exp)
	return &q, nil
}

// AsyncQuery implements [server.Store].
func (s *Store) AsyncQuery(ctx context.Context, id string) (*server.AsyncQuery, error) {
	q, err := scanAsync(s.pool.QueryRow(ctx, `SELECT `+asyncColumns+` FROM async_queries WHERE id = $1`, id))
	return q, notFound(err, "async query", id)
}

// UpdateAsyncQuery implements [server.Store].
func (s *Store) UpdateAsyncQuery(ctx context.Context, q *server.AsyncQuery, from ...string) error {
	updated := now()
	if from == nil {
		from = []string{}
	}
	tag, err := s.pool.Exec(ctx,
		`UPDATE async_queries SET status = $1, doc = $2, expires_at = $3, purged = $4, updated_at = $5
		 WHERE id = $6 AND (cardinality($7::text[]) = 0 OR status = ANY($7))`,
		q.Status, q.Doc, nullTime(q.ExpiresAt), q.Purged, updated, q.ID, from)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
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
	statuses := f.Statuses
	if statuses == nil {
		statuses = []string{}
	}
	rows, err := s.pool.Query(ctx, `SELECT `+asyncColumns+` FROM async_queries
		WHERE (cardinality($1::text[]) = 0 OR status = ANY($1))
		  AND ($2::timestamptz IS NULL OR updated_at < $2)
		  AND ($3::timestamptz IS NULL OR (expires_at < $3 AND NOT purged))
		ORDER BY created_at, id LIMIT $4`,
		statuses, nullTime(f.UpdatedBefore), nullTime(f.ExpiredBefore), server.AsyncLimit(f.Limit))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanAsync)
}

// DeleteAsyncQueries implements [server.Store].
func (s *Store) DeleteAsyncQueries(ctx context.Context, expiredBefore time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM async_queries WHERE expires_at < $1`, expiredBefore.UTC())
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// SetWebhook implements [server.Store].
func (s *Store) SetWebhook(ctx context.Context, w *server.Webhook) error {
	w.CreatedAt = now()
	_, err := s.pool.Exec(ctx,
		`INSERT INTO webhooks (integrator_id, url, secret, created_at) VALUES ($1, $2, $3, $4)
		 ON CONFLICT (integrator_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, created_at = excluded.created_at`,
		w.IntegratorID, w.URL, w.Secret, w.CreatedAt)
	if sqlState(err) == foreignKeyViolation {
		return server.Errorf(server.ENOTFOUND, "integrator %s not found", w.IntegratorID)
	}
	return err
}

// Webhook implements [server.Store].
func (s *Store) Webhook(ctx context.Context, integratorID string) (*server.Webhook, error) {
	w := server.Webhook{IntegratorID: integratorID}
	err := s.pool.QueryRow(ctx, `SELECT url, secret, created_at FROM webhooks WHERE integrator_id = $1`, integratorID).
		Scan(&w.URL, &w.Secret, &w.CreatedAt)
	if err != nil {
		return nil, notFound(err, "webhook of integrator", integratorID)
	}
	w.CreatedAt = w.CreatedAt.UTC()
	return &w, nil
}

// DeleteWebhook implements [server.Store].
func (s *Store) DeleteWebhook(ctx context.Context, integratorID string) error {
	return s.updateOne(ctx, "webhook of integrator "+integratorID, `DELETE FROM webhooks WHERE integrator_id = $1`, integratorID)
}

// CreateWebhookDelivery implements [server.Store].
func (s *Store) CreateWebhookDelivery(ctx context.Context, d *server.WebhookDelivery) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now()
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = d.CreatedAt
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC().Truncate(time.Microsecond), d.UpdatedAt.UTC().Truncate(time.Microsecond)
	d.NextAttemptAt = d.NextAttemptAt.UTC().Truncate(time.Microsecond)
	_, err := s.pool.Exec(ctx,
		`INSERT INTO webhook_deliveries (id, integrator_id, site_id, query_id, source, url, body, status, attempts,
		 next_attempt_at, last_status_code, last_error, created_at, updated_at, delivered_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		d.ID, d.IntegratorID, d.SiteID, d.QueryID, d.Source, d.URL, d.Body, d.Status, d.Attempts,
		d.NextAttemptAt, d.LastStatusCode, d.LastError, d.CreatedAt, d.UpdatedAt, nullTime(d.DeliveredAt))
	return conflict(err, "webhook delivery "+d.ID)
}

const deliveryColumns = `id, integrator_id, site_id, query_id, source, url, body, status, attempts,
	next_attempt_at, last_status_code, last_error, created_at, updated_at, delivered_at`

func scanDelivery(row pgx.Row) (*server.WebhookDelivery, error) {
	var d server.WebhookDelivery
	var del *time.Time
	if err := row.Scan(&d.ID, &d.IntegratorID, &d.SiteID, &d.QueryID, &d.Source, &d.URL, &d.Body, &d.Status, &d.Attempts,
		&d.NextAttemptAt, &d.LastStatusCode, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &del); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt, d.DeliveredAt = d.NextAttemptAt.UTC(), d.CreatedAt.UTC(), d.UpdatedAt.UTC(), fromNull(del)
	return &d, nil
}

// DueWebhookDeliveries implements [server.Store].
func (s *Store) DueWebhookDeliveries(ctx context.Context, at time.Time, limit int) ([]*server.WebhookDelivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE status = $1 AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3`,
		server.DeliveryPending, at.UTC(), server.AsyncLimit(limit))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanDelivery)
}

// UpdateWebhookDelivery implements [server.Store].
func (s *Store) UpdateWebhookDelivery(ctx context.Context, d *server.WebhookDelivery, fromAttempts int) error {
	updated := now()
	tag, err := s.pool.Exec(ctx,
		`UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, last_status_code = $4, last_error = $5,
		 delivered_at = $6, updated_at = $7 WHERE id = $8 AND attempts = $9`,
		d.Status, d.Attempts, d.NextAttemptAt.UTC(), d.LastStatusCode, d.LastError, nullTime(d.DeliveredAt), updated, d.ID, fromAttempts)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		var x int
		if err := s.pool.QueryRow(ctx, `SELECT attempts FROM webhook_deliveries WHERE id = $1`, d.ID).Scan(&x); err != nil {
			return notFound(err, "webhook delivery", d.ID)
		}
		return server.Errorf(server.ECONFLICT, "webhook delivery %s: attempt %d already claimed", d.ID, x)
	}
	d.UpdatedAt = updated
	return nil
}

// WebhookDeliveries implements [server.Store].
func (s *Store) WebhookDeliveries(ctx context.Context, integratorID string, limit int) ([]*server.WebhookDelivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE integrator_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, integratorID, server.AsyncLimit(limit))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanDelivery)
}

// CreateRegisteredQuery implements [server.Store].
func (s *Store) CreateRegisteredQuery(ctx context.Context, q *server.RegisteredQuery) error {
	if q.CreatedAt.IsZero() {
		q.CreatedAt = now()
	}
	if q.UpdatedAt.IsZero() {
		q.UpdatedAt = q.CreatedAt
	}
	q.CreatedAt, q.UpdatedAt = q.CreatedAt.UTC().Truncate(time.Microsecond), q.UpdatedAt.UTC().Truncate(time.Microsecond)
	q.NextRunAt = q.NextRunAt.UTC().Truncate(time.Microsecond)
	_, err := s.pool.Exec(ctx,
		`INSERT INTO registered_queries (id, integrator_id, site_id, status, request, doc, next_run_at, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		q.ID, q.IntegratorID, q.SiteID, q.Status, q.Request, q.Doc, q.NextRunAt, q.CreatedAt, q.UpdatedAt)
	return conflict(err, "registered query "+q.ID)
}

const registeredColumns = `id, integrator_id, site_id, status, request, doc, next_run_at, created_at, updated_at`

func scanRegistered(row pgx.Row) (*server.RegisteredQuery, error) {
	var q server.RegisteredQuery
	if err := row.Scan(&q.ID, &q.IntegratorID, &q.SiteID, &q.Status, &q.Request, &q.Doc, &q.NextRunAt, &q.CreatedAt, &q.UpdatedAt); err != nil {
		return nil, err
	}
	q.NextRunAt, q.CreatedAt, q.UpdatedAt = q.NextRunAt.UTC(), q.CreatedAt.UTC(), q.UpdatedAt.UTC()
	return &q, nil
}

// RegisteredQuery implements [server.Store].
func (s *Store) RegisteredQuery(ctx context.Context, id string) (*server.RegisteredQuery, error) {
	q, err := scanRegistered(s.pool.QueryRow(ctx, `SELECT `+registeredColumns+` FROM registered_queries WHERE id = $1`, id))
	return q, notFound(err, "registered query", id)
}

// RegisteredQueries implements [server.Store].
func (s *Store) RegisteredQueries(ctx context.Context, integratorID, siteID string) ([]*server.RegisteredQuery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+registeredColumns+` FROM registered_queries
		WHERE integrator_id = $1 AND site_id = $2 ORDER BY created_at, id`, integratorID, siteID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanRegistered)
}

// DueRegisteredQueries implements [server.Store].
func (s *Store) DueRegisteredQueries(ctx context.Context, status string, at time.Time, limit int) ([]*server.RegisteredQuery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+registeredColumns+` FROM registered_queries
		WHERE status = $1 AND next_run_at <= $2 ORDER BY next_run_at, id LIMIT $3`, status, at.UTC(), server.AsyncLimit(limit))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanRegistered)
}

// UpdateRegisteredQuery implements [server.Store].
func (s *Store) UpdateRegisteredQuery(ctx context.Context, q *server.RegisteredQuery, fromNextRun time.Time) error {
	updated := now()
	q.NextRunAt = q.NextRunAt.UTC().Truncate(time.Microsecond)
	tag, err := s.pool.Exec(ctx,
		`UPDATE registered_queries SET status = $1, doc = $2, next_run_at = $3, updated_at = $4 WHERE id = $5 AND next_run_at = $6`,
		q.Status, q.Doc, q.NextRunAt, updated, q.ID, fromNextRun.UTC().Truncate(time.Microsecond))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.RegisteredQuery(ctx, q.ID); err != nil {
			return err
		}
		return server.Errorf(server.ECONFLICT, "registered query %s changed meanwhile", q.ID)
	}
	q.UpdatedAt = updated
	return nil
}
