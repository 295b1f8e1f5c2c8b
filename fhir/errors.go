package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Issue types (OperationOutcome.issue.code, FHIR R4 value set issue-type)
// that fhirlink uses. Error.Code holds one of them.
const (
	IssueInvalid       = "invalid"
	IssueStructure     = "structure"
	IssueValue         = "value"
	IssueSecurity      = "security"
	IssueLogin         = "login"
	IssueForbidden     = "forbidden"
	IssueProcessing    = "processing"
	IssueNotSupported  = "not-supported"
	IssueNotFound      = "not-found"
	IssueTooCostly     = "too-costly"
	IssueTransient     = "transient"
	IssueException     = "exception"
	IssueTimeout       = "timeout"
	IssueThrottled     = "throttled"
	IssueInformational = "informational"
	IssueConflict      = "conflict"
	IssueBusinessRule  = "business-rule"
	IssueDuplicate     = "duplicate"
)

// Issue severities (OperationOutcome.issue.severity).
const (
	SeverityFatal       = "fatal"
	SeverityError       = "error"
	SeverityWarning     = "warning"
	SeverityInformation = "information"
)

// Error is a failure a FHIR client should see: the HTTP status, the FHIR
// issue type and a message saying what went wrong and what to do. Every
// error this package returns is an *Error, so the HTTP layer can answer
// with the right status and an OperationOutcome without guessing.
type Error struct {
	Status      int    // HTTP status: 400, 404, 406, ...
	Code        string // FHIR issue type: invalid, not-supported, ...
	Diagnostics string // for the integrator: what went wrong, what to do
}

// Error returns the diagnostics: they are written for the integrator and
// read well in logs too.
func (e *Error) Error() string { return e.Diagnostics }

// Outcome is e as an OperationOutcome with one issue of severity error.
func (e *Error) Outcome() []byte { return Outcome(SeverityError, e.Code, e.Diagnostics) }

// Errorf makes an *Error with a formatted diagnostics message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Diagnostics: fmt.Sprintf(format, args...)}
}

// badRequest is the common case: a 400 with issue type invalid.
func badRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, IssueInvalid, format, args...)
}

// unsupported is a 400 for a well-formed request using a FHIR feature this
// server does not implement, which a client may be able to do without.
func unsupported(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, IssueNotSupported, format, args...)
}

// tooCostly is a 400 for a search beyond this server's limits.
func tooCostly(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, IssueTooCostly, format, args...)
}

// AsError returns err as an *Error. Errors of any other kind become a 500
// whose diagnostics reveal nothing of the failure: internals (SQL, hosts,
// stack details) must not reach an integrator; log err before calling.
func AsError(err error) *Error {
	if fe, ok := errors.AsType[*Error](err); ok {
		return fe
	}
	return Errorf(http.StatusInternalServerError, IssueException, "internal error; please retry later or contact support")
}

// outcome and issue are the OperationOutcome subset fhirlink emits.
type outcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []issue `json:"issue"`
}

type issue struct {
	Severity    string `json:"severity"`
	Code        string `json:"code"`
	Diagnostics string `json:"diagnostics,omitempty"`
}

// Outcome is an OperationOutcome with one issue. severity is one of the
// Severity constants, code an issue type (the Issue constants); an empty
// code becomes "processing" and an empty severity "error", so the result
// is always a valid resource.
func Outcome(severity, code, diagnostics string) []byte {
	if severity == "" {
		severity = SeverityError
	}
	if code == "" {
		code = IssueProcessing
	}
	b, err := json.Marshal(outcome{ResourceType: "OperationOutcome", Issue: []issue{{severity, code, diagnostics}}})
	if err != nil { // strings always marshal
		panic(err)
	}
	return b
}
