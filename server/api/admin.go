package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/server"
	"fhirlink/server/admin"
)

// The admin API: every `fhirlink admin` operation (package admin) as
// POST /admin/v1/{operation} with a JSON body, for operators holding a
// token from the operators file. It is served by its own handler, meant for
// its own listener (fhirlink server --admin-addr), away from the public
// integrator API. Every call, refused ones included, is audited with the
// operator's name.

const ctxOperator = "fhirlink.operator"

// AdminHandler returns the admin API's handler: the operations of package
// admin on the server's store and agents, for the operators in ops, and
// its OpenAPI document at /openapi.json.
func (s *Server) AdminHandler(ops *admin.Operators) http.Handler {
	s.setup()
	svc := &admin.Service{Store: s.Store, Agents: s.Hub}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.adminError
	e.Use(requestID, recoverer(s.log()), strictQuery)
	e.GET(PathOpenAPI, s.adminOpenAPI)
	g := e.Group(admin.PathPrefix[:len(admin.PathPrefix)-1], s.adminAudited, s.operator(ops))
	for _, o := range admin.Ops {
		g.POST("/"+o.Name, func(c echo.Context) error {
			body, _ := c.Get(ctxAdminBody).([]byte)
			out, err := svc.Call(c.Request().Context(), o.Name, body)
			if err != nil {
				return err
			}
			return c.JSONBlob(http.StatusOK, out)
		})
	}
	return e
}

const ctxAdminBody = "fhirlink.adminBody"

// operator authenticates the caller by its bearer token.
func (s *Server) operator(ops *admin.Operators) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token, ok := bytes.CutPrefix([]byte(c.Request().Header.Get("Authorization")), []byte("Bearer "))
			if !ok {
				return server.Errorf(server.EUNAUTHORIZED, "give an operator token as 'Authorization: Bearer TOKEN'")
			}
			name, err := ops.Authenticate(string(token))
			if err != nil {
				return err
			}
			c.Set(ctxOperator, name)
			return next(c)
		}
	}
}

// adminAudited reads the request body (bounded) and records the call once
// answered: Kind admin, the operation as Interaction, the site it concerns,
// and as Query the operator's name and the request (which never holds a
// secret: those are only ever in answers).
func (s *Server) adminAudited(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		body, err := readBody(c)
		c.Set(ctxAdminBody, body)
		if err == nil {
			err = next(c)
		}
		if err != nil {
			c.Error(err)
		}
		var ref struct {
			SiteID string `json:"siteId"`
		}
		json.Unmarshal(body, &ref)
		name, _ := c.Get(ctxOperator).(string)
		var compact bytes.Buffer
		if json.Compact(&compact, body) != nil {
			compact.Reset()
		}
		s.auditLog.Add(&server.AuditRecord{
			Time: start.UTC(), Method: req.Method, Path: req.URL.Path, Kind: server.AuditAdmin,
			Interaction: truncate(strings.TrimPrefix(c.Path(), admin.PathPrefix), 64), SiteID: truncate(ref.SiteID, 64),
			Query:  truncate("operator="+name+" "+compact.String(), auditQueryMax),
			Status: c.Response().Status, Bytes: c.Response().Size, DurationUS: time.Since(start).Microseconds(),
			ClientAddr: s.clientAddr(req), RequestID: server.RequestID(req.Context()),
		}, nil)
		return nil
	}
}

// adminError writes an error in the admin API's shape, [admin.ErrorBody].
func (s *Server) adminError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var body admin.ErrorBody
	status := http.StatusInternalServerError
	if he, ok := errors.AsType[*echo.HTTPError](err); ok {
		status, body.Error.Message = he.Code, http.StatusText(he.Code)
		body.Error.Code = map[int]string{http.StatusNotFound: server.ENOTFOUND, http.StatusMethodNotAllowed: server.EINVALID}[he.Code]
	} else {
		body.Error.Code = server.ErrorCode(err)
		if body.Error.Code == server.EINTERNAL {
			s.log().Error("internal error", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		status, body.Error.Message = statusOf[body.Error.Code], server.ErrorMessage(err)
	}
	if body.Error.Code == "" {
		body.Error.Code = server.EINVALID
	}
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="fhirlink admin"`)
	}
	c.JSON(status, body)
}
