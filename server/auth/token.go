package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"fhirlink/server"
)

// The token endpoint's rules.
const (
	// AssertionType is the only client_assertion_type accepted.
	AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// MaxAssertionLifetime is how far ahead a client assertion's exp may be.
	MaxAssertionLifetime = 5 * time.Minute
	// ClockSkew is the tolerance between the client's clock and ours.
	ClockSkew = 30 * time.Second
	// AccessTokenLifetime is the lifetime of the access tokens issued.
	AccessTokenLifetime = 5 * time.Minute
	// accessTokenType is the typ header of our access tokens (RFC 9068),
	// which keeps any other JWT from passing as one.
	accessTokenType = "at+jwt"
	// maxJTI bounds the jti kept in the replay store.
	maxJTI = 255
)

// Error is an OAuth 2.0 error response (RFC 6749, 5.2).
type Error struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// invalidClient is a failed client authentication: 401.
func invalidClient(format string, args ...any) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "invalid_client", Description: fmt.Sprintf(format, args...)}
}

func badRequest(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Description: fmt.Sprintf(format, args...)}
}

// TokenResponse is a successful token response.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// Access is what a valid access token grants.
type Access struct {
	Client  *server.Client
	Grant   Grant
	Expires time.Time
}

// Authority issues and verifies access tokens. Set Store; the rest has
// defaults. It is safe for concurrent use once in service.
type Authority struct {
	Store server.Store
	// HTTPClient fetches clients' JWKS; default: [DefaultJWKSTimeout] in
	// all, redirects not followed.
	HTTPClient *http.Client
	// RefetchInterval is how often at most an unknown kid refetches a
	// cached JWKS ([DefaultRefetchInterval] when zero).
	RefetchInterval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	once   sync.Once
	jwks   *jwksCache
	signer *signer
}

func (a *Authority) init() {
	a.once.Do(func() {
		now := a.Now
		if now == nil {
			now = time.Now
		}
		client := a.HTTPClient
		if client == nil {
			client = newJWKSClient(DefaultJWKSTimeout)
		}
		interval := a.RefetchInterval
		if interval == 0 {
			interval = DefaultRefetchInterval
		}
		a.jwks = &jwksCache{client: client, now: now, refetchInterval: interval}
		a.signer = &signer{store: a.Store, now: now}
	})
}

func (a *Authority) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// assertionClaims are a client assertion's claims.
type assertionClaims struct {
	jwt.RegisteredClaims
}

// accessClaims are our access tokens' claims.
type accessClaims struct {
	jwt.RegisteredClaims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

// Token answers a token request whose form is form, made at tokenURL (the
// absolute URL the client must name as aud). Errors are [*Error] or, for
// failures of ours, any other error (a 500 for the caller).
func (a *Authority) Token(ctx context.Context, form url.Values, tokenURL string) (*TokenResponse, error) {
	a.init()
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		return nil, badRequest("invalid_request", "grant_type is required: use client_credentials")
	default:
		return nil, badRequest("unsupported_grant_type", "grant_type %q is not supported: use client_credentials", gt)
	}
	if t := form.Get("client_assertion_type"); t != AssertionType {
		return nil, invalidClient("client_assertion_type must be %s (private_key_jwt)", AssertionType)
	}
	assertion := form.Get("client_assertion")
	if assertion == "" {
		return nil, invalidClient("client_assertion is required: a JWT signed with one of the client's keys")
	}
	client, claims, err := a.authenticate(ctx, assertion, tokenURL)
	if err != nil {
		return nil, err
	}
	if id := form.Get("client_id"); id != "" && id != client.ID {
		return nil, invalidClient("client_id does not match the assertion's iss")
	}

	requested, _ := ParseGrant(form.Get("scope"))
	if strings.TrimSpace(form.Get("scope")) == "" {
		return nil, badRequest("invalid_scope", "scope is required, e.g. system/Patient.rs")
	}
	allowed, _ := ParseGrant(client.Scope)
	granted := Intersect(requested, allowed)
	if len(granted) == 0 {
		return nil, badRequest("invalid_scope", "none of the requested scopes is granted to this client; it may ask for: %s", allowed)
	}

	// The replay check comes last, once the assertion has proved who made
	// it: nobody else can burn a client's jti.
	if err := a.Store.UseJTI(ctx, client.ID, claims.ID, claims.ExpiresAt.Add(ClockSkew)); err != nil {
		if server.ErrorCode(err) == server.ECONFLICT {
			return nil, invalidClient("the assertion's jti was used before: make a new assertion for each request")
		}
		return nil, err
	}

	tok, err := a.issue(ctx, client, granted, tokenURL)
	if err != nil {
		return nil, err
	}
	return &TokenResponse{AccessToken: tok, TokenType: "bearer", ExpiresIn: int(AccessTokenLifetime / time.Second), Scope: granted.String()}, nil
}

// authenticate verifies a client assertion and returns its client.
func (a *Authority) authenticate(ctx context.Context, assertion, tokenURL string) (*server.Client, *assertionClaims, error) {
	var client *server.Client
	// internal is a failure of ours met while checking the assertion (the
	// store): the only error that is not the caller's fault. Everything
	// else, whatever the JWT library calls it, is invalid_client.
	var internal error
	claims := &assertionClaims{}
	p := jwt.NewParser(
		jwt.WithValidMethods(assertionAlgs),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(ClockSkew),
		jwt.WithTimeFunc(a.now),
	)
	_, err := p.ParseWithClaims(assertion, claims, func(t *jwt.Token) (any, error) {
		if typ, ok := t.Header["typ"]; ok {
			if s, _ := typ.(string); !strings.EqualFold(s, "JWT") {
				return nil, invalidClient("the assertion's typ header must be JWT")
			}
		}
		if claims.Issuer == "" || claims.Issuer != claims.Subject {
			return nil, invalidClient("the assertion's iss and sub must both be the client_id")
		}
		var err error
		client, err = a.Store.Client(ctx, claims.Issuer)
		if server.ErrorCode(err) == server.ENOTFOUND {
			return nil, invalidClient("unknown client %q", claims.Issuer)
		} else if err != nil {
			internal = err
			return nil, err
		}
		kid, _ := t.Header["kid"].(string)
		alg, _ := t.Header["alg"].(string)
		if jku, ok := t.Header["jku"]; ok {
			if s, _ := jku.(string); client.JWKSURL == "" || s != client.JWKSURL {
				return nil, invalidClient("the assertion's jku header is not the client's registered JWKS URL")
			}
		}
		return a.clientKey(ctx, client, kid, alg)
	})
	if internal != nil {
		return nil, nil, internal
	}
	if err != nil {
		return nil, nil, assertionError(err)
	}
	if len(claims.Audience) != 1 || claims.Audience[0] != tokenURL {
		return nil, nil, invalidClient("the assertion's aud must be exactly the token endpoint URL %s", tokenURL)
	}
	if claims.ExpiresAt.After(a.now().Add(MaxAssertionLifetime + ClockSkew)) {
		return nil, nil, invalidClient("the assertion's exp is more than %v ahead", MaxAssertionLifetime)
	}
	if claims.ID == "" || len(claims.ID) > maxJTI {
		return nil, nil, invalidClient("the assertion needs a jti (a unique id, at most %d characters)", maxJTI)
	}
	return client, claims, nil
}

// clientKey finds the client's public key for kid and alg: in its inline
// JWKS, or in the set at its JWKS URL, refetched once when kid is unknown
// (the client may have just rotated).
func (a *Authority) clientKey(ctx context.Context, client *server.Client, kid, alg string) (any, error) {
	if client.JWKSURL == "" {
		set, err := ParseKeySet(client.JWKS)
		if err != nil {
			return nil, invalidClient("the client's registered JWKS is unusable: %v", err)
		}
		key, err := set.Select(kid, alg)
		if err != nil {
			return nil, invalidClient("%v", err)
		}
		return key, nil
	}
	set, fetched, err := a.jwks.get(ctx, client.JWKSURL, false)
	if err != nil {
		return nil, invalidClient("%v", err)
	}
	key, err := set.Select(kid, alg)
	if errors.Is(err, errNoKey) && !fetched {
		if again, _, ferr := a.jwks.get(ctx, client.JWKSURL, true); ferr == nil {
			key, err = again.Select(kid, alg)
		} else if !errors.Is(ferr, errNoKey) {
			err = ferr
		}
	}
	if err != nil {
		return nil, invalidClient("%v", err)
	}
	return key, nil
}

// assertionError turns a parse failure into invalid_client, keeping our
// own reasons and naming jwt's. It never returns an internal error: the
// library also calls an unknown or odd-case alg (None, rs384, FOO) or a
// missing one "unverifiable", and that is the caller's malformed input.
func assertionError(err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return invalidClient("the client_assertion is not a well-formed JWT")
	case strings.Contains(err.Error(), "signing method"):
		// Not in our list, unknown to the library, or not a string.
		return invalidClient("the assertion's alg must be RS384 or ES384 (none and HMAC are never accepted)")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return invalidClient("the assertion's signature does not verify with the key its kid names")
	case errors.Is(err, jwt.ErrTokenExpired):
		return invalidClient("the assertion has expired")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return invalidClient("the assertion needs an exp claim")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return invalidClient("the assertion is not valid yet (nbf or iat in the future)")
	}
	return invalidClient("the assertion is invalid")
}

// issue signs an access token for client.
func (a *Authority) issue(ctx context.Context, client *server.Client, g Grant, issuer string) (string, error) {
	key, err := a.signer.current(ctx)
	if err != nil {
		return "", err
	}
	jti := make([]byte, 16)
	rand.Read(jti)
	now := a.now()
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: client.ID, ID: base64.RawURLEncoding.EncodeToString(jti),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(AccessTokenLifetime)),
		},
		ClientID: client.ID, Scope: g.String(),
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = key.id
	t.Header["typ"] = accessTokenType
	return t.SignedString(key.priv)
}

// Verify checks an access token and returns what it grants: the client,
// which must still be registered, and the token's scopes narrowed to what
// the client is allowed now. Failures are [server.EUNAUTHORIZED].
func (a *Authority) Verify(ctx context.Context, token string) (*Access, error) {
	a.init()
	claims := &accessClaims{}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(a.now),
	)
	var internal error // a failure of ours (the store); anything else is a bad token
	_, err := p.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != accessTokenType {
			return nil, server.Errorf(server.EUNAUTHORIZED, "not an access token of this server")
		}
		kid, _ := t.Header["kid"].(string)
		key, err := a.signer.lookup(ctx, kid)
		if err != nil && server.ErrorCode(err) != server.EUNAUTHORIZED {
			internal = err
		}
		return key, err
	})
	if internal != nil {
		return nil, internal
	}
	if err != nil {
		if e, ok := errors.AsType[*server.Error](err); ok {
			return nil, e
		}
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, server.Errorf(server.EUNAUTHORIZED, "the access token has expired: request a new one at the token endpoint")
		}
		return nil, server.Errorf(server.EUNAUTHORIZED, "invalid access token")
	}
	if claims.ClientID == "" || claims.ClientID != claims.Subject {
		return nil, server.Errorf(server.EUNAUTHORIZED, "invalid access token")
	}
	client, err := a.Store.Client(ctx, claims.ClientID)
	if server.ErrorCode(err) == server.ENOTFOUND {
		return nil, server.Errorf(server.EUNAUTHORIZED, "the access token's client is no longer registered")
	} else if err != nil {
		return nil, err
	}
	held, _ := ParseGrant(claims.Scope)
	allowed, _ := ParseGrant(client.Scope)
	return &Access{Client: client, Grant: Intersect(held, allowed), Expires: claims.ExpiresAt.Time}, nil
}

// JWKS is the server's public signing keys as a JWK Set.
func (a *Authority) JWKS(ctx context.Context) ([]byte, error) {
	a.init()
	return a.signer.jwks(ctx)
}

// ReloadKeys drops this node's copy of the signing keys, so a rotation made
// elsewhere (the admin command, another node) applies at once rather than
// within half a minute.
func (a *Authority) ReloadKeys() {
	a.init()
	a.signer.forget()
}

// ValidateClient checks a client before it is registered: a scope list
// that parses, and keys given either inline (a usable JWKS) or by URL.
func ValidateClient(c *server.Client) error {
	if (c.JWKSURL == "") == (len(c.JWKS) == 0) {
		return server.Errorf(server.EINVALID, "give the client's keys either by JWKS URL or inline, not both")
	}
	if c.JWKSURL != "" {
		if err := ValidateJWKSURL(c.JWKSURL); err != nil {
			return server.Errorf(server.EINVALID, "%v", err)
		}
	} else if _, err := ParseKeySet(c.JWKS); err != nil {
		return server.Errorf(server.EINVALID, "%v", err)
	}
	g, errs := ParseGrant(c.Scope)
	if len(errs) > 0 {
		return server.Errorf(server.EINVALID, "%v", errs[0])
	}
	if len(g) == 0 {
		return server.Errorf(server.EINVALID, "the client needs at least one scope, e.g. system/*.rs")
	}
	c.Scope = g.String()
	return nil
}
