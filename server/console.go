package server

import (
	"context"
	"time"
)

// The web console's sign-in (package console): a practice or an integrator
// signs in with its own credential, or with a one-time link an operator
// made, and then holds a session. Links and sessions are both random
// 256-bit tokens the store keeps only as hashes ([ConsoleToken]), so that
// every server node sharing the store honours them and none can be read
// back from it.

// Console roles: who a sign-in link or a session is for.
const (
	ConsolePractice   = "practice"   // the subject is a site
	ConsoleIntegrator = "integrator" // the subject is an integrator
)

// ConsoleLinkPath is where a sign-in link points, followed by its token.
const ConsoleLinkPath = "/console/link/"

// Sign-in link lifetimes: short, as a link travels by e-mail or chat.
const (
	DefaultConsoleLinkTTL = 15 * time.Minute
	MaxConsoleLinkTTL     = 24 * time.Hour
)

// ConsoleToken is a one-time sign-in link or a session of the web console
// as the store keeps it: by the hash of its token.
type ConsoleToken struct {
	Hash []byte
	// Link is set for a one-time sign-in link; otherwise it is a session.
	Link bool
	// Role is ConsolePractice (SubjectID is a site id) or
	// ConsoleIntegrator (an integrator id).
	Role      string
	SubjectID string
	// Credential is, for a session, the hash of the credential it stands
	// on: the site's agent secret (a practice's session, whichever way it
	// signed in) or the API key an integrator signed in with (none for an
	// integrator's link). The session ends when that credential is
	// replaced: a rotated secret or key takes its sessions with it.
	Credential []byte
	Expires    time.Time
}

// ConsoleStore is the part of the [Store] keeping the console's links and
// sessions.
type ConsoleStore interface {
	// CreateConsoleToken stores t; [ECONFLICT] when its hash exists. It
	// also deletes tokens that have expired.
	CreateConsoleToken(ctx context.Context, t *ConsoleToken) error
	// ConsoleToken returns the token hashing to hash when it expires after
	// now; [ENOTFOUND] otherwise (unknown, used, signed out or expired).
	ConsoleToken(ctx context.Context, hash []byte, now time.Time) (*ConsoleToken, error)
	// RedeemConsoleLink deletes the sign-in link hashing to hash and
	// returns it, when it expires after now, in one statement: of several
	// concurrent callers exactly one gets it. [ENOTFOUND] otherwise.
	RedeemConsoleLink(ctx context.Context, hash []byte, now time.Time) (*ConsoleToken, error)
	// DeleteConsoleToken deletes the token hashing to hash (signing out);
	// none is not an error.
	DeleteConsoleToken(ctx context.Context, hash []byte) error
}

// HashConsoleToken hashes a console link or session token for storage; its
// hashes differ from those of the same text as any other credential.
func HashConsoleToken(token string) []byte { return HashSecret("console:" + token) }

// NewConsoleToken stores a fresh link or session for role and subjectID,
// standing on credential (see [ConsoleToken.Credential]) and expiring at
// expires, and returns its token (the store keeps its hash).
// It checks that the subject exists: [ENOTFOUND] otherwise.
func NewConsoleToken(ctx context.Context, st Store, link bool, role, subjectID string, credential []byte, expires time.Time) (string, error) {
	var err error
	switch role {
	case ConsolePractice:
		_, err = st.Site(ctx, subjectID)
	case ConsoleIntegrator:
		_, err = st.Integrator(ctx, subjectID)
	default:
		err = Errorf(EINVALID, "console role %q: use %s or %s", role, ConsolePractice, ConsoleIntegrator)
	}
	if err != nil {
		return "", err
	}
	token, _ := NewSecret()
	return token, st.CreateConsoleToken(ctx, &ConsoleToken{Hash: HashConsoleToken(token), Link: link, Role: role, SubjectID: subjectID, Credential: credential, Expires: expires})
}

// IssueConsoleLink makes a one-time sign-in link to the console for a site
// (role ConsolePractice) or an integrator, valid for ttl from now (0:
// [DefaultConsoleLinkTTL]; a minute to [MaxConsoleLinkTTL]). It returns the
// link's path ([ConsoleLinkPath] and the token, shown once) and expiry.
func IssueConsoleLink(ctx context.Context, st Store, role, subjectID string, ttl time.Duration, now time.Time) (path string, expires time.Time, err error) {
	if ttl == 0 {
		ttl = DefaultConsoleLinkTTL
	}
	if ttl < time.Minute || ttl > MaxConsoleLinkTTL {
		return "", time.Time{}, Errorf(EINVALID, "ttl %s: use a duration between 1m and %s", ttl, MaxConsoleLinkTTL)
	}
	expires = now.Add(ttl).UTC().Truncate(time.Second)
	token, err := NewConsoleToken(ctx, st, true, role, subjectID, nil, expires)
	if err != nil {
		return "", time.Time{}, err
	}
	return ConsoleLinkPath + token, expires, nil
}
