package console_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/admin"
	"fhirlink/server/console"
	"fhirlink/server/fhirlinktest"
)

// env is a server with an agent for site 1 (two paired integrators, A and
// B) and a second site, 2, without an agent, paired only with integrator C.
type env struct {
	*fhirlinktest.Env
	site2, secret2 string
	keyB, idB      string
	keyC, idC      string
}

func start(t *testing.T) *env {
	t.Helper()
	return startWith(t, fhirlinktest.Options{})
}

// startWith is start with the agent's and server's options (its database
// is always a new empty SQLite file).
func startWith(t *testing.T, opt fhirlinktest.Options) *env {
	t.Helper()
	db := filepath.Join(t.TempDir(), "practice.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	opt.Engine, opt.DSN = wire.EngineSQLite, db
	e := &env{Env: fhirlinktest.Start(t, opt)}
	e.idB, e.keyB = e.NewIntegrator(true)
	ctx := context.Background()
	e.site2 = uuid.NewString()
	var hash []byte
	e.secret2, hash = server.NewSecret()
	if err := e.Store.CreateSite(ctx, &server.Site{ID: e.site2, Name: "Other Practice", PMSType: wire.PMSBestPractice}, hash); err != nil {
		t.Fatal(err)
	}
	e.idC, e.keyC = e.NewIntegrator(false)
	if err := e.Store.Pair(ctx, e.idC, e.site2); err != nil {
		t.Fatal(err)
	}
	return e
}

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (e *env) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: e.URL(), c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (int, http.Header, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func (b *browser) get(path string) (int, http.Header, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, header ...string) (int, http.Header, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the forms on the page at path.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	_, _, body := b.get(path)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("no CSRF token on %s:\n%s", path, body)
	}
	return m[1]
}

// signIn signs in with a form (role practice or integrator) and wants it
// to land on the role's page.
func (b *browser) signIn(role string, fields ...string) {
	b.t.Helper()
	form := url.Values{"role": {role}, "csrf": {b.csrf("/console/sign-in")}}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Set(fields[i], fields[i+1])
	}
	if status, h, body := b.post("/console/sign-in", form); status != http.StatusSeeOther || h.Get("Location") != "/console/"+role {
		b.t.Fatalf("sign-in as %s: %d %s %s", role, status, h.Get("Location"), body)
	}
}

// apiStatus is the status of the integrator's request for a site's status.
func (e *env) apiStatus(t *testing.T, key, siteID string) int {
	t.Helper()
	status, _, _, err := e.Do(context.Background(), http.MethodGet, e.URL()+"/integrator/sites/"+siteID, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return status
}

// records are the console's audit records of action.
func (e *env) records(t *testing.T, action string) []*server.AuditRecord {
	t.Helper()
	if err := e.API.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	all, err := e.Store.Audit(context.Background(), server.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*server.AuditRecord
	for _, r := range all {
		if r.Kind == server.AuditConsole && r.Interaction == action {
			out = append(out, r)
		}
	}
	return out
}

// A practice signs in with its site credential and sees only its own
// site: its agent's status, its integrators, its audit log. It revokes an
// integrator, whose next request is refused; it cannot revoke another
// site's integrator, nor act without the session's CSRF token, nor from
// another site's page, nor open the integrator pages. Every action is
// audited, refusals included.
func TestPracticeConsole(t *testing.T) {
	e := start(t)
	b := e.browser(t)
	if status, h, _ := b.get("/console/practice"); status != http.StatusSeeOther || h.Get("Location") != "/console/sign-in" {
		t.Fatalf("signed out: %d %s", status, h.Get("Location"))
	}
	csrf := b.csrf("/console/sign-in")
	wrong := url.Values{"role": {"practice"}, "csrf": {csrf}, "siteId": {e.SiteID}, "secret": {"not-the-secret"}}
	if status, _, body := b.post("/console/sign-in", wrong); status != http.StatusUnauthorized || !strings.Contains(body, "wrong site id or agent secret") {
		t.Fatalf("wrong secret: %d %s", status, body)
	}
	other := url.Values{"role": {"practice"}, "csrf": {csrf}, "siteId": {e.site2}, "secret": {"site-secret"}}
	if status, _, _ := b.post("/console/sign-in", other); status != http.StatusUnauthorized {
		t.Fatalf("site 1's secret for site 2: %d", status)
	}
	noCSRF := url.Values{"role": {"practice"}, "siteId": {e.SiteID}, "secret": {"site-secret"}}
	if status, _, _ := b.post("/console/sign-in", noCSRF); status != http.StatusForbidden {
		t.Fatalf("sign-in without the form's token: %d", status)
	}
	b.signIn("practice", "siteId", e.SiteID, "secret", "site-secret")

	status, _, page := b.get("/console/practice")
	if status != http.StatusOK || !strings.Contains(page, "Test Practice") || !strings.Contains(page, e.IntegratorID) || !strings.Contains(page, e.idB) ||
		!strings.Contains(page, `id="availability">online<`) {
		t.Fatalf("practice page: %d\n%s", status, page)
	}
	if strings.Contains(page, e.idC) || strings.Contains(page, "Other Practice") {
		t.Fatal("the practice page shows another site's integrator")
	}
	if status, _, _ := b.get("/console/integrator"); status != http.StatusForbidden {
		t.Fatalf("a practice on the integrator page: %d", status)
	}
	if status, _, _ := b.post("/console/integrator/rotate-key", url.Values{"csrf": {b.csrf("/console/practice")}, "slot": {"primary"}}); status != http.StatusForbidden {
		t.Fatalf("a practice rotating a key: %d", status)
	}

	token := b.csrf("/console/practice")
	if status, _, _ := b.post("/console/practice/revoke", url.Values{"integratorId": {e.idB}}); status != http.StatusForbidden {
		t.Fatalf("revoke without the CSRF token: %d", status)
	}
	if status, _, _ := b.post("/console/practice/revoke", url.Values{"integratorId": {e.idB}, "csrf": {token}}, "Sec-Fetch-Site", "cross-site"); status != http.StatusForbidden {
		t.Fatalf("revoke posted from another site: %d", status)
	}
	if status, _, _ := b.post("/console/practice/revoke", url.Values{"integratorId": {e.idC}, "csrf": {token}}); status != http.StatusNotFound {
		t.Fatalf("revoking another site's integrator: %d", status)
	}
	if got := e.apiStatus(t, e.keyC, e.site2); got != http.StatusOK {
		t.Fatalf("integrator C at site 2 after a refused revoke: %d", got)
	}
	if got := e.apiStatus(t, e.keyB, e.SiteID); got != http.StatusOK {
		t.Fatalf("integrator B before its revocation: %d", got)
	}
	if status, h, body := b.post("/console/practice/revoke", url.Values{"integratorId": {e.idB}, "csrf": {token}}); status != http.StatusSeeOther || h.Get("Location") != "/console/practice?done=revoked" {
		t.Fatalf("revoke: %d %s", status, body)
	}
	if got := e.apiStatus(t, e.keyB, e.SiteID); got != http.StatusForbidden {
		t.Fatalf("integrator B after its revocation: %d, want 403", got)
	}
	if got := e.apiStatus(t, e.Key, e.SiteID); got != http.StatusOK {
		t.Fatalf("integrator A after B's revocation: %d", got)
	}

	// The audit log: B's refused request, filtered by integrator and outcome.
	if err := e.API.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, _, page = b.get("/console/practice?integrator=" + e.idB + "&outcome=refused")
	if !strings.Contains(page, "/integrator/sites/"+e.SiteID) || !strings.Contains(page, ">403<") || strings.Contains(page, ">200<") {
		t.Fatalf("refused requests of B:\n%s", page)
	}
	_, _, page = b.get("/console/practice?integrator=" + e.idB + "&outcome=ok")
	if !strings.Contains(page, ">200<") || strings.Contains(page, ">403<") {
		t.Fatalf("answered requests of B:\n%s", page)
	}
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	if _, _, page = b.get("/console/practice?from=" + tomorrow + "&to=" + tomorrow); !strings.Contains(page, `id="no-records"`) {
		t.Fatalf("tomorrow's records:\n%s", page)
	}
	if status, _, _ := b.get("/console/practice?outcome=maybe"); status != http.StatusBadRequest {
		t.Fatalf("a bad outcome: %d", status)
	}
	if _, _, page = b.get("/console/practice?integrator=" + e.idC); strings.Contains(page, e.site2) {
		t.Fatal("the audit filter reached another site's records")
	}

	rev := e.records(t, "revoke")
	if len(rev) != 4 {
		t.Fatalf("%d revoke records, want 4 (no token, cross-site, another site's, done): %+v", len(rev), rev)
	}
	if last := rev[3]; last.Status != http.StatusSeeOther || last.SiteID != e.SiteID || last.Query != "integrator="+e.idB || last.ClientAddr != "127.0.0.1" {
		t.Fatalf("revoke record: %+v", last)
	}
	if in := e.records(t, "sign-in"); len(in) != 4 || in[0].Status != http.StatusUnauthorized || in[0].SiteID != e.SiteID ||
		in[3].Status != http.StatusSeeOther || in[3].SiteID != e.SiteID {
		t.Fatalf("sign-in records: %+v", in)
	}
	if strings.Contains(e.records(t, "sign-in")[0].Query, "not-the-secret") {
		t.Fatal("an audit record holds the secret given")
	}

	// Rotating the site's agent secret ends the sessions standing on it,
	// a link's included.
	svc := &admin.Service{Store: e.Store}
	link, err := svc.ConsoleLink(context.Background(), admin.ConsoleLinkRequest{SiteID: e.site2})
	if err != nil {
		t.Fatal(err)
	}
	l := e.browser(t)
	if status, _, _ := l.post("/console/link", url.Values{"token": {strings.TrimPrefix(link.Path, server.ConsoleLinkPath)}, "csrf": {l.csrf(link.Path)}}); status != http.StatusSeeOther {
		t.Fatalf("link sign-in: %d", status)
	}
	if status, _, _ := l.get("/console/practice"); status != http.StatusOK {
		t.Fatalf("the link's session: %d", status)
	}
	if _, err := svc.RotateSiteSecret(context.Background(), admin.SiteRef{SiteID: e.site2}); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := l.get("/console/practice"); status != http.StatusSeeOther {
		t.Fatalf("the session after the site's secret was rotated: %d, want a redirect to sign in", status)
	}
	if status, _, _ := b.get("/console/practice"); status != http.StatusOK {
		t.Fatalf("site 1's session after site 2's rotation: %d", status)
	}

	// Signing out ends the session on the server: the old cookie is dead.
	cookies := b.c.Jar.Cookies(mustURL(t, e.URL()+"/console/"))
	if status, _, _ := b.post("/console/sign-out", url.Values{"csrf": {b.csrf("/console/practice")}}); status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", status)
	}
	replay := e.browser(t)
	replay.c.Jar.SetCookies(mustURL(t, e.URL()+"/console/"), cookies)
	if status, _, _ := replay.get("/console/practice"); status != http.StatusSeeOther {
		t.Fatalf("the signed-out session's cookie: %d", status)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// An integrator signs in with its key and sees its own sites only; it
// rotates a key, shown once: the old one fails and the new one works.
func TestIntegratorConsole(t *testing.T) {
	e := start(t)
	b := e.browser(t)
	bad := url.Values{"role": {"integrator"}, "csrf": {b.csrf("/console/sign-in")}, "key": {"wrong"}}
	if status, _, _ := b.post("/console/sign-in", bad); status != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d", status)
	}
	b.signIn("integrator", "key", e.keyC)
	_, _, page := b.get("/console/integrator")
	if !strings.Contains(page, e.site2) || strings.Contains(page, e.SiteID) {
		t.Fatalf("integrator C's page shows the wrong sites:\n%s", page)
	}
	if status, _, _ := b.get("/console/practice"); status != http.StatusForbidden {
		t.Fatalf("an integrator on the practice page: %d", status)
	}
	if status, _, _ := b.post("/console/practice/revoke", url.Values{"csrf": {b.csrf("/console/integrator")}, "integratorId": {e.idB}}); status != http.StatusForbidden {
		t.Fatalf("an integrator revoking: %d", status)
	}

	seven := int64(7)
	if _, err := (&admin.Service{Store: e.Store}).Quota(context.Background(), admin.QuotaRequest{IntegratorID: e.IntegratorID, SiteID: e.SiteID, DailyQueries: &seven}); err != nil {
		t.Fatal(err)
	}
	a := e.browser(t)
	a.signIn("integrator", "key", e.Key)
	if _, _, page = a.get("/console/integrator"); !strings.Contains(page, e.SiteID) || strings.Contains(page, e.site2) || !strings.Contains(page, "0 of 7<") {
		t.Fatalf("integrator A's page:\n%s", page)
	}
	if status, _, _ := a.post("/console/integrator/rotate-key", url.Values{"csrf": {a.csrf("/console/integrator")}, "slot": {"tertiary"}}); status != http.StatusBadRequest {
		t.Fatalf("a bad slot: %d", status)
	}
	status, _, page := a.post("/console/integrator/rotate-key", url.Values{"csrf": {a.csrf("/console/integrator")}, "slot": {"primary"}})
	m := regexp.MustCompile(`id="new-key-value">([^<]+)<`).FindStringSubmatch(page)
	if status != http.StatusOK || m == nil {
		t.Fatalf("rotate: %d\n%s", status, page)
	}
	if got := e.apiStatus(t, e.Key, e.SiteID); got != http.StatusUnauthorized {
		t.Fatalf("the rotated key: %d, want 401", got)
	}
	if got := e.apiStatus(t, m[1], e.SiteID); got != http.StatusOK {
		t.Fatalf("the new key: %d", got)
	}
	// Rotating the key the session stands on keeps the integrator signed
	// in, on the new key; the page does not show the key again.
	if status, _, page = a.get("/console/integrator"); status != http.StatusOK || strings.Contains(page, m[1]) {
		t.Fatalf("after rotating its own key: %d (the key shown again: %v)", status, strings.Contains(page, m[1]))
	}
	if rec := e.records(t, "rotate-key"); len(rec) != 2 || rec[1].IntegratorID != e.IntegratorID || rec[1].Status != http.StatusOK || strings.Contains(rec[1].Query, m[1]) {
		t.Fatalf("rotate records: %+v", rec)
	}
	// C's key is untouched; when the operator rotates it, C's session,
	// which stands on it, ends.
	if got := e.apiStatus(t, e.keyC, e.site2); got != http.StatusOK {
		t.Fatalf("integrator C's key after A's rotation: %d", got)
	}
	if status, _, _ := b.get("/console/integrator"); status != http.StatusOK {
		t.Fatalf("C's session: %d", status)
	}
	if _, err := (&admin.Service{Store: e.Store}).RotateIntegratorKey(context.Background(), admin.KeyRotation{IntegratorID: e.idC}); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := b.get("/console/integrator"); status != http.StatusSeeOther {
		t.Fatalf("C's session after its key was rotated: %d, want a redirect to sign in", status)
	}
}

// A one-time link opens a page that does not use it; its button signs in
// once, and the link is dead after.
func TestSignInLink(t *testing.T) {
	e := start(t)
	svc := &admin.Service{Store: e.Store}
	link, err := svc.ConsoleLink(context.Background(), admin.ConsoleLinkRequest{SiteID: e.site2})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	for range 2 {
		if status, h, page := b.get(link.Path); status != http.StatusOK || !strings.Contains(page, "Other Practice") || h.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("link page: %d %s", status, page)
		}
	}
	token := strings.TrimPrefix(link.Path, server.ConsoleLinkPath)
	if status, _, _ := b.post("/console/link", url.Values{"token": {token}}); status != http.StatusForbidden {
		t.Fatalf("the link's form without its token: %d", status)
	}
	form := url.Values{"token": {token}, "csrf": {b.csrf(link.Path)}}
	if status, h, _ := b.post("/console/link", form); status != http.StatusSeeOther || h.Get("Location") != "/console/practice" {
		t.Fatalf("signing in with the link: %d", status)
	}
	if _, _, page := b.get("/console/practice"); !strings.Contains(page, "Other Practice") || strings.Contains(page, e.SiteID) {
		t.Fatalf("the link's practice page:\n%s", page)
	}
	again := e.browser(t)
	form.Set("csrf", again.csrf("/console/sign-in"))
	if status, _, body := again.post("/console/link", form); status != http.StatusNotFound || !strings.Contains(body, "works once") {
		t.Fatalf("the link used again: %d %s", status, body)
	}
	if status, _, _ := again.get(link.Path); status != http.StatusNotFound {
		t.Fatalf("the used link's page: %d", status)
	}
	// An integrator's link signs the integrator in, to its own page.
	ilink, err := svc.ConsoleLink(context.Background(), admin.ConsoleLinkRequest{IntegratorID: e.idC, BaseURL: e.URL()})
	if err != nil || ilink.URL != e.URL()+ilink.Path {
		t.Fatalf("integrator link: %+v %v", ilink, err)
	}
	ib := e.browser(t)
	form = url.Values{"token": {strings.TrimPrefix(ilink.Path, server.ConsoleLinkPath)}, "csrf": {ib.csrf(ilink.Path)}}
	if status, h, _ := ib.post("/console/link", form); status != http.StatusSeeOther || h.Get("Location") != "/console/integrator" {
		t.Fatalf("signing in with the integrator's link: %d", status)
	}
	if _, _, page := ib.get("/console/integrator"); !strings.Contains(page, e.site2) || strings.Contains(page, e.SiteID) {
		t.Fatalf("the link's integrator page:\n%s", page)
	}
	if _, err := svc.ConsoleLink(context.Background(), admin.ConsoleLinkRequest{}); server.ErrorCode(err) != server.EINVALID {
		t.Fatalf("a link for nobody: %v", err)
	}
	if rec := e.records(t, "sign-in-link"); len(rec) != 4 || rec[1].SiteID != e.site2 || rec[2].Status != http.StatusNotFound || rec[3].IntegratorID != e.idC {
		t.Fatalf("link records: %+v", rec)
	}
}

// The session cookie is HttpOnly, SameSite=Strict, limited to the console,
// Secure over TLS; a session ends on the server at its expiry.
func TestSessionCookieAndExpiry(t *testing.T) {
	e := start(t)
	h := e.API.Handler()
	signIn := func(tlsOn bool) *http.Cookie {
		pre := httptest.NewRecorder()
		h.ServeHTTP(pre, httptest.NewRequest(http.MethodGet, "/console/sign-in", nil))
		preCookie := pre.Result().Cookies()[0]
		form := url.Values{"role": {"practice"}, "siteId": {e.SiteID}, "secret": {"site-secret"}, "csrf": {preCookie.Value}}
		req := httptest.NewRequest(http.MethodPost, "/console/sign-in", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(preCookie)
		if tlsOn {
			req.TLS = &tls.ConnectionState{}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			if c.Name == "fhirlink_console" {
				return c
			}
		}
		t.Fatalf("no session cookie: %d %s", rec.Code, rec.Body)
		return nil
	}
	for _, tlsOn := range []bool{false, true} {
		c := signIn(tlsOn)
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != console.Path || c.Secure != tlsOn || c.MaxAge != int(console.DefaultSessionTTL/time.Second) {
			t.Fatalf("session cookie (TLS %v): %+v", tlsOn, c)
		}
	}

	token, err := server.NewConsoleToken(context.Background(), e.Store, false, server.ConsolePractice, e.SiteID, server.HashSecret("site-secret"), time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.c.Jar.SetCookies(mustURL(t, e.URL()+"/console/"), []*http.Cookie{{Name: "fhirlink_console", Value: token}})
	if status, _, _ := b.get("/console/practice"); status != http.StatusOK {
		t.Fatalf("a live session: %d", status)
	}
	waittest.For(t, 10*time.Second, "the session to expire on the server", func() bool {
		status, _, _ := b.get("/console/practice")
		return status == http.StatusSeeOther
	})
}

// Every value on a page is escaped: an integrator's name is text, not markup.
func TestValuesEscaped(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	id := uuid.NewString()
	if err := e.Store.CreateIntegrator(ctx, &server.Integrator{ID: id, Name: `<script>alert("x")</script>`}); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.Pair(ctx, id, e.SiteID); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.signIn("practice", "siteId", e.SiteID, "secret", "site-secret")
	_, h, page := b.get("/console/practice")
	if strings.Contains(page, "<script>") || !strings.Contains(page, "&lt;script&gt;") {
		t.Fatalf("the name is not escaped:\n%s", page)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers: %v", h)
	}
}

// The practice page has a write grant control per paired integrator
// (server/api's console grant tests drive them end to end); it acts only
// on this site's integrators.
func TestWriteGrantControls(t *testing.T) {
	e := start(t)
	b := e.browser(t)
	b.signIn("practice", "siteId", e.SiteID, "secret", "site-secret")
	if _, _, page := b.get("/console/practice"); strings.Count(page, "Grant writes") != 2 {
		t.Fatalf("want a grant control per integrator:\n%s", page)
	}
	csrf := b.csrf("/console/practice")
	for _, grant := range []string{"on", "off"} {
		if status, _, _ := b.post("/console/practice/writes", url.Values{"csrf": {csrf}, "integratorId": {e.idC}, "grant": {grant}}); status != http.StatusNotFound {
			t.Fatalf("grant=%s for another site's integrator: %d", grant, status)
		}
	}
	if a, err := e.Store.Access(context.Background(), e.idC, e.site2); err != nil || a.WritesGranted {
		t.Fatalf("the other site's grant: %+v %v", a, err)
	}
	if rec := e.records(t, "write-grant"); len(rec) != 2 || rec[0].Status != http.StatusNotFound || rec[0].SiteID != e.SiteID {
		t.Fatalf("write-grant records: %+v", rec)
	}
}

// The practice's audit log shows the newest records first, 500 a page,
// with a link to the older ones that keeps the filters; each record shows
// its request id.
func TestAuditPageNewestFirst(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	var recs []*server.AuditRecord
	for i := range 501 { // i seconds old: /old/0 is the newest
		recs = append(recs, &server.AuditRecord{Time: now.Add(-time.Duration(i+60) * time.Second), IntegratorID: e.idB, SiteID: e.SiteID,
			Method: "GET", Path: fmt.Sprintf("/old/%d", i), Kind: server.AuditOther, Status: 200, RequestID: fmt.Sprintf("req-%d", i)})
	}
	if err := e.Store.AppendAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.signIn("practice", "siteId", e.SiteID, "secret", "site-secret")
	if err := e.API.FlushAudit(ctx); err != nil {
		t.Fatal(err)
	}
	_, h, page := b.get("/console/practice?integrator=" + e.idB)
	first := regexp.MustCompile(`<code>GET (/old/\d+)</code>`).FindAllStringSubmatch(page, -1)
	if len(first) != 500 || first[0][1] != "/old/0" || first[499][1] != "/old/499" || !strings.Contains(page, "request req-0<") {
		t.Fatalf("first page: %d records, from %v", len(first), first[:min(len(first), 1)])
	}
	older := regexp.MustCompile(`<a id="older" href="([^"]+)">`).FindStringSubmatch(page)
	if older == nil {
		t.Fatalf("no link to the older records:\n%s", page[len(page)-2000:])
	}
	link := strings.ReplaceAll(older[1], "&amp;", "&")
	if !strings.Contains(link, "integrator="+e.idB) {
		t.Fatalf("the link %s drops the filter", link)
	}
	_, _, page = b.get(link)
	rest := regexp.MustCompile(`<code>GET (/old/\d+)</code>`).FindAllStringSubmatch(page, -1)
	if len(rest) != 1 || rest[0][1] != "/old/500" || strings.Contains(page, `id="older"`) {
		t.Fatalf("second page: %v", rest)
	}
	if status, _, _ := b.get("/console/practice?older=x.1"); status != http.StatusBadRequest {
		t.Fatalf("a bad older: %d", status)
	}

	// The console's own actions carry their request id, as answered.
	in := e.records(t, "sign-in")
	if len(in) != 1 || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(in[0].RequestID) {
		t.Fatalf("sign-in record: %+v", in)
	}
	if id := h.Get("X-Request-Id"); id == "" || id == in[0].RequestID {
		t.Fatalf("the page's request id %q (the sign-in's %q)", id, in[0].RequestID)
	}
	if _, _, page = b.get("/console/practice"); !strings.Contains(page, "request "+in[0].RequestID+"<") {
		t.Fatal("the page does not show the sign-in's request id")
	}
}
