package fhir

import (
	"bytes"
	"encoding/json"
	"testing"
)

const subsetted = `{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}`

func TestSubset(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		elements []string
		want     string
	}{
		{
			name: "patient: asked, mandatory and modifier elements, primitive extensions, order kept",
			in: `{"resourceType":"Patient","id":"1","meta":{"lastUpdated":"2024-05-01T10:00:00+10:00"},` +
				`"identifier":[{"value":"1"}],"active":true,"name":[{"family":"Smith"}],"telecom":[{"value":"1"}],` +
				`"gender":"female","birthDate":"1990-05-01","_birthDate":{"extension":[]},"deceasedBoolean":false,` +
				`"address":[],"generalPractitioner":[{"reference":"Practitioner/7"}]}`,
			elements: []string{"birthDate", "name"},
			want: `{"resourceType":"Patient","id":"1","meta":{"lastUpdated":"2024-05-01T10:00:00+10:00","tag":[` + subsetted + `]},` +
				`"active":true,"name":[{"family":"Smith"}],"birthDate":"1990-05-01","_birthDate":{"extension":[]},"deceasedBoolean":false}`,
		},
		{
			name:     "no meta: one is added after id",
			in:       `{"resourceType":"Practitioner","id":"7","identifier":[{"value":"x"}],"name":[{"family":"Who"}]}`,
			elements: []string{"name"},
			want:     `{"resourceType":"Practitioner","id":"7","meta":{"tag":[` + subsetted + `]},"name":[{"family":"Who"}]}`,
		},
		{
			name:     "existing tags are kept, SUBSETTED added once",
			in:       `{"resourceType":"Practitioner","id":"7","meta":{"tag":[{"code":"x"},` + subsetted + `]},"name":[]}`,
			elements: []string{"gender"},
			want:     `{"resourceType":"Practitioner","id":"7","meta":{"tag":[{"code":"x"},` + subsetted + `]}}`,
		},
		{
			name:     "other tags",
			in:       `{"resourceType":"Practitioner","meta":{"tag":[{"code":"x"}]},"name":[]}`,
			elements: []string{"name"},
			want:     `{"resourceType":"Practitioner","meta":{"tag":[{"code":"x"},` + subsetted + `]},"name":[]}`,
		},
		{
			name:     "choice elements by name; class does not keep classHistory",
			in:       `{"resourceType":"Encounter","id":"e","status":"finished","class":{"code":"AMB"},"classHistory":[],"period":{"start":"2024"},"subject":{"reference":"Patient/1"}}`,
			elements: []string{"period"},
			want:     `{"resourceType":"Encounter","id":"e","meta":{"tag":[` + subsetted + `]},"status":"finished","class":{"code":"AMB"},"period":{"start":"2024"}}`,
		},
		{
			name:     "observation value[x]",
			in:       `{"resourceType":"Observation","id":"o","status":"final","code":{},"subject":{},"valueQuantity":{"value":1},"effectiveDateTime":"2024"}`,
			elements: []string{"value"},
			want:     `{"resourceType":"Observation","id":"o","meta":{"tag":[` + subsetted + `]},"status":"final","code":{},"valueQuantity":{"value":1}}`,
		},
		{
			name:     "mandatory choice kept",
			in:       `{"resourceType":"MedicationStatement","status":"active","medicationCodeableConcept":{},"subject":{},"note":[]}`,
			elements: []string{"dosage"},
			want:     `{"resourceType":"MedicationStatement","meta":{"tag":[` + subsetted + `]},"status":"active","medicationCodeableConcept":{},"subject":{}}`,
		},
		{
			name:     "modifier extensions and implicit rules always kept",
			in:       `{"resourceType":"Location","id":"l","implicitRules":"x","modifierExtension":[],"extension":[],"name":"Main","status":"active"}`,
			elements: []string{"name"},
			want:     `{"resourceType":"Location","id":"l","meta":{"tag":[` + subsetted + `]},"implicitRules":"x","modifierExtension":[],"name":"Main","status":"active"}`,
		},
		{
			name:     "unknown resource type: identity only",
			in:       `{"resourceType":"Basic","id":"b","code":{},"subject":{}}`,
			elements: []string{"subject"},
			want:     `{"resourceType":"Basic","id":"b","meta":{"tag":[` + subsetted + `]},"subject":{}}`,
		},
		{
			name:     "whitespace in the input",
			in:       "{\n \"resourceType\" : \"Patient\" ,\n \"id\":\"1\", \"gender\" : \"male\", \"name\": [ ] }",
			elements: []string{"gender"},
			want:     `{"resourceType":"Patient","id":"1","meta":{"tag":[` + subsetted + `]},"gender":"male"}`,
		},
		{
			name:     "no elements: unchanged",
			in:       `{"resourceType":"Patient","id":"1","gender":"male"}`,
			elements: nil,
			want:     `{"resourceType":"Patient","id":"1","gender":"male"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Subset(json.RawMessage(tt.in), tt.elements)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("subset\n got %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON %s", got)
			}
		})
	}
}

func TestSubsetIdempotent(t *testing.T) {
	in := json.RawMessage(`{"resourceType":"Patient","id":"1","gender":"male","name":[]}`)
	once, err := Subset(in, []string{"gender"})
	if err != nil {
		t.Fatal(err)
	}
	twice, err := Subset(once, []string{"gender"})
	if err != nil || !bytes.Equal(once, twice) {
		t.Errorf("second subset changed it: %s → %s (%v)", once, twice, err)
	}
}

func TestSubsetInvalid(t *testing.T) {
	for _, in := range []string{``, `[]`, `"x"`, `{"resourceType":"Patient"`, `{"a":1} {}`, `{"meta":[]}`, `{"meta":{"tag":{}}}`} {
		t.Run(in, func(t *testing.T) {
			_, err := Subset(json.RawMessage(in), []string{"name"})
			wantError(t, err, 500, IssueException)
		})
	}
}
