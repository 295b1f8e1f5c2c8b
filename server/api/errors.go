package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"fhirlink/fhir"
	"fhirlink/server"
)

// wwwAuthenticate is the challenge of a 401: a SMART access token or a key.
const wwwAuthenticate = `Bearer realm="fhirlink", APIKey header="` + KeyHeader + `"`

// statusOf maps error codes to HTTP statuses.
var statusOf = server.HTTPStatus

// errorBody is the passthrough API's request error shape.
type errorBody struct {
	Error struct {
		Status     int    `json:"status"`
		StatusText string `json:"statusText"`
		Message    string `json:"message"`
	} `json:"error"`
}

// handleError writes any error a handler returned in the passthrough shape.
// Internal errors are logged and shown only as a generic message.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if strings.Contains(c.Request().URL.Path, fhirBase+"/") || strings.HasSuffix(c.Request().URL.Path, fhirBase) {
		s.fhirError(err, c)
		return
	}
	var status int
	var msg string
	if he, ok := errors.AsType[*echo.HTTPError](err); ok {
		// echo's own errors: unknown route, wrong method, bad body.
		status, msg = he.Code, http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok {
			msg = m
		}
	} else {
		code := server.ErrorCode(err)
		if code == server.EINTERNAL {
			s.log().ErrorContext(c.Request().Context(), "internal error", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		status, msg = statusOf[code], server.ErrorMessage(err)
	}
	var body errorBody
	body.Error.Status, body.Error.StatusText, body.Error.Message = status, http.StatusText(status), msg
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", wwwAuthenticate)
	}
	c.JSON(status, body)
}

// issueType maps error codes to FHIR issue types.
var issueType = map[string]string{
	server.EINVALID:       "invalid",
	server.EUNAUTHORIZED:  "login",
	server.EFORBIDDEN:     "forbidden",
	server.ENOTFOUND:      "not-found",
	server.EGONE:          "deleted",
	server.ECONFLICT:      "conflict",
	server.EUNPROCESSABLE: "processing",
	server.ETOOLARGE:      "too-long",
	server.ENOTACCEPTABLE: "not-supported",
	server.ERATELIMIT:     "throttled",
	server.EUNAVAILABLE:   "transient",
	server.ETIMEOUT:       "timeout",
	server.EINTERNAL:      "exception",
}

// fhirError answers an error on a FHIR route as an OperationOutcome.
func (s *Server) fhirError(err error, c echo.Context) {
	fe, ok := errors.AsType[*fhir.Error](err)
	if !ok {
		if he, isEcho := errors.AsType[*echo.HTTPError](err); isEcho {
			msg, _ := he.Message.(string)
			fe = fhir.Errorf(he.Code, "not-supported", "%s", msg)
		} else {
			code := server.ErrorCode(err)
			if code == server.EINTERNAL {
				s.log().ErrorContext(c.Request().Context(), "internal error", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
			}
			fe = fhir.Errorf(statusOf[code], issueType[code], "%s", server.ErrorMessage(err))
		}
	}
	h := c.Response().Header()
	switch fe.Status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", wwwAuthenticate)
	case http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if h.Get("Retry-After") == "" {
			h.Set("Retry-After", "10") // a busy or slow practice server: back off
		}
	}
	c.Blob(fe.Status, "application/fhir+json; charset=utf-8", fhir.Outcome("error", fe.Code, fe.Diagnostics))
}
