package hub

import (
	"bytes"
	"cmp"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fhirlink/agent/wire"
)

// An answer read to its trailer leaves the connection to the agent open
// for the next query, also when it is larger than the frame reader's
// buffer (the end of the body is then not read with the trailer); so does
// one closed after a page's extra row, when its end is already here.
func TestRowsReadToTheEndKeepTheConnection(t *testing.T) {
	for _, c := range []struct {
		name       string
		rows, read int
	}{
		{"read to the end", 200, -1},
		{"closed after the extra row", 3, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			if n := dialsFor3Queries(t, c.rows, c.read); n != 1 {
				t.Errorf("%d connections for 3 queries, want 1", n)
			}
		})
	}
}

// dialsFor3Queries runs 3 queries of an answer of rows 1 kB rows, each
// read for its first read rows (-1: until Next reports the end) and then
// closed, and returns how many connections to the agent they took.
func dialsFor3Queries(t *testing.T, rows, read int) int32 {
	row := []byte(`{"v":"` + strings.Repeat("x", 1000) + `"}`)
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fw := wire.NewFrameWriter(w, 128<<10)
		fw.Header(wire.Header{Columns: []wire.Column{{Name: "v", Type: wire.TypeString}}})
		for range rows {
			fw.Row(row)
		}
		fw.Trailer(wire.Trailer{Rows: int64(rows)})
		fw.Flush()
		fw.Release()
		// As the agent's answers are: chunked, their last chunk a moment
		// after the trailer, so only a reader that reads on past the
		// trailer sees the body's end.
		w.(http.Flusher).Flush()
		time.Sleep(50 * time.Millisecond)
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
		rs, err := NewRows(context.Background(), resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for (read < 0 || n < read) && rs.Next() {
			n++
		}
		if want := cmp.Or(max(read, 0), rows); rs.Err() != nil || n != want {
			t.Fatalf("query %d: %d rows, %v", i, n, rs.Err())
		}
		rs.Close()
	}
	return dials.Load()
}
