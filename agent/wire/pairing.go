package wire

import "time"

// Server endpoints through which the practice manages its consent: it issues
// pairing codes, lists the integrators paired with its site and revokes
// them. The agent calls them over HTTPS with its site credential (HTTP Basic
// authentication, site id and secret, as on [PathConnect]).
const (
	// PathPairingCodes issues a one-time pairing code: POST a
	// [PairingCodeRequest] (or nothing), get a [PairingCodeResponse].
	PathPairingCodes = "/agent/v1/pairing-codes"
	// PathPairings lists the site's pairings (GET, a [PairingsResponse]);
	// DELETE PathPairings/{integratorId} revokes one (204).
	PathPairings = "/agent/v1/pairings"
	// PathWriteGrants records the practice's write grants on the server:
	// PUT PathWriteGrants/{integratorId} grants the integrator writes at
	// the site, DELETE revokes them (204 both). The agent keeps its own
	// record too and enforces it (see package agent/grants): the server's
	// copy lets it refuse early and advertise only what will work.
	PathWriteGrants = "/agent/v1/write-grants"
)

// PairingCodeRequest is the body of POST [PathPairingCodes].
type PairingCodeRequest struct {
	// TTLSeconds is how long the code stays valid; zero means the
	// server's default (72 hours).
	TTLSeconds int64 `json:"ttlSeconds,omitempty"`
}

// PairingCodeResponse is a freshly issued pairing code: the practice gives
// it to the integrator, who redeems it once, before Expires.
type PairingCodeResponse struct {
	SiteID  string    `json:"siteId"`
	Code    string    `json:"code"`
	Expires time.Time `json:"expires"`
}

// Pairing is one integrator paired with the site.
type Pairing struct {
	IntegratorID   string    `json:"integratorId"`
	IntegratorName string    `json:"integratorName"`
	PairedAt       time.Time `json:"pairedAt"`
}

// PairingsResponse is the answer of GET [PathPairings].
type PairingsResponse struct {
	SiteID   string    `json:"siteId"`
	Pairings []Pairing `json:"pairings"`
}
