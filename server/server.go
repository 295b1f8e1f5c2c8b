// Package server holds the cloud side's domain: sites, integrators, the
// pairings between them, and the [Store] that keeps them. Subpackages attach
// it to the outside world: api (HTTP), hub (connected agents), sqlite (the
// embedded store). Others do one job each behind the api: passthrough (the
// passthrough API's query model), async (async and registered queries),
// webhook, quota, audit (the audit writer), inflight (cancelling work whose
// access was withdrawn) and auth (SMART tokens).
package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"
	"unicode"

	"fhirlink/agent/wire"
)

// PMSTypeNamed is the PMS type of a practice management system's name as
// the passthrough API's practiceManagementName gives it ("Best Practice",
// "Zedmed", "D4w"); "" for "", and [EINVALID] for any other name.
func PMSTypeNamed(name string) (string, error) {
	switch name {
	case "":
		return "", nil
	case "Best Practice":
		return wire.PMSBestPractice, nil
	case "Zedmed":
		return wire.PMSZedmed, nil
	case "D4w":
		return wire.PMSD4w, nil
	}
	return "", Errorf(EINVALID, "practiceManagementName must be one of \"Best Practice\", \"Zedmed\", \"D4w\"")
}

// Site is one practice database reachable through one agent.
type Site struct {
	ID   string // a UUID
	Name string // the practice's name, for people
	// PMSType is one of the wire.PMS names (BestPractice, Zedmed, D4w).
	PMSType string
	// PracticeManagementSiteID is the PMS's own identifier of the practice,
	// which integrators use to find the site's ID again after a migration.
	PracticeManagementSiteID string
	CreatedAt                time.Time
}

// Integrator is a software vendor calling the API.
type Integrator struct {
	ID        string // a UUID
	Name      string
	CreatedAt time.Time
}

// Key slots: each integrator has two keys so one can be rotated while the
// other serves.
const (
	KeyPrimary   = 1
	KeySecondary = 2
)

// Store keeps the server's state. Implementations return [*Error] with
// [ENOTFOUND] or [ECONFLICT] where those apply.
type Store interface {
	CreateSite(ctx context.Context, s *Site, secretHash []byte) error
	Site(ctx context.Context, id string) (*Site, error)
	Sites(ctx context.Context) ([]*Site, error)
	// SiteSecretHash returns the hash of the site's agent credential.
	SiteSecretHash(ctx context.Context, id string) ([]byte, error)
	SetSiteSecretHash(ctx context.Context, id string, hash []byte) error
	// CredentialChanges returns the ids of the sites whose agent credential
	// changed (its hash replaced by any means, or the site's row deleted)
	// at or after since, by the store's clock, and that clock now. A
	// change is remembered for [CredentialChangesKept]. A change in a
	// transaction that commits later than it started may carry a time
	// before the now of a call that does not see it yet: ask again from a
	// little before the now returned (see hub's credential sweep).
	CredentialChanges(ctx context.Context, since time.Time) (siteIDs []string, now time.Time, err error)

	CreateIntegrator(ctx context.Context, in *Integrator) error
	Integrator(ctx context.Context, id string) (*Integrator, error)
	Integrators(ctx context.Context) ([]*Integrator, error)
	// SetIntegratorKey stores the hash of the key in slot KeyPrimary or
	// KeySecondary, replacing the key that was there.
	SetIntegratorKey(ctx context.Context, integratorID string, slot int, hash []byte) error
	// IntegratorByKeyHash finds the integrator owning a key.
	IntegratorByKeyHash(ctx context.Context, hash []byte) (*Integrator, error)

	Pair(ctx context.Context, integratorID, siteID string) error
	Unpair(ctx context.Context, integratorID, siteID string) error
	Paired(ctx context.Context, integratorID, siteID string) (bool, error)

	// AccessVersion is a number that changes (grows) with every change to
	// what decides who may reach what: integrators and their keys, sites
	// (their quarantine), pairings, blocks, write grants and quota
	// overrides, whoever made it (any node, the admin CLI on the store;
	// triggers in the store count them). What a node keeps in memory of
	// those (package accesscache) is current while the number stays the
	// same.
	AccessVersion(ctx context.Context) (int64, error)

	// OAuthStore keeps SMART clients, client assertion ids and the server's
	// token signing keys.
	OAuthStore

	// ConsentStore keeps pairing codes, blocks and quarantines.
	ConsentStore

	// QuotaStore keeps quota overrides and daily usage counters.
	QuotaStore

	// AuditStore keeps the append-only audit log.
	AuditStore

	// AsyncStore keeps async queries, webhooks and their deliveries;
	// RegisteredStore keeps registered queries.
	AsyncStore
	RegisteredStore

	// IdempotencyStore keeps the writes' idempotency keys and answers.
	IdempotencyStore
	// ConsoleStore keeps the web console's sign-in links and sessions.
	ConsoleStore

	// ExportStore keeps FHIR Bulk Data export jobs.
	ExportStore

	// CreateEnrollmentCode stores the hash of a one-time enrollment code for
	// the site siteID, usable until expires. It fails with [ENOTFOUND] when
	// the site does not exist. A site may have several live codes.
	CreateEnrollmentCode(ctx context.Context, siteID string, codeHash []byte, expires time.Time) error
	// RedeemEnrollmentCode consumes the code whose hash is codeHash and, in
	// the same transaction, replaces the site's agent credential hash with
	// secretHash; it returns the site's id. Exactly one of several concurrent
	// calls with the same code succeeds. It fails, changing nothing, with
	// [ENOTFOUND] for an unknown code, [ECONFLICT] for a code already
	// redeemed, and [EFORBIDDEN] for a code whose expiry is not after now.
	RedeemEnrollmentCode(ctx context.Context, codeHash, secretHash []byte, now time.Time) (siteID string, err error)

	// Secret returns the server secret called name, creating a random
	// 256-bit one on first use. Every server node sharing the store gets the
	// same value, so what one node signs (paging links) another verifies.
	Secret(ctx context.Context, name string) ([]byte, error)

	Close() error
}

// CredentialChangesKept is how long a store remembers a change of a site's
// agent credential for [Store.CredentialChanges].
const CredentialChangesKept = time.Hour

// NewSecret returns a fresh random credential (256 bits, URL-safe text) and
// the hash to store in its place.
func NewSecret() (secret string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret)
}

// NewEnrollmentCode returns a fresh one-time enrollment code and the hash to
// store in its place. The code is meant to be read over the phone and typed:
// 20 characters of Crockford's base32 (100 bits) in groups of four.
func NewEnrollmentCode() (code string, hash []byte) {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 20)
	rand.Read(b)
	var sb strings.Builder
	for i, v := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(alphabet[v&31])
	}
	code = sb.String()
	return code, HashEnrollmentCode(code)
}

// HashEnrollmentCode hashes an enrollment code as typed: case, spaces and
// dashes do not matter, and the letters O, I and L read as 0, 1 and 1.
func HashEnrollmentCode(code string) []byte {
	norm := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\t':
			return -1
		case 'o', 'O':
			return '0'
		case 'i', 'I', 'l', 'L':
			return '1'
		}
		return unicode.ToUpper(r)
	}, code)
	return HashSecret("enroll:" + norm)
}

// Enroll exchanges a one-time enrollment code for a fresh site credential:
// the site's id and the secret (shown once; the store keeps its hash). The
// old credential stops working in the same transaction. Its errors say
// what to do: check the code, or ask the operator for a new one.
func Enroll(ctx context.Context, st Store, code string, now time.Time) (siteID, secret string, err error) {
	secret, hash := NewSecret()
	siteID, err = st.RedeemEnrollmentCode(ctx, HashEnrollmentCode(code), hash, now)
	switch ErrorCode(err) {
	case ENOTFOUND:
		return "", "", Errorf(EUNAUTHORIZED, "unknown enrollment code: check it was typed as issued, or ask the operator for a new one")
	case ECONFLICT:
		return "", "", Errorf(ECONFLICT, "this enrollment code was already used; a code works once: ask the operator for a new one")
	case EFORBIDDEN:
		return "", "", Errorf(EFORBIDDEN, "this enrollment code has expired; ask the operator for a new one")
	}
	if err != nil {
		return "", "", err
	}
	return siteID, secret, nil
}

// AuthenticateSite checks a site credential (the site's id and its agent
// secret): nil when it is right, [EUNAUTHORIZED] when the secret is wrong,
// [ENOTFOUND] for an unknown site.
func AuthenticateSite(ctx context.Context, st Store, siteID, secret string) error {
	hash, err := st.SiteSecretHash(ctx, siteID)
	if err != nil {
		return err
	}
	if !SecretMatches(secret, hash) {
		return Errorf(EUNAUTHORIZED, "wrong site credential")
	}
	return nil
}

// HashSecret hashes a credential for storage. The credentials are 256-bit
// random values, not passwords, so one SHA-256 is as strong as a slow hash
// and keeps the check cheap on every request.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// SecretMatches reports in constant time whether secret hashes to hash.
func SecretMatches(secret string, hash []byte) bool {
	return subtle.ConstantTimeCompare(HashSecret(secret), hash) == 1
}
