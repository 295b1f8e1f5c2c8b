package results

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"fhirlink/server"
)

// contract checks what every Store does.
func contract(t *testing.T, st Store) {
	ctx := context.Background()
	write := func(key, body string) {
		t.Helper()
		w, err := st.Create(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	read := func(key string) (string, error) {
		r, err := st.Open(ctx, key)
		if err != nil {
			return "", err
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		return string(b), err
	}
	big := strings.Repeat(`{"n":1}`+"\n", 300000) // 2.4 MB
	write("async/q1/1", "a\n")
	write("async/q1/2", big)
	write("async/q2/1", "other\n")
	if got, err := read("async/q1/2"); err != nil || got != big {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	// An aborted object never appears.
	w, err := st.Create(ctx, "async/q1/3")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "partial")
	w.Abort()
	if _, err := read("async/q1/3"); server.ErrorCode(err) != server.ENOTFOUND {
		t.Fatalf("aborted object: %v", err)
	}
	if err := st.Delete(ctx, "async/q1"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"async/q1/1", "async/q1/2"} {
		if _, err := read(k); server.ErrorCode(err) != server.ENOTFOUND {
			t.Fatalf("%s after delete: %v", k, err)
		}
	}
	if got, err := read("async/q2/1"); err != nil || got != "other\n" {
		t.Fatalf("a neighbour was deleted: %q %v", got, err)
	}
	if err := st.Delete(ctx, "async/none"); err != nil {
		t.Fatalf("deleting nothing: %v", err)
	}
	for _, bad := range []string{"", "../x", "a//b", "/a", "a/", "a b"} {
		if _, err := st.Create(ctx, bad); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
}

func TestDir(t *testing.T) {
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	contract(t, d)
}

// fakeS3 is the little of the S3 API the store uses, in memory.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string][]byte
	uploads map[string]map[int][]byte // multipart uploads in progress
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket != "results" {
		http.Error(w, "no such bucket", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	switch {
	case key == "" && r.Method == http.MethodHead:
	case key == "" && r.Method == http.MethodGet && q.Get("list-type") == "2":
		var names []string
		for k := range f.objects {
			if strings.HasPrefix(k, q.Get("prefix")) {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>results</Name><IsTruncated>false</IsTruncated>`)
		for _, k := range names {
			fmt.Fprintf(w, `<Contents><Key>%s</Key><Size>%d</Size><ETag>"x"</ETag></Contents>`, k, len(f.objects[k]))
		}
		fmt.Fprint(w, `</ListBucketResult>`)
	case key == "" && r.Method == http.MethodPost && q.Has("delete"):
		var del struct {
			Object []struct{ Key string }
		}
		xml.NewDecoder(r.Body).Decode(&del)
		for _, o := range del.Object {
			delete(f.objects, o.Key)
		}
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><DeleteResult></DeleteResult>`)
	case r.Method == http.MethodPost && q.Has("uploads"):
		id := strconv.Itoa(len(f.uploads) + 1)
		f.uploads[id] = map[int][]byte{}
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>results</Bucket><Key>%s</Key><UploadId>%s</UploadId></InitiateMultipartUploadResult>`, key, id)
	case r.Method == http.MethodPut && q.Get("uploadId") != "":
		body, err := readBody(r)
		parts := f.uploads[q.Get("uploadId")]
		n, _ := strconv.Atoi(q.Get("partNumber"))
		if err != nil || parts == nil {
			http.Error(w, "bad part", http.StatusBadRequest)
			return
		}
		parts[n] = body
		w.Header().Set("ETag", `"p`+strconv.Itoa(n)+`"`)
	case r.Method == http.MethodPost && q.Get("uploadId") != "":
		parts := f.uploads[q.Get("uploadId")]
		var all []byte
		for i := 1; i <= len(parts); i++ {
			all = append(all, parts[i]...)
		}
		f.objects[key] = all
		delete(f.uploads, q.Get("uploadId"))
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Bucket>results</Bucket><Key>%s</Key><ETag>"x"</ETag></CompleteMultipartUploadResult>`, key)
	case r.Method == http.MethodDelete && q.Get("uploadId") != "":
		delete(f.uploads, q.Get("uploadId"))
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPut:
		body, err := readBody(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.objects[key] = body
		w.Header().Set("ETag", `"x"`)
	case r.Method == http.MethodHead || r.Method == http.MethodGet:
		b, ok := f.objects[key]
		if !ok {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			if r.Method == http.MethodGet {
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>none</Message></Error>`)
			}
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Header().Set("ETag", `"x"`)
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		if r.Method == http.MethodGet {
			w.Write(b)
		}
	case r.Method == http.MethodDelete:
		delete(f.objects, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "not implemented: "+r.Method+" "+r.URL.String(), http.StatusNotImplemented)
	}
}

// readBody reads a PUT body, decoding aws-chunked encoding.
func readBody(r *http.Request) ([]byte, error) {
	if !strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") && r.Header.Get("X-Amz-Decoded-Content-Length") == "" {
		return io.ReadAll(r.Body)
	}
	br := bufio.NewReader(r.Body)
	var out bytes.Buffer
	for range 1 << 20 {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		sizeHex, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		n, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return out.Bytes(), nil
		}
		if _, err := io.CopyN(&out, br, n); err != nil {
			return nil, err
		}
		br.ReadString('\n')
	}
	return nil, fmt.Errorf("too many chunks")
}

// The object storage store against an in-memory S3 (no real service is
// reachable from the tests): uploads through the pipe, reads, prefix
// deletes and not-found mapping.
func TestS3(t *testing.T) {
	fake := &fakeS3{objects: map[string][]byte{}, uploads: map[string]map[int][]byte{}}
	ts := httptest.NewTLSServer(fake)
	defer ts.Close()
	st, err := NewS3(context.Background(), S3Config{Endpoint: ts.Listener.Addr().String(), Region: "test", Bucket: "results",
		Prefix: "node-a", AccessKey: "k", SecretKey: "s", Transport: ts.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	contract(t, st)
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if _, ok := fake.objects["node-a/async/q2/1"]; !ok {
		t.Fatalf("objects are not under the prefix: %v", fake.objects)
	}
	if len(fake.uploads) != 0 {
		t.Fatalf("multipart uploads left behind: %v", fake.uploads)
	}
}
