package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"

	"fhirlink/server"
	"fhirlink/server/auth"
)

// The demo's SMART Backend Services client. Its key pair is made on the
// demo's first start and kept in the demo's directory only: no key is in the
// repository.
const (
	demoClientID    = "7c4e1f0a-2d6b-4a8e-9f31-5b0c8d2e6a14"
	demoClientScope = "system/*.rs system/passthrough.read"
	demoKeyFile     = "smart-client-key.pem"
	demoTokenScript = "smart-token.sh"
)

// seedSMART registers the demo's SMART client with the public half of its
// key pair (made unless the directory already holds one) and writes the
// script that gets an access token with it. It returns the script's path.
func seedSMART(ctx context.Context, st server.Store, dir, tokenURL string) (string, error) {
	key, err := demoClientKey(filepath.Join(dir, demoKeyFile))
	if err != nil {
		return "", err
	}
	kid := keyID(&key.PublicKey)
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS384", "kid": kid,
		"n": b64url(key.N.Bytes()), "e": b64url(big.NewInt(int64(key.E)).Bytes()),
	}}})
	if err != nil {
		return "", err
	}
	cl := &server.Client{ID: demoClientID, IntegratorID: demoIntegratorID, Name: "Demo backend service", JWKS: jwks, Scope: demoClientScope}
	if err := auth.ValidateClient(cl); err != nil {
		return "", err
	}
	if err := st.CreateClient(ctx, cl); err != nil && server.ErrorCode(err) != server.ECONFLICT {
		return "", err
	}
	script := filepath.Join(dir, demoTokenScript)
	return script, os.WriteFile(script, []byte(tokenScript(kid, tokenURL)), 0o700)
}

// demoClientKey reads the client's RSA key from path, or makes one there.
func demoClientKey(path string) (*rsa.PrivateKey, error) {
	if b, err := os.ReadFile(path); err == nil {
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%s: not a PEM file", path)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: not an RSA key", path)
		}
		return rk, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return k, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// keyID names a public key by a digest of it, so a new key gets a new kid.
func keyID(k *rsa.PublicKey) string {
	sum := sha256.Sum256(x509.MarshalPKCS1PublicKey(k))
	return b64url(sum[:12])
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// tokenScript is a POSIX shell script that signs a client assertion (RS384:
// openssl's PKCS #1 v1.5 signature is the JWS signature as it is, where
// ES384 would need its DER signature re-encoded) and exchanges it for an
// access token, which it prints. It needs only sh, openssl and curl.
func tokenScript(kid, tokenURL string) string {
	return fmt.Sprintf(`#!/bin/sh
# Gets an access token for the fhirlink demo's SMART Backend Services client:
# a JWT assertion signed RS384 with the client's private key (beside this
# script), exchanged at the token endpoint. Prints the access token.
set -e
key="$(dirname "$0")/%s"
client=%s
aud=%s
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
header=$(printf '{"alg":"RS384","typ":"JWT","kid":"%%s"}' %s | b64url)
claims=$(printf '{"iss":"%%s","sub":"%%s","aud":"%%s","exp":%%d,"jti":"%%s"}' \
  "$client" "$client" "$aud" $(( $(date +%%s) + 240 )) "$(openssl rand -hex 16)" | b64url)
sig=$(printf '%%s.%%s' "$header" "$claims" | openssl dgst -sha384 -binary -sign "$key" | b64url)
answer=$(curl -s "$aud" \
  --data-urlencode grant_type=client_credentials \
  --data-urlencode scope=%q \
  --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
  --data-urlencode "client_assertion=$header.$claims.$sig")
token=$(printf '%%s' "$answer" | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
if [ -z "$token" ]; then
  printf 'no access token: %%s\n' "$answer" >&2
  exit 1
fi
printf '%%s\n' "$token"
`, demoKeyFile, demoClientID, tokenURL, kid, demoClientScope)
}
