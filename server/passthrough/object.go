package passthrough

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// Object is the passthrough API's query object.
type Object struct {
	ID             string            `json:"id"`
	IntegratorID   string            `json:"integratorId"`
	SiteID         string            `json:"siteId"`
	Mode           string            `json:"mode"`
	Status         string            `json:"status"`
	MaxTimeInQueue int64             `json:"maxTimeInQueue"`
	RequestSize    int               `json:"requestSize"`
	CommandSize    int               `json:"commandSize"`
	CreatedAt      time.Time         `json:"createdAt"`
	UpdatedAt      time.Time         `json:"updatedAt"`
	StatusTiming   map[string]Period `json:"statusTiming"`
	Metrics        *Metrics          `json:"metrics,omitempty"`
	Result         *Result           `json:"result,omitempty"`
	ErrorDetails   *ErrorDetails     `json:"errorDetails,omitempty"`
	// Async queries: the total result size and when the query ended, and
	// (an addition) when its results stop being served.
	ResultSize      *int64     `json:"resultSize,omitempty"`
	CompletedAt     *time.Time `json:"completedAt,omitempty"`
	ResultsExpireAt *time.Time `json:"resultsExpireAt,omitempty"`
}

// Period is one phase of a query in its statusTiming.
type Period struct {
	StartTime time.Time `json:"startTime"`
	EndTime   time.Time `json:"endTime"`
}

// Metrics are a query's measurements.
type Metrics struct {
	SQLExecutionDuration int64 `json:"sqlExecutionDuration"` // ms
}

// Result is a query's result, or for an async query its index of pages.
type Result struct {
	Rows         *int64 `json:"rows,omitempty"`
	RowsAffected *int64 `json:"rowsAffected,omitempty"`
	// Size is the byte length of the JSON inside data.
	Size int64 `json:"size"`
	// Data is JSON, base64-encoded by encoding/json: an array of row
	// objects for reader, the value itself for scalar.
	Data       []byte        `json:"data,omitempty"`
	Parameters []wire.Param  `json:"parameters"`
	Columns    []wire.Column `json:"columns,omitempty"`
	// Pages are an async query's result pages.
	Pages []*Page `json:"pages,omitempty"`
}

// Page is one page of an async result: its byte size is that of the JSON
// array of its rows, which Rows numbers from 1 across the whole result.
type Page struct {
	PageNumber int      `json:"pageNumber"`
	Status     string   `json:"status"` // PageUploading or PageCached
	Size       int64    `json:"size"`
	Rows       PageRows `json:"rows"`
}

// PageRows are the rows of a [Page].
type PageRows struct {
	Count      int64 `json:"count"`
	RangeStart int64 `json:"rangeStart"`
	RangeEnd   int64 `json:"rangeEnd"`
}

// Page statuses.
const (
	PageUploading = "uploading"
	PageCached    = "cached"
)

// ErrorDetails is why a query failed: an engine's error (errorType mssql,
// fbsql, postgres, sqlite) or one of fhirlink's own limits and failures
// (errorType fhirlink, errorCode an HTTP status).
type ErrorDetails struct {
	ErrorType    string `json:"errorType"`
	ErrorCode    int    `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	// SQLState is the engine's SQLSTATE, where it has one (an addition).
	SQLState string `json:"sqlState,omitempty"`
}

// Query statuses.
const (
	StatusSuccessful      = "successful"
	StatusExecutionFailed = "executionFailed"
	StatusExpiredInQueue  = "expiredInQueue"
	StatusSiteOffline     = "initialisationFailedSiteOffline"
	StatusSiteUnreachable = "initialisationFailedSiteUnreachable"

	// Async queries.
	StatusQueued       = "queued"
	StatusInitialising = "initialising"
	StatusExecuting    = "executing"
	StatusUploading    = "uploading"
	StatusUploadFailed = "uploadFailed"
	StatusCancelled    = "cancelled" // an addition: cancelled by the integrator
)

// errorTypeOf names engines as the passthrough API's errorType does; our
// own limits and failures are "fhirlink".
var errorTypeOf = map[string]string{"sqlserver": "mssql", "firebird": "fbsql"}

// OwnError is the errorDetails of a failure of fhirlink's own, with the
// HTTP status it maps to.
func OwnError(status int, msg string) *ErrorDetails {
	return &ErrorDetails{ErrorType: "fhirlink", ErrorCode: status, ErrorMessage: msg}
}

// Fail records on o a query's failure, err, for a query sent to its agent
// at sent: its status, error details, metrics and timings. It returns the
// HTTP status the failure maps to, or reports false, changing nothing, for
// an error that is neither the agent's ([*wire.Error]) nor the tunnel's
// ([server.EUNAVAILABLE]): the caller's own failure. An agent failure of
// an unknown kind is logged to log and reported without its detail.
func (o *Object) Fail(err error, sent time.Time, log *slog.Logger) (int, bool) {
	werr, ok := errors.AsType[*wire.Error](err)
	if !ok {
		if server.ErrorCode(err) != server.EUNAVAILABLE {
			return 0, false
		}
		o.Status = StatusExecutionFailed
		o.ErrorDetails = OwnError(http.StatusServiceUnavailable, server.ErrorMessage(err))
		return http.StatusServiceUnavailable, true
	}
	status := http.StatusBadRequest
	o.Status = StatusExecutionFailed
	o.ErrorDetails = OwnError(status, werr.Message)
	switch werr.Kind {
	case wire.KindDatabase:
		o.ErrorDetails = databaseError(werr)
	case wire.KindUnavailable:
		status = http.StatusServiceUnavailable
		o.ErrorDetails = databaseError(werr)
		o.ErrorDetails.ErrorCode = status
	case wire.KindForbidden:
		status = http.StatusForbidden
	case wire.KindExpiredInQueue:
		status, o.Status = http.StatusServiceUnavailable, StatusExpiredInQueue
	case wire.KindTimeout:
		status = http.StatusGatewayTimeout
	case wire.KindTooLarge:
		status = http.StatusRequestEntityTooLarge
	case wire.KindInvalid:
	case wire.KindOutcomeUnknown, wire.KindCanceled:
		// A write's first run as the agent answers a repeat of its
		// execution id: never run again (a cancel is otherwise never seen,
		// its caller having gone).
		status = http.StatusConflict
	default:
		log.Error("agent failure", "query", o.ID, "kind", werr.Kind, "err", werr.Message)
		status = http.StatusInternalServerError
		werr.Message = "the query failed in the agent; the failure has been logged"
	}
	if o.ErrorDetails.ErrorType == "fhirlink" {
		o.ErrorDetails = OwnError(status, werr.Message)
	}
	if werr.ExecutionMS > 0 {
		o.Metrics = &Metrics{SQLExecutionDuration: werr.ExecutionMS}
	}
	queuedEnd := sent.Add(time.Duration(werr.QueuedMS) * time.Millisecond)
	o.StatusTiming["queued"] = Period{sent, queuedEnd}
	if o.Status != StatusExpiredInQueue {
		o.StatusTiming["executing"] = Period{queuedEnd, time.Now().UTC()}
	}
	return status, true
}

// databaseError reports an engine's error with the engine's own error
// number (SQL Server, Firebird, SQLite), or for PostgreSQL, whose codes are
// SQLSTATEs, with the HTTP status as errorCode and the SQLSTATE beside it.
func databaseError(werr *wire.Error) *ErrorDetails {
	d := &ErrorDetails{ErrorType: werr.Engine, ErrorMessage: werr.Message, ErrorCode: http.StatusBadRequest}
	if t, ok := errorTypeOf[werr.Engine]; ok {
		d.ErrorType = t
	}
	if n, err := strconv.Atoi(werr.Code); err == nil && werr.Engine != "postgres" {
		d.ErrorCode = n
	} else {
		d.SQLState = werr.Code
	}
	return d
}
