// Package console is the web console the server serves at [Path]: a
// practice signs in with its site credential (the site id and the agent's
// secret) and an integrator with one of its API keys, or either with a
// one-time sign-in link an operator made ('fhirlink admin console-link').
//
// A practice sees whether its agent is connected, the integrators paired
// with it (and revokes them, or grants and revokes their writes), and its
// audit log with filters; an integrator sees its sites, its usage against its quotas, its keys (and rotates
// them), its SMART clients and its webhook deliveries. Whose data a page
// shows comes from the session, never from the request (an integrator id a
// form gives only narrows it within the session's site), so no one sees or
// changes another site's or integrator's data.
//
// The pages are server-rendered with html/template (which escapes every
// value) from files embedded in the binary: no script, no build step. Forms
// POST with a CSRF token; the session cookie is HttpOnly, SameSite=Strict
// and Secure over TLS, and the session expires on the server. Every action
// (sign-in, sign-out, revoke, write-grant, rotate) is audited (Kind console).
package console

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"fhirlink/server"
	"fhirlink/server/admin"
	"fhirlink/server/hub"
	"fhirlink/server/quota"
)

// Path is where the console is served on the server's main listener.
const Path = "/console"

// DefaultSessionTTL is how long a console session lasts after sign-in.
const DefaultSessionTTL = 8 * time.Hour

// Agents tells a site's agent's status (a hub.Hub, or a cluster router).
type Agents interface {
	Status(siteID string) hub.Status
}

// WriteGrants lets a practice grant and revoke writes per paired
// integrator from the console. The site's agent keeps the record that
// decides (its write-grants.json), so a change is asked of the agent and
// the server's copy follows: a grant happens only when the agent is
// connected and takes grants from the console (its --console-grants); a
// revocation always does, on the server at once and at the agent now or
// when it next connects.
type WriteGrants interface {
	// WritesGranted reads the server's copy of a grant.
	WritesGranted(ctx context.Context, integratorID, siteID string) (bool, error)
	// SetWriteGrant changes the grant at the agent and on the server.
	// agentTold is false for a revocation the agent could not be told of
	// now; a grant the agent did not apply is an error, and changed
	// nothing.
	SetWriteGrant(ctx context.Context, integratorID, siteID string, granted bool) (agentTold bool, err error)
}

// Console serves the web console. Set the fields, then use [Console.Handler].
type Console struct {
	Store server.Store
	// Admin runs the operations the console offers (revoking a pairing,
	// rotating a key, reading the audit log), on Store.
	Admin  *admin.Service
	Agents Agents
	// Quotas resolves an integrator's effective daily limits.
	Quotas *quota.Quotas
	// Audit queues an audit record (the server's audit writer).
	Audit func(*server.AuditRecord)
	// ClientAddr is the caller's address as the audit log records it.
	ClientAddr func(*http.Request) string
	// Cancel cancels an integrator's requests in flight at a site, when a
	// practice revokes it; nil leaves them to the server's sweep.
	Cancel func(integratorID, siteID string, cause error) int
	// WriteGrants: see [WriteGrants]; nil shows no write grant controls.
	WriteGrants WriteGrants
	// TrustProxy takes X-Forwarded-Proto: https from the proxy in front
	// as TLS, for the cookies' Secure attribute.
	TrustProxy bool
	// SessionTTL is how long a session lasts (default DefaultSessionTTL).
	SessionTTL time.Duration
	Logger     *slog.Logger
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages are the console's pages, each the layout with its own content.
var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{"when": when, "bytes": byteSize, "limit": limit, "short": short,
		"divf": func(us int64) float64 { return float64(us) / 1000 }, "slots": func() []string { return []string{"primary", "secondary"} }}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html"))
	out := map[string]*template.Template{}
	names, _ := fs.Glob(templateFiles, "templates/*.html")
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		name := n[len("templates/") : len(n)-len(".html")]
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFiles, n))
	}
	return out
}()

// Handler returns the console's handler, for requests under [Path].
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET "+Path+"/static/", http.StripPrefix(Path+"/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET "+Path, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, Path+"/", http.StatusSeeOther) })
	mux.HandleFunc("GET "+Path+"/{$}", c.home)
	mux.HandleFunc("GET "+Path+"/sign-in", c.signInPage)
	mux.HandleFunc("POST "+Path+"/sign-in", c.signIn)
	mux.HandleFunc("GET "+server.ConsoleLinkPath+"{token}", c.linkPage)
	mux.HandleFunc("POST "+Path+"/link", c.signInWithLink)
	mux.HandleFunc("POST "+Path+"/sign-out", c.action("sign-out", "", c.signOut))
	mux.HandleFunc("GET "+Path+"/practice", c.page(server.ConsolePractice, c.practicePage))
	mux.HandleFunc("POST "+Path+"/practice/revoke", c.action("revoke", server.ConsolePractice, c.revoke))
	mux.HandleFunc("POST "+Path+"/practice/writes", c.action("write-grant", server.ConsolePractice, c.setWrites))
	mux.HandleFunc("GET "+Path+"/integrator", c.page(server.ConsoleIntegrator, c.integratorPage))
	mux.HandleFunc("POST "+Path+"/integrator/rotate-key", c.action("rotate-key", server.ConsoleIntegrator, c.rotateKey))
	return headers(mux)
}

// headers sets what every console answer carries: no caching (pages hold
// private data), no framing, no script, no referrer (a sign-in link's
// token is in its path), and forms posting only to the console.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func (c *Console) log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// view is what the layout shows around a page's content.
type view struct {
	Title  string
	Who    string // the signed-in practice or integrator, for the header
	CSRF   string // the session's CSRF token, for the forms
	Notice string
	Error  string
	Data   any // the page's own
}

// render writes a page.
func (c *Console) render(w http.ResponseWriter, status int, name string, v *view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages[name].ExecuteTemplate(w, "layout.html", v); err != nil {
		c.log().Error("console page", "page", name, "err", err)
	}
}

// fail renders err as an error page with its HTTP status; internal errors
// are logged, not shown.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, sess *session, err error) int {
	code := server.ErrorCode(err)
	if code == server.EINTERNAL {
		c.log().Error("console", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	status := server.HTTPStatus[code]
	v := &view{Title: http.StatusText(status), Error: server.ErrorMessage(err)}
	if sess != nil {
		v.Who, v.CSRF = sess.who, sess.csrf
	}
	c.render(w, status, "error", v)
	return status
}

// audit records a console action.
func (c *Console) audit(r *http.Request, start time.Time, action string, sess *session, status int, detail string) {
	if c.Audit == nil {
		return
	}
	rec := &server.AuditRecord{Time: start.UTC(), Method: r.Method, Path: r.URL.Path, Kind: server.AuditConsole,
		Interaction: action, Query: detail, Status: status, DurationUS: time.Since(start).Microseconds(), RequestID: server.RequestID(r.Context())}
	if c.ClientAddr != nil {
		rec.ClientAddr = c.ClientAddr(r)
	}
	if sess != nil {
		switch sess.role {
		case server.ConsolePractice:
			rec.SiteID = sess.subject
		case server.ConsoleIntegrator:
			rec.IntegratorID = sess.subject
		}
	}
	c.Audit(rec)
}
