package fhir

import "testing"

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept, format string
		want           string // "" means 406
	}{
		{"", "", MIMEFHIRJSON},
		{"*/*", "", MIMEFHIRJSON},
		{"application/*", "", MIMEFHIRJSON},
		{"application/fhir+json", "", MIMEFHIRJSON},
		{"application/fhir+json; fhirVersion=4.0", "", MIMEFHIRJSON},
		{"application/fhir+json; fhirVersion=4.0.1; charset=utf-8", "", MIMEFHIRJSON},
		{"application/json+fhir", "", MIMEFHIRJSON},
		{"Application/FHIR+JSON", "", MIMEFHIRJSON},
		{"application/json", "", MIMEJSON},
		{"application/json, application/fhir+json", "", MIMEFHIRJSON},
		{"application/json;q=1, application/fhir+json;q=0.5", "", MIMEJSON},
		{"application/fhir+json;q=0.9, application/fhir+xml", "", MIMEFHIRJSON},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "", MIMEFHIRJSON},
		{"application/fhir+json;q=0, */*", "", MIMEJSON},
		{"application/fhir+json;fhirVersion=3.0, */*", "", MIMEFHIRJSON},
		// Refused.
		{"application/fhir+xml", "", ""},
		{"application/xml", "", ""},
		{"text/xml", "", ""},
		{"text/html", "", ""},
		{"text/turtle", "", ""},
		{"application/fhir+json; fhirVersion=3.0", "", ""},
		{"application/fhir+json;q=0", "", ""},
		{"application/fhir+json;q=abc", "", ""},
		// _format overrides Accept.
		{"application/fhir+xml", "json", MIMEFHIRJSON},
		{"", "application/fhir+json", MIMEFHIRJSON},
		{"", "application/fhir json", MIMEFHIRJSON}, // an unescaped + arrives as a space
		{"", "application/json+fhir", MIMEFHIRJSON},
		{"", "application/json", MIMEJSON},
		{"", "JSON", MIMEFHIRJSON},
		{"", "application/fhir+json;fhirVersion=4.0", MIMEFHIRJSON},
		{"application/fhir+json", "xml", ""},
		{"", "application/fhir+xml", ""},
		{"", "text/xml", ""},
		{"", "ttl", ""},
		{"", "html", ""},
		{"", "application/fhir+json;fhirVersion=5.0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.accept+"|"+tt.format, func(t *testing.T) {
			got, err := Negotiate(tt.accept, tt.format)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("accepted as %s", got)
				}
				wantError(t, err, 406, IssueNotSupported, "JSON")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNegotiateXMLMessage(t *testing.T) {
	_, err := Negotiate("application/fhir+xml", "")
	wantError(t, err, 406, IssueNotSupported, "XML is not supported")
	_, err = Negotiate("", "xml")
	wantError(t, err, 406, IssueNotSupported, "_format=xml", "XML is not supported")
}
