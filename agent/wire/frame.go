package wire

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Buffers of frame writers and readers, kept between answers: at 64 and
// 128 KB, allocating one per query was most of a 1-row query's garbage.
var (
	writerPool sync.Pool // *bufio.Writer
	readerPool sync.Pool // *bufio.Reader
)

// FrameWriter writes a query answer as frames (see the package
// documentation): a header, rows, a trailer. It buffers; call Flush at the
// end. The first write error sticks and is returned by every later call.
type FrameWriter struct {
	bw *bufio.Writer
	// early is the buffered size at which rows are sent before the buffer
	// is full, doubling after each such write until it reaches the
	// buffer's size (0: no more early writes).
	early int
}

// firstWrite is the buffered size at which an answer's first rows leave:
// the reader starts on them (a FHIR search maps each row to a resource)
// while the rest are read from the database, instead of waiting for a full
// buffer, which holds all of a typical page. Doubling from there costs an
// answer of n bytes only about log2(n/firstWrite) more writes.
const firstWrite = 16 << 10

// NewFrameWriter returns a FrameWriter buffering size bytes in front of w, so
// that many small rows leave the agent as few large writes. Release it once
// flushed.
func NewFrameWriter(w io.Writer, size int) *FrameWriter {
	if bw, ok := writerPool.Get().(*bufio.Writer); ok && bw.Size() == size {
		bw.Reset(w)
		return &FrameWriter{bw: bw, early: firstWrite}
	}
	return &FrameWriter{bw: bufio.NewWriterSize(w, size), early: firstWrite}
}

// Release hands the writer's buffer on to the next FrameWriter; w must not
// be used after.
func (w *FrameWriter) Release() {
	w.bw.Reset(nil)
	writerPool.Put(w.bw)
	w.bw = nil
}

// Header writes the header frame.
func (w *FrameWriter) Header(h Header) error { return w.frame(FrameHeader, h) }

// Row writes one row frame. row is the row's compact JSON object, as the
// agent's encoder produces it: JSON escapes every newline inside a string, so
// the row holds none and the frame stays one line. row is not retained.
func (w *FrameWriter) Row(row []byte) error {
	w.bw.WriteByte(FrameRow)
	w.bw.Write(row)
	err := w.bw.WriteByte('\n')
	if w.early > 0 && w.bw.Buffered() >= w.early && err == nil {
		if w.early *= 2; w.early >= w.bw.Size() {
			w.early = 0
		}
		err = w.bw.Flush()
	}
	return err
}

// Trailer writes the trailer frame, the last of an answer.
func (w *FrameWriter) Trailer(t Trailer) error { return w.frame(FrameTrailer, t) }

// Flush writes what is buffered.
func (w *FrameWriter) Flush() error { return w.bw.Flush() }

func (w *FrameWriter) frame(kind byte, v any) error {
	// json.Marshal, not an Encoder: it adds no newline of its own, and it
	// escapes as agents always have, so the bytes on the wire stay the same.
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.bw.WriteByte(kind)
	w.bw.Write(b)
	return w.bw.WriteByte('\n')
}

// ErrFrame is wrapped by the errors of a [FrameReader] that mean the agent
// sent something the protocol does not allow (an unknown frame kind, a
// malformed header or trailer, frames out of order), as opposed to the
// stream itself failing or ending early.
var ErrFrame = errors.New("invalid frame")

// FrameReader reads a query answer written by a [FrameWriter].
type FrameReader struct {
	br      *bufio.Reader
	long    []byte // a frame longer than br's buffer, assembled
	trailer Trailer
}

// NewFrameReader returns a FrameReader reading r through a buffer of size
// bytes. A frame longer than the buffer is still read whole. Release it once
// done.
func NewFrameReader(r io.Reader, size int) *FrameReader {
	if br, ok := readerPool.Get().(*bufio.Reader); ok && br.Size() == size {
		br.Reset(r)
		return &FrameReader{br: br}
	}
	return &FrameReader{br: bufio.NewReaderSize(r, size)}
}

// Release hands the reader's buffer on to the next FrameReader; r, and the
// rows it returned, must not be used after.
func (r *FrameReader) Release() {
	r.br.Reset(nil)
	readerPool.Put(r.br)
	r.br = nil
}

// Header reads the first frame, which must be the header.
func (r *FrameReader) Header() (Header, error) {
	var h Header
	kind, payload, err := r.frame()
	if err != nil {
		return h, err
	}
	if kind != FrameHeader {
		return h, fmt.Errorf("%w: the agent sent frame %q before the header", ErrFrame, kind)
	}
	if err := json.Unmarshal(payload, &h); err != nil {
		return h, fmt.Errorf("%w: header: %v", ErrFrame, err)
	}
	return h, nil
}

// Next reads the frame after the header or the last row: either a row, whose
// JSON object is valid until the next call, or the trailer, which ends the
// answer (the trailer is not nil then, and its Error says whether the query
// failed midway). A stream that ends before the trailer fails with
// [io.ErrUnexpectedEOF].
func (r *FrameReader) Next() (row []byte, trailer *Trailer, err error) {
	kind, payload, err := r.frame()
	switch {
	case err != nil:
		return nil, nil, err
	case kind == FrameRow:
		return payload, nil, nil
	case kind == FrameTrailer:
		r.trailer = Trailer{}
		if err := json.Unmarshal(payload, &r.trailer); err != nil {
			return nil, nil, fmt.Errorf("%w: trailer: %v", ErrFrame, err)
		}
		return nil, &r.trailer, nil
	case kind == FrameHeader:
		return nil, nil, fmt.Errorf("%w: the agent sent a second header", ErrFrame)
	default:
		return nil, nil, fmt.Errorf("%w: the agent sent unknown frame %q", ErrFrame, kind)
	}
}

// Ready reports whether the next frame is already read from the stream
// whole, so that Next returns it without waiting for the agent. A reader
// that passes rows on in batches sends its batch when it is not.
func (r *FrameReader) Ready() bool {
	b, _ := r.br.Peek(r.br.Buffered())
	return bytes.IndexByte(b, '\n') >= 0
}

// frame reads one line: a kind byte and its JSON payload.
func (r *FrameReader) frame() (byte, []byte, error) {
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = r.br.ReadSlice('\n')
			r.long = append(r.long, line...)
		}
		line = r.long
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the trailer frame always ends an answer
		}
		return 0, nil, err
	}
	if len(line) < 2 {
		return 0, nil, errors.New("the agent sent an empty frame")
	}
	return line[0], line[1 : len(line)-1], nil
}
