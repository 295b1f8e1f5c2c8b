package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"fhirlink/server"
)

// The token endpoint refuses what is not one plain form, in OAuth's error
// shape, and never lets a response be cached.
func TestServeTokenRefusesBadForms(t *testing.T) {
	a := &Authority{}
	for _, tc := range []struct{ ctype, body, want string }{
		{"application/json", `{"grant_type":"client_credentials"}`, "send the token request as a form"},
		{"application/x-www-form-urlencoded", "grant_type=client_credentials&scope=a&scope=b", "scope is repeated"},
		{"application/x-www-form-urlencoded", strings.Repeat("a", maxTokenRequestBytes+1), "unreadable or oversized form"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.ctype)
		w := httptest.NewRecorder()
		err := a.ServeToken(w, req, "https://fhirlink.test/oauth/token")
		var got Error
		if json.Unmarshal(w.Body.Bytes(), &got) != nil || w.Code != http.StatusBadRequest || got.Code != "invalid_request" ||
			!strings.Contains(got.Description, tc.want) || err == nil {
			t.Errorf("%s %.30q: %d %s (%v)", tc.ctype, tc.body, w.Code, w.Body, err)
		}
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", w.Header().Get("Cache-Control"))
		}
	}
}

func TestGrantRequire(t *testing.T) {
	g, _ := ParseGrant("system/Patient.rs")
	if err := g.Require("Patient", "s", "search Patient"); err != nil {
		t.Fatal(err)
	}
	err := g.Require("Observation", "s", "search Observation")
	if server.ErrorCode(err) != server.EFORBIDDEN || !strings.Contains(err.Error(), "lacks scope system/Observation.s, needed to search Observation (scopes granted: system/Patient.rs)") {
		t.Fatalf("%v", err)
	}
	if err := Grant(nil).Require(Passthrough, "r", "run SQL"); !strings.Contains(err.Error(), "scopes granted: none") {
		t.Fatalf("%v", err)
	}
}

// Scopes are listed once per type, sorted, between the wildcard and the
// passthrough ones.
func TestSMARTConfiguration(t *testing.T) {
	c := SMARTConfiguration("https://x/oauth/token", "https://x/jwks", []string{"Patient", "Appointment", "Patient"})
	want := []string{"system/*.rs", "system/*.read", "system/Appointment.rs", "system/Patient.rs", "system/passthrough.read", "system/passthrough.write"}
	if !slices.Equal(c.ScopesSupported, want) || c.TokenEndpoint != "https://x/oauth/token" || c.JWKSURI != "https://x/jwks" {
		t.Fatalf("%+v", c)
	}
}
