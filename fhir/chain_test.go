package fhir

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Declarations with chains and revincludes, shaped like a clinical mapping's.
var (
	chainPatientDecl = &ResourceDecl{
		Type: "Patient",
		Params: []SearchParam{
			{Name: "_id", Type: TypeToken},
			{Name: "identifier", Type: TypeToken},
			{Name: "family", Type: TypeString},
		},
		RevIncludes: []Include{
			{Source: "Condition", Param: "patient", Target: "Patient"},
			{Source: "Observation", Param: "patient", Target: "Patient"},
		},
		DefaultCount: 20, MaxCount: 100,
	}
	conditionDecl = &ResourceDecl{
		Type: "Condition",
		Params: []SearchParam{
			{Name: "_id", Type: TypeToken},
			{Name: "patient", Type: TypeReference, Targets: []string{"Patient"},
				Chains: []SearchParam{{Name: "identifier", Type: TypeToken}, {Name: "family", Type: TypeString}}},
			{Name: "asserter", Type: TypeReference, Targets: []string{"Practitioner"}},
			{Name: "onset-date", Type: TypeDate},
		},
		DefaultCount: 50, MaxCount: 500,
	}
)

const ihiSystem = "http://ns.electronichealth.net.au/id/hi/ihi/1.0"

func TestParseChained(t *testing.T) {
	for _, raw := range []string{
		"patient.identifier=" + url.QueryEscape(ihiSystem+"|8003608166690503"),
		"patient:Patient.identifier=" + url.QueryEscape(ihiSystem+"|8003608166690503"),
	} {
		t.Run(raw, func(t *testing.T) {
			s, err := ParseSearch(conditionDecl, query(t, raw), strictOpts())
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Clauses) != 1 {
				t.Fatalf("clauses = %+v", s.Clauses)
			}
			c := s.Clauses[0]
			if c.Param.Name != "patient" || c.Chain == nil || c.Chain.Name != "identifier" || c.Chain.Type != TypeToken || c.Modifier != "" {
				t.Fatalf("clause = %+v", c)
			}
			if len(c.Values) != 1 || c.Values[0].System == nil || *c.Values[0].System != ihiSystem || c.Values[0].Code != "8003608166690503" {
				t.Errorf("values = %+v", c.Values)
			}
			if c.Values[0].RefID != "" || c.Values[0].RefType != "" {
				t.Errorf("a chained token value carries a reference: %+v", c.Values[0])
			}
			if got := s.Applied.Get("patient.identifier"); got != ihiSystem+"|8003608166690503" {
				t.Errorf("applied = %v", s.Applied)
			}
			if self := SelfLink("https://x/fhir", "Condition", s.Applied); !strings.Contains(self, "patient.identifier=") {
				t.Errorf("self = %s", self)
			}
		})
	}
}

func TestParseChainedValues(t *testing.T) {
	// Several values are ORed; the chained parameter's type parses them.
	s, err := ParseSearch(conditionDecl, query(t, "patient.identifier=a|1,b|2,3&patient.family=smi&onset-date=ge2020"), strictOpts())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Clauses) != 3 {
		t.Fatalf("clauses = %+v", s.Clauses)
	}
	byKey := map[string]Clause{}
	for _, c := range s.Clauses {
		k := c.Param.Name
		if c.Chain != nil {
			k += "." + c.Chain.Name
		}
		byKey[k] = c
	}
	id := byKey["patient.identifier"]
	if len(id.Values) != 3 || *id.Values[1].System != "b" || id.Values[1].Code != "2" || id.Values[2].System != nil {
		t.Errorf("identifier values = %+v", id.Values)
	}
	fam := byKey["patient.family"]
	if fam.Chain == nil || fam.Chain.Type != TypeString || len(fam.Values) != 1 || fam.Values[0].String != "smi" {
		t.Errorf("family = %+v", fam)
	}
	// Applied parses back to the same search (paging tokens rely on it).
	again, err := ParseSearch(conditionDecl, s.Applied, strictOpts())
	if err != nil {
		t.Fatal(err)
	}
	if again.Applied.Encode() != s.Applied.Encode() || len(again.Clauses) != 3 {
		t.Errorf("reparsed: %v, want %v", again.Applied, s.Applied)
	}
	// Through a paging token too.
	key := []byte("0123456789abcdef0123456789abcdef")
	tok := s.Token(key, time.Now().Add(time.Minute))
	paged, err := ParseToken(conditionDecl, tok, key, opts())
	if err != nil {
		t.Fatal(err)
	}
	if paged.Applied.Encode() != s.Applied.Encode() {
		t.Errorf("token: %v, want %v", paged.Applied, s.Applied)
	}
}

func TestParseChainedErrors(t *testing.T) {
	for _, c := range []struct {
		raw    string
		status int
		code   string
		frags  []string
	}{
		// Not declared: refused in every mode, never ignored.
		{"patient.name=x", 400, IssueNotSupported, []string{"patient.name", "patient can be chained by patient.identifier, patient.family only"}},
		{"asserter.identifier=x", 400, IssueNotSupported, []string{"chained search is not supported on asserter"}},
		// A type modifier naming another type.
		{"patient:Practitioner.identifier=x", 400, IssueInvalid, []string{"patient refers to Patient, not Practitioner"}},
		// Modifiers on the chained parameter.
		{"patient.identifier:not=x", 400, IssueNotSupported, []string{"modifiers are not supported on chained parameters"}},
		{"patient.family:exact=x", 400, IssueNotSupported, []string{"modifiers are not supported"}},
		{"patient.identifier:=x", 400, IssueInvalid, []string{"empty modifier"}},
		// Values are checked by the chained parameter's type.
		{"patient.identifier=a|b|c", 400, IssueInvalid, []string{"more than one '|'"}},
		{"patient.identifier=", 400, IssueInvalid, []string{"empty value"}},
		{"patient.family=a,,b", 400, IssueInvalid, []string{"empty value"}},
	} {
		t.Run(c.raw, func(t *testing.T) {
			for _, o := range []ParseOptions{opts(), strictOpts()} {
				_, err := ParseSearch(conditionDecl, query(t, c.raw), o)
				wantError(t, err, c.status, c.code, c.frags...)
			}
		})
	}
	// A chain on a parameter that is not a reference, or an unknown base,
	// is an unknown parameter: ignored when lenient, refused when strict.
	s, err := ParseSearch(conditionDecl, query(t, "onset-date.x=1&nope.identifier=2"), opts())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.Ignored, ",") != "nope.identifier,onset-date.x" {
		t.Errorf("ignored = %v", s.Ignored)
	}
	_, err = ParseSearch(conditionDecl, query(t, "nope.identifier=2"), strictOpts())
	wantError(t, err, 400, IssueInvalid, "unknown search parameter", "patient.identifier")
}

func TestParseRevInclude(t *testing.T) {
	s, err := ParseSearch(chainPatientDecl, query(t, "_id=1&_revinclude=Observation:patient&_revinclude=Condition:patient:Patient&_revinclude=Observation:patient"), strictOpts())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.RevInclude) != 2 || s.RevInclude[0].Source != "Observation" || s.RevInclude[1].Source != "Condition" {
		t.Errorf("revinclude = %+v", s.RevInclude)
	}
	if got := s.Applied["_revinclude"]; strings.Join(got, " ") != "Observation:patient Condition:patient" {
		t.Errorf("applied = %v", s.Applied)
	}
	again, err := ParseSearch(chainPatientDecl, s.Applied, strictOpts())
	if err != nil || len(again.RevInclude) != 2 {
		t.Errorf("reparsed: %+v, %v", again, err)
	}
	// With _summary=count, validated but not applied.
	s, err = ParseSearch(chainPatientDecl, query(t, "_revinclude=Condition:patient&_summary=count"), strictOpts())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.RevInclude) != 0 || s.Applied.Has("_revinclude") {
		t.Errorf("count search keeps _revinclude: %+v", s)
	}

	for _, c := range []struct {
		raw    string
		decl   *ResourceDecl
		status int
		code   string
		frag   string
	}{
		{"_revinclude=Encounter:patient", chainPatientDecl, 400, IssueInvalid, "Patient supports _revinclude=Condition:patient, Observation:patient"},
		{"_revinclude=Condition:subject", chainPatientDecl, 400, IssueInvalid, "is not supported"},
		{"_revinclude=Condition:patient:Group", chainPatientDecl, 400, IssueInvalid, "is not supported"},
		{"_revinclude=Condition", chainPatientDecl, 400, IssueInvalid, "is not supported"},
		{"_revinclude=*", chainPatientDecl, 400, IssueNotSupported, "wildcard"},
		{"_revinclude:iterate=Condition:patient", chainPatientDecl, 400, IssueNotSupported, "iterative"},
		{"_revinclude=", chainPatientDecl, 400, IssueInvalid, "empty value"},
		{"_revinclude=Condition:patient", conditionDecl, 400, IssueInvalid, "Condition supports no _revinclude"},
	} {
		t.Run(c.raw, func(t *testing.T) {
			_, err := ParseSearch(c.decl, query(t, c.raw), opts())
			wantError(t, err, c.status, c.code, c.frag)
		})
	}
}

func TestCapabilityChainsAndRevIncludes(t *testing.T) {
	var cs struct {
		Rest []struct {
			Documentation string
			Security      struct{ Description string }
			Resource      []struct {
				Type             string
				SearchRevInclude []string
				SearchParam      []struct{ Name, Documentation string }
			}
		}
	}
	decode(t, Capability(CapabilityOptions{TokenURL: "https://x/token"}, []*ResourceDecl{chainPatientDecl, conditionDecl}), &cs)
	for _, r := range cs.Rest[0].Resource {
		switch r.Type {
		case "Patient":
			if strings.Join(r.SearchRevInclude, ",") != "Condition:patient,Observation:patient" {
				t.Errorf("Patient searchRevInclude = %v", r.SearchRevInclude)
			}
		case "Condition":
			if r.SearchRevInclude != nil {
				t.Errorf("Condition searchRevInclude = %v", r.SearchRevInclude)
			}
			for _, p := range r.SearchParam {
				switch p.Name {
				case "patient":
					if !strings.Contains(p.Documentation, "patient.identifier") || !strings.Contains(p.Documentation, "patient.family") ||
						strings.Contains(p.Documentation, "Chaining is not supported") {
						t.Errorf("patient documentation = %q", p.Documentation)
					}
				case "asserter":
					if !strings.Contains(p.Documentation, "Chaining is not supported") {
						t.Errorf("asserter documentation = %q", p.Documentation)
					}
				}
			}
		}
	}
	if want := fmt.Sprintf("at most %d per page", MaxRevIncluded); !strings.Contains(cs.Rest[0].Documentation, want) {
		t.Errorf("rest documentation does not say %q: %q", want, cs.Rest[0].Documentation)
	}
	if !strings.Contains(cs.Rest[0].Security.Description, "_revinclude") {
		t.Errorf("security description does not cover _revinclude: %q", cs.Rest[0].Security.Description)
	}
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
