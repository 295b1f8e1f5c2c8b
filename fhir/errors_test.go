package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

func TestOutcome(t *testing.T) {
	for _, tt := range []struct {
		severity, code, diagnostics string
		wantSeverity, wantCode      string
	}{
		{SeverityError, IssueInvalid, `bad "value" <here>`, "error", "invalid"},
		{SeverityWarning, IssueNotSupported, "ignored", "warning", "not-supported"},
		{SeverityInformation, IssueInformational, "", "information", "informational"},
		{SeverityFatal, IssueException, "x", "fatal", "exception"},
		{"", "", "defaults", "error", "processing"},
	} {
		b := Outcome(tt.severity, tt.code, tt.diagnostics)
		oo, err := models.UnmarshalOperationOutcome(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if len(oo.Issue) != 1 || oo.Issue[0].Severity.Code() != tt.wantSeverity || oo.Issue[0].Code.Code() != tt.wantCode {
			t.Errorf("%s: issue %+v", b, oo.Issue)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		issue := m["issue"].([]any)[0].(map[string]any)
		if d, ok := issue["diagnostics"]; ok != (tt.diagnostics != "") || (ok && d != tt.diagnostics) {
			t.Errorf("%s: diagnostics %v", b, d)
		}
		if m["resourceType"] != "OperationOutcome" {
			t.Errorf("%s: resourceType", b)
		}
	}
}

func TestIssueCodesAreR4(t *testing.T) {
	for _, c := range []string{IssueInvalid, IssueStructure, IssueValue, IssueSecurity, IssueLogin, IssueForbidden,
		IssueProcessing, IssueNotSupported, IssueNotFound, IssueTooCostly, IssueTransient, IssueException,
		IssueTimeout, IssueThrottled, IssueInformational} {
		var code models.IssueType
		if err := json.Unmarshal([]byte(`"`+c+`"`), &code); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
	for _, s := range []string{SeverityFatal, SeverityError, SeverityWarning, SeverityInformation} {
		var sev models.IssueSeverity
		if err := json.Unmarshal([]byte(`"`+s+`"`), &sev); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestError(t *testing.T) {
	e := Errorf(404, IssueNotFound, "Patient/%s is not known", "9")
	if e.Error() != "Patient/9 is not known" || e.Status != 404 || e.Code != "not-found" {
		t.Errorf("error = %+v", e)
	}
	if string(e.Outcome()) != `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"Patient/9 is not known"}]}` {
		t.Errorf("outcome = %s", e.Outcome())
	}
	wrapped := fmt.Errorf("reading: %w", e)
	if AsError(wrapped) != e {
		t.Error("AsError lost the *Error")
	}
	internal := AsError(errors.New("pq: relation \"PATIENTS\" does not exist at 10.0.0.5"))
	if internal.Status != 500 || internal.Code != IssueException || internal.Diagnostics != "internal error; please retry later or contact support" {
		t.Errorf("internal = %+v", internal)
	}
}
