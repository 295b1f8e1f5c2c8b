package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"fhirlink/server"
)

// Webhooks are queued and sent by package webhook; the integrator reads
// its deliveries here.

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
