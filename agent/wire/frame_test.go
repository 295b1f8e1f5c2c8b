package wire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// answer writes a header, rows and a trailer as an agent does.
func answer(t *testing.T, size int, h Header, rows [][]byte, tr Trailer) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewFrameWriter(&buf, size)
	if err := w.Header(h); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Trailer(tr); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAll reads an answer back: its header, rows (copied) and trailer.
func readAll(r *FrameReader) (Header, [][]byte, *Trailer, error) {
	h, err := r.Header()
	if err != nil {
		return h, nil, nil, err
	}
	var rows [][]byte
	for {
		row, tr, err := r.Next()
		if err != nil || tr != nil {
			return h, rows, tr, err
		}
		rows = append(rows, bytes.Clone(row))
	}
}

func TestFrameRoundTrip(t *testing.T) {
	yes := true
	affected := int64(3)
	h := Header{
		Columns:   []Column{{Name: "Surname", Type: TypeString, DBType: "NVARCHAR", Nullable: &yes}, {Name: "N", Type: TypeInteger, DBType: "INT"}},
		QueuedMS:  7,
		StartedAt: time.Date(2026, 5, 31, 9, 30, 0, 0, time.UTC),
	}
	rows := [][]byte{[]byte(`{"Surname":"O'Brien <&>","N":1}`), []byte(`{"Surname":"line\nbreak","N":2}`), []byte(`{}`)}
	tr := Trailer{Rows: 3, Bytes: 70, RowsAffected: &affected, ExecutionMS: 12, Error: &Error{Kind: KindTimeout, Message: "late"}}
	b := answer(t, 16, h, rows, tr)

	// The bytes agents have always sent: one kind byte, json.Marshal's
	// output (HTML characters escaped) and a newline per frame. Servers in
	// the field read exactly this, so it must not change.
	want := `H{"columns":[{"name":"Surname","type":"string","dbType":"NVARCHAR","nullable":true},{"name":"N","type":"integer","dbType":"INT"}],"queuedMs":7,"startedAt":"2026-05-31T09:30:00Z"}` + "\n" +
		`R{"Surname":"O'Brien <&>","N":1}` + "\n" +
		`R{"Surname":"line\nbreak","N":2}` + "\n" +
		`R{}` + "\n" +
		`T{"rows":3,"bytes":70,"rowsAffected":3,"executionMs":12,"error":{"kind":"timeout","message":"late"}}` + "\n"
	if string(b) != want {
		t.Fatalf("wire bytes changed:\n got %s\nwant %s", b, want)
	}

	gotH, gotRows, gotT, err := readAll(NewFrameReader(bytes.NewReader(b), 16))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotH, h) {
		t.Errorf("header: got %+v, want %+v", gotH, h)
	}
	if !reflect.DeepEqual(gotRows, rows) {
		t.Errorf("rows: got %q, want %q", gotRows, rows)
	}
	if gotT == nil || !reflect.DeepEqual(*gotT, tr) {
		t.Errorf("trailer: got %+v, want %+v", gotT, tr)
	}
}

// Rows longer than the reader's buffer arrive whole, and so do the short
// rows around them, whose bytes a long row must not overwrite.
func TestFrameLongRows(t *testing.T) {
	const size = 16 // bufio's minimum
	long := func(n int, c string) []byte { return []byte(`{"v":"` + strings.Repeat(c, n) + `"}`) }
	rows := [][]byte{long(1, "a"), long(size, "b"), long(5*size+3, "c"), []byte(`{}`), long(1<<20, "d"), long(2, "e")}
	b := answer(t, size, Header{Columns: []Column{}}, rows, Trailer{Rows: int64(len(rows))})
	_, got, tr, err := readAll(NewFrameReader(bytes.NewReader(b), size))
	if err != nil || tr == nil || tr.Rows != int64(len(rows)) {
		t.Fatalf("trailer %+v, err %v", tr, err)
	}
	if len(got) != len(rows) {
		t.Fatalf("got %d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		if !bytes.Equal(got[i], rows[i]) {
			t.Errorf("row %d: got %d bytes %.40q, want %d bytes %.40q", i, len(got[i]), got[i], len(rows[i]), rows[i])
		}
	}
}

// An answer cut anywhere before its trailer's newline is incomplete, never
// a shorter result: the reader fails with io.ErrUnexpectedEOF.
func TestFrameTruncated(t *testing.T) {
	b := answer(t, 64, Header{Columns: []Column{{Name: "N", Type: TypeInteger}}}, [][]byte{[]byte(`{"N":1}`), []byte(`{"N":2}`)}, Trailer{Rows: 2})
	for n := 0; n < len(b); n++ {
		_, _, tr, err := readAll(NewFrameReader(bytes.NewReader(b[:n]), 16))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut after %d of %d bytes: trailer %+v, err %v; want io.ErrUnexpectedEOF", n, len(b), tr, err)
		}
	}
	if _, _, tr, err := readAll(NewFrameReader(bytes.NewReader(b), 16)); err != nil || tr == nil {
		t.Fatalf("whole answer: trailer %+v, err %v", tr, err)
	}
}

// Frames the protocol does not allow fail with ErrFrame, so a reader can
// tell a misbehaving agent from a broken connection.
func TestFrameInvalid(t *testing.T) {
	const header = `H{"columns":[]}` + "\n"
	for _, c := range []struct{ name, stream, want string }{
		{"unknown kind", header + `R{}` + "\n" + `X{"new":1}` + "\n", `unknown frame 'X'`},
		{"row before header", `R{}` + "\n", `frame 'R' before the header`},
		{"second header", header + header, "second header"},
		{"malformed header", `H{"columns":` + "\n", "header"},
		{"malformed trailer", header + `T{"rows":"x"}` + "\n", "trailer"},
	} {
		_, _, _, err := readAll(NewFrameReader(strings.NewReader(c.stream), 16))
		if !errors.Is(err, ErrFrame) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v; want ErrFrame saying %q", c.name, err, c.want)
		}
	}
	// An empty line is not a frame either, though not one of ErrFrame's
	// cases: readers have always treated it as a broken stream.
	if _, _, _, err := readAll(NewFrameReader(strings.NewReader(header+"\n"), 16)); err == nil || errors.Is(err, ErrFrame) {
		t.Errorf("empty frame: err %v", err)
	}
}

// A write error sticks: the agent stops the query at the next row.
func TestFrameWriterError(t *testing.T) {
	w := NewFrameWriter(failingWriter{}, 16)
	w.Header(Header{Columns: []Column{}})
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = w.Row([]byte(`{"v":"0123456789"}`))
	}
	if err == nil || w.Flush() == nil || w.Trailer(Trailer{}) == nil {
		t.Fatalf("write error lost: %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("connection reset") }

// writeSizes records the size of each write it receives.
type writeSizes struct {
	bytes.Buffer
	sizes []int
}

func (w *writeSizes) Write(b []byte) (int, error) {
	w.sizes = append(w.sizes, len(b))
	return w.Buffer.Write(b)
}

// An answer's first rows leave before the buffer is full, and the writes
// then double in size up to the buffer's: the reader starts on the rows
// while the rest are read, at a few writes more.
func TestFrameWriterSendsFirstRowsEarly(t *testing.T) {
	var out writeSizes
	w := NewFrameWriter(&out, 128<<10)
	if err := w.Header(Header{Columns: []Column{}}); err != nil {
		t.Fatal(err)
	}
	row := []byte(`{"v":"` + strings.Repeat("x", 1000) + `"}`)
	for range 1000 { // about 1 MB
		if err := w.Row(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Trailer(Trailer{Rows: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(out.sizes) < 4 {
		t.Fatalf("writes %v: want early ones", out.sizes)
	}
	// 16, 32 and 64 kB, then full buffers.
	for i, want := range []int{16 << 10, 32 << 10, 64 << 10, 128 << 10} {
		if got := out.sizes[i]; got < want || got > want+len(row)+2 {
			t.Errorf("write %d is %d bytes, want about %d (writes %v)", i, got, want, out.sizes)
		}
	}
	if len(out.sizes) > 12 {
		t.Errorf("%d writes for 1 MB: %v", len(out.sizes), out.sizes)
	}
	_, rows, tr, err := readAll(NewFrameReader(&out.Buffer, 64<<10))
	if err != nil || len(rows) != 1000 || tr == nil || tr.Rows != 1000 {
		t.Fatalf("read back %d rows, trailer %v, err %v", len(rows), tr, err)
	}
}

// A small answer still leaves in one write, at the end.
func TestFrameWriterSmallAnswerOneWrite(t *testing.T) {
	var out writeSizes
	w := NewFrameWriter(&out, 128<<10)
	w.Header(Header{Columns: []Column{}})
	for range 10 {
		w.Row([]byte(`{"n":1}`))
	}
	w.Trailer(Trailer{Rows: 10})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(out.sizes) != 1 {
		t.Errorf("writes %v, want 1", out.sizes)
	}
}
