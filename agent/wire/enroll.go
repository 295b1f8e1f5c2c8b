package wire

import "time"

// Server endpoints an agent calls without a session: enrollment and the
// clock. Neither needs a site credential.
const (
	// PathEnroll exchanges a one-time enrollment code for a site credential:
	// POST an [EnrollRequest], get an [EnrollResponse].
	PathEnroll = "/agent/v1/enroll"
	// PathTime answers the server's clock as a [TimeResponse]; agent doctor
	// measures clock drift with it.
	PathTime = "/agent/v1/time"
)

// PathSettings is the agent's endpoint for settings the server pushes: POST
// a [Settings], answered with the settings in force.
const PathSettings = "/v1/settings"

// EnrollRequest is the body of POST [PathEnroll].
type EnrollRequest struct {
	Code string `json:"code"`
	// Hostname and Version identify the enrolling machine in the server's log.
	Hostname string `json:"hostname,omitempty"`
	Version  string `json:"version,omitempty"`
}

// EnrollResponse is the answer to a successful enrollment: the site's new
// credential. Every earlier credential of the site has stopped working.
type EnrollResponse struct {
	SiteID  string `json:"siteId"`
	Secret  string `json:"secret"`
	Name    string `json:"name,omitempty"`
	PMSType string `json:"pmsType,omitempty"`
	// PracticeManagementSiteID is the PMS's own identifier of the practice.
	PracticeManagementSiteID string `json:"practiceManagementSiteId,omitempty"`
}

// TimeResponse is the answer of GET [PathTime].
type TimeResponse struct {
	Time time.Time `json:"time"`
}

// Settings are the agent settings the server may change while the agent
// runs. A zero field leaves that setting as it is.
type Settings struct {
	// Concurrency is how many queries may run at once on the database.
	Concurrency int `json:"concurrency,omitempty"`
	// MaxTimeoutMS caps every query's execution time, whatever the request
	// asks for.
	MaxTimeoutMS int64 `json:"maxTimeoutMs,omitempty"`
	// MaxTimeInQueueMS caps every query's wait for an execution slot.
	MaxTimeInQueueMS int64 `json:"maxTimeInQueueMs,omitempty"`
}
