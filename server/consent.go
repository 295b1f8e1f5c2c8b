package server

import (
	"context"
	"errors"
	"time"
)

// Practice consent and incident controls.
//
// A site answers an integrator only while all three hold: the practice
// paired with the integrator (it issued a pairing code the integrator
// redeemed, or an operator paired them), the integrator is not blocked from
// the site nor from every site, and the site is not quarantined. The server
// checks all three on every request, through one [ConsentStore.Access] read.

// Pairing is the practice's consent for one integrator to reach its site.
type Pairing struct {
	IntegratorID   string    `json:"integratorId"`
	IntegratorName string    `json:"integratorName"`
	SiteID         string    `json:"siteId"`
	CreatedAt      time.Time `json:"pairedAt"`
}

// Block keeps an integrator away from one site, or from every site when
// SiteID is empty, whatever its pairings say.
type Block struct {
	IntegratorID string    `json:"integratorId"`
	SiteID       string    `json:"siteId,omitempty"` // empty: every site
	CreatedAt    time.Time `json:"blockedAt"`
}

// Access is what decides whether an integrator may reach a site now.
type Access struct {
	Paired bool
	// Blocked is set when the integrator is blocked from this site;
	// BlockedEverywhere when it is blocked from every site.
	Blocked, BlockedEverywhere bool
	// Quarantined is set while the site is quarantined: no integrator
	// reaches it.
	Quarantined bool
	// WritesGranted is set when the practice granted the integrator writes
	// at the site ([ConsentStore.GrantWrites]).
	WritesGranted bool
}

// Allowed reports whether the request may go through.
func (a Access) Allowed() bool {
	return a.Paired && !a.Blocked && !a.BlockedEverywhere && !a.Quarantined
}

// Denial is the [EFORBIDDEN] error explaining why a is not allowed for
// siteID, or nil when it is.
func (a Access) Denial(siteID string) error {
	switch {
	case !a.Paired:
		return Errorf(EFORBIDDEN, "this integrator is not paired with site %s; ask the practice for a pairing code", siteID)
	case a.BlockedEverywhere:
		return Errorf(EFORBIDDEN, "this integrator is blocked from every site by the operator; contact fhirlink support")
	case a.Blocked:
		return Errorf(EFORBIDDEN, "this integrator is blocked from site %s by the operator; contact fhirlink support", siteID)
	case a.Quarantined:
		return Errorf(EFORBIDDEN, "site %s is quarantined by the operator: every integrator is refused until the quarantine is lifted", siteID)
	}
	return nil
}

// WriteDenial is the [EFORBIDDEN] error naming what a write by an allowed
// integrator lacks at siteID, or nil when it may write: the agent's
// --allow-writes (agentAllowsWrites, as the connected agent reports it;
// pass true when no agent is connected, which then refuses on its own)
// and the practice's write grant for this integrator. Both are the
// practice's: the agent enforces them again.
func (a Access) WriteDenial(siteID string, agentAllowsWrites bool) error {
	switch {
	case !agentAllowsWrites:
		return WritesDisabled()
	case !a.WritesGranted:
		return Errorf(EFORBIDDEN, "no write grant for this integrator at site %s: the practice gives it with 'fhirlink agent grant-writes --integrator ID'", siteID)
	}
	return nil
}

// WritesDisabled is the [EFORBIDDEN] error of a write at a site whose
// agent does not allow writes.
func WritesDisabled() error {
	return Errorf(EFORBIDDEN, "agent writes disabled: the practice's agent runs without --allow-writes (the site is read-only), so nonQuery and storedProcedure commands and FHIR writes are refused")
}

// ConsentStore is the part of the [Store] keeping pairing codes, blocks,
// quarantines and write grants.
type ConsentStore interface {
	// CreatePairingCode stores the hash of a one-time pairing code of the
	// site siteID, usable until expires; [ENOTFOUND] when the site does not
	// exist. A site may have several live codes.
	CreatePairingCode(ctx context.Context, siteID string, codeHash []byte, expires time.Time) error
	// RedeemPairingCode consumes the code whose hash is codeHash and pairs
	// integratorID with the code's site in the same transaction; it returns
	// the site. Before consuming the code it calls accept (when not nil)
	// with the code's site: an error from accept is returned and nothing
	// changes. Exactly one of several concurrent calls with the same code
	// succeeds. It fails, changing nothing, with [ENOTFOUND] for an unknown
	// code or integrator, [ECONFLICT] for a code already redeemed, and
	// [EFORBIDDEN] for a code whose expiry is not after now. Redeeming a
	// code of a site the integrator is paired with already consumes the
	// code and keeps the pairing.
	RedeemPairingCode(ctx context.Context, codeHash []byte, integratorID string, now time.Time, accept func(*Site) error) (*Site, error)
	// Pairings returns the pairings of a site, oldest first, with each
	// integrator's name; none (not an error) for an unknown site.
	Pairings(ctx context.Context, siteID string) ([]*Pairing, error)

	// Block blocks an integrator from a site, or from every site when
	// siteID is empty. Blocking twice is not an error. [ENOTFOUND] when
	// the integrator, or a non-empty siteID, does not exist.
	Block(ctx context.Context, integratorID, siteID string) error
	// Unblock lifts the block Block(integratorID, siteID) set;
	// [ENOTFOUND] when there is none. Lifting a site's block leaves an
	// everywhere block in force, and the other way round.
	Unblock(ctx context.Context, integratorID, siteID string) error
	// Blocks returns every block, oldest first.
	Blocks(ctx context.Context) ([]*Block, error)

	// SetQuarantined quarantines a site (on) or lifts its quarantine;
	// either is idempotent. [ENOTFOUND] for an unknown site.
	SetQuarantined(ctx context.Context, siteID string, on bool) error
	// Quarantined returns the ids of the quarantined sites.
	Quarantined(ctx context.Context) ([]string, error)

	// GrantWrites records the practice's grant of writes at siteID to
	// integratorID (granting twice is not an error); RevokeWrites removes
	// it (revoking what was not granted is not an error either). Both
	// fail with [ENOTFOUND] for an unknown integrator or site. Unpairing
	// does not remove a grant, but without a pairing it gives nothing.
	GrantWrites(ctx context.Context, integratorID, siteID string) error
	RevokeWrites(ctx context.Context, integratorID, siteID string) error

	// Access reads, in one round trip, the pairing, blocks, quarantine and
	// write grant deciding what integratorID may do at siteID now. An
	// unknown integrator or site is simply not paired.
	Access(ctx context.Context, integratorID, siteID string) (Access, error)
}

// NewPairingCode returns a fresh one-time pairing code, in the same
// typeable form as an enrollment code, and the hash to store in its place.
func NewPairingCode() (code string, hash []byte) {
	code, _ = NewEnrollmentCode()
	return code, HashPairingCode(code)
}

// HashPairingCode hashes a pairing code as typed (case, spaces and dashes
// do not matter, as for enrollment codes). Its hashes differ from those of
// the same text as an enrollment code, so neither kind works as the other.
func HashPairingCode(code string) []byte {
	return HashSecret("pair:" + string(HashEnrollmentCode(code)))
}

// Pairing code lifetimes.
const (
	DefaultPairingCodeTTL = 72 * time.Hour
	MaxPairingCodeTTL     = 30 * 24 * time.Hour
)

// IssuePairingCode issues a one-time pairing code of siteID, valid for
// ttlSeconds from now (0: [DefaultPairingCodeTTL]; a minute to
// [MaxPairingCodeTTL]), and returns it with its expiry; the store keeps
// only its hash.
func IssuePairingCode(ctx context.Context, st ConsentStore, siteID string, ttlSeconds int64, now time.Time) (code string, expires time.Time, err error) {
	ttl := time.Duration(ttlSeconds) * time.Second
	switch {
	case ttlSeconds == 0:
		ttl = DefaultPairingCodeTTL
	case ttl < time.Minute || ttl > MaxPairingCodeTTL:
		return "", time.Time{}, Errorf(EINVALID, "ttlSeconds %d: use 60 to %d", ttlSeconds, int64(MaxPairingCodeTTL/time.Second))
	}
	code, hash := NewPairingCode()
	expires = now.Add(ttl).UTC().Truncate(time.Second)
	if err := st.CreatePairingCode(ctx, siteID, hash, expires); err != nil {
		return "", time.Time{}, err
	}
	return code, expires, nil
}

// PairWithCode redeems a pairing code for integratorID and returns the
// site it pairs it with. The code is the credential (100 bits); the PMS
// identifiers, when given (pmsSiteID, and pmsName as [PMSTypeNamed] reads
// it), must also match the site's, so a code meant for another practice is
// not redeemed by mistake; a site without a recorded PMS site id matches
// any. Its errors say what to do: ask the practice for a new code, or
// check the identifiers.
func PairWithCode(ctx context.Context, st ConsentStore, code, integratorID, pmsSiteID, pmsName string, now time.Time) (*Site, error) {
	pmsType, err := PMSTypeNamed(pmsName)
	if err != nil {
		return nil, err
	}
	mismatch := errors.New("mismatch")
	accept := func(site *Site) error {
		if (pmsSiteID != "" && site.PracticeManagementSiteID != "" && site.PracticeManagementSiteID != pmsSiteID) ||
			(pmsType != "" && site.PMSType != pmsType) {
			return mismatch
		}
		return nil
	}
	site, err := st.RedeemPairingCode(ctx, HashPairingCode(code), integratorID, now, accept)
	switch {
	case errors.Is(err, mismatch):
		return nil, Errorf(ENOTFOUND, "this pairing code belongs to another practice than practiceManagementSiteId %q (%s); check both with the practice", pmsSiteID, pmsName)
	case ErrorCode(err) == ENOTFOUND:
		return nil, Errorf(ENOTFOUND, "unknown pairing code: check it was typed as the practice gave it, or ask for a new one")
	case ErrorCode(err) == ECONFLICT:
		return nil, Errorf(ECONFLICT, "this pairing code was already used; a code works once: ask the practice for a new one")
	case ErrorCode(err) == EFORBIDDEN:
		return nil, Errorf(EINVALID, "this pairing code has expired; ask the practice for a new one")
	}
	return site, err
}
