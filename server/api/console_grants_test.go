package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/fhir/fhirvalidate"
	"fhirlink/mappings/zedmed/zedsynth"
	"fhirlink/server"
	"fhirlink/server/fhirlinktest"
	"fhirlink/server/hub"
)

// Write grants from the web console, end to end: the practice's button is
// asked of its agent through the tunnel, which decides, and an
// integrator's FHIR booking then succeeds or is refused.

// grantEnv is a Zedmed practice (SQLite) whose agent allows writes, with
// a second paired integrator (other, key) granted nothing yet.
type grantEnv struct {
	env        *fhirlinktest.Env
	other, key string
	slots      []freeSlot
	patient    string
	agentLog   *fhirlinktest.LogBuffer
}

func startGrants(t *testing.T, consoleGrants bool) *grantEnv {
	t.Helper()
	path, _ := zedPractice(t)
	var agentLog fhirlinktest.LogBuffer
	env := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "sqlite", DSN: path, PMSType: "Zedmed", Catalogue: zedsynth.CatalogueMain,
		AllowWrites: true, ConsoleGrants: consoleGrants, StatusInterval: 200 * time.Millisecond, AgentLog: &agentLog})
	g := &grantEnv{env: env, slots: freeSlots(t, env), patient: search(t, env, "Patient?_count=1").ids(t, "match")[0], agentLog: &agentLog}
	g.other, g.key = env.NewIntegrator(true)
	return g
}

// book is the other integrator's FHIR booking into its i-th free slot.
func (g *grantEnv) book(t *testing.T, i int) (int, []byte) {
	t.Helper()
	status, _, body, err := g.env.Do(context.Background(), http.MethodPost, g.env.SiteURL()+"/fhir/R4/Appointment", g.key,
		[]byte(appointmentJSON(g.slots[i], g.patient)), "Content-Type", "application/fhir+json")
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

// granted reports the other integrator's grant in the agent's record and
// in the server's copy.
func (g *grantEnv) granted(t *testing.T) (agent, onServer bool) {
	t.Helper()
	agent, err := g.env.Grants.Granted(g.other)
	if err != nil {
		t.Fatal(err)
	}
	a, err := g.env.Store.Access(context.Background(), g.other, g.env.SiteID)
	if err != nil {
		t.Fatal(err)
	}
	return agent, a.WritesGranted
}

// consoleSession is a signed-in practice console session.
type consoleSession struct {
	t    *testing.T
	base string
	c    *http.Client
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func signInPractice(t *testing.T, env *fhirlinktest.Env) *consoleSession {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	p := &consoleSession{t: t, base: env.URL(), c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	status, h, body := p.post("/console/sign-in", url.Values{"role": {"practice"}, "csrf": {p.csrf("/console/sign-in")}, "siteId": {env.SiteID}, "secret": {"site-secret"}})
	if status != http.StatusSeeOther || h.Get("Location") != "/console/practice" {
		t.Fatalf("sign-in: %d %s", status, body)
	}
	return p
}

func (p *consoleSession) get(path string) (int, string) {
	p.t.Helper()
	resp, err := p.c.Get(p.base + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (p *consoleSession) csrf(path string) string {
	p.t.Helper()
	_, page := p.get(path)
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		p.t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

func (p *consoleSession) post(path string, form url.Values) (int, http.Header, string) {
	p.t.Helper()
	resp, err := p.c.PostForm(p.base+path, form)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// writes presses the practice page's Grant writes (on) or Revoke writes
// (off) button of an integrator.
func (p *consoleSession) writes(integratorID, grant string) (int, string, string) {
	p.t.Helper()
	status, h, body := p.post("/console/practice/writes", url.Values{"csrf": {p.csrf("/console/practice")}, "integratorId": {integratorID}, "grant": {grant}})
	return status, h.Get("Location"), body
}

// The practice grants an integrator writes in the console: its agent
// (with --console-grants) records it, the server follows, and the
// integrator's booking succeeds; revoked, the next booking is refused.
// Each change is audited with the practice as subject.
func TestConsoleGrantsWrites(t *testing.T) {
	g := startGrants(t, true)
	if status, body := g.book(t, 0); status != http.StatusForbidden {
		t.Fatalf("booking before any grant: %d %s", status, body)
	}
	p := signInPractice(t, g.env)
	if _, page := p.get("/console/practice"); !strings.Contains(page, "the agent lets this console grant writes") || !strings.Contains(page, "allowed by the agent") {
		t.Fatalf("the page does not say what the agent allows:\n%s", page)
	}
	if status, loc, body := p.writes(g.other, "on"); status != http.StatusSeeOther || loc != "/console/practice?done=writes-on" {
		t.Fatalf("grant: %d %s %s", status, loc, body)
	}
	if agent, srv := g.granted(t); !agent || !srv {
		t.Fatalf("after the grant: agent %v, server %v; want both", agent, srv)
	}
	if !strings.Contains(g.agentLog.String(), `msg="write grant changed" integrator=`+g.other+` granted=true source=console`) {
		t.Fatalf("the agent's log does not show the console's grant:\n%s", g.agentLog.String())
	}
	status, body := g.book(t, 0)
	if status != http.StatusCreated {
		t.Fatalf("booking after the console's grant: %d %s", status, body)
	}
	fhirvalidate.Resources(t, body)
	if _, page := p.get("/console/practice?done=writes-on"); !strings.Contains(page, "The agent granted the integrator writes") ||
		!regexp.MustCompile(`data-integrator="`+g.other+`"[\s\S]*?<span class="writes">granted</span>[\s\S]*?Revoke writes`).MatchString(page) {
		t.Fatalf("the page after the grant:\n%s", page)
	}

	if status, loc, body := p.writes(g.other, "off"); status != http.StatusSeeOther || loc != "/console/practice?done=writes-off" {
		t.Fatalf("revoke: %d %s %s", status, loc, body)
	}
	if agent, srv := g.granted(t); agent || srv {
		t.Fatalf("after the revocation: agent %v, server %v; want neither", agent, srv)
	}
	if status, body := g.book(t, 1); status != http.StatusForbidden || !strings.Contains(string(body), "no write grant") {
		t.Fatalf("booking after the revocation: %d %s", status, body)
	}
	if status, _, _ := p.writes(g.other, "maybe"); status != http.StatusBadRequest {
		t.Fatalf("grant=maybe: %d", status)
	}
	if err := g.env.API.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := consoleRecords(t, g.env, "write-grant")
	if len(recs) != 3 || recs[0] != "303 integrator="+g.other+" grant=on" || recs[1] != "303 integrator="+g.other+" grant=off" || !strings.HasPrefix(recs[2], "400 ") {
		t.Fatalf("write-grant audit records: %q", recs)
	}
}

// consoleRecords are the site's console audit records of action, as
// "status query".
func consoleRecords(t *testing.T, env *fhirlinktest.Env, action string) []string {
	t.Helper()
	all, err := env.Store.Audit(context.Background(), server.AuditFilter{SiteID: env.SiteID})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range all {
		if r.Kind == "console" && r.Interaction == action {
			out = append(out, strconv.Itoa(r.Status)+" "+r.Query)
		}
	}
	return out
}

// An agent without --console-grants refuses the console's grant: nothing
// changes on either side, and the page names the command to run at the
// practice server. A revocation from the console it still applies.
func TestConsoleGrantNeedsAgentOptIn(t *testing.T) {
	g := startGrants(t, false)
	p := signInPractice(t, g.env)
	if _, page := p.get("/console/practice"); !strings.Contains(page, "this console may only revoke them") {
		t.Fatalf("the page does not say the console cannot grant:\n%s", page)
	}
	status, _, body := p.writes(g.other, "on")
	if status != http.StatusForbidden || !strings.Contains(body, "without --console-grants") ||
		!strings.Contains(body, "fhirlink agent grant-writes --integrator "+g.other) {
		t.Fatalf("grant without the agent's opt-in: %d\n%s", status, body)
	}
	if agent, srv := g.granted(t); agent || srv {
		t.Fatalf("after the refused grant: agent %v, server %v; want neither", agent, srv)
	}
	if status, body := g.book(t, 0); status != http.StatusForbidden {
		t.Fatalf("booking after the refused grant: %d %s", status, body)
	}

	g.env.GrantWrites(g.other) // at the practice server, as 'fhirlink agent grant-writes'
	if status, body := g.book(t, 0); status != http.StatusCreated {
		t.Fatalf("booking after the practice's grant: %d %s", status, body)
	}
	if status, loc, body := p.writes(g.other, "off"); status != http.StatusSeeOther || loc != "/console/practice?done=writes-off" {
		t.Fatalf("revoke without the opt-in: %d %s %s", status, loc, body)
	}
	if agent, srv := g.granted(t); agent || srv {
		t.Fatalf("after the revocation: agent %v, server %v; want neither", agent, srv)
	}
}

// With the agent offline a grant changes nothing and says why; a
// revocation takes effect on the server at once, the page says the agent
// still lists it, and the agent's record loses it when the agent connects
// again.
func TestConsoleGrantsWithAgentOffline(t *testing.T) {
	g := startGrants(t, true)
	g.env.GrantWrites(g.other)
	third, _ := g.env.NewIntegrator(true)
	p := signInPractice(t, g.env)
	waittest.For(t, 10*time.Second, "the agent's report to list the grant", func() bool {
		return slices.Contains(g.env.Hub.Status(g.env.SiteID).Info.WriteGrants, g.other)
	})
	g.env.StopAgent()
	g.env.WaitAvailability(hub.Offline)

	status, _, body := p.writes(third, "on")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "not connected, so writes were not granted and nothing changed") {
		t.Fatalf("grant with the agent offline: %d\n%s", status, body)
	}
	if ok, _ := g.env.Grants.Granted(third); ok {
		t.Fatal("the agent's record changed")
	}
	if status, loc, body := p.writes(g.other, "off"); status != http.StatusSeeOther || loc != "/console/practice?done=writes-off-pending" {
		t.Fatalf("revoke with the agent offline: %d %s %s", status, loc, body)
	}
	if agent, srv := g.granted(t); !agent || srv {
		t.Fatalf("revoked while offline: agent %v, server %v; want the agent's record only", agent, srv)
	}
	if _, page := p.get("/console/practice?done=writes-off-pending"); !strings.Contains(page, "the server revokes it there as soon as the agent connects again") ||
		!strings.Contains(page, "revoked on the server; the agent still lists it until it connects again") {
		t.Fatalf("the page after revoking offline:\n%s", page)
	}

	since := time.Now()
	g.env.StartAgent()
	g.env.WaitReconnected(since)
	waittest.For(t, 10*time.Second, "the agent's record to lose the grant revoked while it was offline", func() bool {
		agent, _ := g.granted(t)
		return !agent
	})
	if !strings.Contains(g.agentLog.String(), `msg="write grant changed" integrator=`+g.other+` granted=false source=reconnect`) {
		t.Fatalf("the agent's log does not show the sync's revocation:\n%s", g.agentLog.String())
	}
	if ok, _ := g.env.Grants.Granted(g.env.IntegratorID); !ok {
		t.Fatal("the sync revoked a grant the server holds")
	}
	if status, body := g.book(t, 0); status != http.StatusForbidden {
		t.Fatalf("booking after the revocation: %d %s", status, body)
	}
}
