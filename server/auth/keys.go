package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"fhirlink/server"
)

// Server signing keys. Access tokens are ES256 JWTs signed by the newest
// key in the state store; every key still in the store verifies the tokens
// it signed and is published at /.well-known/jwks.json. Rotation adds a new
// key and keeps the one before it ([KeepSigningKeys]), so tokens signed just
// before a rotation keep working for their few minutes; the key before that
// is deleted and its tokens fail. Rotate no more often than the access
// token lifetime to never cut a token short.
const (
	// KeepSigningKeys is how many keys a rotation keeps: the new one and
	// its predecessor.
	KeepSigningKeys = 2
	// keyCacheTTL is how long a node trusts its copy of the key list: a key
	// rotated in or deleted by another node or the admin command is seen
	// within this time.
	keyCacheTTL = 30 * time.Second
	// keyMissInterval bounds reloads caused by unknown kids.
	keyMissInterval = time.Second
)

type serverKey struct {
	id   string
	priv *ecdsa.PrivateKey
}

// signer holds a node's copy of the signing keys.
type signer struct {
	store server.OAuthStore
	now   func() time.Time

	mu     sync.Mutex
	keys   []*serverKey // newest first
	loaded time.Time
	missed time.Time
}

func (s *signer) load(ctx context.Context) error {
	stored, err := s.store.SigningKeys(ctx)
	if err != nil {
		return err
	}
	keys := make([]*serverKey, 0, len(stored))
	for _, k := range stored {
		priv, err := x509.ParsePKCS8PrivateKey(k.Private)
		if err != nil {
			return fmt.Errorf("signing key %s: %w", k.ID, err)
		}
		ec, ok := priv.(*ecdsa.PrivateKey)
		if !ok || ec.Curve != elliptic.P256() {
			return fmt.Errorf("signing key %s is not a P-256 key", k.ID)
		}
		keys = append(keys, &serverKey{id: k.ID, priv: ec})
	}
	s.keys, s.loaded = keys, s.now()
	return nil
}

// current returns the key that signs new tokens, creating the first one.
func (s *signer) current(ctx context.Context) (*serverKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.keys) == 0 || s.now().Sub(s.loaded) >= keyCacheTTL {
		if err := s.load(ctx); err != nil {
			return nil, err
		}
	}
	if len(s.keys) == 0 {
		if _, err := AddSigningKey(ctx, s.store); err != nil {
			return nil, err
		}
		if err := s.load(ctx); err != nil { // another node may have added one too: the newest wins
			return nil, err
		}
		if len(s.keys) == 0 {
			return nil, errors.New("no signing key after creating one")
		}
	}
	return s.keys[0], nil
}

// lookup returns the public key of kid.
func (s *signer) lookup(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.loaded.IsZero() || now.Sub(s.loaded) >= keyCacheTTL {
		if err := s.load(ctx); err != nil {
			return nil, err
		}
	}
	if k := s.find(kid); k != nil {
		return &k.priv.PublicKey, nil
	}
	if now.Sub(s.missed) >= keyMissInterval { // a key rotated in by another node
		s.missed = now
		if err := s.load(ctx); err != nil {
			return nil, err
		}
		if k := s.find(kid); k != nil {
			return &k.priv.PublicKey, nil
		}
	}
	return nil, server.Errorf(server.EUNAUTHORIZED, "the access token's signing key is unknown or was retired: request a new token")
}

func (s *signer) find(kid string) *serverKey {
	for _, k := range s.keys {
		if k.id == kid {
			return k
		}
	}
	return nil
}

// forget drops the cached keys, so the next use reads the store.
func (s *signer) forget() {
	s.mu.Lock()
	s.keys, s.loaded = nil, time.Time{}
	s.mu.Unlock()
}

// jwks is the public key set of the current keys.
func (s *signer) jwks(ctx context.Context) ([]byte, error) {
	if _, err := s.current(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	keys := s.keys
	s.mu.Unlock()
	type pubJWK struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Y   string `json:"y"`
		Kid string `json:"kid"`
		Use string `json:"use"`
		Alg string `json:"alg"`
	}
	doc := struct {
		Keys []pubJWK `json:"keys"`
	}{Keys: []pubJWK{}}
	for _, k := range keys {
		x, y, err := ecPoint(&k.priv.PublicKey)
		if err != nil {
			return nil, err
		}
		doc.Keys = append(doc.Keys, pubJWK{Kty: "EC", Crv: "P-256", X: x, Y: y, Kid: k.id, Use: "sig", Alg: "ES256"})
	}
	return json.Marshal(doc)
}

// ecPoint returns a P-256 public key's coordinates, base64url.
func ecPoint(pub *ecdsa.PublicKey) (x, y string, err error) {
	b, err := pub.Bytes()
	if err != nil {
		return "", "", err
	}
	n := (len(b) - 1) / 2
	return base64.RawURLEncoding.EncodeToString(b[1 : 1+n]), base64.RawURLEncoding.EncodeToString(b[1+n:]), nil
}

// AddSigningKey generates a P-256 key, stores it as the newest signing key
// and returns its id: the key's JWK thumbprint (RFC 7638).
func AddSigningKey(ctx context.Context, st server.OAuthStore) (string, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	x, y, err := ecPoint(&priv.PublicKey)
	if err != nil {
		return "", err
	}
	// The thumbprint's input: the required members in lexicographic order.
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	id := base64.RawURLEncoding.EncodeToString(sum[:])
	if err := st.AddSigningKey(ctx, &server.SigningKey{ID: id, Private: der}); err != nil {
		return "", err
	}
	return id, nil
}

// RotateSigningKey adds a new signing key and deletes all but the newest
// [KeepSigningKeys]. It returns the new key's id and the deleted ones.
// Server nodes pick the change up within half a minute.
func RotateSigningKey(ctx context.Context, st server.OAuthStore) (added string, removed []string, err error) {
	if added, err = AddSigningKey(ctx, st); err != nil {
		return "", nil, err
	}
	keys, err := st.SigningKeys(ctx)
	if err != nil {
		return added, nil, err
	}
	for i, k := range keys {
		if i < KeepSigningKeys || k.ID == added {
			continue
		}
		if err := st.DeleteSigningKey(ctx, k.ID); err != nil && server.ErrorCode(err) != server.ENOTFOUND {
			return added, removed, err
		}
		removed = append(removed, k.ID)
	}
	return added, removed, nil
}
