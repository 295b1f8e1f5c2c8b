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

// PathGrants is the agent's endpoint through which the server relays a
// practice's write grant change made in the web console: POST a
// [WriteGrantChange], get the [WriteGrantState] then in force. The agent
// applies a grant only when the practice opted in (the agent's
// --console-grants) and answers [KindForbidden] otherwise, changing
// nothing; it applies a revocation always, since it only narrows access.
// Its own record (package agent/grants) stays the one that decides.
const PathGrants = "/v1/write-grants"

// Sources of a write grant change, as the agent logs them.
const (
	// GrantSourceConsole: the practice changed it in the web console.
	GrantSourceConsole = "console"
	// GrantSourceSync: the server revoked at the agent, when it
	// connected, a grant its own copy no longer holds (a revocation made
	// in the console while the agent was offline).
	GrantSourceSync = "reconnect"
)

// WriteGrantChange is the body of POST [PathGrants].
type WriteGrantChange struct {
	IntegratorID string `json:"integratorId"`
	Granted      bool   `json:"granted"`
	// Source says where the change comes from (GrantSource*), for the
	// agent's log.
	Source string `json:"source"`
}

// WriteGrantState is the agent's answer to a [WriteGrantChange]: whether
// the integrator is granted writes in the agent's record now, and what the
// agent allows.
type WriteGrantState struct {
	IntegratorID string `json:"integratorId"`
	Granted      bool   `json:"granted"`
	// WriteGrants are every integrator the agent's record grants now.
	WriteGrants   []string `json:"writeGrants"`
	AllowWrites   bool     `json:"allowWrites"`
	ConsoleGrants bool     `json:"consoleGrants"`
}
