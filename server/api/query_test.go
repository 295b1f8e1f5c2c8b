package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fhirlink/fhir/fhirvalidate"
	"fhirlink/server/fhirlinktest"
)

// A ';' in a search is part of the value, never a separator that drops
// the rest of the pair: family=<a real family>;x=1 searches for that whole
// text and finds nobody, by GET and by POST alike; a malformed query
// string answers 400 with an OperationOutcome.
func TestFHIRQueryStringIsParsedStrictly(t *testing.T) {
	env, db := fhirEnv(t)
	var family string
	if err := db.QueryRow(`SELECT rtrim("SURNAME") ` + livePatients + ` LIMIT 1`).Scan(&family); err != nil {
		t.Fatal(err)
	}
	if b := search(t, env, "Patient?family="+url.QueryEscape(family)); len(b.ids(t, "match")) == 0 {
		t.Fatalf("family=%s finds nobody; the test needs a match", family)
	}
	for _, strict := range []bool{false, true} {
		var header []string
		if strict {
			header = []string{"Prefer", "handling=strict"}
		}
		// An id cannot hold a ';': refused, rather than the filter dropped.
		status, _, body := env.FHIR(http.MethodGet, "Patient?_id=1;", "", header...)
		if status != http.StatusBadRequest || !strings.Contains(string(body), `1;`) {
			t.Errorf("GET Patient?_id=1; (strict %v): %d %s", strict, status, body)
		}
		fhirvalidate.Resources(t, body)
		for _, q := range []string{"family=" + url.QueryEscape(family) + ";x=1", "family=" + url.QueryEscape(family) + ";"} {
			b := search(t, env, "Patient?"+q, header...)
			if n := len(b.ids(t, "match")); n != 0 {
				t.Errorf("GET Patient?%s (strict %v): %d patients, want none", q, strict, n)
			}
			if self := b.link("self"); !strings.Contains(self, "%3B") {
				t.Errorf("GET Patient?%s: self link %s does not keep the ';'", q, self)
			}
		}
		status, _, body = env.FHIR(http.MethodPost, "Patient/_search", "family="+url.QueryEscape(family)+";x=1", header...)
		var posted bundle
		if status != http.StatusOK || json.Unmarshal(body, &posted) != nil || len(posted.ids(t, "match")) != 0 {
			t.Errorf("POST family=%s;x=1 (strict %v): %d %.300s", family, strict, status, body)
		}
	}
	for _, c := range []struct{ method, path, body string }{
		{http.MethodGet, "Patient?family=%zz", ""},
		{http.MethodGet, "Patient?family=abc%", ""},
		{http.MethodGet, "Patient?family=%FF", ""},
		{http.MethodGet, "Patient?family=a%00b", ""},
		{http.MethodGet, "Patient/1?_format=%zz", ""},
		{http.MethodGet, "metadata?_format=%zz", ""},
		{http.MethodPost, "Patient/_search", "family=%zz"},
		{http.MethodPost, "Patient/_search?_count=%zz", "family=x"},
	} {
		status, _, body := env.FHIR(c.method, c.path, c.body)
		if status != http.StatusBadRequest || !strings.Contains(string(body), `"OperationOutcome"`) || !strings.Contains(string(body), "%") {
			t.Errorf("%s %s %s: %d %s; want 400 with an OperationOutcome quoting the pair", c.method, c.path, c.body, status, body)
			continue
		}
		fhirvalidate.Resources(t, body)
	}
}

// The passthrough routes read their query strings the same way.
func TestPassthroughQueryStringIsParsedStrictly(t *testing.T) {
	env, _ := start(t, fhirlinktest.Options{})
	for _, path := range []string{"/queries/immediate?format=%zz", "/queries/immediate?format=ndjson%"} {
		status, _, body := do(t, env, http.MethodPost, path, fhirlinktest.Command("SELECT 1 AS x"))
		var shape struct{ Error *struct{ Status int } }
		if status != http.StatusBadRequest || json.Unmarshal(body, &shape) != nil || shape.Error == nil || shape.Error.Status != 400 {
			t.Errorf("POST %s: %d %s; want 400 in the error shape", path, status, body)
		}
	}
	status, _, body, err := env.Do(t.Context(), http.MethodGet, env.URL()+"/integrator/sites?practiceManagementSiteId=%zz", env.Key, nil)
	if err != nil || status != http.StatusBadRequest {
		t.Errorf("GET /integrator/sites?practiceManagementSiteId=%%zz: %d %s %v", status, body, err)
	}
}
