package api

import (
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"fhirlink/fhir"
	"fhirlink/server"
)

// strictQuery parses every request's query string with [fhir.ParseQuery]
// ('&' separates, ';' is an ordinary character) and answers 400 when it is
// malformed, on every route. A query it accepts is one that echo's
// QueryParam and QueryParams and url.URL.Query (which silently skip the
// pairs they cannot parse) read the same way, once its ';' are escaped as
// %3B: that is the one change made to it, so that a request echoed back
// (the $export manifest's request) stays as sent.
func strictQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.URL.RawQuery == "" {
			return next(c)
		}
		if _, err := fhir.ParseQuery(r.URL.RawQuery); err != nil {
			return server.Errorf(server.EINVALID, "%v", err)
		}
		r.URL.RawQuery = strings.ReplaceAll(r.URL.RawQuery, ";", "%3B")
		return next(c)
	}
}

// formBody reads a form body (POST _search) with the same rules, and keeps
// it as the request's PostForm, for the audit record.
func formBody(c echo.Context) (url.Values, error) {
	r := c.Request()
	b, err := readBody(c)
	if err != nil {
		return nil, err
	}
	form, err := fhir.ParseQuery(string(b))
	if err != nil {
		return nil, server.Errorf(server.EINVALID, "form body: %v", err)
	}
	r.PostForm = form
	return form, nil
}
