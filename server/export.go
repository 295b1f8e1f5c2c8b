package server

import (
	"context"
	"time"
)

// FHIR Bulk Data export jobs.
//
// The state store keeps each export job (its request, state, progress and
// the list of files it has completed) so that every server node answers its
// status and serves its files, and so that a job outlives the node running
// it: a running job holds a lease that its node renews, and once the lease
// runs out any node claims the job and resumes it from its last
// checkpoint. The files themselves are in the result store, beside async
// results. The job's Request and Doc are JSON the store does not read
// (package bulk's).

// Export job states.
const (
	ExportQueued    = "queued"
	ExportRunning   = "running"
	ExportCompleted = "completed"
	ExportFailed    = "failed"
)

// ExportJob is one export job as the store keeps it.
type ExportJob struct {
	ID           string
	IntegratorID string
	SiteID       string
	State        string
	// Request is what to export, JSON.
	Request []byte
	// Doc is the job's progress, checkpoint and completed files, JSON.
	Doc []byte
	// Holder names the node running the job; Attempt counts the claims,
	// so a node that lost its lease cannot overwrite the next one's work.
	Holder    string
	Attempt   int
	CreatedAt time.Time
	UpdatedAt time.Time
	// LeaseUntil is when a running job may be claimed by another node.
	LeaseUntil time.Time
	// ExpiresAt is when an ended job's files stop being served; zero while
	// it runs.
	ExpiresAt time.Time
}

// ExportStore is the part of the [Store] keeping export jobs.
type ExportStore interface {
	// CreateExportJob stores a new queued job unless its site already has
	// maxPerSite jobs queued or running: then it reports false and stores
	// nothing. [ECONFLICT] when the id exists. It sets CreatedAt and
	// UpdatedAt.
	CreateExportJob(ctx context.Context, j *ExportJob, maxPerSite int) (bool, error)
	// ExportJob returns one job; [ENOTFOUND] when unknown.
	ExportJob(ctx context.Context, id string) (*ExportJob, error)
	// ClaimExportJob makes holder the runner of one job, the oldest of
	// those claimable at now: a running job whose lease ran out, or a
	// queued one at a site with no running job. The job becomes running,
	// its Attempt is raised and its lease runs until leaseUntil. Each job
	// goes to one claimer, whatever the number of nodes claiming at once,
	// and a site never has two running jobs. nil when there is none.
	ClaimExportJob(ctx context.Context, holder string, now, leaseUntil time.Time) (*ExportJob, error)
	// UpdateExportJob writes j's State, Doc, LeaseUntil and ExpiresAt and
	// sets UpdatedAt, provided the stored job is still running under
	// j.Holder and j.Attempt: [ECONFLICT] when another claim took it over
	// (or it ended), [ENOTFOUND] when it was deleted.
	UpdateExportJob(ctx context.Context, j *ExportJob) error
	// DeleteExportJob removes a job; [ENOTFOUND] when unknown.
	DeleteExportJob(ctx context.Context, id string) error
	// ExpiredExportJobs returns up to limit ended jobs whose ExpiresAt is
	// before t.
	ExpiredExportJobs(ctx context.Context, t time.Time, limit int) ([]*ExportJob, error)
}
