package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"fhirlink/server/admin"
	"fhirlink/server/fhirlinktest"
)

// openAPIEnv is a running server and agent (SQLite practice), with its
// admin API on a listener of its own and one operator.
type openAPIEnv struct {
	*fhirlinktest.Env
	adminURL, token string
	public, admin   *echo.Echo
}

func startOpenAPIEnv(t *testing.T) *openAPIEnv {
	t.Helper()
	practice := filepath.Join(t.TempDir(), "practice.db")
	os.WriteFile(practice, nil, 0o600)
	env := &openAPIEnv{Env: fhirlinktest.Start(t, fhirlinktest.Options{Engine: "sqlite", DSN: practice})}
	operators := filepath.Join(t.TempDir(), "operators")
	var err error
	if env.token, err = admin.AddOperator(operators, "openapi-test"); err != nil {
		t.Fatal(err)
	}
	env.public = env.API.Handler().(*echo.Echo)
	env.admin = env.API.AdminHandler(&admin.Operators{File: operators}).(*echo.Echo)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: env.admin, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	env.adminURL = "http://" + ln.Addr().String()
	return env
}

// fetchDoc gets a listener's OpenAPI document and checks it is a valid
// OpenAPI 3.1 document.
func fetchDoc(t *testing.T, base string) ([]byte, validator.Validator, map[string]map[string]any) {
	t.Helper()
	resp, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/openapi.json: %s", base, resp.Status)
	}
	doc, err := libopenapi.NewDocument(b)
	if err != nil {
		t.Fatalf("%s/openapi.json: %v", base, err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Fatalf("%s/openapi.json is OpenAPI %s, want 3.1.0", base, v)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("%s/openapi.json: %v", base, errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("%s/openapi.json is not valid OpenAPI 3.1: %s %s", base, e.Message, e.Reason)
		}
		t.FailNow()
	}
	var raw struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	json.Unmarshal(b, &raw)
	return b, v, raw.Paths
}

// isFHIR tells the routes the CapabilityStatement documents instead.
func isFHIR(path string) bool { return strings.Contains(path, "/fhir/R4") }

var echoParam = regexp.MustCompile(`:([A-Za-z]+)`)

// documented lists the routes missing from a document, as fixes to make.
func undocumented(e *echo.Echo, paths map[string]map[string]any, file string) []string {
	var missing []string
	for _, r := range e.Routes() {
		if isFHIR(r.Path) || isConsole(r.Path) || r.Method == echo.RouteNotFound || strings.HasSuffix(r.Path, "/*") {
			continue // FHIR; the console's HTML pages; echo's own not-found routes of groups with middleware
		}
		p := echoParam.ReplaceAllString(r.Path, "{$1}")
		if _, ok := paths[p][strings.ToLower(r.Method)]; !ok {
			missing = append(missing, r.Method+" "+p+": add it to "+file+" (paths."+p+"."+strings.ToLower(r.Method)+")")
		}
	}
	slices.Sort(missing)
	return slices.Compact(missing)
}

// isConsole reports whether path is the web console's: HTML pages for
// people (server/console), not part of the API the documents describe.
func isConsole(path string) bool { return path == "/console" || strings.HasPrefix(path, "/console/") }

// The OpenAPI documents describe the real handlers: every route the
// servers register is documented (FHIR aside), every documented route
// answers on a running server, and real exchanges match their schemas.
func TestOpenAPI(t *testing.T) {
	env := startOpenAPIEnv(t)
	_, pub, pubPaths := fetchDoc(t, env.URL())
	_, adm, admPaths := fetchDoc(t, env.adminURL)

	for _, m := range undocumented(env.public, pubPaths, "server/api/openapi.json") {
		t.Errorf("route not in the OpenAPI document: %s", m)
	}
	for _, m := range undocumented(env.admin, admPaths, "admin.Ops (server/admin/ops.go)") {
		t.Errorf("admin route not in its OpenAPI document: %s", m)
	}
	for p := range pubPaths {
		if isFHIR(p) {
			t.Errorf("%s: FHIR routes are the CapabilityStatement's to document", p)
		}
	}

	// Real ids for the paths' parameters.
	ctx := context.Background()
	status, _, b := do(t, env.Env, http.MethodPost, "/queries/async", fhirlinktest.Command("SELECT 1 AS one"))
	var q struct{ ID string }
	if status != http.StatusCreated || json.Unmarshal(b, &q) != nil {
		t.Fatalf("async query: %d %s", status, b)
	}
	status, _, b = do(t, env.Env, http.MethodPost, "/queries/registered", map[string]any{"name": "one", "registeredQueryType": "query",
		"frequency": 60, "duration": 3600, "registerCommand": fhirlinktest.Command("SELECT 1 AS one")})
	var reg struct{ ID string }
	if status != http.StatusAccepted || json.Unmarshal(b, &reg) != nil {
		t.Fatalf("registered query: %d %s", status, b)
	}
	other, _ := env.NewIntegrator(true)
	params := map[string]string{"siteId": env.SiteID, "queryId": q.ID, "regId": reg.ID, "page": "1", "integratorId": other}

	// answer sends a documented request with the right credential and
	// returns the exchange.
	answer := func(base, method, path string, body []byte) (*http.Request, *http.Response, []byte) {
		t.Helper()
		u := base + regexp.MustCompile(`\{([A-Za-z]+)\}`).ReplaceAllStringFunc(path, func(p string) string { return params[p[1:len(p)-1]] })
		req, _ := http.NewRequestWithContext(ctx, strings.ToUpper(method), u, bytes.NewReader(body))
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		switch {
		case base == env.adminURL:
			req.Header.Set("Authorization", "Bearer "+env.token)
		case strings.HasPrefix(path, "/agent/"):
			req.SetBasicAuth(env.SiteID, "site-secret")
		default:
			req.Header.Set("Ocp-Apim-Subscription-Key", env.Key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(rb))
		req.Body = io.NopCloser(bytes.NewReader(body))
		return req, resp, rb
	}
	// Every documented route answers; DELETEs last, as they undo the rest.
	for _, del := range []bool{false, true} {
		for base, paths := range map[string]map[string]map[string]any{env.URL(): pubPaths, env.adminURL: admPaths} {
			for p, methods := range paths {
				for m := range methods {
					if (m == "delete") != del {
						continue
					}
					var body []byte
					if m == "post" {
						body = []byte("{}")
					}
					_, resp, rb := answer(base, m, p, body)
					var e struct{ Error struct{ Message string } }
					json.Unmarshal(rb, &e)
					if resp.StatusCode == http.StatusMethodNotAllowed || (resp.StatusCode == http.StatusNotFound && e.Error.Message == "Not Found") {
						t.Errorf("documented %s %s does not exist on the server: %s %s", strings.ToUpper(m), p, resp.Status, rb)
					}
				}
			}
		}
	}

	// Real exchanges against their schemas.
	check := func(v validator.Validator, wantStatus int, req *http.Request, resp *http.Response, rb []byte) {
		t.Helper()
		if resp.StatusCode != wantStatus {
			t.Fatalf("%s %s: %s %s, want %d", req.Method, req.URL.Path, resp.Status, rb, wantStatus)
		}
		if ok, errs := v.ValidateHttpRequestResponse(req, resp); !ok {
			for _, e := range errs {
				t.Errorf("%s %s: %s: %s %v", req.Method, req.URL.Path, e.Message, e.Reason, e.SchemaValidationErrors)
			}
		}
	}
	immediate, _ := json.Marshal(fhirlinktest.Command("SELECT 1 AS one, 'a' AS two"))
	for _, x := range []struct {
		method, path string
		body         []byte
		status       int
	}{
		{"get", "/integrator/sites", nil, 200},
		{"get", "/integrator/sites/{siteId}", nil, 200},
		{"post", "/integrator/sites/{siteId}/queries/immediate", immediate, 200},
		{"post", "/integrator/sites/{siteId}/queries/immediate", []byte(`{"command":{"text":"SELECT * FROM no_such_table","executionMode":"reader","type":"text","parameters":[]}}`), 400},
		{"get", "/integrator/sites/{siteId}/queries/{queryId}", nil, 200},
		{"get", "/integrator/usage", nil, 200},
		{"post", "/agent/v1/pairing-codes", []byte(`{}`), 201},
		{"get", "/agent/v1/pairings", nil, 200},
		{"get", "/agent/v1/audit", nil, 200},
	} {
		req, resp, rb := answer(env.URL(), x.method, x.path, x.body)
		check(pub, x.status, req, resp, rb)
	}
	req, _ := http.NewRequest(http.MethodGet, env.SiteURL(), nil)
	req.Header.Set("Ocp-Apim-Subscription-Key", "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	check(pub, http.StatusUnauthorized, req, resp, rb)

	for _, x := range []struct {
		op     string
		body   string
		status int
	}{
		{"site-create", `{"name":"Schema Practice","pmsType":"Zedmed"}`, 200},
		{"site-list", `{}`, 200},
		{"integrator-list", `{}`, 200},
		{"blocks", `{}`, 200},
		{"quota", `{"integratorId":"` + env.IntegratorID + `","dailyQueries":5}`, 200},
		{"audit", `{"limit":5}`, 200},
		{"push-settings", `{"siteId":"` + env.SiteID + `","concurrency":2}`, 200},
		{"site-create", `{"name":""}`, 400},
	} {
		req, resp, rb := answer(env.adminURL, "post", admin.PathPrefix+x.op, []byte(x.body))
		check(adm, x.status, req, resp, rb)
	}
	// The admin API is on its own listener only.
	if _, resp, _ := answer(env.URL(), "post", admin.PathPrefix+"site-list", []byte("{}")); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the integrator API's listener answers the admin API: %s", resp.Status)
	}
	// The schemas refuse what the server refuses: an unknown property.
	bad, _ := http.NewRequest(http.MethodPost, env.adminURL+admin.PathPrefix+"site-create", strings.NewReader(`{"name":"X","colour":"red"}`))
	bad.Header.Set("Content-Type", "application/json")
	if ok, _ := adm.ValidateHttpRequest(bad); ok {
		t.Error("the admin document accepts a request property the server refuses")
	}
}
