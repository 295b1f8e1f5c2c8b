package main

import (
	"time"
)

// The operator's consent and incident commands. A running server picks
// each change up on its own, whether it was made through its admin API or
// on the store directly: it checks pairing, blocks and quarantine on every
// request and re-checks the requests in flight every second, cancelling
// those no longer allowed, and each agent session re-validates its
// credential every keepalive interval (see server/inflight,
// server/hub/recheck.go).

var pairingCodeCmd = adminOp("pairing-code", "pairing-code --site ID [--ttl 72h]",
	`Issues a one-time pairing code for a site and prints it (shown once; only
its hash is stored). The practice gives it to an integrator, who redeems it
with POST /integrator/pair-site. Practices issue their own with 'fhirlink
agent pairing-code'. The code expires after --ttl.`,
	codeFlags(72*time.Hour))

var pairingsCmd = adminOp("pairings", "pairings --site ID", "Lists the integrators paired with a site, and since when.", siteFlag)

var blockCmd = adminOp("block", "block --integrator ID [--site ID]",
	`Blocks an integrator from one site (--site) or from every site, whatever its
pairings say. Immediate: its next requests get 403, and its requests in
flight are cancelled within about a second. Lift with 'admin unblock'.`,
	pairFlags("the site id (default: every site)"))

var unblockCmd = adminOp("unblock", "unblock --integrator ID [--site ID]",
	`Lifts the block 'admin block' set with the same flags (a block from every
site and one from a single site are lifted separately).`,
	pairFlags("the site id (default: the block from every site)"))

var blocksCmd = adminOp("blocks", "blocks", "Lists the blocks in force and the quarantined sites.",
	noFlags)

var quarantineCmd = adminOp("quarantine", "quarantine --site ID",
	`Quarantines a site: every integrator is refused (403, saying the site is
quarantined) and requests in flight are cancelled within about a second.
The agent stays connected, so lifting the quarantine ('admin unquarantine')
is immediate too; if the agent itself is suspect, also rotate its credential
('admin site-rotate-secret'), which disconnects it.`,
	siteFlag)

var unquarantineCmd = adminOp("unquarantine", "unquarantine --site ID", "Lifts a site's quarantine: its paired integrators reach it again.", siteFlag)
