package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"fhirlink/server"
)

// Webhooks.
//
// An integrator may register one URL ('fhirlink admin webhook'). When one
// of its async queries ends, or a registered query's result changes, the
// server queues a delivery in the state store and a worker POSTs
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
// after WebhookBackoff, doubling each time (with ±20% jitter, at most an
// hour), up to WebhookAttempts attempts; then the delivery is failed.
// Deliveries and their attempts live in the state store, so a restarted or
// different node carries on; a node claims each attempt by raising the
// attempt count, so two nodes never send the same attempt. The integrator
// reads its deliveries at GET /integrator/webhooks/deliveries.

// Webhook headers.
const (
	HeaderWebhookID        = "Fhirlink-Id"
	HeaderWebhookTimestamp = "Fhirlink-Timestamp"
	HeaderWebhookSignature = "Fhirlink-Signature-256"
)

// webhookEvent is a delivery's body.
type webhookEvent struct {
	ID            string    `json:"id"`
	OccurredAt    time.Time `json:"occurredAt"`
	SiteID        string    `json:"siteId"`
	QueryID       string    `json:"queryId"`
	WebhookSource string    `json:"webhookSource"`
}

// SignWebhook returns the signature of a delivery body sent at timestamp
// (as the Fhirlink-Timestamp header carries it) with secret.
func SignWebhook(secret, body []byte, timestamp string) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	return hex.EncodeToString(m.Sum(nil))
}

func (o *AsyncOptions) webhookAttempts() int {
	if o.WebhookAttempts > 0 {
		return o.WebhookAttempts
	}
	return 8
}

// announce queues a webhook delivery for an integrator with a webhook.
func (s *Server) announce(ctx context.Context, integratorID, siteID, queryID, source string) {
	wh, err := s.Store.Webhook(ctx, integratorID)
	if err != nil {
		if server.ErrorCode(err) != server.ENOTFOUND {
			s.log().Error("webhook not read", "integrator", integratorID, "err", err)
		}
		return
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	ev := webhookEvent{ID: uuid.NewString(), OccurredAt: now, SiteID: siteID, QueryID: queryID, WebhookSource: source}
	body, _ := json.Marshal(ev)
	d := &server.WebhookDelivery{ID: ev.ID, IntegratorID: integratorID, SiteID: siteID, QueryID: queryID, Source: source,
		URL: wh.URL, Body: body, Status: server.DeliveryPending, NextAttemptAt: now, CreatedAt: now}
	if err := s.Store.CreateWebhookDelivery(ctx, d); err != nil {
		s.log().Error("webhook delivery not queued", "integrator", integratorID, "query", queryID, "err", err)
		return
	}
	s.kickAsync()
}

func (s *Server) webhookLoop(ctx context.Context) {
	tick := time.NewTicker(s.Async.poll())
	defer tick.Stop()
	for {
		s.deliverDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// deliverDue sends the deliveries that are due, one at a time.
func (s *Server) deliverDue(ctx context.Context) {
	due, err := s.Store.DueWebhookDeliveries(ctx, time.Now(), 100)
	if err != nil {
		if ctx.Err() == nil {
			s.log().Error("webhook deliveries unreadable", "err", err)
		}
		return
	}
	for _, d := range due {
		if ctx.Err() != nil {
			return
		}
		s.attempt(ctx, d)
	}
}

// backoff is the wait after the n-th failed attempt (n from 1).
func (o *AsyncOptions) backoff(n int) time.Duration {
	base := orDefault(o.WebhookBackoff, 10*time.Second)
	d := base << min(n-1, 20)
	if d > time.Hour || d <= 0 {
		d = time.Hour
	}
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// attempt claims and sends one attempt of d and records its outcome.
func (s *Server) attempt(ctx context.Context, d *server.WebhookDelivery) {
	from := d.Attempts
	d.Attempts++
	claimed := d.Attempts
	// Claim: while this attempt is in flight, nobody else makes it; a node
	// dying here leaves it to be retried after the lease.
	d.NextAttemptAt = time.Now().Add(time.Minute)
	if err := s.Store.UpdateWebhookDelivery(ctx, d, from); err != nil {
		return // another node has it
	}
	wh, err := s.Store.Webhook(ctx, d.IntegratorID)
	var code int
	if err == nil {
		code, err = s.send(ctx, wh, d)
	} else if server.ErrorCode(err) == server.ENOTFOUND {
		err = fmt.Errorf("the integrator's webhook was removed")
	}
	now := time.Now().UTC()
	if ctx.Err() != nil {
		// Stopping mid-attempt: whoever runs next retries at once.
		d.NextAttemptAt, d.LastError = now, "interrupted: the server stopped"
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Store.UpdateWebhookDelivery(stopCtx, d, claimed)
		return
	}
	d.LastStatusCode = code
	switch {
	case err == nil:
		d.Status, d.DeliveredAt, d.LastError = server.DeliveryDelivered, now, ""
	case d.Attempts >= s.Async.webhookAttempts(), wh == nil:
		d.Status, d.LastError = server.DeliveryFailed, err.Error()
	default:
		d.LastError = err.Error()
		d.NextAttemptAt = now.Add(s.Async.backoff(d.Attempts))
	}
	if err := s.Store.UpdateWebhookDelivery(ctx, d, claimed); err != nil {
		s.log().Error("webhook delivery outcome not recorded", "delivery", d.ID, "err", err)
	}
}

func (s *Server) send(ctx context.Context, wh *server.Webhook, d *server.WebhookDelivery) (int, error) {
	ts := time.Now().UTC().Format(time.RFC3339)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wh.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, fmt.Errorf("webhook URL unusable: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "fhirlink-webhook")
	req.Header.Set(HeaderWebhookID, d.ID)
	req.Header.Set(HeaderWebhookTimestamp, ts)
	req.Header.Set(HeaderWebhookSignature, SignWebhook(wh.Secret, d.Body, ts))
	client := s.Async.WebhookClient
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

// GET /integrator/webhooks/deliveries?limit=: the caller's deliveries,
// newest first (at most 1000, default 100).
func (s *Server) webhookDeliveries(c echo.Context) error {
	limit := 100
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return server.Errorf(server.EINVALID, "limit must be a number from 1 to 1000")
		}
		limit = n
	}
	ctx := c.Request().Context()
	in := integrator(c)
	out := struct {
		Webhook    *server.Webhook           `json:"webhook"`
		Deliveries []*server.WebhookDelivery `json:"deliveries"`
	}{Deliveries: []*server.WebhookDelivery{}}
	if wh, err := s.Store.Webhook(ctx, in.ID); err == nil {
		out.Webhook = wh
	} else if server.ErrorCode(err) != server.ENOTFOUND {
		return err
	}
	ds, err := s.Store.WebhookDeliveries(ctx, in.ID, limit)
	if err != nil {
		return err
	}
	if ds != nil {
		out.Deliveries = ds
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}
