package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/waittest"
	"fhirlink/server"
	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
	"fhirlink/server/quota"
	"fhirlink/server/webhook"
)

// asyncObject is an async query object as a client decodes it.
type asyncObject struct {
	ID             string `json:"id"`
	Mode           string `json:"mode"`
	Status         string `json:"status"`
	MaxTimeInQueue int64  `json:"maxTimeInQueue"`
	ResultSize     *int64 `json:"resultSize"`
	CompletedAt    *time.Time
	StatusTiming   map[string]struct{ StartTime, EndTime time.Time } `json:"statusTiming"`
	Result         *struct {
		Rows         *int64 `json:"rows"`
		RowsAffected *int64 `json:"rowsAffected"`
		Size         int64  `json:"size"`
		Pages        []struct {
			PageNumber int    `json:"pageNumber"`
			Status     string `json:"status"`
			Size       int64  `json:"size"`
			Rows       struct{ Count, RangeStart, RangeEnd int64 }
		} `json:"pages"`
	} `json:"result"`
	ErrorDetails *struct {
		ErrorType    string `json:"errorType"`
		ErrorCode    int    `json:"errorCode"`
		ErrorMessage string `json:"errorMessage"`
	} `json:"errorDetails"`
	raw []byte
}

func do(t *testing.T, env *fhirlinktest.Env, method, path string, body any, header ...string) (int, http.Header, []byte) {
	t.Helper()
	status, h, b, err := env.Do(context.Background(), method, env.SiteURL()+path, env.Key, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return status, h, b
}

func createAsync(t *testing.T, env *fhirlinktest.Env, body map[string]any) *asyncObject {
	t.Helper()
	status, _, b := do(t, env, http.MethodPost, "/queries/async", body)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, b)
	}
	var q asyncObject
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if q.Status != "queued" || q.Mode != "async" || q.ID == "" {
		t.Fatalf("created %s", b)
	}
	return &q
}

func getAsync(t *testing.T, env *fhirlinktest.Env, id string) *asyncObject {
	t.Helper()
	status, _, b := do(t, env, http.MethodGet, "/queries/"+id, nil)
	if status != http.StatusOK {
		t.Fatalf("status of %s: %d %s", id, status, b)
	}
	var q asyncObject
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	q.raw = b
	return &q
}

// waitAsync polls the query until its status is one of want (at most 60 s).
func waitAsync(t *testing.T, env *fhirlinktest.Env, id string, want ...string) *asyncObject {
	t.Helper()
	var q *asyncObject
	waittest.For(t, 60*time.Second, fmt.Sprintf("query %s to be one of %v", id, want), func() bool {
		q = getAsync(t, env, id)
		return slices.Contains(want, q.Status)
	})
	return q
}

func asyncEnv(t *testing.T, opt fhirlinktest.Options, conf func(*api.Server)) *fhirlinktest.Env {
	t.Helper()
	opt.Configure = func(s *api.Server) {
		s.Async.Poll = 50 * time.Millisecond
		s.Webhooks.Poll, s.Webhooks.Backoff = 50*time.Millisecond, 50*time.Millisecond
		if conf != nil {
			conf(s)
		}
	}
	env, _ := start(t, opt)
	return env
}

const bigQuery = `SELECT g AS n, md5(g::text) AS h, repeat('x', 40) AS pad FROM generate_series(1, 40000) g ORDER BY g`

// A result of several pages reassembles exactly into what the same query
// returns directly, through the base64 pages, the raw stream and NDJSON.
func TestAsyncPagesReassemble(t *testing.T) {
	env := asyncEnv(t, fhirlinktest.Options{}, nil)
	created := createAsync(t, env, fhirlinktest.Command(bigQuery))
	if created.MaxTimeInQueue != 3600000 {
		t.Fatalf("default maxTimeInQueue %d", created.MaxTimeInQueue)
	}
	q := waitAsync(t, env, created.ID, "successful", "executionFailed", "uploadFailed")
	if q.Status != "successful" {
		t.Fatalf("async query: %s", q.raw)
	}
	if q.Result == nil || len(q.Result.Pages) < 3 || q.Result.Rows == nil || *q.Result.Rows != 40000 || q.ResultSize == nil || q.CompletedAt == nil {
		t.Fatalf("result: %s", q.raw)
	}
	for _, k := range []string{"initialising", "queued", "executing"} {
		if _, ok := q.StatusTiming[k]; !ok {
			t.Errorf("no %s timing in %s", k, q.raw)
		}
	}

	var all []json.RawMessage
	var sum int64
	for _, p := range q.Result.Pages {
		if p.Status != "cached" || p.Size > 1<<20+200 || p.Rows.RangeStart != int64(len(all))+1 {
			t.Fatalf("page %+v after %d rows", p, len(all))
		}
		status, h, b := do(t, env, http.MethodGet, fmt.Sprintf("/queries/%s/results/%d", q.ID, p.PageNumber), nil)
		if status != http.StatusOK {
			t.Fatalf("page %d: %d %s", p.PageNumber, status, b)
		}
		var page struct {
			Data       []byte `json:"data"`
			Parameters []any  `json:"parameters"`
		}
		if err := json.Unmarshal(b, &page); err != nil || page.Parameters == nil {
			t.Fatalf("page %d: %v %.200s", p.PageNumber, err, b)
		}
		if h.Get("Size") != strconv.FormatInt(int64(len(page.Data)), 10) || h.Get("Size") != strconv.FormatInt(p.Size, 10) ||
			h.Get("Rows-Count") != strconv.FormatInt(p.Rows.Count, 10) ||
			h.Get("Rows-Range-Start") != strconv.FormatInt(p.Rows.RangeStart, 10) || h.Get("Rows-Range-End") != strconv.FormatInt(p.Rows.RangeEnd, 10) {
			t.Fatalf("page %d headers %v, page %+v, data %d bytes", p.PageNumber, h, p, len(page.Data))
		}
		var rows []json.RawMessage
		if err := json.Unmarshal(page.Data, &rows); err != nil || int64(len(rows)) != p.Rows.Count {
			t.Fatalf("page %d data: %d rows, %v", p.PageNumber, len(rows), err)
		}
		// The same page streamed: the raw array, then NDJSON.
		status, _, raw := do(t, env, http.MethodGet, fmt.Sprintf("/queries/%s/results/%d/stream", q.ID, p.PageNumber), nil)
		if status != http.StatusOK || !bytes.Equal(raw, page.Data) {
			t.Fatalf("stream of page %d differs (%d, %d bytes vs %d)", p.PageNumber, status, len(raw), len(page.Data))
		}
		status, h, nd := do(t, env, http.MethodGet, fmt.Sprintf("/queries/%s/results/%d/stream", q.ID, p.PageNumber), nil, "Accept", "application/x-ndjson")
		lines := strings.Split(strings.TrimSuffix(string(nd), "\n"), "\n")
		if status != http.StatusOK || h.Get("Content-Type") != "application/x-ndjson" || len(lines) != len(rows) || lines[0] != string(rows[0]) {
			t.Fatalf("NDJSON page %d: %d, %d lines", p.PageNumber, status, len(lines))
		}
		all = append(all, rows...)
		sum += p.Size
	}
	if sum != *q.ResultSize {
		t.Fatalf("resultSize %d, pages sum to %d", *q.ResultSize, sum)
	}
	status, direct := env.Immediate(fhirlinktest.Command(bigQuery))
	if status != http.StatusOK {
		t.Fatalf("immediate: %d %.300s", status, direct.Raw)
	}
	joined, _ := json.Marshal(all)
	if !bytes.Equal(joined, direct.Result.Data) {
		t.Fatalf("reassembled pages (%d bytes) differ from the immediate result (%d bytes)", len(joined), len(direct.Result.Data))
	}
	// Past the last page.
	if status, _, b := do(t, env, http.MethodGet, fmt.Sprintf("/queries/%s/results/%d", q.ID, len(q.Result.Pages)+1), nil); status != http.StatusNotFound {
		t.Fatalf("page past the end: %d %s", status, b)
	}

	// Batch status: found and not found; someone else's query is not found.
	other, otherKey := env.NewIntegrator(true)
	_ = other
	status, _, b, err := env.Do(context.Background(), http.MethodGet, env.SiteURL()+"/queries/"+q.ID, otherKey, nil)
	if err != nil || status != http.StatusNotFound {
		t.Fatalf("another integrator's view of the query: %d %s", status, b)
	}
	missing := uuid.NewString()
	status, _, b = do(t, env, http.MethodPost, "/queries/status", map[string]any{"queryIds": []string{q.ID, missing, "nonsense"}})
	var batch struct {
		Results []struct {
			QueryID string       `json:"queryId"`
			Status  string       `json:"status"`
			Query   *asyncObject `json:"query"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &batch); err != nil || status != http.StatusOK || len(batch.Results) != 3 {
		t.Fatalf("batch: %d %s", status, b)
	}
	if r := batch.Results[0]; r.Status != "found" || r.Query == nil || r.Query.Status != "successful" {
		t.Fatalf("batch found: %s", b)
	}
	if r := batch.Results[1]; r.Status != "notFound" || r.QueryID != missing || r.Query != nil {
		t.Fatalf("batch notFound: %s", b)
	}
}

// An immediate query is answered at once while async queries occupy the
// agent: async work never takes the last execution slot.
func TestAsyncYieldsToImmediate(t *testing.T) {
	env := asyncEnv(t, fhirlinktest.Options{Concurrency: 2}, nil)
	a := createAsync(t, env, fhirlinktest.Command("SELECT 1 AS one FROM pg_sleep(3)"))
	b := createAsync(t, env, fhirlinktest.Command("SELECT 2 AS two FROM pg_sleep(3)"))
	waitAsync(t, env, a.ID, "executing")
	start := time.Now()
	body := fhirlinktest.Command("SELECT 42 AS answer")
	body["maxTimeInQueue"] = 0 // no waiting at all: a slot must be free
	status, q := env.Immediate(body)
	if status != http.StatusOK || q.Status != "successful" {
		t.Fatalf("immediate during async work: %d %s", status, q.Raw)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("immediate query took %s while async work ran", el)
	}
	for _, id := range []string{a.ID, b.ID} {
		if q := waitAsync(t, env, id, "successful", "executionFailed"); q.Status != "successful" {
			t.Fatalf("async %s: %s", id, q.raw)
		}
	}
}

// Cancelling a running query stops it in the database and its results
// answer 410; a query waiting for an offline site expires in the queue.
func TestAsyncCancelAndExpiry(t *testing.T) {
	env, db := start(t, fhirlinktest.Options{Configure: func(s *api.Server) { s.Async.Poll = 50 * time.Millisecond }})
	q := createAsync(t, env, fhirlinktest.Command("SELECT 1 AS one FROM pg_sleep(30)"))
	waitAsync(t, env, q.ID, "executing")
	status, _, b := do(t, env, http.MethodDelete, "/queries/"+q.ID, nil)
	if status != http.StatusOK || !strings.Contains(string(b), `"status":"cancelled"`) {
		t.Fatalf("cancel: %d %s", status, b)
	}
	waittest.For(t, 10*time.Second, "the cancelled query to leave the database", func() bool {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
	if got := getAsync(t, env, q.ID); got.Status != "cancelled" {
		t.Fatalf("after cancel: %s", got.raw)
	}
	if status, _, b := do(t, env, http.MethodGet, "/queries/"+q.ID+"/results/1", nil); status != http.StatusGone {
		t.Fatalf("results of a cancelled query: %d %s", status, b)
	}

	// maxTimeInQueue is validated, then expires while the agent is away.
	body := fhirlinktest.Command("SELECT 1 AS one")
	body["maxTimeInQueue"] = 7200001
	if status, _, b := do(t, env, http.MethodPost, "/queries/async", body); status != http.StatusBadRequest {
		t.Fatalf("maxTimeInQueue over the limit: %d %s", status, b)
	}
	env.StopAgent()
	env.WaitAvailability("offline")
	body["maxTimeInQueue"] = 300
	q = createAsync(t, env, body)
	got := waitAsync(t, env, q.ID, "expiredInQueue", "successful", "executionFailed")
	if got.Status != "expiredInQueue" || got.ErrorDetails == nil || got.CompletedAt == nil {
		t.Fatalf("expiry: %s", got.raw)
	}
}

// The execution limit cancels a slow query; results expire after the
// retention and then answer 410.
func TestAsyncTimeoutAndRetention(t *testing.T) {
	env := asyncEnv(t, fhirlinktest.Options{}, func(s *api.Server) {
		s.Async.Timeout = time.Second
		s.Async.Retention = 1500 * time.Millisecond
	})
	slow := createAsync(t, env, fhirlinktest.Command("SELECT 1 AS one FROM pg_sleep(10)"))
	fast := createAsync(t, env, fhirlinktest.Command("SELECT 1 AS one"))
	q := waitAsync(t, env, fast.ID, "successful", "executionFailed")
	if q.Status != "successful" {
		t.Fatalf("fast: %s", q.raw)
	}
	if status, _, b := do(t, env, http.MethodGet, "/queries/"+q.ID+"/results/1", nil); status != http.StatusOK {
		t.Fatalf("page 1: %d %s", status, b)
	}
	s := waitAsync(t, env, slow.ID, "successful", "executionFailed")
	if s.Status != "executionFailed" || s.ErrorDetails == nil || s.ErrorDetails.ErrorCode != http.StatusGatewayTimeout {
		t.Fatalf("slow: %s", s.raw)
	}
	waittest.For(t, 10*time.Second, "page 1 to expire after the retention", func() bool {
		status, _, b := do(t, env, http.MethodGet, "/queries/"+q.ID+"/results/1", nil)
		switch {
		case status == http.StatusGone && !strings.Contains(string(b), "expired"):
			t.Fatalf("410 body %s", b)
		case status != http.StatusGone && status != http.StatusOK:
			t.Fatalf("page 1 after the retention: %d %s", status, b)
		}
		return status == http.StatusGone
	})
	// The janitor deletes the pages themselves.
	waittest.For(t, 10*time.Second, "the janitor to purge the results", func() bool {
		rec, err := env.Store.AsyncQuery(context.Background(), q.ID)
		return err == nil && rec.Purged
	})
	if _, err := env.Results.Open(context.Background(), "async/"+q.ID+"/1"); server.ErrorCode(err) != server.ENOTFOUND {
		t.Fatalf("purged page still there: %v", err)
	}
}

// Webhooks are signed as documented and retried until the receiver
// accepts them; the delivery log shows the attempts.
func TestAsyncWebhook(t *testing.T) {
	type hit struct {
		header http.Header
		body   []byte
	}
	var mu sync.Mutex
	var hits []hit
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits = append(hits, hit{r.Header.Clone(), b})
		n := len(hits)
		mu.Unlock()
		if n <= 2 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	env := asyncEnv(t, fhirlinktest.Options{}, nil)
	secret := []byte("webhook-secret-for-tests")
	if err := env.Store.SetWebhook(context.Background(), &server.Webhook{IntegratorID: env.IntegratorID, URL: recv.URL + "/hook", Secret: secret}); err != nil {
		t.Fatal(err)
	}
	q := createAsync(t, env, fhirlinktest.Command("SELECT 1 AS one"))
	waitAsync(t, env, q.ID, "successful")

	var dels struct {
		Deliveries []struct {
			ID, Status, QueryID, WebhookSource string
			Attempts, LastStatusCode           int
		} `json:"deliveries"`
	}
	waittest.For(t, 20*time.Second, "the webhook delivery to be delivered", func() bool {
		status, _, b, err := env.Do(context.Background(), http.MethodGet, env.URL()+"/integrator/webhooks/deliveries", env.Key, nil)
		if err != nil || status != http.StatusOK {
			t.Fatalf("deliveries: %d %s %v", status, b, err)
		}
		if err := json.Unmarshal(b, &dels); err != nil {
			t.Fatal(err)
		}
		return len(dels.Deliveries) == 1 && dels.Deliveries[0].Status == "delivered"
	})
	d := dels.Deliveries[0]
	if d.Attempts != 3 || d.LastStatusCode != http.StatusNoContent || d.QueryID != q.ID || d.WebhookSource != "async" {
		t.Fatalf("delivery %+v", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != 3 {
		t.Fatalf("%d attempts reached the receiver, want 3", len(hits))
	}
	for _, h := range hits {
		ts := h.header.Get(webhook.HeaderTimestamp)
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			t.Fatalf("timestamp %q: %v", ts, err)
		}
		if got, want := h.header.Get(webhook.HeaderSignature), webhook.Sign(secret, h.body, ts); got != want || len(got) != 64 {
			t.Fatalf("signature %q, want %q", got, want)
		}
		if h.header.Get(webhook.HeaderID) != d.ID || !bytes.Equal(h.body, hits[0].body) {
			t.Fatal("retries must resend the same delivery")
		}
	}
	var ev map[string]any
	if err := json.Unmarshal(hits[0].body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev["id"] != d.ID || ev["queryId"] != q.ID || ev["siteId"] != env.SiteID || ev["webhookSource"] != "async" || ev["occurredAt"] == nil || len(ev) != 5 {
		t.Fatalf("webhook body %s", hits[0].body)
	}
}

// Async queries count toward the daily quota and are audited with their
// SQL; page downloads are audited with their rows.
func TestAsyncQuotaAndAudit(t *testing.T) {
	env := asyncEnv(t, fhirlinktest.Options{}, func(s *api.Server) { s.Limits = quota.Limits{DailyQueries: 1} })
	q := createAsync(t, env, fhirlinktest.Command("SELECT 7 AS seven"))
	if status, _, b := do(t, env, http.MethodPost, "/queries/async", fhirlinktest.Command("SELECT 8 AS eight")); status != http.StatusTooManyRequests {
		t.Fatalf("second query over a quota of 1: %d %s", status, b)
	}
	waitAsync(t, env, q.ID, "successful")
	if status, _, b := do(t, env, http.MethodGet, "/queries/"+q.ID+"/results/1", nil); status != http.StatusOK {
		t.Fatalf("page: %d %s", status, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var recs []*server.AuditRecord
	waittest.For(t, 5*time.Second, "the page download to be audited", func() bool {
		env.API.FlushAudit(ctx)
		var err error
		if recs, err = env.Store.Audit(ctx, server.AuditFilter{SiteID: env.SiteID}); err != nil {
			t.Fatal(err)
		}
		return len(recs) >= 3 && recs[len(recs)-1].Interaction == "results"
	})
	var created, page bool
	for _, r := range recs {
		if r.Path == "/integrator/sites/"+env.SiteID+"/queries/async" && r.Status == http.StatusCreated {
			created = r.Query == "SELECT 7 AS seven" && r.QueryID == q.ID && r.Kind == server.AuditPassthrough && r.Interaction == "async reader"
		}
		if r.Interaction == "results" && r.QueryID == q.ID && r.Rows == 1 && r.Status == http.StatusOK {
			page = true
		}
	}
	if !created || !page {
		for _, r := range recs {
			t.Logf("%+v", r)
		}
		t.Fatalf("audit: create recorded %v, page recorded %v", created, page)
	}
}

// Webhook deliveries live in the state store: a restarted server carries
// on with the attempts where the stopped one left them.
func TestWebhookSurvivesRestart(t *testing.T) {
	var mu sync.Mutex
	hits, accept := 0, false
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits++
		if !accept {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer recv.Close()
	env := asyncEnv(t, fhirlinktest.Options{}, func(s *api.Server) { s.Webhooks.Backoff = 300 * time.Millisecond })
	if err := env.Store.SetWebhook(context.Background(), &server.Webhook{IntegratorID: env.IntegratorID, URL: recv.URL, Secret: []byte("k")}); err != nil {
		t.Fatal(err)
	}
	q := createAsync(t, env, fhirlinktest.Command("SELECT 1 AS one"))
	waitAsync(t, env, q.ID, "successful")
	waittest.For(t, 20*time.Second, "the first webhook attempt to reach the receiver", func() bool { mu.Lock(); defer mu.Unlock(); return hits >= 1 })
	env.RestartServer()
	mu.Lock()
	accept = true
	mu.Unlock()
	waittest.For(t, 20*time.Second, "the restarted server to deliver the webhook", func() bool {
		ds, err := env.Store.WebhookDeliveries(context.Background(), env.IntegratorID, 10)
		return err == nil && len(ds) == 1 && ds[0].Status == server.DeliveryDelivered && ds[0].Attempts >= 2
	})
}

// Revoking the pairing stops an async query already running, in the
// database, as it stops a request in flight.
func TestRevocationCancelsRunningAsyncQuery(t *testing.T) {
	env, db := start(t, fhirlinktest.Options{Configure: func(s *api.Server) { s.Async.Poll = 50 * time.Millisecond }})
	createAsync(t, env, fhirlinktest.Command("SELECT pg_sleep(30) /* revoked async */"))
	waittest.For(t, 10*time.Second, "the async query to run in the database", func() bool {
		return activeQueries(t, db, "%revoked async%") > 0
	})
	if err := env.Store.Unpair(context.Background(), env.IntegratorID, env.SiteID); err != nil {
		t.Fatal(err)
	}
	waitGone(t, db, "%pg_sleep(30) /* revoked async */%")
}
