package fhir

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Search entry modes (Bundle.entry.search.mode).
const (
	ModeMatch   = "match"
	ModeInclude = "include"
	ModeOutcome = "outcome"
)

// Entry is one entry of a searchset Bundle.
type Entry struct {
	// FullURL is the resource's absolute URL, [base]/[type]/[id]; required
	// but for outcomes.
	FullURL  string
	Resource json.RawMessage
	Mode     string // ModeMatch (the default when empty), ModeInclude or ModeOutcome
}

// SelfLink is the URL of a search with exactly its applied parameters:
// [base]/[type]?[applied], keys in canonical order.
func SelfLink(base, typ string, applied url.Values) string {
	u := strings.TrimRight(base, "/") + "/" + typ
	if q := encodeQuery(applied); q != "" {
		u += "?" + q
	}
	return u
}

// NextLink is the URL of the next page: [base]/[type]?_page_token=token.
// The token carries the whole search, so nothing else is needed.
func NextLink(base, typ, token string) string {
	return strings.TrimRight(base, "/") + "/" + typ + "?_page_token=" + url.QueryEscape(token)
}

// readable are the escapes url.Values.Encode makes that a query may carry
// literally (RFC 3986 allows ":", "/" and "," in a query), undone so self
// links stay readable: family:exact=a,b rather than family%3Aexact=a%2Cb.
var readable = strings.NewReplacer("%3A", ":", "%2F", "/", "%2C", ",")

// encodeQuery is url.Values.Encode, sorted by key, with readable
// separators. Undoing an escape is safe: a literal "%" in a value is
// itself escaped as %25, so every "%" in the encoding starts an escape.
func encodeQuery(v url.Values) string {
	return readable.Replace(v.Encode())
}

// ignoredOutcome is the warning entry for parameters left out.
func ignoredOutcome(ignored []string) Entry {
	msg := "These parameters were not recognised and were ignored: " + strings.Join(ignored, ", ") +
		". The results are not filtered by them; send the header Prefer: handling=strict to have such searches refused instead."
	return Entry{Resource: Outcome(SeverityWarning, IssueNotSupported, msg), Mode: ModeOutcome}
}

// BundleWriter writes a searchset Bundle entry by entry, as a search
// produces them, so a page is never held in memory. Nothing reaches the
// underlying writer before the first entry (or Close): a search that fails
// before then can still be answered with an OperationOutcome, which
// Started tells. Once something was written, a failure leaves a Bundle
// without its end, and the caller must break the response (abort the
// connection) so that no client takes the part for the whole.
//
// The link array comes after the entries, because the next link carries
// the cursor of the page's last match; the order of a JSON object's
// properties carries no meaning.
type BundleWriter struct {
	w       io.Writer
	total   *int
	ignored []string
	started bool // the head is written
	inEntry bool // the entry array is open
	entries int  // in the entry array
	closed  bool
	// seen are the fullUrls written: an included resource that is already
	// on the page is written once, as FHIR requires fullUrl to be unique.
	seen      map[string]struct{}
	resources int
	buf       []byte
	err       error
}

// NewBundleWriter returns a writer of one searchset Bundle to w. total is
// Bundle.total when the search asked for it. ignored are the parameters a
// lenient search left out (Search.Ignored): when any, the first entry is
// an OperationOutcome warning naming them, so a client that mistyped a
// parameter learns it did not filter anything.
func NewBundleWriter(w io.Writer, total *int, ignored []string) *BundleWriter {
	return &BundleWriter{w: w, total: total, ignored: ignored, seen: map[string]struct{}{}}
}

// Started reports whether anything was written to the underlying writer.
func (b *BundleWriter) Started() bool { return b.started }

// Resources is the number of resource entries written: matches and
// includes, not outcomes.
func (b *BundleWriter) Resources() int { return b.resources }

// Entry writes one entry, preceded by the Bundle's head when it is the
// first. A bad entry (a resource that does not start as a JSON object with
// resourceType, as the mappings and this package encode every resource; a
// resource without fullUrl; an unknown mode) is a 500 *Error. An include
// whose fullUrl is already on the page is skipped.
func (b *BundleWriter) Entry(e Entry) error {
	if b.err != nil {
		return b.err
	}
	if b.closed {
		return Errorf(http.StatusInternalServerError, IssueException, "bundle entry after the end of the Bundle")
	}
	switch e.Mode {
	case "":
		e.Mode = ModeMatch
	case ModeMatch, ModeInclude, ModeOutcome:
	default:
		return Errorf(http.StatusInternalServerError, IssueException, "bundle entry: unknown search mode %q", e.Mode)
	}
	if !bytes.HasPrefix(e.Resource, []byte(`{"resourceType":"`)) {
		return Errorf(http.StatusInternalServerError, IssueException, "bundle entry: the resource is not a JSON object starting with its resourceType")
	}
	if e.Mode == ModeOutcome {
		e.FullURL = ""
	} else {
		if e.FullURL == "" {
			return Errorf(http.StatusInternalServerError, IssueException, "bundle entry: a resource without fullUrl")
		}
		if _, dup := b.seen[e.FullURL]; dup && e.Mode == ModeInclude {
			return nil
		}
		b.seen[e.FullURL] = struct{}{}
		b.resources++
	}
	buf := b.openEntries(b.buf[:0])
	if b.entries > 0 {
		buf = append(buf, ',')
	}
	b.entries++
	b.buf = appendEntry(buf, e)
	return b.write()
}

// Close ends the Bundle with its links: self and, unless empty, next.
// self is SelfLink on a first page and, on a page reached through a next
// link, that link itself; next is NextLink, empty on the last page. With
// no entry written before, Close writes the whole Bundle.
func (b *BundleWriter) Close(self, next string) error {
	if b.err != nil || b.closed {
		return b.err
	}
	if b.total != nil && *b.total < 0 {
		return Errorf(http.StatusInternalServerError, IssueException, "bundle total %d is negative", *b.total)
	}
	buf := b.buf[:0]
	if len(b.ignored) > 0 {
		buf = b.openEntries(buf) // the warning alone
	} else if !b.started {
		buf = b.appendHead(buf)
	}
	if b.inEntry {
		buf = append(buf, ']')
	}
	if self != "" || next != "" {
		buf = append(buf, `,"link":[`...)
		sep := ""
		for _, l := range [][2]string{{"self", self}, {"next", next}} {
			if l[1] != "" {
				buf = append(buf, sep+`{"relation":"`+l[0]+`","url":`...)
				buf = appendString(buf, l[1])
				buf = append(buf, '}')
				sep = ","
			}
		}
		buf = append(buf, ']')
	}
	b.buf = append(buf, '}')
	b.closed = true
	return b.write()
}

// openEntries appends, before the first entry, the head, the opening of
// the entry array and the ignored warning.
func (b *BundleWriter) openEntries(buf []byte) []byte {
	if b.inEntry {
		return buf
	}
	if !b.started {
		buf = b.appendHead(buf)
	}
	b.inEntry = true
	buf = append(buf, `,"entry":[`...)
	if len(b.ignored) > 0 {
		buf = appendEntry(buf, ignoredOutcome(b.ignored))
		b.entries++
	}
	return buf
}

func (b *BundleWriter) appendHead(buf []byte) []byte {
	buf = append(buf, `{"resourceType":"Bundle","type":"searchset"`...)
	if b.total != nil {
		buf = append(buf, `,"total":`...)
		buf = strconv.AppendInt(buf, int64(*b.total), 10)
	}
	return buf
}

func (b *BundleWriter) write() error {
	b.started = true
	if _, err := b.w.Write(b.buf); err != nil {
		b.err = err
	}
	return b.err
}

func appendEntry(buf []byte, e Entry) []byte {
	buf = append(buf, '{')
	if e.FullURL != "" {
		buf = append(buf, `"fullUrl":`...)
		buf = appendString(buf, e.FullURL)
		buf = append(buf, ',')
	}
	buf = append(buf, `"resource":`...)
	buf = append(buf, e.Resource...)
	return append(buf, `,"search":{"mode":"`+e.Mode+`"}}`...)
}

// appendString appends s as a JSON string.
func appendString(buf []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(buf, b...)
}
