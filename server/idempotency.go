package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/google/uuid"
)

// Idempotency keys: exactly once for writes.
//
// Every write of the integrator API (passthrough nonQuery and
// storedProcedure commands, FHIR create, update and patch) accepts an
// Idempotency-Key header. The key is the integrator's: two integrators may
// use the same text. The server keeps each key for [IdempotencyKeyTTL]
// with the fingerprint of the request it came with (method, path and body)
// and, once the request is answered, the answer itself:
//
//   - the same key with the same request again gets the first answer,
//     replayed from the store (status, the headers that matter, body),
//     and nothing runs again;
//   - the same key with another request is refused ([EINVALID], 422);
//   - the same key while the first request has no answer yet (it still
//     runs, or the server running it died) is handled again: the write goes
//     to the agent under the same execution id ([ExecutionIDFor]), so the
//     agent's journal runs it at most once, answering the repeat with the
//     first run's outcome (waiting for it while it runs). The first answer
//     stored is the one every later repeat gets.
//
// The execution id is what carries the guarantee across a server restart:
// it is derived from the key and the request, not drawn at random, so any
// server node, after any crash, sends the retried write under the id its
// first attempt had.

// IdempotencyKeyTTL is how long a key is kept: a client retries within
// minutes; a day covers a retry after an outage.
const IdempotencyKeyTTL = 24 * time.Hour

// MaxIdempotencyKeyLen bounds the header's value.
const MaxIdempotencyKeyLen = 255

// IdempotentResponse is a write's answer as the store keeps it for replay.
type IdempotentResponse struct {
	Status int `json:"status"`
	// Header holds the answer's headers that matter to a client
	// (Content-Type, Location, ETag, Last-Modified, Retry-After).
	Header map[string]string `json:"header,omitempty"`
	Body   []byte            `json:"body"`
}

// IdempotencyKey is one key's record.
type IdempotencyKey struct {
	IntegratorID string
	Key          string
	// Fingerprint is the SHA-256 of the request the key came with
	// ([RequestFingerprint]).
	Fingerprint []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
	// Response is the first answer; nil while there is none yet.
	Response *IdempotentResponse
}

// IdempotencyStore is the part of the [Store] keeping idempotency keys.
type IdempotencyStore interface {
	// ClaimIdempotencyKey records k (without a response) unless the
	// integrator's key is already recorded and not expired at k.CreatedAt;
	// it returns the record in force: k itself, claimed is true, or the
	// earlier one. An expired record is replaced.
	ClaimIdempotencyKey(ctx context.Context, k *IdempotencyKey) (rec *IdempotencyKey, claimed bool, err error)
	// CompleteIdempotencyKey stores resp as the key's answer unless it has
	// one already, and returns the answer in force: resp, or the one stored
	// first. [ENOTFOUND] when the key is not recorded.
	CompleteIdempotencyKey(ctx context.Context, integratorID, key string, resp *IdempotentResponse) (*IdempotentResponse, error)
	// PurgeIdempotencyKeys deletes the keys expired before now and returns
	// how many it deleted.
	PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int64, error)
}

// CheckIdempotencyKey refuses a key that is empty, too long or not
// printable ASCII.
func CheckIdempotencyKey(key string) error {
	if key == "" || len(key) > MaxIdempotencyKeyLen {
		return Errorf(EINVALID, "Idempotency-Key must be 1 to %d characters (a UUID is a good key)", MaxIdempotencyKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return Errorf(EINVALID, "Idempotency-Key must be printable ASCII (a UUID is a good key)")
		}
	}
	return nil
}

// RequestFingerprint is the SHA-256 of a write request as its idempotency
// key is bound to it: the method, the path (which names the site and the
// resource) and the body.
func RequestFingerprint(method, path string, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum(nil)
}

// executionNamespace is the UUID namespace of execution ids derived from
// idempotency keys (a fixed random UUID).
var executionNamespace = uuid.MustParse("8c0f6f0e-3b7e-4c52-9a43-5d1f2b6a7e19")

// ExecutionIDFor is the agent execution id of the write an integrator
// sends under an idempotency key with the request of that fingerprint: the
// same inputs give the same id on every node and after every restart, so
// the agent's journal recognises a retry; another request under the same
// key (once the key has expired) gets another id.
func ExecutionIDFor(integratorID, key string, fingerprint []byte) string {
	return uuid.NewSHA1(executionNamespace, []byte(integratorID+"\x00"+key+"\x00"+hex.EncodeToString(fingerprint))).String()
}

type idempotencyCtxKey struct{}

// WithExecutionID returns ctx carrying the execution id of the write the
// request makes; the api's write guard sets it for a request with an
// Idempotency-Key.
func WithExecutionID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, idempotencyCtxKey{}, id)
}

// ExecutionID is the execution id a write handler sends its write to the
// agent with: the one derived from the request's Idempotency-Key, or a
// fresh one (the write still runs at most once per attempt).
func ExecutionID(ctx context.Context) string {
	if id, ok := ctx.Value(idempotencyCtxKey{}).(string); ok {
		return id
	}
	return uuid.NewString()
}
