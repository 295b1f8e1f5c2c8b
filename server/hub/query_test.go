package hub

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"fhirlink/agent/wire"
)

// An answer read to its trailer leaves the connection to the agent open
// for the next query, also when it is larger than the frame reader's
// buffer (the end of the body is then not read with the trailer).
func TestRowsReadToTheEndKeepTheConnection(t *testing.T) {
	row := []byte(`{"v":"` + strings.Repeat("x", 1000) + `"}`)
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fw := wire.NewFrameWriter(w, 128<<10)
		fw.Header(wire.Header{Columns: []wire.Column{{Name: "v", Type: wire.TypeString}}})
		for range 200 {
			fw.Row(row)
		}
		fw.Trailer(wire.Trailer{Rows: 200})
		fw.Flush()
		fw.Release()
	}))
	defer agent.Close()
	var dials atomic.Int32
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	defer client.CloseIdleConnections()
	for i := range 3 {
		resp, err := client.Post(agent.URL, "application/json", bytes.NewReader([]byte(`{}`)))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := NewRows(context.Background(), resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if rows.Err() != nil || n != 200 {
			t.Fatalf("query %d: %d rows, %v", i, n, rows.Err())
		}
		rows.Close()
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections for 3 queries, want 1", n)
	}
}
