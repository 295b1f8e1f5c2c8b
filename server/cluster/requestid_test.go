package cluster

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent"
	"fhirlink/agent/executor"
	"fhirlink/agent/pgtest"
	"fhirlink/agent/waittest"
	"fhirlink/server"
	"fhirlink/server/cluster/natstest"
	"fhirlink/server/fhirlinktest"
	"fhirlink/server/hub"
)

// A query asked at a node that does not hold the agent reaches it with the
// asking request's id: the agent's log line for the query carries it.
func TestRequestIDRoutedToTheHolder(t *testing.T) {
	url := natstest.URL(t)
	a, b := startNode(t, url, testOptions), startNode(t, url, testOptions)
	site := uuid.NewString()
	var log fhirlinktest.LogBuffer
	ctx, cancel := context.WithCancel(context.Background())
	ag, err := agent.New(ctx, agent.Config{ServerURL: a.url, SiteID: site, Secret: "secret",
		Database:     executor.Config{Engine: "postgres", Catalogues: []executor.Catalogue{{Name: "practice", DSN: pgtest.DSN(t), IsDefault: true}}},
		ReconnectMin: 20 * time.Millisecond, KeepAlive: 200 * time.Millisecond, DrainTimeout: time.Second,
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer ag.Close()
		ag.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitStatus(t, b, site, hub.Online)

	rows, err := b.r.Query(server.WithRequestID(context.Background(), "routed-req-1"), site, reader("SELECT 1 AS one"))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, rows)
	waittest.For(t, 10*time.Second, "the agent's log line with the request id", func() bool {
		return strings.Contains(log.String(), "msg=query ") && strings.Contains(log.String(), " requestId=routed-req-1 ")
	})
}
