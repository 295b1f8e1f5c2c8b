package console

import (
	"net/http"
	"time"

	"fhirlink/server"
	"fhirlink/server/admin"
	"fhirlink/server/hub"
	"fhirlink/server/quota"
)

// integratorView is the integrator page's data.
type integratorView struct {
	Integrator *server.Integrator
	Sites      []siteView
	Usage      []*server.Usage // the last 30 days, by day then site
	UsageFrom  string
	ResetsAt   time.Time
	Clients    []admin.ClientInfo
	Webhook    *server.Webhook
	Deliveries []*server.WebhookDelivery
	NewKey     *newKey // just rotated: shown once
}

type siteView struct {
	*server.Site
	Status hub.Status
	// Today's usage and effective limits (0: unlimited).
	Queries, Bytes, MaxQueries, MaxBytes int64
}

type newKey struct{ Slot, Key string }

// deliveriesShown is how many webhook deliveries the page lists.
const deliveriesShown = 50

// GET /console/integrator
func (c *Console) integratorPage(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.renderIntegrator(w, r, s, nil)
}

func (c *Console) renderIntegrator(w http.ResponseWriter, r *http.Request, s *session, key *newKey) error {
	ctx := r.Context()
	in, err := c.Store.Integrator(ctx, s.subject)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	iv := &integratorView{Integrator: in, NewKey: key, UsageFrom: server.UsageDay(now.AddDate(0, 0, -29)), ResetsAt: now.Add(quota.UntilReset(now))}
	if iv.Usage, err = c.Store.Usage(ctx, in.ID, "", iv.UsageFrom, server.UsageDay(now)); err != nil {
		return err
	}
	sites, err := c.Store.Sites(ctx)
	if err != nil {
		return err
	}
	for _, site := range sites {
		if ok, err := c.Store.Paired(ctx, in.ID, site.ID); err != nil {
			return err
		} else if !ok {
			continue
		}
		sv := siteView{Site: site, Status: c.Agents.Status(site.ID)}
		if sv.MaxQueries, sv.MaxBytes, err = c.Quotas.Effective(ctx, in.ID, site.ID); err != nil {
			return err
		}
		for _, u := range iv.Usage {
			if u.SiteID == site.ID && u.Day == server.UsageDay(now) {
				sv.Queries, sv.Bytes = u.Queries, u.Bytes
			}
		}
		iv.Sites = append(iv.Sites, sv)
	}
	if iv.Clients, err = c.Admin.Clients(ctx, admin.IntegratorRef{IntegratorID: in.ID}); err != nil {
		return err
	}
	if iv.Webhook, err = c.Store.Webhook(ctx, in.ID); server.ErrorCode(err) == server.ENOTFOUND {
		iv.Webhook, err = nil, nil
	}
	if err != nil {
		return err
	}
	if iv.Deliveries, err = c.Store.WebhookDeliveries(ctx, in.ID, deliveriesShown); err != nil {
		return err
	}
	c.render(w, http.StatusOK, "integrator", &view{Title: in.Name, Who: s.who, CSRF: s.csrf, Data: iv})
	return nil
}

// POST /console/integrator/rotate-key (slot primary|secondary): replaces
// one of the session's integrator's keys and shows the new one, once, in
// this answer (it is not stored anywhere it could be shown again).
func (c *Console) rotateKey(w http.ResponseWriter, r *http.Request, s *session) (string, error) {
	slot := r.PostForm.Get("slot")
	detail := "slot=" + short(slot, 16)
	out, err := c.Admin.RotateIntegratorKey(r.Context(), admin.KeyRotation{IntegratorID: s.subject, Slot: slot})
	if err != nil {
		return detail, err
	}
	key := &newKey{Slot: slot, Key: out.PrimaryKey}
	if slot == "secondary" {
		key.Key = out.SecondaryKey
	}
	if s.credential != nil {
		if _, err := c.Store.IntegratorByKeyHash(r.Context(), s.credential); server.ErrorCode(err) == server.EUNAUTHORIZED {
			// The key this session stood on is the one rotated: go on
			// with a session on the new key.
			if err := c.Store.DeleteConsoleToken(r.Context(), server.HashConsoleToken(s.token)); err != nil {
				return detail, err
			}
			who := s.who
			if s, err = c.newSession(w, r, s.role, s.subject, server.HashSecret(key.Key)); err != nil {
				return detail, err
			}
			s.who = who
		} else if err != nil {
			return detail, err
		}
	}
	return detail, c.renderIntegrator(w, r, s, key)
}
