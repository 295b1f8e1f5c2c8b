package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fhirlink/agent"
	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
	"fhirlink/server/hub"
)

// practiceConsent is the practice's consent client, as 'fhirlink agent
// pairing-code' and friends use it.
func practiceConsent(env *fhirlinktest.Env) *agent.Consent {
	return &agent.Consent{ServerURL: env.URL(), SiteID: env.SiteID, Secret: "site-secret"}
}

// pairSite redeems a pairing code as an integrator, with extra query
// parameters as name, value pairs.
func pairSite(t *testing.T, env *fhirlinktest.Env, key, code string, extra ...string) (int, []byte) {
	t.Helper()
	q := url.Values{"pairingCode": {code}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	status, _, body, err := env.Do(context.Background(), http.MethodPost, env.URL()+"/integrator/pair-site?"+q.Encode(), key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

// immediateAs runs an immediate query with key and returns the status and
// the body.
func immediateAs(t *testing.T, env *fhirlinktest.Env, key, sql string) (int, string) {
	t.Helper()
	status, _, body, err := env.Do(context.Background(), http.MethodPost, env.SiteURL()+"/queries/immediate", key, fhirlinktest.Command(sql))
	if err != nil {
		t.Fatal(err)
	}
	return status, string(body)
}

// errorMessage is the message of a passthrough error body.
func errorMessage(body string) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	json.Unmarshal([]byte(body), &e)
	return e.Error.Message
}

func TestPairingCodeIssueAndRedeem(t *testing.T) {
	env, _ := start(t, fhirlinktest.Options{})
	ctx := context.Background()
	in, key := env.NewIntegrator(false)
	if status, body := immediateAs(t, env, key, "SELECT 1 AS one"); status != http.StatusForbidden || !strings.Contains(errorMessage(body), "pairing code") {
		t.Fatalf("unpaired: %d %s", status, body)
	}

	// A wrong site credential gets nothing.
	bad := practiceConsent(env)
	bad.Secret = "wrong"
	if _, err := bad.IssuePairingCode(ctx, 0); err == nil || !strings.Contains(err.Error(), "invalid site credential") {
		t.Fatalf("wrong site credential: %v", err)
	}

	pc := practiceConsent(env)
	issued, err := pc.IssuePairingCode(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if issued.SiteID != env.SiteID || len(issued.Code) != 24 || time.Until(issued.Expires) > time.Hour || time.Until(issued.Expires) < 59*time.Minute {
		t.Fatalf("issued %+v", issued)
	}

	// Clear refusals, none consuming the code.
	for _, c := range []struct {
		code   string
		extra  []string
		status int
		msg    string
	}{
		{"", nil, http.StatusBadRequest, "pairingCode is required"},
		{"0000-0000-0000-0000-0000", nil, http.StatusNotFound, "unknown pairing code"},
		{issued.Code, []string{"practiceManagementName", "Zedmed"}, http.StatusNotFound, "another practice"},
		{issued.Code, []string{"practiceManagementName", "Nope"}, http.StatusBadRequest, "practiceManagementName"},
	} {
		status, body := pairSite(t, env, key, c.code, c.extra...)
		if status != c.status || !strings.Contains(errorMessage(string(body)), c.msg) {
			t.Errorf("pair-site %q %v: %d %s; want %d %q", c.code, c.extra, status, body, c.status, c.msg)
		}
	}
	if status, _ := pairSite(t, env, "", issued.Code); status != http.StatusUnauthorized {
		t.Errorf("pair-site without a key: %d", status)
	}

	// Redeemed as typed by a person, with the reference API's parameters.
	typed := strings.ToLower(strings.ReplaceAll(issued.Code, "-", " "))
	status, body := pairSite(t, env, key, typed, "practiceManagementName", "Best Practice", "practiceManagementSiteId", "BP-1")
	var site struct {
		ID           string `json:"id"`
		Availability string `json:"availability"`
	}
	if json.Unmarshal(body, &site); status != http.StatusOK || site.ID != env.SiteID || site.Availability != hub.Online {
		t.Fatalf("pair-site: %d %s", status, body)
	}
	if status, body := immediateAs(t, env, key, "SELECT 1 AS one"); status != http.StatusOK {
		t.Fatalf("paired integrator's query: %d %s", status, body)
	}
	if status, _, body, _ := env.Do(ctx, http.MethodGet, env.URL()+"/integrator/sites", key, nil); status != http.StatusOK || !strings.Contains(string(body), env.SiteID) {
		t.Fatalf("sites of the paired integrator: %d %s", status, body)
	}

	// Used once only, even by another integrator.
	_, key2 := env.NewIntegrator(false)
	if status, body := pairSite(t, env, key2, issued.Code); status != http.StatusConflict || !strings.Contains(errorMessage(string(body)), "already used") {
		t.Fatalf("reused code: %d %s", status, body)
	}
	if status, _, body, _ := env.Do(ctx, http.MethodGet, env.URL()+"/integrator/sites", key2, nil); status != http.StatusOK || strings.Contains(string(body), env.SiteID) {
		t.Fatalf("an unpaired integrator sees the site: %d %s", status, body)
	}
	// Expired.
	expired, hash := server.NewPairingCode()
	if err := env.Store.CreatePairingCode(ctx, env.SiteID, hash, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if status, body := pairSite(t, env, key2, expired); status != http.StatusBadRequest || !strings.Contains(errorMessage(string(body)), "expired") {
		t.Fatalf("expired code: %d %s", status, body)
	}
	// An enrollment code is not a pairing code.
	enroll, ehash := server.NewEnrollmentCode()
	if err := env.Store.CreateEnrollmentCode(ctx, env.SiteID, ehash, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if status, _ := pairSite(t, env, key2, enroll); status != http.StatusNotFound {
		t.Fatalf("an enrollment code redeemed as a pairing code: %d", status)
	}

	// The practice sees who is paired, and since when.
	list, err := pc.Pairings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range list.Pairings {
		if p.IntegratorID == in {
			found = !p.PairedAt.IsZero() && strings.HasPrefix(p.IntegratorName, "Integrator ")
		}
		if p.IntegratorID != in && p.IntegratorID != env.IntegratorID {
			t.Errorf("unexpected pairing %+v", p)
		}
	}
	if !found || len(list.Pairings) != 2 {
		t.Fatalf("pairings %+v", list)
	}
	if err := pc.Revoke(ctx, "00000000-0000-0000-0000-000000000000"); err == nil || !strings.Contains(err.Error(), "not paired") {
		t.Fatalf("revoking an unknown integrator: %v", err)
	}
}

// startSleep runs SELECT pg_sleep(30) /* tag */ as key in the background and
// waits until it runs in the database; the returned channel yields the
// answer's status and body.
func startSleep(t *testing.T, env *fhirlinktest.Env, db *sql.DB, key, tag string) <-chan [2]string {
	t.Helper()
	out := make(chan [2]string, 1)
	go func() {
		status, _, body, err := env.Do(context.Background(), http.MethodPost, env.SiteURL()+"/queries/immediate", key,
			fhirlinktest.Command("SELECT pg_sleep(30) /* "+tag+" */"))
		if err != nil {
			body = []byte(err.Error())
		}
		out <- [2]string{http.StatusText(status), string(body)}
	}()
	waittest.For(t, 10*time.Second, "query "+tag+" to run in the database", func() bool {
		return activeQueries(t, db, "%/* "+tag+" */%") > 0
	})
	return out
}

// waitRefused waits for the answer of a cancelled query: a 403 whose
// message contains msg, within limit, and checks that the statement is gone
// from the database.
func waitRefused(t *testing.T, db *sql.DB, answer <-chan [2]string, tag, msg string, limit time.Duration) {
	t.Helper()
	select {
	case got := <-answer:
		if got[0] != http.StatusText(http.StatusForbidden) || !strings.Contains(errorMessage(got[1]), msg) {
			t.Fatalf("cancelled query %s answered %s %s; want 403 %q", tag, got[0], got[1], msg)
		}
	case <-time.After(limit):
		t.Fatalf("query %s still running %v after access was withdrawn", tag, limit)
	}
	waitGone(t, db, "%/* "+tag+" */%")
}

func TestPracticeRevokesAtOnce(t *testing.T) {
	env, db := start(t, fhirlinktest.Options{})
	ctx := context.Background()
	pc := practiceConsent(env)
	issued, err := pc.IssuePairingCode(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	in, key := env.NewIntegrator(false)
	if status, body := pairSite(t, env, key, issued.Code); status != http.StatusOK {
		t.Fatalf("pair-site: %d %s", status, body)
	}
	// The other integrator's query must survive the revocation.
	other := startSleep(t, env, db, env.Key, "bystander")
	answer := startSleep(t, env, db, key, "revoked")

	began := time.Now()
	if err := pc.Revoke(ctx, in); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, db, answer, "revoked", "revoked", 2*time.Second)
	t.Logf("revoked query ended %v after the revocation", time.Since(began))

	if status, body := immediateAs(t, env, key, "SELECT 1 AS one"); status != http.StatusForbidden || !strings.Contains(errorMessage(body), "not paired") {
		t.Fatalf("after revocation: %d %s", status, body)
	}
	if status, _, _ := env.FHIR(http.MethodGet, "metadata", ""); status != http.StatusOK {
		t.Fatalf("the paired integrator's FHIR: %d", status)
	}
	if activeQueries(t, db, "%/* bystander */%") != 1 {
		t.Fatal("revoking one integrator cancelled another's query")
	}
	list, err := pc.Pairings(ctx)
	if err != nil || len(list.Pairings) != 1 || list.Pairings[0].IntegratorID != env.IntegratorID {
		t.Fatalf("pairings after revoking: %+v %v", list, err)
	}
	if err := env.Store.Unpair(ctx, env.IntegratorID, env.SiteID); err != nil {
		t.Fatal(err)
	}
	// Unpairing in the store (the admin CLI, another server node) reaches
	// the query in flight through the sweep.
	waitRefused(t, db, other, "bystander", "not paired", 3*time.Second)
}

func TestBlockAndQuarantine(t *testing.T) {
	env, db := start(t, fhirlinktest.Options{})
	ctx := context.Background()
	_, key2 := env.NewIntegrator(true)
	st := env.Store

	// Blocked from this site: the query in flight stops, the next is refused,
	// the other integrator is untouched.
	answer := startSleep(t, env, db, env.Key, "blocked-site")
	if err := st.Block(ctx, env.IntegratorID, env.SiteID); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, db, answer, "blocked-site", "blocked from site", 3*time.Second)
	if status, body := immediateAs(t, env, env.Key, "SELECT 1 AS one"); status != http.StatusForbidden || !strings.Contains(errorMessage(body), "blocked from site "+env.SiteID) {
		t.Fatalf("blocked: %d %s", status, body)
	}
	if status, body := immediateAs(t, env, key2, "SELECT 1 AS one"); status != http.StatusOK {
		t.Fatalf("another integrator while one is blocked: %d %s", status, body)
	}
	if err := st.Unblock(ctx, env.IntegratorID, env.SiteID); err != nil {
		t.Fatal(err)
	}
	if status, body := immediateAs(t, env, env.Key, "SELECT 1 AS one"); status != http.StatusOK {
		t.Fatalf("unblocked: %d %s", status, body)
	}

	// Blocked everywhere, FHIR included.
	answer = startSleep(t, env, db, env.Key, "blocked-everywhere")
	if err := st.Block(ctx, env.IntegratorID, ""); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, db, answer, "blocked-everywhere", "every site", 3*time.Second)
	if status, _, body := env.FHIR(http.MethodGet, "Patient", ""); status != http.StatusForbidden || !strings.Contains(string(body), "OperationOutcome") || !strings.Contains(string(body), "every site") {
		t.Fatalf("FHIR while blocked everywhere: %d %s", status, body)
	}
	if err := st.Unblock(ctx, env.IntegratorID, ""); err != nil {
		t.Fatal(err)
	}

	// Quarantine: every integrator refused, the agent stays connected.
	a1 := startSleep(t, env, db, env.Key, "quarantine-1")
	a2 := startSleep(t, env, db, key2, "quarantine-2")
	if err := st.SetQuarantined(ctx, env.SiteID, true); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, db, a1, "quarantine-1", "quarantined", 3*time.Second)
	waitRefused(t, db, a2, "quarantine-2", "quarantined", 3*time.Second)
	for _, key := range []string{env.Key, key2} {
		if status, body := immediateAs(t, env, key, "SELECT 1 AS one"); status != http.StatusForbidden || !strings.Contains(errorMessage(body), "quarantined") {
			t.Fatalf("quarantined: %d %s", status, body)
		}
	}
	if status, _, body := env.FHIR(http.MethodGet, "Patient", ""); status != http.StatusForbidden || !strings.Contains(string(body), "quarantined") {
		t.Fatalf("FHIR while quarantined: %d %s", status, body)
	}
	if got := env.Hub.Status(env.SiteID).Availability; got != hub.Online {
		t.Fatalf("quarantined site's agent is %s; it stays connected", got)
	}
	if err := st.SetQuarantined(ctx, env.SiteID, false); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{env.Key, key2} {
		if status, body := immediateAs(t, env, key, "SELECT 1 AS one"); status != http.StatusOK {
			t.Fatalf("after the quarantine: %d %s", status, body)
		}
	}
}

func TestRotatedCredentialDisconnectsAgent(t *testing.T) {
	// refused counts the agent's dials that the hub turns away, so that
	// the test can see the agent try again with its old secret. Only a
	// dial's check runs in an HTTP request's context; the hub's periodic
	// recheck of an open session does not.
	var refused atomic.Int64
	env, db := start(t, fhirlinktest.Options{KeepAlive: 200 * time.Millisecond, Configure: func(s *api.Server) {
		h := s.Hub.(*hub.Hub)
		auth := h.Authenticate
		h.Authenticate = func(ctx context.Context, siteID, secret string) error {
			err := auth(ctx, siteID, secret)
			if err != nil && ctx.Value(http.ServerContextKey) != nil {
				refused.Add(1)
			}
			return err
		}
	}})
	ctx := context.Background()
	answer := startSleep(t, env, db, env.Key, "rotated")
	// As 'fhirlink admin site-rotate-secret' does: the store only.
	_, hash := server.NewSecret()
	if err := env.Store.SetSiteSecretHash(ctx, env.SiteID, hash); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	env.WaitAvailability(hub.Offline)
	t.Logf("session closed %v after the rotation", time.Since(began))
	select {
	case got := <-answer:
		if got[0] == http.StatusText(http.StatusOK) {
			t.Fatalf("the query survived the disconnection: %s", got[1])
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the query in flight did not end with the session")
	}
	waitGone(t, db, "%/* rotated */%")

	// The agent dials again with its old secret and is refused (it then
	// stops: a refused credential is not retried).
	waittest.For(t, 10*time.Second, "the agent to dial again with its old secret and be refused", func() bool {
		return refused.Load() >= 1
	})
	if got := env.Hub.Status(env.SiteID).Availability; got == hub.Online {
		t.Fatal("the agent reconnected with its old secret")
	}
	req, _ := http.NewRequest(http.MethodGet, env.URL()+wire.PathConnect, nil)
	req.SetBasicAuth(env.SiteID, "site-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("old secret at the tunnel endpoint: %s", resp.Status)
	}
}

// The key, the pairing and the site a request checks are kept in memory
// (package accesscache); a change written to the store behind the server's
// back, as the admin CLI or another node writes it, still refuses the very
// next request, with no query in flight and no announcement to wait for.
func TestCachedAccessRefusedAtOnce(t *testing.T) {
	env, _ := start(t, fhirlinktest.Options{})
	ctx := context.Background()
	st := env.Store
	in, key := env.NewIntegrator(true)
	ok := func(what, key string) {
		t.Helper()
		for range 2 { // the second is answered from memory
			if status, body := immediateAs(t, env, key, "SELECT 1 AS one"); status != http.StatusOK {
				t.Fatalf("%s: %d %s", what, status, body)
			}
		}
	}
	refused := func(what, key string, want int, msg string) {
		t.Helper()
		if status, body := immediateAs(t, env, key, "SELECT 1 AS one"); status != want || !strings.Contains(body, msg) {
			t.Fatalf("%s: %d %s; want %d %q", what, status, body, want, msg)
		}
	}

	ok("paired", key)
	if err := st.Unpair(ctx, in, env.SiteID); err != nil {
		t.Fatal(err)
	}
	refused("right after unpairing", key, http.StatusForbidden, "not paired")
	if err := st.Pair(ctx, in, env.SiteID); err != nil {
		t.Fatal(err)
	}

	ok("paired again", key)
	newKey, hash := server.NewSecret()
	if err := st.SetIntegratorKey(ctx, in, server.KeyPrimary, hash); err != nil {
		t.Fatal(err)
	}
	refused("the rotated key", key, http.StatusUnauthorized, "unknown or was rotated")

	ok("the new key", newKey)
	if err := st.Block(ctx, in, env.SiteID); err != nil {
		t.Fatal(err)
	}
	refused("right after the block", newKey, http.StatusForbidden, "blocked from site")
	if err := st.Unblock(ctx, in, env.SiteID); err != nil {
		t.Fatal(err)
	}

	ok("unblocked", newKey)
	if err := st.SetQuarantined(ctx, env.SiteID, true); err != nil {
		t.Fatal(err)
	}
	refused("right after the quarantine", newKey, http.StatusForbidden, "quarantined")
	if err := st.SetQuarantined(ctx, env.SiteID, false); err != nil {
		t.Fatal(err)
	}
	ok("after the quarantine", newKey)
}
