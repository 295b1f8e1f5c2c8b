package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
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

// Page is one page of search results, written as a searchset Bundle.
type Page struct {
	// Base is the FHIR base URL; entries without a FullURL get
	// Base/Type/id.
	Base string
	// Self and Next are the page's links; Next (NextLink) is empty on the
	// last page. Self is SelfLink on a first page and, on a page reached
	// through a next link, that link itself.
	Self, Next string
	// Total is Bundle.total, when the search asked for it.
	Total   *int
	Entries []Entry
	// Ignored are the parameters a lenient search left out
	// (Search.Ignored). When any, the Bundle's first entry is an
	// OperationOutcome warning naming them, so a client that mistyped a
	// parameter learns it did not filter anything.
	Ignored []string
}

// Entry is one resource of a page.
type Entry struct {
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

// MarshalJSON writes the Bundle, so a *Page can be handed to any JSON
// encoder.
func (p Page) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if _, err := p.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteTo writes the page as a searchset Bundle. Entries are checked before
// anything is written, so a bad entry (not a JSON object, unknown mode)
// fails with a 500 *Error instead of leaving half a Bundle on the wire.
// An included resource that is already on the page (same fullUrl) is
// written once, as FHIR requires fullUrl to be unique.
func (p Page) WriteTo(w io.Writer) (int64, error) {
	if p.Total != nil && *p.Total < 0 {
		return 0, Errorf(http.StatusInternalServerError, IssueException, "bundle total %d is negative", *p.Total)
	}
	entries := make([]Entry, 0, len(p.Entries)+1)
	if len(p.Ignored) > 0 {
		entries = append(entries, ignoredOutcome(p.Ignored))
	}
	seen := map[string]bool{}
	for i, e := range p.Entries {
		var err error
		if e, err = p.check(e); err != nil {
			return 0, Errorf(http.StatusInternalServerError, IssueException, "bundle entry %d: %v", i, err)
		}
		if e.FullURL != "" {
			if seen[e.FullURL] && e.Mode == ModeInclude {
				continue
			}
			seen[e.FullURL] = true
		}
		entries = append(entries, e)
	}

	cw := &countingWriter{w: w}
	cw.str(`{"resourceType":"Bundle","type":"searchset"`)
	if p.Total != nil {
		cw.str(`,"total":` + strconv.Itoa(*p.Total))
	}
	if p.Self != "" || p.Next != "" {
		cw.str(`,"link":[`)
		sep := ""
		for _, l := range [][2]string{{"self", p.Self}, {"next", p.Next}} {
			if l[1] != "" {
				cw.str(sep + `{"relation":"` + l[0] + `","url":`)
				cw.json(l[1])
				cw.str(`}`)
				sep = ","
			}
		}
		cw.str(`]`)
	}
	if len(entries) > 0 {
		cw.str(`,"entry":[`)
		for i, e := range entries {
			if i > 0 {
				cw.str(",")
			}
			cw.str(`{`)
			if e.FullURL != "" {
				cw.str(`"fullUrl":`)
				cw.json(e.FullURL)
				cw.str(`,`)
			}
			cw.str(`"resource":`)
			cw.write(e.Resource)
			cw.str(`,"search":{"mode":"` + e.Mode + `"}}`)
		}
		cw.str(`]`)
	}
	cw.str("}")
	return cw.n, cw.err
}

// check validates an entry and fills its defaults: the mode, and the
// fullUrl from Base and the resource's type and id.
func (p Page) check(e Entry) (Entry, error) {
	switch e.Mode {
	case "":
		e.Mode = ModeMatch
	case ModeMatch, ModeInclude, ModeOutcome:
	default:
		return e, errors.New("unknown search mode " + strconv.Quote(e.Mode))
	}
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if err := json.Unmarshal(e.Resource, &head); err != nil || head.ResourceType == "" {
		return e, errors.New("the resource is not a JSON object with a resourceType")
	}
	if e.FullURL == "" && e.Mode != ModeOutcome && p.Base != "" && head.ID != "" {
		e.FullURL = strings.TrimRight(p.Base, "/") + "/" + head.ResourceType + "/" + head.ID
	}
	return e, nil
}

// countingWriter keeps the first error and the bytes written, so WriteTo
// reads as a sequence of writes.
type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

func (c *countingWriter) str(s string) { c.write([]byte(s)) }

// json writes a JSON string.
func (c *countingWriter) json(s string) {
	b, _ := json.Marshal(s) // a string always marshals
	c.write(b)
}
