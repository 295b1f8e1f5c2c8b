package api

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/admin"
	"fhirlink/server/passthrough"
)

// The OpenAPI 3.1 documents. The integrator API's (passthrough, usage,
// pairing, OAuth and the agents' endpoints) is served at /openapi.json of
// the main listener; the admin API's at /openapi.json of the admin
// listener, so the public side does not advertise the admin one. FHIR
// routes are left out: the CapabilityStatement documents them.
//
// The paths are written by hand (openapi.json), their schemas generated
// from the Go types the handlers decode and encode (publicSchemas), and the
// admin document entirely from admin.Ops, so a schema cannot drift from the
// code. TestOpenAPI checks every route is documented and answers.

// PathOpenAPI is where each listener serves its OpenAPI document.
const PathOpenAPI = "/openapi.json"

//go:embed openapi.json
var openAPIPaths []byte

// publicSchemas are the components the hand-written paths refer to, by
// name.
var publicSchemas = map[string]reflect.Type{
	"Error":              reflect.TypeFor[errorBody](),
	"SiteStatus":         reflect.TypeFor[siteStatus](),
	"Usage":              reflect.TypeFor[usageResponse](),
	"QueryRequest":       reflect.TypeFor[passthrough.Input](),
	"Query":              reflect.TypeFor[passthrough.Object](),
	"PairingCode":        reflect.TypeFor[wire.PairingCodeResponse](),
	"Pairing":            reflect.TypeFor[server.Pairing](),
	"AuditRecord":        reflect.TypeFor[server.AuditRecord](),
	"WebhookDelivery":    reflect.TypeFor[server.WebhookDelivery](),
	"EnrollRequest":      reflect.TypeFor[wire.EnrollRequest](),
	"EnrollResponse":     reflect.TypeFor[wire.EnrollResponse](),
	"PairingCodeRequest": reflect.TypeFor[wire.PairingCodeRequest](),
	"Pairings":           reflect.TypeFor[wire.PairingsResponse](),
	"Time":               reflect.TypeFor[wire.TimeResponse](),
}

// publicRequests are the publicSchemas that are requests: no property is
// required of them by the schema (the handlers say what is missing).
var publicRequests = map[string]bool{"QueryRequest": true, "EnrollRequest": true, "PairingCodeRequest": true}

var (
	openAPIOnce         sync.Once
	publicDoc, adminDoc []byte
)

func openAPIDocs() (public, admin []byte) {
	openAPIOnce.Do(func() {
		var doc map[string]any
		if err := json.Unmarshal(openAPIPaths, &doc); err != nil {
			panic("openapi.json: " + err.Error())
		}
		g := newSchemaGen()
		for name, t := range publicSchemas {
			g.named[name] = t
		}
		for name, t := range publicSchemas {
			mode := response
			if publicRequests[name] {
				mode = request
			}
			g.defs[name] = g.inline(t, mode)
		}
		doc["components"].(map[string]any)["schemas"] = g.defs
		publicDoc, _ = json.Marshal(doc)
		adminDoc, _ = json.Marshal(adminOpenAPI())
	})
	return publicDoc, adminDoc
}

func (s *Server) serveOpenAPI(c echo.Context) error {
	doc, _ := openAPIDocs()
	return c.JSONBlob(http.StatusOK, doc)
}

func (s *Server) adminOpenAPI(c echo.Context) error {
	_, doc := openAPIDocs()
	return c.JSONBlob(http.StatusOK, doc)
}

// adminOpenAPI is the admin API's document, one path per operation.
func adminOpenAPI() map[string]any {
	g := newSchemaGen()
	paths := map[string]any{}
	for _, o := range admin.Ops {
		paths[admin.PathPrefix+o.Name] = map[string]any{"post": map[string]any{
			"operationId": o.Name,
			"summary":     o.Summary,
			"description": "The `fhirlink admin " + o.Name + "` command; `fhirlink admin " + o.Name + " --help` tells more.",
			"requestBody": map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": g.schema(o.Request, strictRequest)}}},
			"responses": map[string]any{
				"200":     map[string]any{"description": "The operation's answer.", "content": map[string]any{"application/json": map[string]any{"schema": g.schema(o.Response, response)}}},
				"default": map[string]any{"description": "An error: 400 invalid, 401 no or unknown operator token, 404 no such thing, 409 it exists already, 503 the site's agent is not connected.", "content": map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeFor[admin.ErrorBody](), response)}}},
			},
		}}
	}
	paths[PathOpenAPI] = map[string]any{"get": map[string]any{"operationId": "openapi", "summary": "This document.", "security": []any{},
		"responses": map[string]any{"200": map[string]any{"description": "The OpenAPI 3.1 document.", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}}}}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "fhirlink admin API", "version": "1",
			"description": "The operator's API, on the server's admin listener (fhirlink server --admin-addr): every `fhirlink admin` command as POST /admin/v1/{command} with a JSON body, authenticated by an operator token (fhirlink admin operator-token) and audited with the operator's name. Generated from the server's operation table."},
		"paths":      paths,
		"security":   []any{map[string]any{"operatorToken": []any{}}},
		"components": map[string]any{"schemas": g.defs, "securitySchemes": map[string]any{"operatorToken": map[string]any{"type": "http", "scheme": "bearer"}}},
	}
}

// schemaGen makes JSON Schemas (OpenAPI 3.1's dialect) of Go types as
// encoding/json reads and writes them. Named structs go to defs and are
// referred to; names are the types' own, qualified by package when two
// packages use one name.
type schemaGen struct {
	defs  map[string]any
	named map[string]reflect.Type
}

func newSchemaGen() *schemaGen {
	return &schemaGen{defs: map[string]any{}, named: map[string]reflect.Type{}}
}

// schemaMode is what a schema describes: an answer (what the server
// always writes is required), a request (nothing required), or an admin
// request (decoded strictly: unknown properties refused, and a property
// without omitempty is required).
type schemaMode int

const (
	response schemaMode = iota
	request
	strictRequest
)

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// schema is t's schema, a reference for a named struct.
func (g *schemaGen) schema(t reflect.Type, mode schemaMode) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == timeType || t.Name() == "" {
		return g.inline(t, mode)
	}
	name := t.Name()
	if mode != response {
		name += "Request"
	}
	if other, ok := g.named[name]; ok && other != t {
		name = strings.ReplaceAll(t.PkgPath(), "/", ".") + "." + name
	}
	if _, ok := g.named[name]; !ok {
		g.named[name] = t
		g.defs[name] = map[string]any{} // recursion guard
		g.defs[name] = g.inline(t, mode)
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

func (g *schemaGen) inline(t reflect.Type, mode schemaMode) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{} // any JSON value
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem(), mode)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem(), mode)}
	case reflect.Struct:
		props, required := map[string]any{}, []string{}
		g.fields(t, mode, props, &required)
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		if mode == strictRequest {
			s["additionalProperties"] = false
		}
		return s
	}
	return map[string]any{}
}

// fields adds t's JSON properties, those of embedded structs included. A
// property without omitempty is always written, but as null when it is a
// nil pointer, slice or map.
func (g *schemaGen) fields(t reflect.Type, mode schemaMode, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			g.fields(f.Type, mode, props, required)
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := g.schema(f.Type, mode)
		omitempty := strings.Contains(opts, "omitempty")
		switch f.Type.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			if !omitempty && f.Type != rawType && !(f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8) {
				s = map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
			}
		}
		props[name] = s
		if !omitempty && (mode == response || mode == strictRequest) && !(mode == strictRequest && f.Type.Kind() == reflect.Pointer) {
			*required = append(*required, name)
		}
	}
}
