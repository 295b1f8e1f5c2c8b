package fhir

import (
	"strings"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

func TestCapabilitySMART(t *testing.T) {
	const token = "https://fhirlink.example/oauth/token"
	b := Capability(CapabilityOptions{Base: base, APIKeyHeader: "X-Key", TokenURL: token}, []*ResourceDecl{patientDecl})
	cs, err := models.UnmarshalCapabilityStatement(b)
	if err != nil {
		t.Fatalf("not an R4 CapabilityStatement: %v\n%s", err, b)
	}
	sec := cs.Rest[0].Security
	if sec == nil || len(sec.Service) != 1 || len(sec.Service[0].Coding) != 1 {
		t.Fatalf("security = %+v", sec)
	}
	c := sec.Service[0].Coding[0]
	if c.System == nil || *c.System != securityServiceCS || c.Code == nil || *c.Code != "SMART-on-FHIR" {
		t.Errorf("service coding = %+v", c)
	}
	if len(sec.Extension) != 1 || sec.Extension[0].Url != oauthURIsExtension || len(sec.Extension[0].Extension) != 1 {
		t.Fatalf("extensions = %+v", sec.Extension)
	}
	tok := sec.Extension[0].Extension[0]
	if tok.Url != "token" || tok.ValueUri == nil || *tok.ValueUri != token {
		t.Errorf("token extension = %+v", tok)
	}
	if !strings.Contains(*sec.Description, token) || !strings.Contains(*sec.Description, "X-Key header") {
		t.Errorf("description = %s", *sec.Description)
	}

	// Without a token URL, no SMART service is claimed.
	b = Capability(CapabilityOptions{Base: base}, []*ResourceDecl{patientDecl})
	if strings.Contains(string(b), "SMART-on-FHIR") || strings.Contains(string(b), "oauth-uris") {
		t.Errorf("SMART advertised without a token URL: %s", b)
	}
}
