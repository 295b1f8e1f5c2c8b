package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/waittest"
	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
	"fhirlink/server/quota"
)

// quotaEnv starts a Bp Premier practice with the API configured by conf.
func quotaEnv(t *testing.T, conf func(*api.Server)) *fhirlinktest.Env {
	t.Helper()
	dsn, _ := bpPractice(t)
	return fhirlinktest.Start(t, fhirlinktest.Options{Engine: "postgres", DSN: dsn, Configure: conf})
}

// auditOf flushes the audit queue and returns the records matching f. A
// request's record is queued once its response is complete, which can be a
// moment after the client has read it: wait with waitAudited first.
func auditOf(t *testing.T, env *fhirlinktest.Env, f server.AuditFilter) []*server.AuditRecord {
	t.Helper()
	ctx := context.Background()
	if err := env.API.FlushAudit(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := env.Store.Audit(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// waitAudited waits until there are n audit records matching f (at most
// 5 s) and fails if there are more.
func waitAudited(t *testing.T, env *fhirlinktest.Env, f server.AuditFilter, n int) []*server.AuditRecord {
	t.Helper()
	var recs []*server.AuditRecord
	waittest.For(t, 5*time.Second, fmt.Sprintf("%d audit records", n), func() bool {
		recs = auditOf(t, env, f)
		return len(recs) >= n
	})
	if len(recs) != n {
		t.Fatalf("%d audit records, want %d", len(recs), n)
	}
	return recs
}

func retryAfterSecs(t *testing.T, h http.Header, max int) int {
	t.Helper()
	n, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || n < 1 || n > max {
		t.Fatalf("Retry-After %q, want 1..%d", h.Get("Retry-After"), max)
	}
	return n
}

// passthroughError decodes the passthrough API's request error shape.
func passthroughError(t *testing.T, b []byte) (int, string) {
	t.Helper()
	var e struct {
		Error struct {
			Status  int    `json:"status"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Status == 0 {
		t.Fatalf("not the passthrough error shape: %s", b)
	}
	return e.Error.Status, e.Error.Message
}

// outcomeCode returns the first issue code of an OperationOutcome.
func outcomeCode(t *testing.T, b []byte) string {
	t.Helper()
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Code string `json:"code"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(b, &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		t.Fatalf("not an OperationOutcome: %s", b)
	}
	return oo.Issue[0].Code
}

func TestDailyQueryQuota(t *testing.T) {
	env := quotaEnv(t, nil)
	ctx := context.Background()
	if err := env.Store.SetQuota(ctx, &server.Quota{IntegratorID: env.IntegratorID, SiteID: env.SiteID, DailyQueries: 3, DailyBytes: -1}); err != nil {
		t.Fatal(err)
	}
	// Two passthrough queries and a FHIR search: three queries.
	for range 2 {
		if status, q := env.Immediate(fhirlinktest.Command("SELECT 1 AS one")); status != http.StatusOK {
			t.Fatalf("status %d: %s", status, q.Raw)
		}
	}
	if status, _, b := env.FHIR(http.MethodGet, "Patient?_count=1", ""); status != http.StatusOK {
		t.Fatalf("FHIR status %d: %s", status, b)
	}
	// The 4th: passthrough shape on the passthrough route...
	status, h, b, err := env.Do(ctx, http.MethodPost, env.SiteURL()+"/queries/immediate", env.Key, fhirlinktest.Command("SELECT 1 AS one"))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusTooManyRequests {
		t.Fatalf("4th query: status %d: %s", status, b)
	}
	secs := retryAfterSecs(t, h, 86400)
	// Retry-After runs to the next UTC midnight.
	now := time.Now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	if d := midnight.Sub(now).Seconds(); float64(secs) < d-5 || float64(secs) > d+5 {
		t.Fatalf("Retry-After %d s, want about %.0f s (to 00:00 UTC)", secs, d)
	}
	if st, msg := passthroughError(t, b); st != http.StatusTooManyRequests || !strings.Contains(msg, "daily query quota") {
		t.Fatalf("error %d %q", st, msg)
	}
	// ...and an OperationOutcome on FHIR routes.
	status, h, b = env.FHIR(http.MethodGet, "Patient?_count=1", "")
	if status != http.StatusTooManyRequests || outcomeCode(t, b) != "throttled" {
		t.Fatalf("FHIR over quota: status %d: %s", status, b)
	}
	retryAfterSecs(t, h, 86400)
	// The CapabilityStatement does not reach the practice: not counted.
	if status, _, b := env.FHIR(http.MethodGet, "metadata", ""); status != http.StatusOK {
		t.Fatalf("metadata over quota: %d %s", status, b)
	}
	// Refused requests are not counted; another integrator has its own quota.
	recs := waitAudited(t, env, server.AuditFilter{SiteID: env.SiteID}, 6)
	if recs[3].Status != http.StatusTooManyRequests || recs[4].Status != http.StatusTooManyRequests {
		t.Fatalf("refusals audited as %d, %d", recs[3].Status, recs[4].Status)
	}
	u, err := env.Store.Usage(ctx, env.IntegratorID, env.SiteID, server.UsageDay(now), server.UsageDay(now))
	if err != nil || len(u) != 1 || u[0].Queries != 3 {
		t.Fatalf("usage %+v, %v", u, err)
	}
	_, key2 := env.NewIntegrator(true)
	if status, _, b, _ := env.Do(ctx, http.MethodPost, env.SiteURL()+"/queries/immediate", key2, fhirlinktest.Command("SELECT 1 AS one")); status != http.StatusOK {
		t.Fatalf("other integrator: %d %s", status, b)
	}
	// Raising the quota lets the integrator on at once.
	if err := env.Store.SetQuota(ctx, &server.Quota{IntegratorID: env.IntegratorID, SiteID: env.SiteID, DailyQueries: 4, DailyBytes: -1}); err != nil {
		t.Fatal(err)
	}
	if status, q := env.Immediate(fhirlinktest.Command("SELECT 1 AS one")); status != http.StatusOK {
		t.Fatalf("after raising the quota: %d %s", status, q.Raw)
	}
}

func TestDailyByteQuotaAndDefaults(t *testing.T) {
	// Server defaults: 100 bytes a day; the integrator's every-site
	// override leaves bytes at the default and lifts the query cap.
	env := quotaEnv(t, func(s *api.Server) { s.Limits = quota.Limits{DailyQueries: 1, DailyBytes: 100} })
	ctx := context.Background()
	if err := env.Store.SetQuota(ctx, &server.Quota{IntegratorID: env.IntegratorID, DailyQueries: 0, DailyBytes: -1}); err != nil {
		t.Fatal(err)
	}
	status, q := env.Immediate(fhirlinktest.Command("SELECT repeat('x', 80) AS a"))
	if status != http.StatusOK || q.Result.Size < 80 {
		t.Fatalf("status %d: %s", status, q.Raw)
	}
	size := q.Result.Size
	// Under the cap: the next one runs and crosses it.
	waitUsage(t, env, size)
	if status, q = env.Immediate(fhirlinktest.Command("SELECT repeat('y', 80) AS a")); status != http.StatusOK {
		t.Fatalf("second: status %d: %s", status, q.Raw)
	}
	waitUsage(t, env, size+q.Result.Size)
	status, h, b, err := env.Do(ctx, http.MethodPost, env.SiteURL()+"/queries/immediate", env.Key, fhirlinktest.Command("SELECT 1 AS one"))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusTooManyRequests {
		t.Fatalf("over the byte cap: %d %s", status, b)
	}
	retryAfterSecs(t, h, 86400)
	if _, msg := passthroughError(t, b); !strings.Contains(msg, "daily data quota (100 bytes)") {
		t.Fatalf("message %q", msg)
	}
	// The default query cap (1) still holds for an integrator without an
	// override.
	_, key2 := env.NewIntegrator(true)
	for i, want := range []int{http.StatusOK, http.StatusTooManyRequests} {
		if status, _, b, _ := env.Do(ctx, http.MethodPost, env.SiteURL()+"/queries/immediate", key2, fhirlinktest.Command("SELECT 1 AS one")); status != want {
			t.Fatalf("default quota, query %d: %d %s", i+1, status, b)
		}
	}
}

// waitUsage waits until today's usage of the env's integrator at its site
// has the given bytes.
func waitUsage(t *testing.T, env *fhirlinktest.Env, bytes int64) {
	t.Helper()
	day := server.UsageDay(time.Now())
	waittest.For(t, 5*time.Second, fmt.Sprintf("today's usage to be %d bytes", bytes), func() bool {
		env.API.FlushAudit(context.Background())
		u, err := env.Store.Usage(context.Background(), env.IntegratorID, env.SiteID, day, day)
		if err != nil {
			t.Fatal(err)
		}
		return len(u) == 1 && u[0].Bytes == bytes
	})
}

func TestRateLimitWithBurst(t *testing.T) {
	env := quotaEnv(t, func(s *api.Server) { s.Limits = quota.Limits{RatePerSecond: 0.5, RateBurst: 3} })
	ctx := context.Background()
	get := func(key string) (int, http.Header, []byte) {
		status, h, b, err := env.Do(ctx, http.MethodGet, env.URL()+"/integrator/sites", key, nil)
		if err != nil {
			t.Fatal(err)
		}
		return status, h, b
	}
	for i := range 3 { // the burst
		if status, _, b := get(env.Key); status != http.StatusOK {
			t.Fatalf("request %d of the burst: %d %s", i+1, status, b)
		}
	}
	status, h, b := get(env.Key)
	if status != http.StatusTooManyRequests {
		t.Fatalf("past the burst: %d %s", status, b)
	}
	// One token comes back every 2 s.
	if n := retryAfterSecs(t, h, 2); n != 2 {
		t.Fatalf("Retry-After %d, want 2", n)
	}
	if st, msg := passthroughError(t, b); st != http.StatusTooManyRequests || !strings.Contains(msg, "rate limit") {
		t.Fatalf("error %d %q", st, msg)
	}
	// FHIR routes answer an OperationOutcome.
	status, h, b = env.FHIR(http.MethodGet, "Patient?_count=1", "")
	if status != http.StatusTooManyRequests || outcomeCode(t, b) != "throttled" || h.Get("Retry-After") == "" {
		t.Fatalf("FHIR past the burst: %d %s", status, b)
	}
	// Per integrator: another one has its own bucket.
	_, key2 := env.NewIntegrator(true)
	if status, _, b := get(key2); status != http.StatusOK {
		t.Fatalf("other integrator: %d %s", status, b)
	}
	// After the refill (2 s; its timing is unit-tested in package quota),
	// one more passes. A refused request takes no token, so polling does
	// not delay it.
	waittest.For(t, 10*time.Second, "the bucket to refill", func() bool {
		status, _, b := get(env.Key)
		if status != http.StatusOK && status != http.StatusTooManyRequests {
			t.Fatalf("after the refill: %d %s", status, b)
		}
		return status == http.StatusOK
	})
}

func TestUsageEndpoint(t *testing.T) {
	env := quotaEnv(t, nil)
	ctx := context.Background()
	var want int64
	for _, sql := range []string{"SELECT 1 AS one", "SELECT 'abc' AS s, 2 AS n"} {
		status, q := env.Immediate(fhirlinktest.Command(sql))
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, q.Raw)
		}
		want += q.Result.Size
	}
	status, _, body := env.FHIR(http.MethodGet, "Patient?_count=2", "")
	if status != http.StatusOK {
		t.Fatalf("FHIR: %d", status)
	}
	want += int64(len(body))
	waitAudited(t, env, server.AuditFilter{SiteID: env.SiteID}, 3)
	waitUsage(t, env, want)

	today := server.UsageDay(time.Now())
	status, _, b, err := env.Do(ctx, http.MethodGet, env.URL()+"/integrator/usage?siteId="+env.SiteID+"&from="+today+"&to="+today, env.Key, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("usage: %d %s %v", status, b, err)
	}
	var resp struct {
		From, To string
		Days     []struct {
			SiteID  string `json:"siteId"`
			Day     string `json:"day"`
			Queries int64  `json:"queries"`
			Bytes   int64  `json:"bytes"`
		} `json:"days"`
		Limits *struct {
			DailyQueries int64 `json:"dailyQueries"`
		} `json:"limits"`
		ResetsAt time.Time `json:"resetsAt"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Days) != 1 || resp.Days[0].Day != today || resp.Days[0].SiteID != env.SiteID || resp.Days[0].Queries != 3 || resp.Days[0].Bytes != want {
		t.Fatalf("usage %s, want 3 queries and %d bytes", b, want)
	}
	if resp.Limits == nil || resp.Limits.DailyQueries != 0 || resp.ResetsAt.Hour() != 0 || !resp.ResetsAt.After(time.Now()) {
		t.Fatalf("limits and reset: %s", b)
	}
	// The audit log tells the same story.
	var sum int64
	for _, r := range auditOf(t, env, server.AuditFilter{SiteID: env.SiteID}) {
		sum += r.Bytes
	}
	if sum != want {
		t.Fatalf("audit bytes %d, usage %d", sum, want)
	}
	// Another integrator sees none of it; bad input is refused.
	_, key2 := env.NewIntegrator(true)
	status, _, b, _ = env.Do(ctx, http.MethodGet, env.URL()+"/integrator/usage", key2, nil)
	if status != http.StatusOK || !strings.Contains(string(b), `"days":[]`) {
		t.Fatalf("other integrator: %d %s", status, b)
	}
	for _, q := range []string{"?from=yesterday", "?siteId=nope", "?from=2026-01-02&to=2026-01-01", "?from=2020-01-01&to=2026-01-01"} {
		if status, _, b, _ := env.Do(ctx, http.MethodGet, env.URL()+"/integrator/usage"+q, env.Key, nil); status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", q, status, b)
		}
	}
}

func TestAuditRecords(t *testing.T) {
	env := quotaEnv(t, func(s *api.Server) { s.TrustProxy = true })
	ctx := context.Background()
	before := time.Now()

	sql := "SELECT 'audit' AS word, 42 AS answer -- the full text is kept"
	status, q := env.Immediate(fhirlinktest.Command(sql))
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, q.Raw)
	}
	status, _, fhirBody := env.FHIR(http.MethodGet, "Patient?_count=2&gender=female", "", "X-Forwarded-For", "203.0.113.9, 198.51.100.2")
	if status != http.StatusOK {
		t.Fatalf("FHIR status %d", status)
	}
	var bundle struct {
		Entry []json.RawMessage `json:"entry"`
	}
	json.Unmarshal(fhirBody, &bundle)
	// Failures are audited too: a database error (400), a malformed
	// request (400), an unpaired integrator (403), no credential (401).
	status, bad := env.Immediate(fhirlinktest.Command("SELECT * FROM no_such_table"))
	if status != http.StatusBadRequest {
		t.Fatalf("bad SQL: %d %s", status, bad.Raw)
	}
	if status, _, b, _ := env.Do(ctx, http.MethodPost, env.SiteURL()+"/queries/immediate", env.Key, `{"command":`); status != http.StatusBadRequest {
		t.Fatalf("malformed: %d %s", status, b)
	}
	strangerID, strangerKey := env.NewIntegrator(false)
	if status, _, b, _ := env.Do(ctx, http.MethodPost, env.SiteURL()+"/queries/immediate", strangerKey, fhirlinktest.Command("SELECT 2 AS two")); status != http.StatusForbidden {
		t.Fatalf("unpaired: %d %s", status, b)
	}
	if status, _, b, _ := env.Do(ctx, http.MethodGet, env.SiteURL()+"/fhir/R4/Patient", "", nil); status != http.StatusUnauthorized {
		t.Fatalf("no key: %d %s", status, b)
	}

	recs := waitAudited(t, env, server.AuditFilter{SiteID: env.SiteID}, 6)
	for _, r := range recs {
		if r.Time.Before(before.Add(-time.Second)) || r.DurationUS <= 0 || r.SiteID != env.SiteID || r.ID == 0 {
			t.Errorf("record %+v", r)
		}
	}
	pt := recs[0]
	if pt.Kind != server.AuditPassthrough || pt.IntegratorID != env.IntegratorID || pt.Query != sql || pt.Interaction != "reader" ||
		pt.QueryID != q.ID || pt.Rows != 1 || pt.Bytes != q.Result.Size || pt.Status != http.StatusOK || pt.ClientAddr != "127.0.0.1" ||
		pt.Method != http.MethodPost || pt.Path != "/integrator/sites/"+env.SiteID+"/queries/immediate" {
		t.Errorf("passthrough record %+v (query id %s, size %d)", *pt, q.ID, q.Result.Size)
	}
	fr := recs[1]
	if fr.Kind != server.AuditFHIR || fr.Interaction != "search-type" || fr.ResourceType != "Patient" || fr.Query != "_count=2&gender=female" ||
		fr.Rows != int64(len(bundle.Entry)) || fr.Rows == 0 || fr.Bytes != int64(len(fhirBody)) || fr.Status != http.StatusOK ||
		fr.ClientAddr != "198.51.100.2" || fr.IntegratorID != env.IntegratorID {
		t.Errorf("FHIR record %+v (entries %d, body %d)", *fr, len(bundle.Entry), len(fhirBody))
	}
	if r := recs[2]; r.Status != http.StatusBadRequest || r.Query != "SELECT * FROM no_such_table" || r.QueryID != bad.ID || r.Rows != 0 || r.Bytes != 0 {
		t.Errorf("failed query record %+v", *r)
	}
	if r := recs[3]; r.Status != http.StatusBadRequest || r.Kind != server.AuditPassthrough || r.Query != "" || r.IntegratorID != env.IntegratorID {
		t.Errorf("malformed request record %+v", *r)
	}
	if r := recs[4]; r.Status != http.StatusForbidden || r.IntegratorID != strangerID {
		t.Errorf("unpaired record %+v", *r)
	}
	if r := recs[5]; r.Status != http.StatusUnauthorized || r.IntegratorID != "" || r.Kind != server.AuditFHIR {
		t.Errorf("unauthenticated record %+v", *r)
	}
	// A FHIR read.
	id := resourceIDs(t, fhirBody)[0]
	if status, _, b := env.FHIR(http.MethodGet, "Patient/"+id, ""); status != http.StatusOK {
		t.Fatalf("read: %d %s", status, b)
	}
	recs = waitAudited(t, env, server.AuditFilter{SiteID: env.SiteID}, 7)
	if r := recs[6]; r.Interaction != "read" || r.ResourceType != "Patient" || r.Rows != 1 || r.Status != http.StatusOK {
		t.Errorf("read record %+v", *r)
	}
}

func resourceIDs(t *testing.T, bundle []byte) []string {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource struct {
				ID string `json:"id"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil || len(b.Entry) == 0 {
		t.Fatalf("bundle without entries: %s", bundle)
	}
	var ids []string
	for _, e := range b.Entry {
		ids = append(ids, e.Resource.ID)
	}
	return ids
}

// A practice reads its own site's audit log with its site credential, and
// nothing of another site's.
func TestPracticeReadsItsOwnAudit(t *testing.T) {
	env := quotaEnv(t, nil)
	ctx := context.Background()
	// A second site, paired with the same integrator, with no agent.
	other := uuid.NewString()
	if err := env.Store.CreateSite(ctx, &server.Site{ID: other, Name: "Other Practice", PMSType: wire.PMSBestPractice}, server.HashSecret("other-secret")); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.Pair(ctx, env.IntegratorID, other); err != nil {
		t.Fatal(err)
	}
	if status, q := env.Immediate(fhirlinktest.Command("SELECT 1 AS one")); status != http.StatusOK {
		t.Fatalf("%d %s", status, q.Raw)
	}
	if status, _, b, _ := env.Do(ctx, http.MethodPost, env.URL()+"/integrator/sites/"+other+"/queries/immediate", env.Key, fhirlinktest.Command("SELECT 'other' AS o")); status != http.StatusServiceUnavailable {
		t.Fatalf("offline site: %d %s", status, b)
	}
	waitAudited(t, env, server.AuditFilter{}, 2)

	read := func(site, secret, query string) (int, []*server.AuditRecord) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.URL()+api.PathAgentAudit+query, nil)
		req.SetBasicAuth(site, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			SiteID  string                `json:"siteId"`
			Records []*server.AuditRecord `json:"records"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Records
	}
	status, recs := read(env.SiteID, "site-secret", "")
	if status != http.StatusOK || len(recs) != 1 || recs[0].SiteID != env.SiteID || recs[0].Query != "SELECT 1 AS one" {
		t.Fatalf("own audit: %d %+v", status, recs)
	}
	status, recs = read(other, "other-secret", "?limit=10")
	if status != http.StatusOK || len(recs) != 1 || recs[0].SiteID != other || recs[0].Status != http.StatusServiceUnavailable {
		t.Fatalf("other site's audit: %d %+v", status, recs)
	}
	// A window that ends before the requests: nothing.
	if status, recs = read(env.SiteID, "site-secret", "?to=2020-01-01"); status != http.StatusOK || len(recs) != 0 {
		t.Fatalf("old window: %d %+v", status, recs)
	}
	// A site's credential reads only its own site; a wrong one nothing.
	if status, _ = read(env.SiteID, "other-secret", ""); status != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", status)
	}
	if status, _ = read(env.SiteID, "site-secret", "?limit=0"); status != http.StatusBadRequest {
		t.Fatalf("limit 0: %d", status)
	}
	// An integrator key is not a site credential.
	if status, _, _, _ := env.Do(ctx, http.MethodGet, env.URL()+api.PathAgentAudit, env.Key, nil); status != http.StatusUnauthorized {
		t.Fatalf("integrator key: %d", status)
	}
}

// A POST _search is audited with its form as the query; a request whose
// caller went away with 499.
func TestAuditPostSearchAndClientGone(t *testing.T) {
	env := quotaEnv(t, nil)
	if status, _, b := env.FHIR(http.MethodPost, "Patient/_search?_count=1", "gender=male"); status != http.StatusOK {
		t.Fatalf("POST _search: %d %s", status, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, _, _, err := env.Do(ctx, http.MethodPost, env.SiteURL()+"/queries/immediate", env.Key, fhirlinktest.Command("SELECT pg_sleep(5)")); err == nil {
		t.Fatal("the slow query answered before the client gave up")
	}
	recs := waitAudited(t, env, server.AuditFilter{SiteID: env.SiteID}, 2)
	if r := recs[0]; r.Interaction != "search-type" || r.Query != "_count=1&gender=male" || r.Method != http.MethodPost {
		t.Errorf("POST _search record %+v", *r)
	}
	if r := recs[1]; r.Status != api.StatusClientClosed || r.Query != "SELECT pg_sleep(5)" || r.Bytes != 0 {
		t.Errorf("abandoned query record %+v", *r)
	}
}
