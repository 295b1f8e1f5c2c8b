package server

import (
	"context"
	"log/slog"
	"time"
)

// AuditRecord is one request to the integrator API, as the append-only
// audit log keeps it. A record is written once and never changed; only
// records older than the retention period are ever removed
// ([AuditStore.PruneAudit], which [PruneAuditDaily] runs).
type AuditRecord struct {
	// ID is the record's position in the log, set by the store.
	ID int64 `json:"id"`
	// Time is when the request arrived (UTC).
	Time         time.Time `json:"time"`
	IntegratorID string    `json:"integratorId,omitempty"` // empty when the caller was not authenticated
	SiteID       string    `json:"siteId,omitempty"`       // empty for routes without a site
	Method       string    `json:"method"`
	Path         string    `json:"path"`
	// Kind is AuditFHIR, AuditPassthrough, AuditOther, AuditAdmin or
	// AuditConsole.
	Kind string `json:"kind"`
	// Interaction is, for FHIR, the interaction (search-type, read,
	// capabilities); for passthrough, the execution mode (reader, scalar,
	// nonQuery).
	Interaction  string `json:"interaction,omitempty"`
	ResourceType string `json:"resourceType,omitempty"` // FHIR only
	// Query is the FHIR query string, or the full SQL text of a passthrough
	// command.
	Query   string `json:"query,omitempty"`
	QueryID string `json:"queryId,omitempty"` // the passthrough query's id
	Rows    int64  `json:"rows"`
	// Bytes is what went to the integrator: the rows' JSON of a passthrough
	// result (none for an error), the whole response of any other request.
	Bytes int64 `json:"bytes"`
	// Targets is, for a write, what it names: the ids of the resources in
	// a FHIR request's body (Appointment/123 Patient/45 ...), or a
	// passthrough stored procedure's name.
	Targets string `json:"targets,omitempty"`
	// Outcome is, for a write, what came of it: one of the Write* values.
	Outcome    string `json:"outcome,omitempty"`
	Status     int    `json:"status"`
	DurationUS int64  `json:"durationUs"`
	ClientAddr string `json:"clientAddr,omitempty"`
	// RequestID is the request's X-Request-Id (see [RequestID]), which
	// the server's log lines and the agent's for its queries carry too.
	RequestID string `json:"requestId,omitempty"`
}

// Kinds of audited requests.
const (
	AuditFHIR        = "fhir"
	AuditPassthrough = "passthrough"
	AuditOther       = "other"
	// AuditAdmin is a call to the admin API: Interaction is the operation,
	// SiteID the site it concerns, and Query "operator=NAME" followed by
	// the request's JSON.
	AuditAdmin = "admin"
	// AuditConsole is an action in the web console (package console):
	// Interaction is the action (sign-in, revoke, rotate-key, ...), SiteID
	// the practice's site or IntegratorID the integrator signed in, and
	// Query what the action was on (never a secret).
	AuditConsole = "console"
)

// Outcomes of audited writes.
const (
	WriteCommitted = "committed" // the write ran and took effect
	WriteReplayed  = "replayed"  // a repeat: the first outcome was answered, nothing ran
	WriteFailed    = "failed"    // the database refused it, or it never ran
	WriteRefused   = "refused"   // not allowed: no grant, no scope, writes disabled
	WriteUnknown   = "unknown"   // its outcome cannot be known (the agent stopped while it ran)
)

// AuditFilter selects audit records: every field set must match. From is
// inclusive, To exclusive; Limit caps the answer (at most MaxAuditLimit,
// which is also the default).
type AuditFilter struct {
	SiteID       string
	IntegratorID string
	From, To     time.Time
	Limit        int
	// Newest orders the answer newest first, so that Limit keeps the
	// latest records of the range rather than the earliest.
	Newest bool
	// Before, when its ID is set, keeps only the records that come before
	// it in the log's order (by Time, then ID): the next page of a Newest
	// listing starts before its last record.
	Before AuditCursor
}

// AuditCursor is a record's place in the log's order.
type AuditCursor struct {
	Time time.Time
	ID   int64
}

// ParseAuditTime reads a bound of an audit query: an RFC 3339 time, or a
// YYYY-MM-DD day (its UTC midnight); "" is no bound. An error
// ([EINVALID]) names the parameter.
func ParseAuditTime(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, Errorf(EINVALID, "%s %q: use an RFC 3339 time (2026-03-01T09:00:00Z) or a day (2026-03-01)", name, v)
}

// MaxAuditLimit is the most records one [AuditStore.Audit] call returns.
const MaxAuditLimit = 10000

// EffectiveLimit is f.Limit bounded to 1..MaxAuditLimit.
func (f AuditFilter) EffectiveLimit() int {
	if f.Limit <= 0 || f.Limit > MaxAuditLimit {
		return MaxAuditLimit
	}
	return f.Limit
}

// MinAuditRetention is the shortest retention the stores accept: their
// triggers refuse to delete audit records younger than this, whatever the
// caller, so that no bug or mistaken flag empties the log.
const MinAuditRetention = 365 * 24 * time.Hour

// DefaultAuditRetention is how long audit records are kept: 7 years. It
// follows the usual Australian retention of adult health records (7 years
// after the last occasion of service, as in NSW and Victorian health
// records law), so a practice can account for every access to a record for
// as long as it must keep the record itself.
const DefaultAuditRetention = 7 * 365 * 24 * time.Hour

// AuditStore is the part of the [Store] keeping the audit log. It has no
// method to change or delete a single record: the log is append-only.
type AuditStore interface {
	// AppendAudit adds records to the log in one transaction, setting their
	// IDs. Records keep the Time they carry.
	AppendAudit(ctx context.Context, recs []*AuditRecord) error
	// Audit returns the records matching f, oldest first (newest first
	// with f.Newest).
	Audit(ctx context.Context, f AuditFilter) ([]*AuditRecord, error)
	// PruneAudit deletes at most limit of the records older than before and
	// returns how many it deleted. It refuses (EINVALID) a before less than
	// [MinAuditRetention] ago.
	PruneAudit(ctx context.Context, before time.Time, limit int) (int64, error)
}

// CheckPruneBefore refuses a pruning cut-off younger than
// [MinAuditRetention]; stores call it first.
func CheckPruneBefore(before time.Time) error {
	if time.Since(before) < MinAuditRetention {
		return Errorf(EINVALID, "audit records are kept at least %d days; refusing to prune records after %s",
			int(MinAuditRetention/(24*time.Hour)), before.UTC().Format(time.RFC3339))
	}
	return nil
}

// PruneAuditDaily removes audit records older than retention once at start and
// then daily until ctx is done. Each run deletes in batches and stops after
// a bounded number of them (the rest go the next day), so it never holds
// the store for long.
func PruneAuditDaily(ctx context.Context, st Store, retention time.Duration, log *slog.Logger) {
	const batch, maxBatches = 5000, 200
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		var total int64
		for range maxBatches {
			n, err := st.PruneAudit(ctx, time.Now().Add(-retention), batch)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("audit pruning failed", "err", err)
				}
				break
			}
			total += n
			if n < batch {
				break
			}
		}
		if total > 0 {
			log.Info("audit records pruned", "count", total, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
