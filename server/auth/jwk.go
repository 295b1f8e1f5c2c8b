package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"strings"
)

// Client assertion algorithms: the only ones SMART Backend Services allows.
// none and the HMAC family are never accepted.
var assertionAlgs = []string{"RS384", "ES384"}

// jwk is the part of a JSON Web Key this package reads.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
}

// KeySet is a client's JSON Web Key Set.
type KeySet struct {
	keys []jwk
}

// ParseKeySet parses a JWKS ({"keys": [...]}). It refuses private keys and
// keys it could never use, so a registration error shows at once rather
// than at the first token request.
func ParseKeySet(b []byte) (*KeySet, error) {
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("JWKS is not valid JSON: %v", err)
	}
	for i, k := range doc.Keys {
		if k.D != "" {
			return nil, fmt.Errorf("JWKS key %d (%q) holds a private key: publish only public keys", i, k.Kid)
		}
		if k.Kty != "RSA" && k.Kty != "EC" {
			continue // other key types may serve other purposes; they never match here
		}
		if _, err := k.public(); err != nil {
			return nil, fmt.Errorf("JWKS key %d (%q): %v", i, k.Kid, err)
		}
	}
	return &KeySet{keys: doc.Keys}, nil
}

// errNoKey is returned by [KeySet.Select] when no key has the kid: the
// caller may refetch a set published by URL.
var errNoKey = errors.New("unknown kid")

// Select returns the one public key with this kid whose kty (and, for EC,
// curve) fits alg, and whose use and alg, when present, allow it. Zero or
// several matches fail.
func (ks *KeySet) Select(kid, alg string) (crypto.PublicKey, error) {
	if kid == "" {
		return nil, errors.New("the assertion has no kid header")
	}
	kty, crv := "RSA", ""
	switch alg {
	case "RS384":
	case "ES384":
		kty, crv = "EC", "P-384"
	default:
		return nil, fmt.Errorf("alg %q is not accepted: use RS384 or ES384", alg)
	}
	var found []jwk
	sameKid := 0
	for _, k := range ks.keys {
		if k.Kid != kid {
			continue
		}
		sameKid++
		if k.Kty != kty || (crv != "" && k.Crv != crv) || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != alg) {
			continue
		}
		found = append(found, k)
	}
	switch {
	case len(found) == 1:
		return found[0].public()
	case len(found) > 1:
		return nil, fmt.Errorf("several keys have kid %q and kty %s: key ids must be unique", kid, kty)
	case sameKid > 0:
		return nil, fmt.Errorf("the key with kid %q does not fit alg %s (want kty %s%s)", kid, alg, kty, map[bool]string{true: " on " + crv}[crv != ""])
	}
	return nil, fmt.Errorf("%w: no key with kid %q is registered for this client", errNoKey, kid)
}

// public decodes the key.
func (k jwk) public() (crypto.PublicKey, error) {
	switch k.Kty {
	case "RSA":
		n, err1 := b64int(k.N)
		e, err2 := b64int(k.E)
		if err1 != nil || err2 != nil || n.Sign() <= 0 || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return nil, errors.New("malformed RSA key (n, e)")
		}
		if n.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits: at least 2048 are required", n.BitLen())
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("unsupported curve %q", k.Crv)
		}
		size := (curve.Params().BitSize + 7) / 8
		x, err1 := base64.RawURLEncoding.DecodeString(k.X)
		y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return nil, errors.New("malformed EC key (x, y)")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, errors.New("the EC key is not a point on its curve")
		}
		return pub, nil
	}
	return nil, fmt.Errorf("unsupported kty %q", k.Kty)
}

func b64int(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New("bad base64url integer")
	}
	return new(big.Int).SetBytes(b), nil
}

// ValidateJWKSURL checks a client's JWKS URL: absolute https, or http on a
// loopback address (development and tests). Anything else could leak the
// fetch or be tampered with.
func ValidateJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("JWKS URL %q: want an absolute https URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); (ip != nil && ip.IsLoopback()) || strings.EqualFold(h, "localhost") {
			return nil
		}
	}
	return fmt.Errorf("JWKS URL %q: must use https (plain http only on a loopback address)", raw)
}
