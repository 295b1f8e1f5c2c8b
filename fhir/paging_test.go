package fhir

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

var pagingKey = []byte("0123456789abcdef0123456789abcdef")

func pageOne(t *testing.T, raw string) *Search {
	t.Helper()
	s, err := ParseSearch(patientDecl, query(t, raw), opts())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenRoundTrip(t *testing.T) {
	for _, raw := range []string{
		"",
		"family=smi&_count=5&_sort=-birthdate",
		"family:exact=O'Brien,%25_x&identifier=http://x|1&gender:not=male&_total=accurate",
		"birthdate=ap2014-06-01&birthdate=ge1990-05-01T10:00:00%2B05:30&_elements=name,gender",
		"general-practitioner:Practitioner=1&_include=Patient:general-practitioner&_id=1,2,3",
		"_summary=count&family=a",
		"famly=typo&family=a", // the ignored parameter travels too
		"family=O%5C,Brien%5C%5C",
	} {
		t.Run(raw, func(t *testing.T) {
			s := pageOne(t, raw)
			s.After = []string{"Smith", "1990-05-01", "42", "", "with,comma|pipe"}
			tok := s.Token(pagingKey, fixedNow.Add(time.Hour))
			if strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
				t.Errorf("token %q is not base64url", tok)
			}
			// A later instant, to show ap ranges come from the token.
			o := opts()
			o.Now = fixedNow.Add(30 * time.Minute)
			got, err := ParseToken(patientDecl, tok, pagingKey, o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, s) {
				t.Errorf("round trip\n got %+v\nwant %+v", got, s)
			}
		})
	}
}

func TestTokenHandBuiltSearch(t *testing.T) {
	// A Search built without ParseSearch has no anchor instant; its token
	// still parses.
	s := &Search{Type: "Patient", Applied: query(t, "_count=3&family=a")}
	got, err := ParseToken(patientDecl, s.Token(pagingKey, time.Now().Add(time.Minute)), pagingKey, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != 3 || len(got.Clauses) != 1 {
		t.Errorf("search = %+v", got)
	}
}

func TestTokenRejected(t *testing.T) {
	s := pageOne(t, "family=smi&_count=5")
	s.After = []string{"Smith", "9"}
	tok := s.Token(pagingKey, fixedNow.Add(time.Hour))
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(b)
	}
	invalid := "the paging link is invalid"
	tests := []struct {
		name, token string
		key         []byte
		decl        *ResourceDecl
		now         time.Time
		fragment    string
	}{
		{name: "payload byte flipped", token: flip(len(raw) - 3), fragment: invalid},
		{name: "first payload byte flipped", token: flip(1 + 32), fragment: invalid},
		{name: "signature byte flipped", token: flip(5), fragment: invalid},
		{name: "version byte flipped", token: flip(0), fragment: invalid},
		{name: "truncated", token: tok[:len(tok)-4], fragment: invalid},
		{name: "only the signature", token: base64.RawURLEncoding.EncodeToString(raw[:33]), fragment: invalid},
		{name: "a few bytes", token: tok[:10], fragment: invalid},
		{name: "extended", token: tok + "AAAA", fragment: invalid},
		{name: "not base64url", token: "!!!" + tok, fragment: invalid},
		{name: "padded base64", token: base64.URLEncoding.EncodeToString(raw) + "=", fragment: invalid},
		{name: "empty", token: "", fragment: "_page_token is empty"},
		{name: "huge", token: strings.Repeat("A", maxTokenLen+1), fragment: invalid},
		{name: "another key", token: tok, key: []byte("another key of at least 16 bytes"), fragment: invalid},
		{name: "short key", token: tok, key: []byte("short"), fragment: invalid},
		{name: "another resource type", token: tok, decl: roleDecl, fragment: "belongs to a Patient search, not PractitionerRole"},
		{name: "expired", token: tok, now: fixedNow.Add(time.Hour), fragment: "the paging link has expired; run the search again"},
		{name: "long expired", token: tok, now: fixedNow.Add(48 * time.Hour), fragment: "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, decl, o := pagingKey, patientDecl, opts()
			if tt.key != nil {
				key = tt.key
			}
			if tt.decl != nil {
				decl = tt.decl
			}
			if !tt.now.IsZero() {
				o.Now = tt.now
			}
			s, err := ParseToken(decl, tt.token, key, o)
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			wantError(t, err, 400, IssueInvalid, tt.fragment)
		})
	}
	// Just before expiry it is still good.
	o := opts()
	o.Now = fixedNow.Add(time.Hour - time.Second)
	if _, err := ParseToken(patientDecl, tok, pagingKey, o); err != nil {
		t.Errorf("valid token refused: %v", err)
	}
}

// signed makes a token from a payload as Token would, to test what a
// correctly signed but unusual payload does.
func signed(p tokenPayload) string {
	payload, _ := json.Marshal(p)
	b := append([]byte{tokenVersion}, tokenMAC(pagingKey, payload)...)
	return base64.RawURLEncoding.EncodeToString(append(b, payload...))
}

func TestTokenQueryParsedAgainStrictly(t *testing.T) {
	exp := fixedNow.Add(time.Hour).Unix()
	// A parameter the mapping no longer declares is reported, not dropped.
	_, err := ParseToken(patientDecl, signed(tokenPayload{Type: "Patient", Query: "_count=5&phone=123", Expires: exp}), pagingKey, opts())
	wantError(t, err, 400, IssueInvalid, "unknown search parameter(s) for Patient: phone")
	// A value that no longer validates (e.g. a lowered maximum) is refused.
	_, err = ParseToken(patientDecl, signed(tokenPayload{Type: "Patient", Query: "_count=500", Expires: exp}), pagingKey, opts())
	wantError(t, err, 400, IssueTooCostly, "maximum")
	// A query that does not decode is refused.
	_, err = ParseToken(patientDecl, signed(tokenPayload{Type: "Patient", Query: "%zz", Expires: exp}), pagingKey, opts())
	wantError(t, err, 400, IssueInvalid, "invalid")
	// So is a payload of another shape, even correctly signed.
	payload := []byte(`{"t":"Patient","q":"","x":99999999999,"z":1}`)
	b := append([]byte{tokenVersion}, tokenMAC(pagingKey, payload)...)
	_, err = ParseToken(patientDecl, base64.RawURLEncoding.EncodeToString(append(b, payload...)), pagingKey, opts())
	wantError(t, err, 400, IssueInvalid, "invalid")
}

func TestTokenShortKeyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	pageOne(t, "").Token([]byte("short"), fixedNow)
}

func TestTokenSizeStaysSmall(t *testing.T) {
	s := pageOne(t, "family=smith&birthdate=ge1990&_count=50&_sort=-birthdate&_elements=name,birthDate,gender")
	s.After = []string{"1990-05-01", "123456"}
	if n := len(s.Token(pagingKey, fixedNow)); n > 400 {
		t.Errorf("token is %d bytes", n)
	}
}
