package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/server"
	"fhirlink/server/sqlite"
)

// rawJWT joins a header and claims, each JSON (or, when a string, used
// as is before encoding), with sig as the signature segment.
func rawJWT(t *testing.T, header, claims any, sig string) string {
	t.Helper()
	enc := func(v any) string {
		if s, ok := v.(string); ok {
			return b64([]byte(s))
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b64(b)
	}
	return enc(header) + "." + enc(claims) + "." + sig
}

// TestMalformedAssertionsAreInvalidClient: whatever an unauthenticated
// caller puts in a client assertion, the answer is 401 invalid_client,
// never an internal error (which the API turns into a 500).
func TestMalformedAssertionsAreInvalidClient(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in := &server.Integrator{ID: uuid.NewString(), Name: "I"}
	if err := st.CreateIntegrator(ctx, in); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	raw, _ := key.PublicKey.Bytes()
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "EC", "kid": "k", "crv": "P-384",
		"x": b64(raw[1:49]), "y": b64(raw[49:])}}})
	c := &server.Client{ID: uuid.NewString(), IntegratorID: in.ID, JWKS: jwks, Scope: "system/*.rs"}
	if err := st.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	a := &Authority{Store: st}
	const aud = "https://fhirlink.example/oauth/token"
	claims := map[string]any{"iss": c.ID, "sub": c.ID, "aud": aud, "jti": uuid.NewString(), "exp": time.Now().Add(time.Minute).Unix()}
	sig := b64(make([]byte, 96))
	hdr := func(alg any) map[string]any {
		h := map[string]any{"typ": "JWT", "kid": "k"}
		if alg != nil {
			h["alg"] = alg
		}
		return h
	}
	cases := map[string]string{}
	for _, alg := range []string{"None", "NONE", "nOnE", "none", "FOO", "rs384", "es384", "", "RS384 ", "HS384", "PS384", "EdDSA"} {
		cases["alg "+alg] = rawJWT(t, hdr(alg), claims, sig)
	}
	for name, alg := range map[string]any{"alg missing": nil, "alg a number": 384, "alg null": json.RawMessage("null"),
		"alg a list": []string{"ES384"}, "alg an object": map[string]any{"alg": "ES384"}} {
		cases[name] = rawJWT(t, hdr(alg), claims, sig)
	}
	odd := func(edit func(h map[string]any)) string {
		h := hdr("ES384")
		edit(h)
		return rawJWT(t, h, claims, sig)
	}
	cases["kid a number"] = odd(func(h map[string]any) { h["kid"] = 1 })
	cases["typ a number"] = odd(func(h map[string]any) { h["typ"] = 1 })
	cases["jku a number"] = odd(func(h map[string]any) { h["jku"] = 1 })
	cases["crit header"] = odd(func(h map[string]any) { h["crit"] = []string{"exp"} })
	bad := func(edit func(c map[string]any)) string {
		m := map[string]any{}
		for k, v := range claims {
			m[k] = v
		}
		edit(m)
		return rawJWT(t, hdr("ES384"), m, sig)
	}
	cases["exp a string"] = bad(func(m map[string]any) { m["exp"] = "tomorrow" })
	cases["iss a number"] = bad(func(m map[string]any) { m["iss"] = 7 })
	cases["aud an object"] = bad(func(m map[string]any) { m["aud"] = map[string]any{} })
	cases["jti a list"] = bad(func(m map[string]any) { m["jti"] = []int{1} })
	cases["nbf huge"] = bad(func(m map[string]any) { m["nbf"] = 1e300 })
	cases["header not JSON"] = rawJWT(t, "{", claims, sig)
	cases["header a list"] = rawJWT(t, "[]", claims, sig)
	cases["claims a list"] = rawJWT(t, hdr("ES384"), "[1]", sig)
	cases["claims null"] = rawJWT(t, hdr("ES384"), "null", sig)
	cases["signature not base64"] = rawJWT(t, hdr("ES384"), claims, "!!")
	cases["empty signature"] = rawJWT(t, hdr("ES384"), claims, "")
	cases["two segments"] = b64([]byte(`{"alg":"ES384"}`)) + "." + b64([]byte(`{}`))
	cases["four segments"] = rawJWT(t, hdr("ES384"), claims, sig) + ".x"
	cases["dots only"] = ".."
	cases["padded base64"] = rawJWT(t, hdr("ES384"), claims, sig) + "=="
	for name, assertion := range cases {
		_, err := a.Token(ctx, map[string][]string{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"},
			"client_assertion_type": {AssertionType}, "client_assertion": {assertion}}, aud)
		var e *Error
		if !errors.As(err, &e) || e.Code != "invalid_client" || e.Status != http.StatusUnauthorized {
			t.Errorf("%s: err = %v, want invalid_client", name, err)
		}
	}
	// A named alg that is not accepted says which are.
	_, err = a.Token(ctx, map[string][]string{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"},
		"client_assertion_type": {AssertionType}, "client_assertion": {cases["alg nOnE"]}}, aud)
	if err == nil || !strings.Contains(err.Error(), "RS384 or ES384") {
		t.Errorf("alg nOnE: %v", err)
	}
}

// TestMalformedAccessTokensAreUnauthorized: the same for bearer tokens,
// which anyone can send to any API route.
func TestMalformedAccessTokensAreUnauthorized(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := &Authority{Store: st}
	claims := map[string]any{"sub": "x", "client_id": "x", "exp": time.Now().Add(time.Minute).Unix()}
	sig := b64(make([]byte, 64))
	var toks []string
	for _, alg := range []any{"None", "nOnE", "FOO", "es256", "", 1, nil} {
		h := map[string]any{"typ": "at+jwt", "kid": "k"}
		if alg != nil {
			h["alg"] = alg
		}
		toks = append(toks, rawJWT(t, h, claims, sig))
	}
	toks = append(toks, "a.b.c", "..", rawJWT(t, map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": 5}, claims, sig),
		rawJWT(t, map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": "k"}, `{"exp":"x"}`, sig))
	for _, tok := range toks {
		if _, err := a.Verify(ctx, tok); server.ErrorCode(err) != server.EUNAUTHORIZED {
			t.Errorf("Verify(%.60s) = %v, want EUNAUTHORIZED", tok, err)
		}
	}
}
