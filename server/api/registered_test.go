package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"fhirlink/agent/waittest"
	"fhirlink/server"
	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
)

type registeredObj struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Status           string `json:"status"`
	Frequency        int64  `json:"frequency"`
	Duration         int64  `json:"duration"`
	LastHash         string `json:"lastHash"`
	LastErrorDetails *struct {
		ErrorMessage string `json:"errorMessage"`
	} `json:"lastErrorDetails"`
	Metrics struct {
		LastSucceededAt         *time.Time `json:"lastSucceededAt"`
		ExecutionSucceededCount int64      `json:"executionSucceededCount"`
		ExecutionFailedCount    int64      `json:"executionFailedCount"`
		ResultSizeSum           int64      `json:"resultSizeSum"`
		RequestSize             int64      `json:"requestSize"`
		LastExecutionDuration   int64      `json:"lastExecutionDuration"`
	} `json:"metrics"`
	CompletedAt *time.Time `json:"completedAt"`
}

func getRegistered(t *testing.T, env *fhirlinktest.Env, id string) *registeredObj {
	t.Helper()
	status, _, b := do(t, env, http.MethodGet, "/queries/registered/"+id, nil)
	var r registeredObj
	if status != http.StatusOK || json.Unmarshal(b, &r) != nil {
		t.Fatalf("registered %s: %d %s", id, status, b)
	}
	return &r
}

// waitRegistered polls the registered query until ok accepts it (at most
// 30 s); what says what the test waits for.
func waitRegistered(t *testing.T, env *fhirlinktest.Env, id, what string, ok func(*registeredObj) bool) *registeredObj {
	t.Helper()
	var r *registeredObj
	waittest.For(t, 30*time.Second, what, func() bool {
		r = getRegistered(t, env, id)
		return ok(r)
	})
	return r
}

// A registered query runs every frequency, and its result is stored and
// announced only when it changes.
func TestRegisteredAnnouncesChangesOnly(t *testing.T) {
	var mu sync.Mutex
	announced := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev struct{ QueryID, WebhookSource string }
		json.Unmarshal(b, &ev)
		mu.Lock()
		announced[ev.WebhookSource+" "+ev.QueryID]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	env, db := start(t, fhirlinktest.Options{Configure: func(s *api.Server) {
		s.Async.Poll = 50 * time.Millisecond
		s.Async.RegisteredMinFrequency = time.Second
	}})
	if err := env.Store.SetWebhook(context.Background(), &server.Webhook{IntegratorID: env.IntegratorID, URL: recv.URL, Secret: []byte("k")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE counts (n int); INSERT INTO counts VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	body := func(freq, dur int64) map[string]any {
		return map[string]any{"name": "counts", "registeredQueryType": "query", "frequency": freq, "duration": dur,
			"registerCommand": fhirlinktest.Command("SELECT n FROM counts")}
	}
	for _, bad := range []map[string]any{body(0, 10), body(1, 86401), body(5, 2)} {
		if status, _, b := do(t, env, http.MethodPost, "/queries/registered", bad); status != http.StatusBadRequest {
			t.Fatalf("invalid registration %v: %d %s", bad, status, b)
		}
	}
	status, _, b := do(t, env, http.MethodPost, "/queries/registered", body(1, 60))
	var created struct{ ID string }
	if status != http.StatusAccepted || json.Unmarshal(b, &created) != nil || created.ID == "" {
		t.Fatalf("register: %d %s", status, b)
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return announced["registered "+created.ID]
	}

	r := waitRegistered(t, env, created.ID, "three runs", func(r *registeredObj) bool { return r.Metrics.ExecutionSucceededCount >= 3 })
	first := r.LastHash
	if len(first) != 64 || r.Status != "enabled" || r.Metrics.RequestSize == 0 || r.Metrics.ResultSizeSum < 3*int64(len(`[{"n":1}]`)) {
		t.Fatalf("after 3 runs: %+v", r)
	}
	waittest.For(t, 20*time.Second, "the first result to be announced", func() bool { return count() == 1 })
	status, _, b = do(t, env, http.MethodGet, "/queries/registered/"+created.ID+"/results", nil)
	var res struct {
		Data       []byte `json:"data"`
		Parameters []any  `json:"parameters"`
		Rows, Size int64
	}
	if status != http.StatusOK || json.Unmarshal(b, &res) != nil || string(res.Data) != `[{"n":1}]` || res.Rows != 1 || res.Size != int64(len(res.Data)) || res.Parameters == nil {
		t.Fatalf("latest result: %d %s", status, b)
	}

	if _, err := db.Exec(`UPDATE counts SET n = 2`); err != nil {
		t.Fatal(err)
	}
	runs := r.Metrics.ExecutionSucceededCount
	waitRegistered(t, env, created.ID, "three runs that see the change", func(r *registeredObj) bool {
		return r.LastHash != first && r.Metrics.ExecutionSucceededCount >= runs+3
	})
	waittest.For(t, 20*time.Second, "the change to be announced", func() bool { return count() == 2 })
	// Two more runs: the first of them, unchanged, has ended (announcement
	// included) before the second is claimed, so a delivery it queued would
	// be in the store by now.
	runs = getRegistered(t, env, created.ID).Metrics.ExecutionSucceededCount
	waitRegistered(t, env, created.ID, "two more runs", func(r *registeredObj) bool { return r.Metrics.ExecutionSucceededCount >= runs+2 })
	if n := deliveries(t, env, created.ID); n != 2 {
		t.Fatalf("%d announcements, want 2 (the first result and the change)", n)
	}
	status, _, b = do(t, env, http.MethodGet, "/queries/registered/"+created.ID+"/results", nil)
	if status != http.StatusOK || json.Unmarshal(b, &res) != nil || string(res.Data) != `[{"n":2}]` {
		t.Fatalf("latest result after the change: %d %s", status, b)
	}

	status, _, b = do(t, env, http.MethodGet, "/queries/registered", nil)
	var list struct {
		RegisteredQueries []registeredObj `json:"registeredQueries"`
	}
	if status != http.StatusOK || json.Unmarshal(b, &list) != nil || len(list.RegisteredQueries) != 1 || list.RegisteredQueries[0].ID != created.ID {
		t.Fatalf("list: %d %s", status, b)
	}
	if status, _, b := do(t, env, http.MethodDelete, "/queries/registered/"+created.ID, nil); status != http.StatusNoContent {
		t.Fatalf("cancel: %d %s", status, b)
	}
	r = getRegistered(t, env, created.ID)
	if r.Status != "cancelled" || r.CompletedAt == nil {
		t.Fatalf("after cancel: %+v", r)
	}
	cancelled, after := created.ID, r.Metrics.ExecutionSucceededCount+r.Metrics.ExecutionFailedCount

	// A short duration completes: the scheduler runs it for its 2 s, every
	// second, and so had as many chances to run the cancelled one.
	status, _, b = do(t, env, http.MethodPost, "/queries/registered", body(1, 2))
	if status != http.StatusAccepted || json.Unmarshal(b, &created) != nil {
		t.Fatalf("register: %d %s", status, b)
	}
	r = waitRegistered(t, env, created.ID, "the short registration to complete", func(r *registeredObj) bool { return r.Status == "completed" })
	if r.CompletedAt == nil || r.Metrics.ExecutionSucceededCount < 1 {
		t.Fatalf("completed: %+v", r)
	}
	// A run in flight at the cancel may still have been recorded.
	if r = getRegistered(t, env, cancelled); r.Metrics.ExecutionSucceededCount+r.Metrics.ExecutionFailedCount > after+1 {
		t.Fatalf("runs went on after the cancel: %+v", r)
	}
}

// deliveries counts the webhook deliveries queued for a query.
func deliveries(t *testing.T, env *fhirlinktest.Env, queryID string) int {
	t.Helper()
	ds, err := env.Store.WebhookDeliveries(context.Background(), env.IntegratorID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range ds {
		if d.QueryID == queryID {
			n++
		}
	}
	return n
}
