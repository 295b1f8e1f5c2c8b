package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"fhirlink/agent/waittest"
	"fhirlink/server"
	"fhirlink/server/auth"
	"fhirlink/server/hub"
	"fhirlink/server/sqlite"
)

// TestWriteScopes: a FHIR write needs system/<Type>.c to create and .u to
// update or patch, in v2 letters alone or combined, or v1 .write; a key
// (no token) is not scoped.
func TestWriteScopes(t *testing.T) {
	cases := []struct {
		grant, res, interaction string
		ok                      bool
	}{
		{"system/Appointment.c", "Appointment", "create", true},
		{"system/Appointment.c", "Appointment", "update", false},
		{"system/Appointment.u", "Appointment", "update", true},
		{"system/Appointment.u", "Appointment", "patch", true},
		{"system/Appointment.cu", "Appointment", "create", true},
		{"system/Appointment.cruds", "Appointment", "patch", true},
		{"system/Appointment.write", "Appointment", "create", true},
		{"system/Appointment.read", "Appointment", "create", false},
		{"system/Appointment.rs", "Appointment", "update", false},
		{"system/Patient.c", "Patient", "create", true},
		{"system/Patient.c", "Appointment", "create", false},
		{"system/*.cu", "Patient", "create", true},
		{"system/passthrough.cud", "Appointment", "create", false},
	}
	e := echo.New()
	for _, tc := range cases {
		c := e.NewContext(httptest.NewRequest(http.MethodPost, "/", nil), httptest.NewRecorder())
		g, errs := auth.ParseGrant(tc.grant)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		c.Set(ctxGrant, g)
		err := requireWriteScope(c, tc.res, tc.interaction)
		if (err == nil) != tc.ok {
			t.Errorf("%s for %s %s: %v, want allowed %v", tc.grant, tc.interaction, tc.res, err, tc.ok)
		}
		perm := map[string]string{"create": "c", "update": "u", "patch": "u"}[tc.interaction]
		if err != nil && !strings.Contains(err.Error(), "lacks scope system/"+tc.res+"."+perm) {
			t.Errorf("%s: refusal %q does not name system/%s.%s", tc.grant, err, tc.res, perm)
		}
	}
	c := e.NewContext(httptest.NewRequest(http.MethodPost, "/", nil), httptest.NewRecorder())
	if err := requireWriteScope(c, "Appointment", "create"); err != nil {
		t.Errorf("key caller: %v", err)
	}
}

// guarded is an API server whose only route is a FHIR-style write behind
// writeGuard, counting its runs; no agent is connected (the site is
// offline, so only the grant decides).
type guarded struct {
	s          *Server
	url        string
	site       string
	integ, key string
	runs       atomic.Int32
	release    chan struct{} // when set, a run waits for it
}

func newGuarded(t *testing.T) *guarded {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g := &guarded{site: uuid.NewString(), integ: uuid.NewString()}
	if err := st.CreateSite(ctx, &server.Site{ID: g.site, Name: "P", PMSType: "BestPractice"}, []byte("h")); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIntegrator(ctx, &server.Integrator{ID: g.integ, Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	var hash []byte
	g.key, hash = server.NewSecret()
	st.SetIntegratorKey(ctx, g.integ, server.KeyPrimary, hash)
	st.Pair(ctx, g.integ, g.site)
	g.s = &Server{Store: st, Hub: &hub.Hub{}}
	g.s.setup()
	e := echo.New()
	e.HTTPErrorHandler = g.s.handleError
	grp := e.Group("/integrator", g.s.audited, g.s.authenticate)
	grp.POST("/sites/:siteId/fhir/R4/Appointment", func(c echo.Context) error {
		n := g.runs.Add(1)
		if g.release != nil {
			<-g.release
		}
		c.Response().Header().Set("Location", fmt.Sprintf("Appointment/%d", n))
		return c.Blob(http.StatusCreated, "application/fhir+json", []byte(fmt.Sprintf(`{"resourceType":"Appointment","id":"%d","executionId":%q}`,
			n, server.ExecutionID(c.Request().Context()))))
	}, g.s.requirePairing, g.s.writeGuard("Appointment", "create"))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	g.url = srv.URL + "/integrator/sites/" + g.site + "/fhir/R4/Appointment"
	return g
}

func (g *guarded) post(t *testing.T, body, key string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.url, strings.NewReader(body))
	req.Header.Set(KeyHeader, g.key)
	if key != "" {
		req.Header.Set(IdempotencyKeyHeader, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header, b.String()
}

// TestWriteGuard: a write without the practice's grant is refused with an
// OperationOutcome naming it, before anything runs; with it, an
// Idempotency-Key makes a repeat answer the first answer, exactly, without
// running again, and another body under the key is refused.
func TestWriteGuard(t *testing.T) {
	ctx := context.Background()
	g := newGuarded(t)
	const body = `{"resourceType":"Appointment","status":"booked"}`
	status, _, out := g.post(t, body, "k1")
	if status != http.StatusForbidden || !strings.Contains(out, "OperationOutcome") || !strings.Contains(out, "no write grant for this integrator") {
		t.Fatalf("without a grant: %d %s", status, out)
	}
	if g.runs.Load() != 0 {
		t.Fatal("a refused write ran")
	}
	if err := g.s.Store.GrantWrites(ctx, g.integ, g.site); err != nil {
		t.Fatal(err)
	}
	// The refusal was not kept under the key: with the grant it runs.
	status, h, first := g.post(t, body, "k1")
	if status != http.StatusCreated || h.Get("Location") != "Appointment/1" || h.Get(IdempotentReplayedHeader) != "" {
		t.Fatalf("first: %d %v %s", status, h, first)
	}
	status, h, again := g.post(t, body, "k1")
	if status != http.StatusCreated || again != first || h.Get("Location") != "Appointment/1" ||
		h.Get(IdempotentReplayedHeader) != "true" || h.Get("Content-Type") != "application/fhir+json" {
		t.Fatalf("repeat: %d %v %s, want %s replayed", status, h, again, first)
	}
	if n := g.runs.Load(); n != 1 {
		t.Fatalf("%d runs for one key", n)
	}
	want := server.ExecutionIDFor(g.integ, "k1", server.RequestFingerprint(http.MethodPost, strings.TrimPrefix(g.url, g.url[:strings.Index(g.url, "/integrator")]), []byte(body)))
	if !strings.Contains(first, want) {
		t.Errorf("the write ran under %s, want the execution id %s derived from its key", first, want)
	}
	status, _, out = g.post(t, `{"resourceType":"Appointment","status":"cancelled"}`, "k1")
	if status != http.StatusUnprocessableEntity || !strings.Contains(out, "another request") {
		t.Fatalf("another body under the key: %d %s", status, out)
	}
	// Without a key every request runs.
	g.post(t, body, "")
	g.post(t, body, "")
	if n := g.runs.Load(); n != 3 {
		t.Fatalf("%d runs, want 3", n)
	}
	if status, _, out := g.post(t, body, strings.Repeat("x", 256)); status != http.StatusBadRequest {
		t.Fatalf("a key too long: %d %s", status, out)
	}

	// Revoked: the next write is refused, even a repeat of a kept answer's
	// key is not (the answer is the first outcome; nothing runs).
	if err := g.s.Store.RevokeWrites(ctx, g.integ, g.site); err != nil {
		t.Fatal(err)
	}
	if status, _, out := g.post(t, body, "k2"); status != http.StatusForbidden {
		t.Fatalf("after the revocation: %d %s", status, out)
	}

	// Audit: the outcomes.
	g.s.FlushAudit(ctx)
	recs, err := g.s.Store.Audit(ctx, server.AuditFilter{IntegratorID: g.integ})
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, r := range recs {
		outcomes = append(outcomes, r.Outcome)
	}
	if got := strings.Join(outcomes, " "); got != "refused committed replayed failed committed committed failed refused" {
		t.Errorf("audited outcomes %q", got)
	}
}

// TestWriteGuardConcurrentRepeat: repeats of a key while its first request
// still runs run again under the same execution id (the agent's journal
// makes that one execution), and every answer is the first one stored.
func TestWriteGuardConcurrentRepeat(t *testing.T) {
	g := newGuarded(t)
	if err := g.s.Store.GrantWrites(context.Background(), g.integ, g.site); err != nil {
		t.Fatal(err)
	}
	g.release = make(chan struct{})
	const body = `{"resourceType":"Appointment"}`
	var wg sync.WaitGroup
	answers := make([]string, 4)
	for i := range answers {
		wg.Go(func() {
			status, _, out := g.post(t, body, "same")
			answers[i] = fmt.Sprint(status, out)
		})
	}
	waittest.For(t, 10*time.Second, "every repeat running", func() bool { return g.runs.Load() == 4 })
	close(g.release)
	wg.Wait()
	for _, a := range answers {
		if a != answers[0] {
			t.Fatalf("answers differ: %q and %q", answers[0], a)
		}
	}
	if !strings.HasPrefix(answers[0], "201") {
		t.Fatalf("answer %s", answers[0])
	}
}

// TestBodyTargets: the audit names the resource a FHIR write's body is and
// every reference in it.
func TestBodyTargets(t *testing.T) {
	for body, want := range map[string]string{
		`{"resourceType":"Appointment","id":"12","status":"cancelled","participant":[{"actor":{"reference":"Patient/45"}},{"actor":{"reference":"Practitioner/6"}}],"slot":[{"reference":"Slot/6-1-20260302090000"}]}`: "Appointment/12 Patient/45 Practitioner/6 Slot/6-1-20260302090000",
		`{"resourceType":"Parameters","parameter":[{"name":"appointment","resource":{"resourceType":"Appointment","slot":[{"reference":"Slot/1"}],"participant":[{"actor":{"reference":"Patient/2"}}]}}]}`:             "Patient/2 Slot/1",
		`{"resourceType":"Patient","name":[{"family":"Smith"}]}`: "",
		`not json`: "",
	} {
		if got := strings.Join(bodyTargets([]byte(body)), " "); got != want {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
}
