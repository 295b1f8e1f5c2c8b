package server

import (
	"context"
	"time"
)

// Async queries, their result pages and webhooks.
//
// The state store keeps an async query's identity, status and the query
// object the API shows (Doc, JSON the store does not read), so any server
// node can answer its status; the result pages themselves live in a result
// store (a directory or object storage), not here. A query's results expire
// at ExpiresAt (set once it ends); the janitor then deletes them (Purged) and,
// later, the record itself.

// AsyncQuery is one async query as the store keeps it.
type AsyncQuery struct {
	ID           string
	IntegratorID string
	SiteID       string
	Status       string
	// Request is the agent's query request, JSON.
	Request []byte
	// Doc is the query object as the API answers it, JSON.
	Doc       []byte
	CreatedAt time.Time
	UpdatedAt time.Time
	// ExpiresAt is when the results stop being served; zero while the query
	// has not ended.
	ExpiresAt time.Time
	// Purged is set once the results were deleted from the result store.
	Purged bool
}

// AsyncFilter selects async queries. Zero fields select everything.
type AsyncFilter struct {
	Statuses []string
	// UpdatedBefore selects queries last updated before it.
	UpdatedBefore time.Time
	// ExpiredBefore selects queries whose ExpiresAt is set and before it,
	// and whose results are not purged.
	ExpiredBefore time.Time
	Limit         int // at most 1000; 0 means 100
}

// AsyncStore is the part of the [Store] keeping async queries.
type AsyncStore interface {
	// CreateAsyncQuery stores a new query; [ECONFLICT] when the id exists.
	// It sets CreatedAt and UpdatedAt when they are zero.
	CreateAsyncQuery(ctx context.Context, q *AsyncQuery) error
	// AsyncQuery returns one query; [ENOTFOUND] when unknown.
	AsyncQuery(ctx context.Context, id string) (*AsyncQuery, error)
	// UpdateAsyncQuery writes q's Status, Doc, ExpiresAt and Purged and sets
	// its UpdatedAt to now, provided the stored status is one of from (any
	// status when from is empty): this is how a worker claims a query and
	// how a cancel and a finishing run settle who wins. [ECONFLICT] when the
	// stored status is not in from, [ENOTFOUND] for an unknown query.
	UpdateAsyncQuery(ctx context.Context, q *AsyncQuery, from ...string) error
	// AsyncQueries returns the queries f selects, oldest first.
	AsyncQueries(ctx context.Context, f AsyncFilter) ([]*AsyncQuery, error)
	// DeleteAsyncQueries deletes the queries whose results expired before
	// t and returns how many it deleted.
	DeleteAsyncQueries(ctx context.Context, expiredBefore time.Time) (int64, error)

	// SetWebhook creates or replaces an integrator's webhook; [ENOTFOUND]
	// for an unknown integrator.
	SetWebhook(ctx context.Context, w *Webhook) error
	// Webhook returns an integrator's webhook; [ENOTFOUND] when it has none.
	Webhook(ctx context.Context, integratorID string) (*Webhook, error)
	// DeleteWebhook removes an integrator's webhook; [ENOTFOUND] when it has
	// none.
	DeleteWebhook(ctx context.Context, integratorID string) error

	// CreateWebhookDelivery queues a delivery; [ECONFLICT] when the id
	// exists. It sets CreatedAt and UpdatedAt when they are zero.
	CreateWebhookDelivery(ctx context.Context, d *WebhookDelivery) error
	// DueWebhookDeliveries returns pending deliveries whose NextAttemptAt is
	// not after now, the most overdue first.
	DueWebhookDeliveries(ctx context.Context, now time.Time, limit int) ([]*WebhookDelivery, error)
	// UpdateWebhookDelivery writes d's Status, Attempts, NextAttemptAt,
	// LastStatusCode, LastError and DeliveredAt and sets UpdatedAt, provided
	// the stored Attempts still equal fromAttempts (a node claims an
	// attempt by raising Attempts); [ECONFLICT] otherwise, [ENOTFOUND] for
	// an unknown delivery.
	UpdateWebhookDelivery(ctx context.Context, d *WebhookDelivery, fromAttempts int) error
	// WebhookDeliveries returns an integrator's deliveries, newest first.
	WebhookDeliveries(ctx context.Context, integratorID string, limit int) ([]*WebhookDelivery, error)
}

// Webhook is where an integrator is told that a query finished. Secret is
// the HMAC key signing each delivery; it is stored as it is (an HMAC needs
// the key itself, so it cannot be hashed), like the server's own secrets.
type Webhook struct {
	IntegratorID string    `json:"integratorId"`
	URL          string    `json:"url"`
	Secret       []byte    `json:"-"`
	CreatedAt    time.Time `json:"createdAt"`
}

// Webhook delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // every attempt failed
)

// WebhookDelivery is one notification and its attempts.
type WebhookDelivery struct {
	ID             string    `json:"id"`
	IntegratorID   string    `json:"-"`
	SiteID         string    `json:"siteId"`
	QueryID        string    `json:"queryId"`
	Source         string    `json:"webhookSource"`
	URL            string    `json:"url"`
	Body           []byte    `json:"-"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	NextAttemptAt  time.Time `json:"nextAttemptAt"`
	LastStatusCode int       `json:"lastStatusCode,omitempty"`
	LastError      string    `json:"lastError,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
	DeliveredAt    time.Time `json:"deliveredAt,omitzero"`
}

// AsyncLimit is the number of rows an [AsyncFilter] or a deliveries listing
// with limit n returns at most: 100 for 0, never over 1000.
func AsyncLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

// RegisteredQuery is a query the server runs every frequency for a
// duration, as the store keeps it.
type RegisteredQuery struct {
	ID           string
	IntegratorID string
	SiteID       string
	Status       string
	// Request is the agent's query request, JSON.
	Request []byte
	// Doc is the registered query object as the API answers it, JSON.
	Doc       []byte
	NextRunAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RegisteredStore is the part of the [Store] keeping registered queries.
type RegisteredStore interface {
	// CreateRegisteredQuery stores a new registered query; [ECONFLICT]
	// when the id exists. It sets CreatedAt and UpdatedAt when zero.
	CreateRegisteredQuery(ctx context.Context, q *RegisteredQuery) error
	// RegisteredQuery returns one; [ENOTFOUND] when unknown.
	RegisteredQuery(ctx context.Context, id string) (*RegisteredQuery, error)
	// RegisteredQueries returns an integrator's registered queries at a
	// site, oldest first.
	RegisteredQueries(ctx context.Context, integratorID, siteID string) ([]*RegisteredQuery, error)
	// DueRegisteredQueries returns the queries with status status whose
	// NextRunAt is not after now, the most overdue first.
	DueRegisteredQueries(ctx context.Context, status string, now time.Time, limit int) ([]*RegisteredQuery, error)
	// UpdateRegisteredQuery writes q's Status, Doc and NextRunAt and sets
	// UpdatedAt, provided the stored NextRunAt still equals fromNextRun (a
	// node claims a run by moving NextRunAt on); [ECONFLICT] otherwise,
	// [ENOTFOUND] for an unknown query.
	UpdateRegisteredQuery(ctx context.Context, q *RegisteredQuery, fromNextRun time.Time) error
}
