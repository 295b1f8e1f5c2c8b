package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"fhirlink/server"
)

// statusOf maps error codes to HTTP statuses.
var statusOf = map[string]int{
	server.EINVALID:       http.StatusBadRequest,
	server.EUNAUTHORIZED:  http.StatusUnauthorized,
	server.EFORBIDDEN:     http.StatusForbidden,
	server.ENOTFOUND:      http.StatusNotFound,
	server.ECONFLICT:      http.StatusConflict,
	server.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	server.ENOTACCEPTABLE: http.StatusNotAcceptable,
	server.ERATELIMIT:     http.StatusTooManyRequests,
	server.EUNAVAILABLE:   http.StatusServiceUnavailable,
	server.ETIMEOUT:       http.StatusGatewayTimeout,
	server.EINTERNAL:      http.StatusInternalServerError,
}

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
			s.log().Error("internal error", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		status, msg = statusOf[code], server.ErrorMessage(err)
	}
	var body errorBody
	body.Error.Status, body.Error.StatusText, body.Error.Message = status, http.StatusText(status), msg
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `APIKey header="Ocp-Apim-Subscription-Key"`)
	}
	c.JSON(status, body)
}
