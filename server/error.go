package server

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes. Each edge of the server maps them to its own shape: the
// passthrough API's error object, a FHIR OperationOutcome, an HTTP status.
const (
	EINVALID       = "invalid"        // the request is malformed or a value is wrong
	EUNAUTHORIZED  = "unauthorized"   // no credential, or a wrong one
	EFORBIDDEN     = "forbidden"      // a valid credential without the right to do this
	ENOTFOUND      = "not_found"      // no such thing, or not visible to the caller
	EGONE          = "gone"           // the thing existed but is kept no longer (expired results)
	ECONFLICT      = "conflict"       // the thing exists already
	EUNPROCESSABLE = "unprocessable"  // well formed, but not to be done as asked (an idempotency key reused for another request)
	ETOOLARGE      = "too_large"      // a request or result over its size limit
	ENOTACCEPTABLE = "not_acceptable" // a response format we do not produce
	ERATELIMIT     = "rate_limited"   // a quota or rate limit was reached
	EUNAVAILABLE   = "unavailable"    // the site's agent or database cannot be reached now
	ETIMEOUT       = "timeout"        // the work did not finish in its time limit
	EINTERNAL      = "internal"       // a bug or an unexpected failure: details are logged, not shown
)

// Error is the server's one error type: a machine code and a message meant
// for the integrator. Errors of any other type are internal, and their text
// is logged but never shown to a caller.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an [*Error] with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's [*Error], or [EINTERNAL].
func ErrorCode(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err's [*Error], or a generic one that
// leaks nothing.
func ErrorMessage(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "An internal error occurred; it has been logged."
}

// HTTPStatus maps error codes to the HTTP status every HTTP edge answers
// them with.
var HTTPStatus = map[string]int{
	EINVALID:       http.StatusBadRequest,
	EUNAUTHORIZED:  http.StatusUnauthorized,
	EFORBIDDEN:     http.StatusForbidden,
	ENOTFOUND:      http.StatusNotFound,
	EGONE:          http.StatusGone,
	ECONFLICT:      http.StatusConflict,
	EUNPROCESSABLE: http.StatusUnprocessableEntity,
	ETOOLARGE:      http.StatusRequestEntityTooLarge,
	ENOTACCEPTABLE: http.StatusNotAcceptable,
	ERATELIMIT:     http.StatusTooManyRequests,
	EUNAVAILABLE:   http.StatusServiceUnavailable,
	ETIMEOUT:       http.StatusGatewayTimeout,
	EINTERNAL:      http.StatusInternalServerError,
}
