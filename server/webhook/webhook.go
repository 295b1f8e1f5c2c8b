// Package webhook tells integrators, by signed HTTP POSTs to the URL they
// registered, that one of their queries finished.
//
// An integrator may register one URL ('fhirlink admin webhook'). When one
// of its async queries ends, or a registered query's result changes, the
// server queues a delivery in the state store ([Notifier.Notify]) and a
// worker ([Notifier.Run]) POSTs
//
//	{"id", "occurredAt", "siteId", "queryId", "webhookSource": "async"|"registered"}
//
// (no result data) with the headers
//
//	Fhirlink-Id:            the delivery's id (the same on every attempt)
//	Fhirlink-Timestamp:     when this attempt was signed, RFC 3339 (ISO 8601), UTC
//	Fhirlink-Signature-256: hex HMAC-SHA256, keyed with the webhook's secret,
//	                        of the body, a dot and the timestamp
//
// A 2xx answer delivers it. Anything else, or no answer in 10 s, is retried
// after Options.Backoff, doubling each time (with ±20% jitter, at most an
// hour), up to Options.Attempts attempts; then the delivery is failed.
// Deliveries and their attempts live in the state store, so a restarted or
// different node carries on; a node claims each attempt by raising the
// attempt count, so two nodes never send the same attempt.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"fhirlink/server"
)

// The headers of a delivery.
const (
	HeaderID        = "Fhirlink-Id"
	HeaderTimestamp = "Fhirlink-Timestamp"
	HeaderSignature = "Fhirlink-Signature-256"
)

// Sources of a delivery: what finished.
const (
	SourceAsync      = "async"
	SourceRegistered = "registered"
)

// Options configure deliveries. Zero values take the defaults.
type Options struct {
	// Client sends deliveries (default: a 10 s timeout, redirects not
	// followed).
	Client *http.Client
	// Attempts bounds the attempts of one delivery (default 8).
	Attempts int
	// Backoff is the wait before the first retry (default 10 s), doubled
	// for each further one, with jitter, at most an hour.
	Backoff time.Duration
	// Poll is how often the worker looks for due deliveries in the state
	// store (default 1 s); one queued on this node goes out at once.
	Poll time.Duration
}

// Store is what deliveries need of the state store.
type Store interface {
	Webhook(ctx context.Context, integratorID string) (*server.Webhook, error)
	CreateWebhookDelivery(ctx context.Context, d *server.WebhookDelivery) error
	DueWebhookDeliveries(ctx context.Context, now time.Time, limit int) ([]*server.WebhookDelivery, error)
	UpdateWebhookDelivery(ctx context.Context, d *server.WebhookDelivery, fromAttempts int) error
}

// Notifier queues and sends deliveries. Set Store; the zero Logger
// discards.
type Notifier struct {
	Store   Store
	Options Options
	Logger  *slog.Logger

	kickOnce sync.Once
	kick     chan struct{}
}

// event is a delivery's body.
type event struct {
	ID            string    `json:"id"`
	OccurredAt    time.Time `json:"occurredAt"`
	SiteID        string    `json:"siteId"`
	QueryID       string    `json:"queryId"`
	WebhookSource string    `json:"webhookSource"`
}

// Sign returns the signature of a delivery body sent at timestamp (as the
// Fhirlink-Timestamp header carries it) with secret.
func Sign(secret, body []byte, timestamp string) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	return hex.EncodeToString(m.Sum(nil))
}

func (n *Notifier) log() *slog.Logger {
	if n.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return n.Logger
}

func (n *Notifier) kicks() chan struct{} {
	n.kickOnce.Do(func() { n.kick = make(chan struct{}, 1) })
	return n.kick
}

// Notify queues a delivery saying that queryID of integratorID at siteID
// finished (source is SourceAsync or SourceRegistered), when the integrator
// has a webhook. Failures are logged: the query's outcome stands.
func (n *Notifier) Notify(ctx context.Context, integratorID, siteID, queryID, source string) {
	wh, err := n.Store.Webhook(ctx, integratorID)
	if err != nil {
		if server.ErrorCode(err) != server.ENOTFOUND {
			n.log().Error("webhook not read", "integrator", integratorID, "err", err)
		}
		return
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	ev := event{ID: uuid.NewString(), OccurredAt: now, SiteID: siteID, QueryID: queryID, WebhookSource: source}
	body, _ := json.Marshal(ev)
	d := &server.WebhookDelivery{ID: ev.ID, IntegratorID: integratorID, SiteID: siteID, QueryID: queryID, Source: source,
		URL: wh.URL, Body: body, Status: server.DeliveryPending, NextAttemptAt: now, CreatedAt: now}
	if err := n.Store.CreateWebhookDelivery(ctx, d); err != nil {
		n.log().Error("webhook delivery not queued", "integrator", integratorID, "query", queryID, "err", err)
		return
	}
	select {
	case n.kicks() <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx is done.
func (n *Notifier) Run(ctx context.Context) {
	poll := n.Options.Poll
	if poll <= 0 {
		poll = time.Second
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		n.deliverDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-n.kicks():
		}
	}
}

// deliverDue sends the deliveries that are due, one at a time.
func (n *Notifier) deliverDue(ctx context.Context) {
	due, err := n.Store.DueWebhookDeliveries(ctx, time.Now(), 100)
	if err != nil {
		if ctx.Err() == nil {
			n.log().Error("webhook deliveries unreadable", "err", err)
		}
		return
	}
	for _, d := range due {
		if ctx.Err() != nil {
			return
		}
		n.attempt(ctx, d)
	}
}

func (n *Notifier) attempts() int {
	if n.Options.Attempts > 0 {
		return n.Options.Attempts
	}
	return 8
}

// backoff is the wait after the n-th failed attempt (from 1).
func (o *Options) backoff(n int) time.Duration {
	base := o.Backoff
	if base <= 0 {
		base = 10 * time.Second
	}
	d := base << min(n-1, 20)
	if d > time.Hour || d <= 0 {
		d = time.Hour
	}
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// attempt claims and sends one attempt of d and records its outcome.
func (n *Notifier) attempt(ctx context.Context, d *server.WebhookDelivery) {
	from := d.Attempts
	d.Attempts++
	claimed := d.Attempts
	// Claim: while this attempt is in flight, nobody else makes it; a node
	// dying here leaves it to be retried after the lease.
	d.NextAttemptAt = time.Now().Add(time.Minute)
	if err := n.Store.UpdateWebhookDelivery(ctx, d, from); err != nil {
		return // another node has it
	}
	wh, err := n.Store.Webhook(ctx, d.IntegratorID)
	var code int
	if err == nil {
		code, err = n.send(ctx, wh, d)
	} else if server.ErrorCode(err) == server.ENOTFOUND {
		err = fmt.Errorf("the integrator's webhook was removed")
	}
	now := time.Now().UTC()
	if ctx.Err() != nil {
		// Stopping mid-attempt: whoever runs next retries at once.
		d.NextAttemptAt, d.LastError = now, "interrupted: the server stopped"
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Store.UpdateWebhookDelivery(stopCtx, d, claimed)
		return
	}
	d.LastStatusCode = code
	switch {
	case err == nil:
		d.Status, d.DeliveredAt, d.LastError = server.DeliveryDelivered, now, ""
	case d.Attempts >= n.attempts(), wh == nil:
		d.Status, d.LastError = server.DeliveryFailed, err.Error()
	default:
		d.LastError = err.Error()
		d.NextAttemptAt = now.Add(n.Options.backoff(d.Attempts))
	}
	// The outcome is written even if the server starts stopping now: a
	// write cancelled with ctx would leave the claim's one-minute lease on
	// the delivery, and the next server would wait it out.
	recCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := n.Store.UpdateWebhookDelivery(recCtx, d, claimed); err != nil {
		n.log().Error("webhook delivery outcome not recorded", "delivery", d.ID, "err", err)
	}
}

func (n *Notifier) send(ctx context.Context, wh *server.Webhook, d *server.WebhookDelivery) (int, error) {
	ts := time.Now().UTC().Format(time.RFC3339)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wh.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, fmt.Errorf("webhook URL unusable: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "fhirlink-webhook")
	req.Header.Set(HeaderID, d.ID)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(wh.Secret, d.Body, ts))
	client := n.Options.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("no answer: %v", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}
