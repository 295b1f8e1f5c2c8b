package api_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"fhirlink/fhir/fhirvalidate"
	"fhirlink/server"
	"fhirlink/server/auth"
	"fhirlink/server/fhirlinktest"
)

// clientKey is a SMART client's key pair, made by the test.
type clientKey struct {
	kid  string
	alg  string // RS384 or ES384
	priv crypto.Signer
}

func newKey(t *testing.T, alg string) *clientKey {
	t.Helper()
	k := &clientKey{kid: uuid.NewString()[:8], alg: alg}
	var err error
	switch alg {
	case "RS384":
		k.priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES384":
		k.priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// jwk is the key's public JWK.
func (k *clientKey) jwk(t *testing.T) map[string]any {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	switch pub := k.priv.Public().(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": k.kid, "alg": "RS384", "use": "sig",
			"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes())}
	case *ecdsa.PublicKey:
		raw, err := pub.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return map[string]any{"kty": "EC", "kid": k.kid, "crv": "P-384", "x": b64(raw[1:49]), "y": b64(raw[49:])}
	}
	t.Fatal("unknown key type")
	return nil
}

func jwks(t *testing.T, keys ...*clientKey) []byte {
	t.Helper()
	var list []map[string]any
	for _, k := range keys {
		list = append(list, k.jwk(t))
	}
	b, _ := json.Marshal(map[string]any{"keys": list})
	return b
}

// assertion signs a client assertion for client at aud, valid two
// minutes; edit changes the header and claims before signing.
func (k *clientKey) assertion(t *testing.T, client, aud string, edit ...func(h map[string]any, c jwt.MapClaims)) string {
	t.Helper()
	claims := jwt.MapClaims{"iss": client, "sub": client, "aud": aud, "jti": uuid.NewString(),
		"exp": time.Now().Add(2 * time.Minute).Unix(), "iat": time.Now().Unix()}
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.alg), claims)
	tok.Header["kid"] = k.kid
	for _, e := range edit {
		e(tok.Header, claims)
	}
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// smart is a FHIR environment plus SMART helpers.
type smart struct {
	*fhirlinktest.Env
	t *testing.T
}

func (s *smart) tokenURL() string { return s.URL() + "/oauth/token" }

// client registers a client of integrator with an inline JWKS (jwksURL
// empty) or a JWKS URL.
func (s *smart) client(integrator, scope string, inline []byte, jwksURL string) string {
	s.t.Helper()
	c := &server.Client{ID: uuid.NewString(), IntegratorID: integrator, JWKS: inline, JWKSURL: jwksURL, Scope: scope}
	if err := auth.ValidateClient(c); err != nil {
		s.t.Fatal(err)
	}
	if err := s.Store.CreateClient(context.Background(), c); err != nil {
		s.t.Fatal(err)
	}
	return c.ID
}

type tokenAnswer struct {
	status           int
	header           http.Header
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func (s *smart) token(form url.Values) *tokenAnswer {
	s.t.Helper()
	status, h, body, err := s.Do(context.Background(), http.MethodPost, s.tokenURL(), "", form.Encode(),
		"Content-Type", "application/x-www-form-urlencoded")
	if err != nil {
		s.t.Fatal(err)
	}
	var a tokenAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		s.t.Fatalf("token answer %d %s: %v", status, body, err)
	}
	a.status, a.header = status, h
	return &a
}

func tokenForm(assertion, scope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {auth.AssertionType}, "client_assertion": {assertion}}
}

// mustToken gets an access token or fails.
func (s *smart) mustToken(k *clientKey, client, scope string) *tokenAnswer {
	s.t.Helper()
	a := s.token(tokenForm(k.assertion(s.t, client, s.tokenURL()), scope))
	if a.status != http.StatusOK || a.AccessToken == "" {
		s.t.Fatalf("token: %d %s %s", a.status, a.Error, a.ErrorDescription)
	}
	return a
}

// refused expects an OAuth error.
func (s *smart) refused(name string, form url.Values, status int, code string, reason ...string) {
	s.t.Helper()
	a := s.token(form)
	if a.status != status || a.Error != code || a.AccessToken != "" {
		s.t.Errorf("%s: %d %q (%s), want %d %s", name, a.status, a.Error, a.ErrorDescription, status, code)
	}
	if len(reason) > 0 && !strings.Contains(a.ErrorDescription, reason[0]) {
		s.t.Errorf("%s: error_description %q does not say %q", name, a.ErrorDescription, reason[0])
	}
	if a.header.Get("Cache-Control") != "no-store" {
		s.t.Errorf("%s: Cache-Control %q", name, a.header.Get("Cache-Control"))
	}
}

// fhirAs sends a FHIR GET with a bearer token.
func (s *smart) fhirAs(token, path string) (int, []byte) {
	s.t.Helper()
	status, _, body, err := s.Do(context.Background(), http.MethodGet, s.SiteURL()+"/fhir/R4/"+path, "", nil, "Authorization", "Bearer "+token)
	if err != nil {
		s.t.Fatal(err)
	}
	return status, body
}

// jwksServer serves a JWKS on 127.0.0.1 and counts fetches.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int32
	mu      sync.Mutex
	body    []byte
}

func newJWKSServer(t *testing.T, body []byte, cacheControl string) *jwksServer {
	js := &jwksServer{body: body}
	js.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		js.fetches.Add(1)
		js.mu.Lock()
		b := js.body
		js.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", cacheControl)
		w.Write(b)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	js.Listener = ln
	js.Start()
	t.Cleanup(js.Close)
	return js
}

func (js *jwksServer) set(body []byte) {
	js.mu.Lock()
	js.body = body
	js.mu.Unlock()
}

func TestSMARTTokenEndpoint(t *testing.T) {
	env, _ := fhirEnv(t)
	s := &smart{Env: env, t: t}
	aud := s.tokenURL()
	rs, es := newKey(t, "RS384"), newKey(t, "ES384")
	inline := s.client(env.IntegratorID, "system/*.rs", jwks(t, rs, es), "")

	t.Run("RS384 and ES384 inline", func(t *testing.T) {
		for _, k := range []*clientKey{rs, es} {
			a := s.mustToken(k, inline, "system/Patient.rs")
			if a.TokenType != "bearer" || a.ExpiresIn <= 0 || a.ExpiresIn > 300 || a.Scope != "system/Patient.rs" {
				t.Errorf("%s: %+v", k.alg, a)
			}
			if a.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
				t.Errorf("%s: headers %v", k.alg, a.header)
			}
		}
	})

	t.Run("JWKS by URL, cached, refetched once for a new kid", func(t *testing.T) {
		k1, k2, k3 := newKey(t, "ES384"), newKey(t, "RS384"), newKey(t, "ES384")
		js := newJWKSServer(t, jwks(t, k1), "public, max-age=300")
		byURL := s.client(env.IntegratorID, "system/*.rs", nil, js.URL+"/jwks.json")
		s.mustToken(k1, byURL, "system/*.rs")
		s.mustToken(k1, byURL, "system/*.rs")
		if n := js.fetches.Load(); n != 1 {
			t.Fatalf("%d fetches for two tokens within max-age, want 1", n)
		}
		// The client rotates: a kid the cached set lacks makes one refetch.
		js.set(jwks(t, k1, k2))
		s.mustToken(k2, byURL, "system/*.rs")
		if n := js.fetches.Load(); n != 2 {
			t.Fatalf("%d fetches after a new kid, want 2", n)
		}
		// Another unknown kid right after: no new fetch, refused.
		s.refused("unknown kid after refetch", tokenForm(k3.assertion(t, byURL, aud), "system/*.rs"), 401, "invalid_client", "no key with kid")
		if n := js.fetches.Load(); n != 2 {
			t.Fatalf("%d fetches after a made-up kid, want still 2", n)
		}
		// jku must be the registered URL.
		s.mustToken(k1, byURL, "system/*.rs") // warm, then:
		s.refused("foreign jku", tokenForm(k1.assertion(t, byURL, aud, func(h map[string]any, _ jwt.MapClaims) {
			h["jku"] = "https://attacker.example/jwks.json"
		}), "system/*.rs"), 401, "invalid_client", "jku")
		good := k1.assertion(t, byURL, aud, func(h map[string]any, _ jwt.MapClaims) { h["jku"] = js.URL + "/jwks.json" })
		if a := s.token(tokenForm(good, "system/*.rs")); a.status != 200 {
			t.Errorf("registered jku: %d %s", a.status, a.ErrorDescription)
		}
	})

	t.Run("JWKS URL not cached when Cache-Control forbids", func(t *testing.T) {
		k := newKey(t, "RS384")
		js := newJWKSServer(t, jwks(t, k), "no-store")
		c := s.client(env.IntegratorID, "system/*.rs", nil, js.URL)
		s.mustToken(k, c, "system/*.rs")
		s.mustToken(k, c, "system/*.rs")
		if n := js.fetches.Load(); n != 2 {
			t.Fatalf("%d fetches with no-store, want 2", n)
		}
	})

	t.Run("attacks", func(t *testing.T) {
		other := newKey(t, "ES384") // not registered
		claims := func(f func(c jwt.MapClaims)) func(map[string]any, jwt.MapClaims) {
			return func(_ map[string]any, c jwt.MapClaims) { f(c) }
		}
		cases := []struct {
			name      string
			assertion string
			reason    string
		}{
			{"wrong kid", rs.assertion(t, inline, aud, func(h map[string]any, _ jwt.MapClaims) { h["kid"] = "nope" }), "no key with kid"},
			{"unregistered key under a registered kid", (&clientKey{kid: es.kid, alg: "ES384", priv: other.priv}).assertion(t, inline, aud), "signature does not verify"},
			// The RSA key's kid with ES384: the kty does not fit the alg.
			{"kty not matching alg", (&clientKey{kid: rs.kid, alg: "ES384", priv: es.priv}).assertion(t, inline, aud), "does not fit alg ES384"},
			{"expired", rs.assertion(t, inline, aud, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-2 * time.Minute).Unix() })), "has expired"},
			{"exp more than 5 minutes ahead", rs.assertion(t, inline, aud, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(10 * time.Minute).Unix() })), "more than 5m0s ahead"},
			{"no exp", rs.assertion(t, inline, aud, claims(func(c jwt.MapClaims) { delete(c, "exp") })), "needs an exp"},
			{"wrong aud", rs.assertion(t, inline, "https://elsewhere.example/oauth/token"), "aud must be exactly"},
			{"aud as a list naming another audience too", rs.assertion(t, inline, aud, claims(func(c jwt.MapClaims) { c["aud"] = []string{aud, "https://elsewhere.example"} })), "aud must be exactly"},
			{"aud of another path", rs.assertion(t, inline, env.URL()+"/oauth/token2"), "aud must be exactly"},
			{"iss not sub", rs.assertion(t, inline, aud, claims(func(c jwt.MapClaims) { c["sub"] = uuid.NewString() })), "iss and sub"},
			{"no jti", rs.assertion(t, inline, aud, claims(func(c jwt.MapClaims) { delete(c, "jti") })), "needs a jti"},
			{"unknown client", rs.assertion(t, uuid.NewString(), aud), "unknown client"},
			{"alg none", unsigned(t, inline, aud, rs.kid), "alg must be RS384 or ES384"},
			{"HS256 with the public key as secret", hmacWithPublicKey(t, rs, inline, aud), "alg must be RS384 or ES384"},
			{"RS256 (not RS384)", (&clientKey{kid: rs.kid, alg: "RS256", priv: rs.priv}).assertion(t, inline, aud), "alg must be RS384 or ES384"},
			{"not a JWT", "not.a.jwt", "not a well-formed JWT"},
			{"tampered claims", tamper(rs.assertion(t, inline, aud)), "signature does not verify"},
		}
		// An alg the JWT library does not know (odd case, made up, empty)
		// or no alg at all: the caller's malformed input, not a 500.
		for _, alg := range []any{"None", "NONE", "nOnE", "FOO", "rs384", "", nil, 384} {
			a := rs.assertion(t, inline, aud, func(h map[string]any, _ jwt.MapClaims) {
				if alg == nil {
					delete(h, "alg")
				} else {
					h["alg"] = alg
				}
			})
			cases = append(cases, struct {
				name      string
				assertion string
				reason    string
			}{fmt.Sprintf("alg %v", alg), a, "alg must be RS384 or ES384"})
		}
		for _, c := range cases {
			s.refused(c.name, tokenForm(c.assertion, "system/*.rs"), http.StatusUnauthorized, "invalid_client", c.reason)
		}
	})

	t.Run("bearer token with an unknown alg", func(t *testing.T) {
		good := s.mustToken(rs, inline, "system/*.rs").AccessToken
		parts := strings.Split(good, ".")
		for _, alg := range []string{"None", "nOnE", "FOO", "es256", ""} {
			h, _ := json.Marshal(map[string]any{"alg": alg, "typ": "at+jwt", "kid": "x"})
			forged := base64.RawURLEncoding.EncodeToString(h) + "." + parts[1] + "." + parts[2]
			if status, body := s.fhirAs(forged, "/Patient?_count=1"); status != http.StatusUnauthorized {
				t.Errorf("alg %q: %d %s", alg, status, body)
			}
		}
	})

	t.Run("replayed jti", func(t *testing.T) {
		a := rs.assertion(t, inline, aud)
		if got := s.token(tokenForm(a, "system/*.rs")); got.status != 200 {
			t.Fatalf("first use: %d %s", got.status, got.ErrorDescription)
		}
		s.refused("replay", tokenForm(a, "system/*.rs"), 401, "invalid_client", "jti was used before")
		// Same jti, freshly signed: still a replay.
		jti := uuid.NewString()
		withJTI := func(_ map[string]any, c jwt.MapClaims) { c["jti"] = jti }
		if got := s.token(tokenForm(rs.assertion(t, inline, aud, withJTI), "system/*.rs")); got.status != 200 {
			t.Fatalf("fresh jti: %d", got.status)
		}
		s.refused("re-signed replay", tokenForm(es.assertion(t, inline, aud, withJTI), "system/*.rs"), 401, "invalid_client", "jti was used before")
	})

	t.Run("grant and form errors", func(t *testing.T) {
		f := tokenForm(rs.assertion(t, inline, aud), "system/*.rs")
		f.Set("grant_type", "password")
		s.refused("grant password", f, 400, "unsupported_grant_type")
		f = tokenForm(rs.assertion(t, inline, aud), "system/*.rs")
		f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
		s.refused("assertion type", f, 401, "invalid_client")
		f = tokenForm("", "system/*.rs")
		s.refused("no assertion", f, 401, "invalid_client")
		status, _, _, _ := env.Do(context.Background(), http.MethodPost, aud, "", `{"grant_type":"client_credentials"}`)
		if status != 400 {
			t.Errorf("JSON body: %d", status)
		}
	})

	t.Run("scope narrowing", func(t *testing.T) {
		narrow := s.client(env.IntegratorID, "system/Patient.rs system/Practitioner.read", jwks(t, es), "")
		a := s.mustToken(es, narrow, "system/*.rs system/Observation.rs launch")
		if a.Scope != "system/Patient.rs system/Practitioner.rs" {
			t.Errorf("granted %q", a.Scope)
		}
		a = s.mustToken(es, narrow, "system/Patient.read system/Practitioner.r")
		if a.Scope != "system/Patient.rs system/Practitioner.r" {
			t.Errorf("granted %q", a.Scope)
		}
		s.refused("nothing grantable", tokenForm(es.assertion(t, narrow, aud), "system/Observation.rs"), 400, "invalid_scope")
		s.refused("passthrough not in *", tokenForm(es.assertion(t, narrow, aud), "system/passthrough.read"), 400, "invalid_scope")
		s.refused("no scope", tokenForm(es.assertion(t, narrow, aud), ""), 400, "invalid_scope")
	})

	t.Run("smart-configuration", func(t *testing.T) {
		status, h, body, err := env.Do(context.Background(), http.MethodGet, env.SiteURL()+"/fhir/R4/.well-known/smart-configuration", "", nil)
		if err != nil || status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("%d %v %s", status, err, body)
		}
		var cfg map[string]any
		json.Unmarshal(body, &cfg)
		if cfg["token_endpoint"] != aud {
			t.Errorf("token_endpoint %v, want %s", cfg["token_endpoint"], aud)
		}
		for k, want := range map[string]string{
			"grant_types_supported":                            "client_credentials",
			"token_endpoint_auth_methods_supported":            "private_key_jwt",
			"token_endpoint_auth_signing_alg_values_supported": "RS384 ES384",
			"capabilities":                     "client-confidential-asymmetric permission-v2",
			"code_challenge_methods_supported": "S256",
		} {
			var got []string
			for _, v := range cfg[k].([]any) {
				got = append(got, v.(string))
			}
			if strings.Join(got, " ") != want {
				t.Errorf("%s = %v, want %s", k, got, want)
			}
		}
		if !strings.Contains(string(body), `"system/Patient.rs"`) || !strings.Contains(string(body), `"system/passthrough.read"`) {
			t.Errorf("scopes_supported: %s", body)
		}
	})
}

// unsigned is an alg none assertion.
func unsigned(t *testing.T, client, aud, kid string) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": client, "sub": client, "aud": aud,
		"jti": uuid.NewString(), "exp": time.Now().Add(time.Minute).Unix()})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// hmacWithPublicKey is the classic key-confusion attack: HS256 keyed with
// the client's public key, which anyone can read.
func hmacWithPublicKey(t *testing.T, k *clientKey, client, aud string) string {
	der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": client, "sub": client, "aud": aud,
		"jti": uuid.NewString(), "exp": time.Now().Add(time.Minute).Unix()})
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tamper changes a JWT's payload without re-signing it.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	json.Unmarshal(payload, &m)
	m["scope"] = "system/*.cruds system/passthrough.cruds"
	m["exp"] = time.Now().Add(time.Hour).Unix()
	b, _ := json.Marshal(m)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func TestSMARTScopesOnFHIRAndPassthrough(t *testing.T) {
	env, _ := fhirEnv(t)
	s := &smart{Env: env, t: t}
	k := newKey(t, "ES384")
	all := s.client(env.IntegratorID, "system/*.rs system/passthrough.read", jwks(t, k), "")

	patient := s.mustToken(k, all, "system/Patient.rs").AccessToken
	status, body := s.fhirAs(patient, "Patient?_count=2")
	if status != 200 || !strings.Contains(string(body), `"Bundle"`) {
		t.Fatalf("Patient search with system/Patient.rs: %d %.300s", status, body)
	}
	fhirvalidate.Bundle(t, body)
	var b bundle
	json.Unmarshal(body, &b)
	ids := b.ids(t, "match")
	if len(ids) == 0 {
		t.Fatal("no patients")
	}
	if status, body := s.fhirAs(patient, "Patient/"+ids[0]); status != 200 {
		t.Fatalf("read: %d %s", status, body)
	}

	// The scope names the type: Practitioner does not give Patient.
	pract := s.mustToken(k, all, "system/Practitioner.rs").AccessToken
	status, body = s.fhirAs(pract, "Patient")
	if status != 403 || !strings.Contains(string(body), "OperationOutcome") || !strings.Contains(string(body), "system/Patient.s") {
		t.Fatalf("Patient search with system/Practitioner.rs: %d %s", status, body)
	}
	fhirvalidate.Resources(t, body)
	if status, _ := s.fhirAs(pract, "Practitioner?_count=1"); status != 200 {
		t.Fatalf("Practitioner search: %d", status)
	}
	// Read needs r, search needs s.
	readOnly := s.mustToken(k, all, "system/Patient.r").AccessToken
	if status, _ := s.fhirAs(readOnly, "Patient/"+ids[0]); status != 200 {
		t.Errorf("read with .r: %d", status)
	}
	if status, body := s.fhirAs(readOnly, "Patient"); status != 403 || !strings.Contains(string(body), "system/Patient.s") {
		t.Errorf("search with .r: %d %s", status, body)
	}
	searchOnly := s.mustToken(k, all, "system/Patient.s").AccessToken
	if status, body := s.fhirAs(searchOnly, "Patient/"+ids[0]); status != 403 || !strings.Contains(string(body), "system/Patient.r") {
		t.Errorf("read with .s: %d %s", status, body)
	}

	// _include needs the included type too, in the first page and in next links.
	inc := "Patient?_count=2&_include=Patient:general-practitioner"
	status, body = s.fhirAs(patient, inc)
	if status != 403 || !strings.Contains(string(body), "system/Practitioner.s") {
		t.Fatalf("_include without Practitioner scope: %d %s", status, body)
	}
	both := s.mustToken(k, all, "system/Patient.rs system/Practitioner.rs").AccessToken
	status, body = s.fhirAs(both, inc)
	if status != 200 {
		t.Fatalf("_include with both scopes: %d %s", status, body)
	}
	json.Unmarshal(body, &b)
	if next := b.link("next"); next != "" {
		st, _, nb, _ := env.Do(context.Background(), http.MethodGet, next, "", nil, "Authorization", "Bearer "+patient)
		if st != 403 || !strings.Contains(string(nb), "system/Practitioner.s") {
			t.Errorf("next link with _include, Patient-only token: %d %s", st, nb)
		}
	}
	// POST _search carries _include in the body.
	st, _, pb, _ := env.Do(context.Background(), http.MethodPost, env.SiteURL()+"/fhir/R4/Patient/_search", "",
		"_include=Patient:general-practitioner", "Content-Type", "application/x-www-form-urlencoded", "Authorization", "Bearer "+patient)
	if st != 403 {
		t.Errorf("POST _search with _include: %d %s", st, pb)
	}

	// metadata needs a credential but no scope.
	if status, body := s.fhirAs(pract, "metadata"); status != 200 || !strings.Contains(string(body), "SMART-on-FHIR") || !strings.Contains(string(body), s.tokenURL()) {
		t.Errorf("metadata: %d %.300s", status, body)
	}

	// Passthrough is its own grant: *.rs does not give it.
	query := `{"command":{"text":"SELECT 1 AS one"}}`
	pass := func(token, body string) (int, []byte) {
		st, _, b, err := env.Do(context.Background(), http.MethodPost, env.SiteURL()+"/queries/immediate", "", body, "Authorization", "Bearer "+token)
		if err != nil {
			t.Fatal(err)
		}
		return st, b
	}
	wild := s.mustToken(k, all, "system/*.rs").AccessToken
	if st, b := pass(wild, query); st != 403 || !strings.Contains(string(b), "system/passthrough.r") {
		t.Errorf("passthrough with *.rs: %d %s", st, b)
	}
	ptRead := s.mustToken(k, all, "system/passthrough.read").AccessToken
	if st, b := pass(ptRead, query); st != 200 {
		t.Errorf("passthrough read: %d %s", st, b)
	}
	if st, b := pass(ptRead, `{"command":{"text":"DELETE FROM x","executionMode":"nonQuery"}}`); st != 403 || !strings.Contains(string(b), "system/passthrough.cud") {
		t.Errorf("passthrough write with .read: %d %s", st, b)
	}

	// Bad tokens.
	if status, body := s.fhirAs(tamper(patient), "Patient"); status != 401 || !strings.Contains(string(body), "OperationOutcome") {
		t.Errorf("tampered: %d %s", status, body)
	}
	if status, _ := s.fhirAs(expiredToken(t, env, all), "Patient"); status != 401 {
		t.Errorf("expired: %d", status)
	}
	// A client assertion is not an access token.
	if status, _ := s.fhirAs(k.assertion(t, all, s.tokenURL()), "Patient"); status != 401 {
		t.Errorf("client assertion as bearer: %d", status)
	}
	st, h, _, _ := env.Do(context.Background(), http.MethodGet, env.SiteURL()+"/fhir/R4/Patient", "", nil, "Authorization", "Basic Zm9vOmJhcg==")
	if st != 401 || !strings.Contains(h.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("Basic auth: %d %v", st, h)
	}
	if st, _, _, _ := env.Do(context.Background(), http.MethodGet, env.SiteURL()+"/fhir/R4/Patient", env.Key, nil, "Authorization", "Bearer "+patient); st != 400 {
		t.Errorf("key and token together: %d", st)
	}

	// A token gives what its integrator is paired with, no more.
	otherIn, _ := env.NewIntegrator(false)
	otherClient := s.client(otherIn, "system/*.rs", jwks(t, k), "")
	unpaired := s.mustToken(k, otherClient, "system/*.rs").AccessToken
	if status, body := s.fhirAs(unpaired, "Patient"); status != 403 || !strings.Contains(string(body), "not paired") {
		t.Errorf("unpaired integrator's token: %d %s", status, body)
	}

	// A deleted client's tokens stop at once.
	if err := env.Store.DeleteClient(context.Background(), otherClient); err != nil {
		t.Fatal(err)
	}
	if status, _ := s.fhirAs(unpaired, "Patient"); status != 401 {
		t.Errorf("deleted client's token: %d", status)
	}
	// The API key keeps full access, as before scopes.
	if status, _, body := env.FHIR(http.MethodGet, "Patient?_count=1&_include=Patient:general-practitioner", ""); status != 200 {
		t.Errorf("key: %d %s", status, body)
	}
}

// expiredToken signs, with the server's current key, an access token that
// expired a minute ago.
func expiredToken(t *testing.T, env *fhirlinktest.Env, client string) string {
	keys, err := env.Store.SigningKeys(context.Background())
	if err != nil || len(keys) == 0 {
		t.Fatalf("signing keys: %v %v", keys, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(keys[0].Private)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"sub": client, "client_id": client, "scope": "system/*.rs",
		"iat": time.Now().Add(-6 * time.Minute).Unix(), "exp": time.Now().Add(-time.Minute).Unix()})
	tok.Header["kid"], tok.Header["typ"] = keys[0].ID, "at+jwt"
	s, err := tok.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMARTSigningKeyRotation(t *testing.T) {
	env, _ := fhirEnv(t)
	s := &smart{Env: env, t: t}
	k := newKey(t, "RS384")
	c := s.client(env.IntegratorID, "system/*.rs", jwks(t, k), "")
	ctx := context.Background()

	old := s.mustToken(k, c, "system/Patient.rs").AccessToken
	kidOf := func(tok string) string {
		h, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		var m map[string]any
		json.Unmarshal(h, &m)
		return m["kid"].(string)
	}
	published := func() []string {
		_, _, body, err := env.Do(ctx, http.MethodGet, env.URL()+"/.well-known/jwks.json", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		var set struct {
			Keys []struct{ Kid, Kty, Alg string }
		}
		json.Unmarshal(body, &set)
		var kids []string
		for _, k := range set.Keys {
			kids = append(kids, k.Kid)
		}
		return kids
	}
	if kids := published(); len(kids) != 1 || kids[0] != kidOf(old) {
		t.Fatalf("JWKS kids %v, token kid %s", kids, kidOf(old))
	}

	// First rotation: new tokens use the new key; the old key still
	// verifies and is still published.
	added, _, err := auth.RotateSigningKey(ctx, env.Store)
	if err != nil {
		t.Fatal(err)
	}
	env.API.OAuth.ReloadKeys() // what every node does within 30 s on its own
	fresh := s.mustToken(k, c, "system/Patient.rs").AccessToken
	if kidOf(fresh) != added {
		t.Fatalf("new token kid %s, want the rotated-in %s", kidOf(fresh), added)
	}
	if status, body := s.fhirAs(old, "Patient?_count=1"); status != 200 {
		t.Fatalf("token of the previous key after one rotation: %d %s", status, body)
	}
	if kids := published(); len(kids) != 2 || kids[0] != added || kids[1] != kidOf(old) {
		t.Fatalf("JWKS kids after rotation %v", kids)
	}

	// Second rotation: the first key is removed and its tokens refused.
	_, removed, err := auth.RotateSigningKey(ctx, env.Store)
	if err != nil {
		t.Fatal(err)
	}
	env.API.OAuth.ReloadKeys()
	if len(removed) != 1 || removed[0] != kidOf(old) {
		t.Fatalf("removed %v, want [%s]", removed, kidOf(old))
	}
	if status, _ := s.fhirAs(old, "Patient?_count=1"); status != 401 {
		t.Errorf("token of a removed key: %d", status)
	}
	if status, _ := s.fhirAs(fresh, "Patient?_count=1"); status != 200 {
		t.Errorf("token of the previous key: %d", status)
	}
}
