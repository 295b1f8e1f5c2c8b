package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"fhirlink/server"
	"fhirlink/server/sqlite"
)

func TestParseScope(t *testing.T) {
	for in, want := range map[string]string{
		"system/Patient.rs":        "system/Patient.rs",
		"system/*.rs":              "system/*.rs",
		"system/Appointment.cruds": "system/Appointment.cruds",
		"system/Patient.read":      "system/Patient.rs",
		"system/Patient.write":     "system/Patient.cud",
		"system/Patient.*":         "system/Patient.cruds",
		"system/passthrough.read":  "system/passthrough.rs",
		"system/Observation.s":     "system/Observation.s",
	} {
		s, err := ParseScope(in)
		if err != nil || s.String() != want {
			t.Errorf("ParseScope(%q) = %v, %v; want %s", in, s, err, want)
		}
	}
	for _, bad := range []string{"patient/Patient.rs", "user/*.read", "launch", "openid", "system/Patient", "system/Patient.sr",
		"system/Patient.rr", "system/Patient.x", "system/patient.rs", "system/.rs", "system/Observation.rs?category=laboratory", "system/Pat1ent.rs"} {
		if _, err := ParseScope(bad); err == nil {
			t.Errorf("ParseScope(%q) accepted", bad)
		}
	}
}

func TestGrant(t *testing.T) {
	g, errs := ParseGrant("system/Patient.r system/Patient.s system/Practitioner.read system/*.s openid")
	if len(errs) != 1 || g.String() != "system/*.s system/Patient.rs system/Practitioner.rs" {
		t.Fatalf("grant %q, errs %v", g, errs)
	}
	for _, c := range []struct {
		res, perms string
		want       bool
	}{
		{"Patient", "rs", true}, {"Patient", "r", true}, {"Encounter", "s", true}, {"Encounter", "r", false},
		{"Patient", "c", false}, {Passthrough, "r", false}, {Passthrough, "s", false},
	} {
		if got := g.Allows(c.res, c.perms); got != c.want {
			t.Errorf("Allows(%s, %s) = %v", c.res, c.perms, got)
		}
	}
	pt, _ := ParseGrant("system/passthrough.read")
	if !pt.Allows(Passthrough, "r") || pt.Allows(Passthrough, "cud") || pt.Allows("Patient", "r") {
		t.Error("passthrough.read")
	}
	if all, _ := ParseGrant("system/*.cruds"); all.Allows(Passthrough, "r") {
		t.Error("the wildcard must not grant passthrough")
	}
	var none Grant
	if none.Allows("Patient", "r") {
		t.Error("an empty grant allows")
	}
}

func TestIntersect(t *testing.T) {
	for _, c := range []struct{ requested, allowed, want string }{
		{"system/*.rs", "system/Patient.rs system/Practitioner.r", "system/Patient.rs system/Practitioner.r"},
		{"system/Patient.rs", "system/*.rs", "system/Patient.rs"},
		{"system/*.cruds", "system/*.rs", "system/*.rs"},
		{"system/Patient.read", "system/Patient.r", "system/Patient.r"},
		{"system/Observation.rs", "system/Patient.rs", ""},
		{"system/passthrough.read", "system/*.rs", ""},
		{"system/*.rs", "system/passthrough.read", ""},
		{"system/passthrough.write", "system/passthrough.cruds", "system/passthrough.cud"},
		{"system/Patient.c", "system/Patient.rs", ""},
	} {
		r, _ := ParseGrant(c.requested)
		a, _ := ParseGrant(c.allowed)
		if got := Intersect(r, a).String(); got != c.want {
			t.Errorf("Intersect(%q, %q) = %q, want %q", c.requested, c.allowed, got, c.want)
		}
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestKeySetSelect(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaJWK := func(kid string) map[string]any {
		return map[string]any{"kty": "RSA", "kid": kid, "n": b64(rsaKey.N.Bytes()), "e": b64(big.NewInt(int64(rsaKey.E)).Bytes())}
	}
	ecJWK := func(kid, crv string, k *ecdsa.PrivateKey) map[string]any {
		raw, _ := k.PublicKey.Bytes()
		n := (len(raw) - 1) / 2
		return map[string]any{"kty": "EC", "kid": kid, "crv": crv, "x": b64(raw[1 : 1+n]), "y": b64(raw[1+n:])}
	}
	doc, _ := json.Marshal(map[string]any{"keys": []any{
		rsaJWK("a"), ecJWK("b", "P-384", ec384), ecJWK("p256", "P-256", ec256),
		rsaJWK("dup"), rsaJWK("dup"),
		ecJWK("shared", "P-384", ec384), rsaJWK("shared"), // one kid, two ktys: each alg finds one
		map[string]any{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AAAA"},
	}})
	ks, err := ParseKeySet(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kid, alg, wantErr string
	}{
		{"a", "RS384", ""}, {"b", "ES384", ""}, {"shared", "RS384", ""}, {"shared", "ES384", ""},
		{"a", "ES384", "does not fit"}, {"b", "RS384", "does not fit"}, {"p256", "ES384", "does not fit"},
		{"dup", "RS384", "several keys"}, {"zzz", "RS384", "no key with kid"}, {"", "RS384", "no kid"},
		{"a", "HS256", "not accepted"}, {"a", "none", "not accepted"}, {"ed", "ES384", "does not fit"},
	} {
		_, err := ks.Select(c.kid, c.alg)
		if (c.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("Select(%s, %s) = %v, want %q", c.kid, c.alg, err, c.wantErr)
		}
	}
	bad := []string{
		`{"keys":[{"kty":"RSA","kid":"x","n":"AQAB","e":"AQAB"}]}`, // 17-bit modulus
		`{"keys":[{"kty":"EC","kid":"x","crv":"P-384","x":"AAAA","y":"AAAA"}]}`,
		`{"keys":[{"kty":"EC","kid":"x","crv":"P-384","x":"` + b64(make([]byte, 48)) + `","y":"` + b64(make([]byte, 48)) + `"}]}`, // not on the curve
		`{"keys":[{"kty":"RSA","kid":"x","n":"` + b64(rsaKey.N.Bytes()) + `","e":"AQAB","d":"AQAB"}]}`,                            // private
		`not json`,
	}
	for _, b := range bad {
		if _, err := ParseKeySet([]byte(b)); err == nil {
			t.Errorf("ParseKeySet accepted %.80s", b)
		}
	}
}

func TestCacheFor(t *testing.T) {
	for cc, want := range map[string]time.Duration{
		"":                            0,
		"max-age=300":                 300 * time.Second,
		"public, max-age=60":          time.Minute,
		"max-age=60, no-store":        0,
		"no-cache":                    0,
		"max-age=abc":                 0,
		"max-age=99999999999999999":   maxJWKSCache,
		"private, Max-Age=\"120\"":    2 * time.Minute,
		"must-revalidate, max-age=-5": 0,
	} {
		if got := cacheFor(cc); got != want {
			t.Errorf("cacheFor(%q) = %v, want %v", cc, got, want)
		}
	}
}

func TestValidateJWKSURL(t *testing.T) {
	for _, ok := range []string{"https://acme.example/.well-known/jwks.json", "http://127.0.0.1:8080/jwks", "http://[::1]/k", "http://localhost/k"} {
		if err := ValidateJWKSURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://acme.example/jwks", "ftp://acme.example/jwks", "/jwks", "https://user:pw@acme.example/", "file:///etc/passwd", "https://acme.example/#x"} {
		if err := ValidateJWKSURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func loopback(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestJWKSURLTimeout: a JWKS host that never answers costs the token
// request a bounded wait and ends in invalid_client.
func TestJWKSURLTimeout(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	release := make(chan struct{})
	slow := loopback(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer close(release)
	in := &server.Integrator{ID: uuid.NewString(), Name: "I"}
	if err := st.CreateIntegrator(ctx, in); err != nil {
		t.Fatal(err)
	}
	c := &server.Client{ID: uuid.NewString(), IntegratorID: in.ID, JWKSURL: slow.URL, Scope: "system/*.rs"}
	if err := st.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	a := &Authority{Store: st, HTTPClient: newJWKSClient(200 * time.Millisecond)}
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	const aud = "https://fhirlink.example/oauth/token"
	tok := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.MapClaims{"iss": c.ID, "sub": c.ID, "aud": aud, "jti": "1",
		"exp": time.Now().Add(time.Minute).Unix()})
	tok.Header["kid"] = "k"
	assertion, _ := tok.SignedString(key)
	start := time.Now()
	_, err = a.Token(ctx, map[string][]string{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"},
		"client_assertion_type": {AssertionType}, "client_assertion": {assertion}}, aud)
	e, ok := err.(*Error)
	if !ok || e.Code != "invalid_client" || e.Status != http.StatusUnauthorized || !strings.Contains(e.Description, "timed out") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
}

// TestAccessTokenRoundTrip covers issue and Verify without HTTP, and the
// rules a forged token breaks.
func TestAccessTokenRoundTrip(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in := &server.Integrator{ID: uuid.NewString(), Name: "I"}
	st.CreateIntegrator(ctx, in)
	c := &server.Client{ID: uuid.NewString(), IntegratorID: in.ID, JWKS: []byte(`{"keys":[]}`), Scope: "system/Patient.rs"}
	if err := st.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a := &Authority{Store: st, Now: func() time.Time { return now }}
	a.init()
	g, _ := ParseGrant("system/Patient.rs system/Practitioner.rs")
	tok, err := a.issue(ctx, c, g, "https://x/oauth/token")
	if err != nil {
		t.Fatal(err)
	}
	acc, err := a.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	// Narrowed to what the client is allowed now.
	if acc.Client.ID != c.ID || acc.Grant.String() != "system/Patient.rs" {
		t.Fatalf("access = %+v %s", acc.Client, acc.Grant)
	}
	now = now.Add(AccessTokenLifetime + time.Second)
	if _, err := a.Verify(ctx, tok); server.ErrorCode(err) != server.EUNAUTHORIZED || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: %v", err)
	}
}
