package console

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"fhirlink/server"
	"fhirlink/server/admin"
	"fhirlink/server/hub"
)

// auditLimit is the most audit records one page shows.
const auditLimit = 500

// practiceView is the practice page's data.
type practiceView struct {
	Site        *server.Site
	Status      hub.Status
	Online      bool
	Pairings    []pairingView
	WriteGrants bool // the write grant controls are on
	Audit       auditView
}

type pairingView struct {
	*server.Pairing
	// Writes is the server's copy of the integrator's write grant;
	// AgentWrites whether the agent's last report lists it (its record
	// decides), which shows a revocation the agent has yet to hear of.
	Writes, AgentWrites bool
}

// auditView is the audit log section: the filters as given and the records
// they select, newest first.
type auditView struct {
	Integrator, From, To, Outcome string
	Records                       []auditRow
	// Older is the link to the next page (the records before this one's
	// last), when there may be more: the console's path and a query
	// string of escaped values.
	Older       template.URL
	Integrators map[string]string // id → name, for the filter
}

type auditRow struct {
	*server.AuditRecord
	IntegratorName string
}

// outcomes are the audit filter's outcomes, by HTTP status.
var outcomes = map[string]func(status int) bool{
	"":        func(int) bool { return true },
	"ok":      func(s int) bool { return s < 400 },
	"refused": func(s int) bool { return s >= 400 && s < 500 },
	"failed":  func(s int) bool { return s >= 500 },
}

// notices are the messages an action's redirect names, by key.
var notices = map[string]string{
	"revoked":    "The integrator's pairing is revoked: its next request to this site is refused, and its running queries were cancelled.",
	"writes-on":  "The agent granted the integrator writes: it may write at this site (where the agent allows writes).",
	"writes-off": "The integrator's writes at this site are revoked, at the agent and on the server.",
	"writes-off-pending": "The server refuses the integrator's writes from now on. The agent is not connected and still lists the grant: " +
		"the server revokes it there as soon as the agent connects again.",
}

// GET /console/practice?integrator=&from=&to=&outcome=
func (c *Console) practicePage(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	site, err := c.Store.Site(ctx, s.subject)
	if err != nil {
		return err
	}
	pv := &practiceView{Site: site, Status: c.Agents.Status(site.ID), WriteGrants: c.WriteGrants != nil}
	pv.Online = pv.Status.Availability == hub.Online
	pairings, err := c.Admin.Pairings(ctx, admin.SiteRef{SiteID: site.ID})
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, p := range pairings {
		names[p.IntegratorID] = p.IntegratorName
		row := pairingView{Pairing: p, AgentWrites: slices.Contains(pv.Status.Info.WriteGrants, p.IntegratorID)}
		if c.WriteGrants != nil {
			if row.Writes, err = c.WriteGrants.WritesGranted(ctx, p.IntegratorID, site.ID); err != nil {
				return err
			}
		}
		pv.Pairings = append(pv.Pairings, row)
	}
	if pv.Audit, err = c.auditLog(r, site.ID, names); err != nil {
		return err
	}
	c.render(w, http.StatusOK, "practice", &view{Title: site.Name, Who: s.who, CSRF: s.csrf, Notice: notices[r.URL.Query().Get("done")], Data: pv})
	return nil
}

// auditLog reads the site's audit records the query's filters select,
// newest first: integrator (an id), from and to (days, both inclusive;
// default the last 7 days), outcome (ok, refused, failed) and older (the
// place to continue from, as the previous page's Older link gives it).
func (c *Console) auditLog(r *http.Request, siteID string, names map[string]string) (auditView, error) {
	q := r.URL.Query()
	today := time.Now().UTC()
	av := auditView{Integrator: q.Get("integrator"), From: q.Get("from"), To: q.Get("to"), Outcome: q.Get("outcome"), Integrators: names}
	if av.From == "" {
		av.From = today.AddDate(0, 0, -6).Format(time.DateOnly)
	}
	if av.To == "" {
		av.To = today.Format(time.DateOnly)
	}
	keep, ok := outcomes[av.Outcome]
	if !ok {
		return av, server.Errorf(server.EINVALID, "outcome %q: use ok, refused or failed", av.Outcome)
	}
	if av.Integrator != "" {
		if _, err := uuid.Parse(av.Integrator); err != nil {
			return av, server.Errorf(server.EINVALID, "integrator %q is not an integrator id", av.Integrator)
		}
	}
	from, err := time.Parse(time.DateOnly, av.From)
	if err != nil {
		return av, server.Errorf(server.EINVALID, "from %q: use a day, YYYY-MM-DD", av.From)
	}
	to, err := time.Parse(time.DateOnly, av.To)
	if err != nil {
		return av, server.Errorf(server.EINVALID, "to %q: use a day, YYYY-MM-DD", av.To)
	}
	f := server.AuditFilter{SiteID: siteID, IntegratorID: av.Integrator, From: from, To: to.AddDate(0, 0, 1), Limit: auditLimit, Newest: true}
	if older := q.Get("older"); older != "" {
		if f.Before, err = parseCursor(older); err != nil {
			return av, err
		}
	}
	recs, err := c.Store.Audit(r.Context(), f)
	if err != nil {
		return av, err
	}
	if len(recs) == auditLimit {
		last := recs[len(recs)-1]
		next := url.Values{"from": {av.From}, "to": {av.To}, "older": {formatCursor(last)}}
		if av.Integrator != "" {
			next.Set("integrator", av.Integrator)
		}
		if av.Outcome != "" {
			next.Set("outcome", av.Outcome)
		}
		av.Older = template.URL(Path + "/practice?" + next.Encode())
	}
	for _, rec := range recs {
		if !keep(rec.Status) {
			continue
		}
		name, known := names[rec.IntegratorID]
		if !known && rec.IntegratorID != "" {
			if in, err := c.Store.Integrator(r.Context(), rec.IntegratorID); err == nil {
				name = in.Name
			}
			names[rec.IntegratorID] = name
		}
		av.Records = append(av.Records, auditRow{AuditRecord: rec, IntegratorName: name})
	}
	return av, nil
}

// formatCursor is a record's place in the log, for an Older link:
// microseconds since 1970, a dot, the record's id.
func formatCursor(rec *server.AuditRecord) string {
	return strconv.FormatInt(rec.Time.UnixMicro(), 10) + "." + strconv.FormatInt(rec.ID, 10)
}

// parseCursor reads what formatCursor wrote.
func parseCursor(v string) (server.AuditCursor, error) {
	us, id, ok := strings.Cut(v, ".")
	t, err1 := strconv.ParseInt(us, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 {
		return server.AuditCursor{}, server.Errorf(server.EINVALID, "older %q is not a place in the audit log: follow the page's Older records link", short(v, 64))
	}
	return server.AuditCursor{Time: time.UnixMicro(t).UTC(), ID: n}, nil
}

// pairedIntegrator is the form's integratorId, which must be paired with
// the session's site.
func (c *Console) pairedIntegrator(r *http.Request, s *session) (string, error) {
	id := r.PostForm.Get("integratorId")
	if _, err := uuid.Parse(id); err != nil {
		return "", server.Errorf(server.EINVALID, "integratorId %q is not an integrator id", id)
	}
	ok, err := c.Store.Paired(r.Context(), id, s.subject)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", server.Errorf(server.ENOTFOUND, "integrator %s is not paired with this site", id)
	}
	return id, nil
}

// POST /console/practice/revoke (integratorId): unpairs the integrator from
// the session's site and cancels its requests in flight there.
func (c *Console) revoke(w http.ResponseWriter, r *http.Request, s *session) (string, error) {
	id, err := c.pairedIntegrator(r, s)
	if err != nil {
		return "integrator=" + short(r.PostForm.Get("integratorId"), 64), err
	}
	if _, err := c.Admin.Unpair(r.Context(), admin.PairRef{IntegratorID: id, SiteID: s.subject}); err != nil {
		return "integrator=" + id, err
	}
	if c.Cancel != nil {
		c.Cancel(id, s.subject, server.Errorf(server.EFORBIDDEN, "the practice revoked this integrator's pairing with site %s", s.subject))
	}
	c.log().Info("pairing revoked in the console", "site", s.subject, "integrator", id)
	http.Redirect(w, r, Path+"/practice?done=revoked", http.StatusSeeOther)
	return "integrator=" + id, nil
}

// POST /console/practice/writes (integratorId, grant=on|off): grants or
// revokes a paired integrator's writes, at the site's agent and on the
// server (Console.WriteGrants).
func (c *Console) setWrites(w http.ResponseWriter, r *http.Request, s *session) (string, error) {
	if c.WriteGrants == nil {
		return "", server.Errorf(server.ENOTFOUND, "this server has no write grants")
	}
	id, err := c.pairedIntegrator(r, s)
	if err != nil {
		return "", err
	}
	var grant bool
	switch r.PostForm.Get("grant") {
	case "on":
		grant = true
	case "off":
	default:
		return "integrator=" + id, server.Errorf(server.EINVALID, "grant %q: use on or off", short(r.PostForm.Get("grant"), 16))
	}
	detail := "integrator=" + id + " grant=" + r.PostForm.Get("grant")
	told, err := c.WriteGrants.SetWriteGrant(r.Context(), id, s.subject, grant)
	if err != nil {
		return detail, err
	}
	done := "writes-off"
	switch {
	case grant:
		done = "writes-on"
	case !told:
		done, detail = "writes-off-pending", detail+" agent=offline"
	}
	c.log().Info("write grant changed in the console", "site", s.subject, "integrator", id, "granted", grant, "agentTold", told)
	http.Redirect(w, r, Path+"/practice?done="+done, http.StatusSeeOther)
	return detail, nil
}
