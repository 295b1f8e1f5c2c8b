package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// subsettedTag marks a resource that is missing elements on purpose
// (FHIR R4 search, _elements).
var subsettedTag = json.RawMessage(`{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}`)

// alwaysKept are, per resource type, the top-level elements Subset keeps
// whatever was asked: the mandatory ones (min 1), which FHIR says servers
// should return so the resource stays valid, and the modifier ones, whose
// absence would change the meaning of what is kept (a Patient without
// active=false reads as an active patient). From the R4 definitions;
// "[x]" marks a choice element.
var alwaysKept = map[string][]string{
	"AllergyIntolerance":  {"clinicalStatus", "verificationStatus", "patient"},
	"Appointment":         {"status", "participant"},
	"Condition":           {"clinicalStatus", "verificationStatus", "subject"},
	"Encounter":           {"status", "class"},
	"Immunization":        {"status", "vaccineCode", "patient", "occurrence[x]", "isSubpotent"},
	"Location":            {"status"},
	"MedicationRequest":   {"status", "intent", "doNotPerform", "medication[x]", "subject"},
	"MedicationStatement": {"status", "medication[x]", "subject"},
	"Observation":         {"status", "code"},
	"Organization":        {"active"},
	"Patient":             {"active", "deceased[x]", "link"},
	"Schedule":            {"active", "actor"},
	"Slot":                {"schedule", "status", "start", "end"},
}

// keptEverywhere are the elements every resource keeps: its identity and
// the modifiers every DomainResource has.
var keptEverywhere = []string{"resourceType", "id", "meta", "implicitRules", "modifierExtension"}

// choiceSuffixes are the FHIR R4 data type names a choice element's name
// ends with (deceasedBoolean, effectivePeriod). Matching only these keeps
// _elements=class from also keeping classHistory.
var choiceSuffixes = []string{
	"Base64Binary", "Boolean", "Canonical", "Code", "Date", "DateTime", "Decimal", "Id", "Instant",
	"Integer", "Markdown", "Oid", "PositiveInt", "String", "Time", "UnsignedInt", "Uri", "Url", "Uuid",
	"Address", "Age", "Annotation", "Attachment", "CodeableConcept", "Coding", "ContactPoint", "Count",
	"Distance", "Duration", "HumanName", "Identifier", "Money", "Period", "Quantity", "Range", "Ratio",
	"Reference", "SampledData", "Signature", "Timing", "ContactDetail", "Contributor", "DataRequirement",
	"Expression", "ParameterDefinition", "RelatedArtifact", "TriggerDefinition", "UsageContext", "Dosage", "Meta",
}

// Subset returns resource with only the listed top-level elements (as
// _elements names them: a choice element by its name without a type,
// e.g. deceased), plus resourceType, id, meta and the elements in
// alwaysKept, and tags it SUBSETTED in meta.tag. A primitive's extension
// sibling (_birthDate, which carries a data-absent-reason) goes with its
// element. Element order is preserved. With no elements, resource is
// returned unchanged. A resource that is not a JSON object is a 500 *Error.
func Subset(resource json.RawMessage, elements []string) (json.RawMessage, error) {
	if len(elements) == 0 {
		return resource, nil
	}
	return subset(resource, func(string) ([]string, error) { return elements, nil }, nil)
}

// subset keeps, of resource's top-level elements, those that elements
// (given the resource type) lists plus the ones every resource and its
// type keep, or, when elements is nil, those keep accepts; the result is
// tagged SUBSETTED.
func subset(resource json.RawMessage, elements func(typ string) ([]string, error), keep func(name string) bool) (json.RawMessage, error) {
	fields, err := objectFields(resource)
	if err != nil {
		return nil, Errorf(http.StatusInternalServerError, IssueException, "cannot subset a resource: %v", err)
	}
	var typ string
	for _, f := range fields {
		if f.key == "resourceType" {
			_ = json.Unmarshal(f.value, &typ)
		}
	}
	if elements != nil {
		elems, err := elements(typ)
		if err != nil {
			return nil, err
		}
		list := slices.Concat(keptEverywhere, alwaysKept[typ], elems)
		keep = func(name string) bool { return kept(name, list) }
	}
	out := make([]field, 0, len(fields)+1)
	hasMeta := false
	for _, f := range fields {
		if name := strings.TrimPrefix(f.key, "_"); f.key != "meta" && f.key != "resourceType" && !keep(name) {
			continue
		}
		if f.key == "meta" {
			hasMeta = true
			if f.value, err = tagSubsetted(f.value); err != nil {
				return nil, Errorf(http.StatusInternalServerError, IssueException, "cannot subset a resource: meta: %v", err)
			}
		}
		out = append(out, f)
	}
	if !hasMeta {
		meta := field{"meta", json.RawMessage(`{"tag":[` + string(subsettedTag) + `]}`)}
		// After resourceType and id, where a reader looks for it.
		at := 0
		for at < len(out) && (out[at].key == "resourceType" || out[at].key == "id") {
			at++
		}
		out = slices.Insert(out, at, meta)
	}
	return writeObject(out), nil
}

// kept reports whether element name is in keep, directly or as a typed
// choice (keep holds "deceased" or "deceased[x]", name is
// deceasedBoolean).
func kept(name string, keep []string) bool {
	for _, k := range keep {
		k = strings.TrimSuffix(k, "[x]")
		if name == k {
			return true
		}
		if suffix, ok := strings.CutPrefix(name, k); ok && slices.Contains(choiceSuffixes, suffix) {
			return true
		}
	}
	return false
}

// tagSubsetted adds the SUBSETTED tag to a meta object, once.
func tagSubsetted(meta json.RawMessage) (json.RawMessage, error) {
	fields, err := objectFields(meta)
	if err != nil {
		return nil, err
	}
	for i, f := range fields {
		if f.key != "tag" {
			continue
		}
		var tags []json.RawMessage
		if err := json.Unmarshal(f.value, &tags); err != nil {
			return nil, err
		}
		for _, t := range tags {
			var c struct{ System, Code string }
			if json.Unmarshal(t, &c) == nil && c.Code == "SUBSETTED" && c.System == "http://terminology.hl7.org/CodeSystem/v3-ObservationValue" {
				return meta, nil
			}
		}
		b, _ := json.Marshal(append(tags, subsettedTag)) // raw messages that just unmarshalled
		fields[i].value = b
		return writeObject(fields), nil
	}
	return writeObject(append(fields, field{"tag", json.RawMessage(`[` + string(subsettedTag) + `]`)})), nil
}

// field is one member of a JSON object, kept in document order.
type field struct {
	key   string
	value json.RawMessage
}

// objectFields splits a JSON object into its members, in order.
func objectFields(b []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var fields []field
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string) // object keys are always strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		fields = append(fields, field{key, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the JSON object")
	}
	return fields, nil
}

// writeObject joins members into a JSON object.
func writeObject(fields []field) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(f.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}
