package fhir

import (
	"encoding/json"
	"net/http"
)

// _summary values (Search.Summary).
const (
	SummaryCount = "count" // the total alone, no entries
	SummaryTrue  = "true"  // the summary elements
	SummaryData  = "data"  // everything but the narrative
)

// summaryElements are, per resource type served, the top-level elements
// the FHIR R4 (4.0.1) StructureDefinitions mark isSummary, besides id,
// meta and implicitRules, which every resource's are. "[x]" marks a
// choice element. TestSummaryElementsAreR4s checks the table against the
// R4 definitions the validators ship. Elements a profile makes mandatory
// but R4 does not mark as summary (Appointment.participant) are kept by
// alwaysKept, so a summary stays valid.
var summaryElements = map[string][]string{
	"AllergyIntolerance":  {"identifier", "clinicalStatus", "verificationStatus", "type", "category", "criticality", "code", "patient", "asserter"},
	"Appointment":         {"identifier", "status", "cancelationReason", "serviceCategory", "serviceType", "specialty", "appointmentType", "reasonCode", "start", "end"},
	"Condition":           {"identifier", "clinicalStatus", "verificationStatus", "code", "bodySite", "subject", "encounter", "onset[x]", "recordedDate", "recorder", "asserter"},
	"Encounter":           {"identifier", "status", "class", "type", "serviceType", "subject", "episodeOfCare", "participant", "appointment", "reasonCode", "reasonReference", "diagnosis"},
	"Immunization":        {"status", "vaccineCode", "patient", "occurrence[x]", "primarySource", "performer", "note", "isSubpotent"},
	"Location":            {"identifier", "status", "operationalStatus", "name", "description", "mode", "type", "physicalType", "managingOrganization"},
	"MedicationRequest":   {"status", "intent", "priority", "doNotPerform", "reported[x]", "medication[x]", "subject", "authoredOn", "requester", "performerType", "instantiatesCanonical", "instantiatesUri", "basedOn", "groupIdentifier"},
	"MedicationStatement": {"identifier", "basedOn", "partOf", "status", "category", "medication[x]", "subject", "context", "effective[x]", "dateAsserted"},
	"Observation":         {"identifier", "basedOn", "partOf", "status", "code", "subject", "focus", "encounter", "effective[x]", "issued", "performer", "value[x]", "hasMember", "derivedFrom", "component"},
	"Organization":        {"identifier", "active", "type", "name", "partOf"},
	"Patient":             {"identifier", "active", "name", "telecom", "gender", "birthDate", "deceased[x]", "address", "managingOrganization", "link"},
	"Practitioner":        {"identifier", "active", "name", "telecom", "address", "gender", "birthDate"},
	"PractitionerRole":    {"identifier", "active", "period", "practitioner", "organization", "code", "specialty", "location", "telecom"},
	"Schedule":            {"identifier", "active", "serviceCategory", "serviceType", "specialty", "actor", "planningHorizon"},
	"Slot":                {"identifier", "serviceCategory", "serviceType", "specialty", "appointmentType", "schedule", "status", "start", "end"},
}

// HasSummary reports whether Summarize knows the summary elements of typ.
func HasSummary(typ string) bool {
	_, ok := summaryElements[typ]
	return ok
}

// Summarize returns resource as _summary=mode asks, tagged SUBSETTED:
//   - true: the summary elements of its type (summaryElements), and the
//     mandatory and modifier ones (alwaysKept);
//   - data: everything but the narrative.
//
// text is not a mode here: it keeps the narrative and the mandatory
// elements only, which breaks the invariants of types served (an
// Appointment without start, an Organization without name), and the
// mappings write no narrative, so it would return nothing of use.
//
// With mode "", "false" or "count" the resource is returned unchanged. A
// type without a summary table, or a resource that is not a JSON object,
// is a 500 *Error.
func Summarize(resource json.RawMessage, mode string) (json.RawMessage, error) {
	switch mode {
	case "", "false", SummaryCount:
		return resource, nil
	case SummaryTrue:
		return subset(resource, func(typ string) ([]string, error) {
			elems, ok := summaryElements[typ]
			if !ok {
				return nil, Errorf(http.StatusInternalServerError, IssueException, "no summary elements are known for %s", typ)
			}
			return elems, nil
		}, nil)
	case SummaryData:
		return subset(resource, nil, func(name string) bool { return name != "text" })
	}
	return nil, Errorf(http.StatusInternalServerError, IssueException, "unknown _summary mode %q", mode)
}
