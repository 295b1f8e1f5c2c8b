package server

import (
	"context"
	"time"
)

// Client is a SMART Backend Services client: software of an integrator that
// authenticates at the token endpoint with a JWT signed by one of its own
// keys (private_key_jwt). Its keys are either registered inline (JWKS) or
// published by the integrator at JWKSURL; exactly one of the two is set.
type Client struct {
	ID           string // the client_id, a UUID
	IntegratorID string
	Name         string
	// JWKSURL is where the client's public keys are published.
	JWKSURL string
	// JWKS is the client's public key set (JSON) when registered inline.
	JWKS []byte
	// Scope is the space-separated list of scopes the client may be
	// granted, e.g. "system/*.rs system/passthrough.read".
	Scope     string
	CreatedAt time.Time
}

// SigningKey is one of the server's own keys signing access tokens. The
// newest is the current one; older ones still verify the tokens they signed
// until they are deleted.
type SigningKey struct {
	ID string // the kid of tokens it signs
	// Private is the private key, PKCS#8 DER.
	Private   []byte
	CreatedAt time.Time
}

// OAuthStore is the part of the [Store] serving SMART Backend Services.
type OAuthStore interface {
	// CreateClient registers a client; [ENOTFOUND] when its integrator does
	// not exist, [ECONFLICT] when the id is taken.
	CreateClient(ctx context.Context, c *Client) error
	// Client returns a client or [ENOTFOUND].
	Client(ctx context.Context, id string) (*Client, error)
	// Clients returns an integrator's clients, oldest first.
	Clients(ctx context.Context, integratorID string) ([]*Client, error)
	// DeleteClient removes a client; tokens it holds stop working at once.
	// [ENOTFOUND] when there is no such client.
	DeleteClient(ctx context.Context, id string) error

	// UseJTI records that the client assertion jti of issuer iss was used
	// and stays unusable until expires. It fails with [ECONFLICT] when the
	// pair was recorded before and has not expired yet, so that of several
	// server nodes sharing the store only one accepts an assertion. Records
	// past their expiry may be purged.
	UseJTI(ctx context.Context, iss, jti string, expires time.Time) error

	// AddSigningKey stores a new access-token signing key; [ECONFLICT] when
	// its id is taken. CreatedAt is set by the store.
	AddSigningKey(ctx context.Context, k *SigningKey) error
	// SigningKeys returns the signing keys, newest first.
	SigningKeys(ctx context.Context) ([]*SigningKey, error)
	// DeleteSigningKey removes a signing key; [ENOTFOUND] when absent.
	DeleteSigningKey(ctx context.Context, id string) error
}
