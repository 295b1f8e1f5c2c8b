package fhir

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"fhirlink/fhir/fhirvalidate"
)

// TestSummaryElementsAreR4s checks the summary table, and the elements
// Subset always keeps, against the FHIR R4 StructureDefinitions.
func TestSummaryElementsAreR4s(t *testing.T) {
	path, err := fhirvalidate.R4Definitions()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Entry []struct {
			Resource struct {
				ResourceType, ID string
				Snapshot         struct {
					Element []struct {
						Path       string
						Min        int
						IsSummary  bool
						IsModifier bool
					}
				}
			}
		}
	}
	if err := json.Unmarshal(raw, &bundle); err != nil {
		t.Fatal(err)
	}
	// Elements of Resource and DomainResource are kept everywhere.
	inherited := []string{"id", "meta", "implicitRules", "language", "text", "contained", "extension", "modifierExtension"}
	seen := 0
	for _, e := range bundle.Entry {
		r := e.Resource
		mine, ok := summaryElements[r.ID]
		if r.ResourceType != "StructureDefinition" || !ok {
			continue
		}
		seen++
		var summary, mandatoryOrModifier []string
		for _, el := range r.Snapshot.Element {
			typ, name, ok := strings.Cut(el.Path, ".")
			if !ok || typ != r.ID || strings.Contains(name, ".") || slices.Contains(inherited, name) {
				continue
			}
			if el.IsSummary {
				summary = append(summary, name)
			}
			if el.Min > 0 || el.IsModifier {
				mandatoryOrModifier = append(mandatoryOrModifier, name)
			}
		}
		if !slices.Equal(slices.Sorted(slices.Values(mine)), slices.Sorted(slices.Values(summary))) {
			t.Errorf("%s: summary elements %v, R4 marks %v", r.ID, mine, summary)
		}
		if got := alwaysKept[r.ID]; !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(mandatoryOrModifier))) {
			t.Errorf("%s: always kept %v, R4's mandatory and modifier elements are %v", r.ID, got, mandatoryOrModifier)
		}
	}
	if seen != len(summaryElements) {
		t.Errorf("found %d of the %d types of the table in the R4 definitions", seen, len(summaryElements))
	}
}

func TestSummarize(t *testing.T) {
	patient := json.RawMessage(`{"resourceType":"Patient","id":"1","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},` +
		`"extension":[{"url":"u","valueString":"x"}],"identifier":[{"value":"a"}],"active":true,"name":[{"family":"Ng"}],` +
		`"birthDate":"1990-01-01","_birthDate":{"id":"b"},"deceasedBoolean":false,"communication":[{"language":{"text":"en"}}],"generalPractitioner":[{"reference":"Practitioner/2"}]}`)
	for _, c := range []struct {
		mode string
		want string
	}{
		{"", string(patient)},
		{SummaryCount, string(patient)},
		{SummaryTrue, `{"resourceType":"Patient","id":"1","meta":{"tag":[` + string(subsettedTag) + `]},"identifier":[{"value":"a"}],"active":true,"name":[{"family":"Ng"}],"birthDate":"1990-01-01","_birthDate":{"id":"b"},"deceasedBoolean":false}`},
		{SummaryData, `{"resourceType":"Patient","id":"1","meta":{"tag":[` + string(subsettedTag) + `]},"extension":[{"url":"u","valueString":"x"}],"identifier":[{"value":"a"}],"active":true,"name":[{"family":"Ng"}],` +
			`"birthDate":"1990-01-01","_birthDate":{"id":"b"},"deceasedBoolean":false,"communication":[{"language":{"text":"en"}}],"generalPractitioner":[{"reference":"Practitioner/2"}]}`},
	} {
		got, err := Summarize(patient, c.mode)
		if err != nil || string(got) != c.want {
			t.Errorf("_summary=%s:\n got %s %v\nwant %s", c.mode, got, err, c.want)
		}
	}
	if _, err := Summarize(json.RawMessage(`{"resourceType":"Basic","id":"1"}`), SummaryTrue); err == nil {
		t.Error("a type without a summary table was summarised")
	}
}
