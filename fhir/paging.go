package fhir

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"
)

// A paging token is the whole search of the next page, signed, so the next
// link needs no server-side state and works on any server node:
//
//	base64url( version | HMAC-SHA256(key, context | version | payload) | payload )
//
// where payload is JSON holding the resource type, Applied (the canonical
// query), After (the cursor), Ignored (so every page repeats the warning),
// the instant ap dates were computed from, and the expiry. The token is signed, not encrypted: it holds the
// integrator's own query and the sort values of a row they were just
// sent, nothing they could not see.

const (
	tokenVersion = 1
	// tokenContext separates these MACs from any other use of the key.
	tokenContext = "fhirlink paging token\x00"
	// maxTokenLen bounds the work an invalid token can cause; it is far
	// above what a search within the parser's limits produces.
	maxTokenLen = 64 << 10
	// minKeyLen is the shortest key Token accepts: an HMAC key shorter than
	// 128 bits is a configuration mistake.
	minKeyLen = 16
)

type tokenPayload struct {
	Type    string   `json:"t"`
	Query   string   `json:"q"`
	After   []string `json:"a,omitempty"`
	Ignored []string `json:"i,omitempty"`
	Expires int64    `json:"x"`           // Unix seconds
	Now     int64    `json:"n,omitempty"` // Unix nanoseconds: Search.now
}

// Token returns the opaque paging token for s, valid until expires: set
// s.After to the cursor of the page's last row first. It panics when key is
// shorter than 16 bytes, a configuration error no request can cause.
func (s *Search) Token(key []byte, expires time.Time) string {
	if len(key) < minKeyLen {
		panic("fhir: the paging key must be at least 16 bytes")
	}
	p := tokenPayload{Type: s.Type, Query: s.Applied.Encode(), After: s.After, Ignored: s.Ignored, Expires: expires.Unix()}
	if !s.now.IsZero() { // zero in a Search built by hand
		p.Now = s.now.UnixNano()
	}
	payload, err := json.Marshal(p)
	if err != nil { // strings only
		panic(err)
	}
	buf := make([]byte, 0, 1+sha256.Size+len(payload))
	buf = append(buf, tokenVersion)
	buf = append(buf, tokenMAC(key, payload)...)
	buf = append(buf, payload...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

func tokenMAC(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tokenContext))
	m.Write([]byte{tokenVersion})
	m.Write(payload)
	return m.Sum(nil)
}

// ParseToken returns the search a paging token carries, for decl's
// resource type. The token's query is parsed again by ParseSearch, strictly,
// so a token is held to the same rules as a fresh request, and a parameter
// the server stopped supporting since the token was made is reported
// rather than silently dropped. opt.Now, when set, is the time the expiry
// is checked against.
//
// Every failure is a 400: a token that was altered, truncated or made with
// another key; one for another resource type; and one that has expired.
func ParseToken(decl *ResourceDecl, token string, key []byte, opt ParseOptions) (*Search, error) {
	invalid := badRequest("the paging link is invalid (altered, truncated or from another server); run the search again")
	if token == "" {
		return nil, badRequest("_page_token is empty; follow the next link as given, or run the search again")
	}
	if len(token) > maxTokenLen || len(key) < minKeyLen {
		return nil, invalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 1+sha256.Size || raw[0] != tokenVersion {
		return nil, invalid
	}
	mac, payload := raw[1:1+sha256.Size], raw[1+sha256.Size:]
	if !hmac.Equal(mac, tokenMAC(key, payload)) {
		return nil, invalid
	}
	var p tokenPayload
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, invalid
	}
	if p.Type != decl.Type {
		return nil, badRequest("this paging link belongs to a %s search, not %s; follow it as given", p.Type, decl.Type)
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	if !now.Before(time.Unix(p.Expires, 0)) {
		return nil, badRequest("the paging link has expired; run the search again")
	}
	q, err := ParseQuery(p.Query)
	if err != nil {
		return nil, invalid
	}
	opt.Strict = true
	opt.Now = time.Time{}
	if p.Now != 0 {
		opt.Now = time.Unix(0, p.Now).UTC()
	}
	s, err := ParseSearch(decl, q, opt)
	if err != nil {
		return nil, err
	}
	s.After, s.Ignored = p.After, p.Ignored
	return s, nil
}
