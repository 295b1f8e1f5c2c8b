package fhir

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CapabilityOptions are what the CapabilityStatement says beyond the
// resources.
type CapabilityOptions struct {
	// Base is the FHIR base URL: implementation.url.
	Base string
	// Software names the server (software.name); "fhirlink" when empty.
	Software string
	// Version is software.version, omitted when empty.
	Version string
	// Description is implementation.description; a generic one when empty.
	Description string
	// APIKeyHeader is the HTTP header carrying the integrator's API key,
	// named in rest.security.description when set.
	APIKeyHeader string
	// Date is the statement's date; the current time when zero.
	Date time.Time
	// TokenURL is the OAuth 2.0 token endpoint of SMART Backend Services.
	// When set, rest.security names the SMART-on-FHIR service and carries
	// the token URL in the oauth-uris extension.
	TokenURL string
	// BulkExport advertises FHIR Bulk Data $export at system level and,
	// when Patient is declared, at Patient level: rest.operation, the
	// Patient resource's operation and instantiates of the Bulk Data
	// server CapabilityStatement. Set it only when the operations work.
	BulkExport bool
	// Writes are, by resource type, the write interactions (create,
	// update, patch) and operations that work at the site: only these are
	// advertised.
	Writes map[string]Writes
}

// Writes are the write interactions and operations of one resource type.
type Writes struct {
	Interactions []string
	Operations   []Operation
	// ConditionalCreate says create takes If-None-Exist.
	ConditionalCreate bool
}

// Operation is a resource type's operation (CapabilityStatement
// rest.resource.operation).
type Operation struct {
	Name, Definition, Documentation string
}

// Canonical URLs of the FHIR Bulk Data Access IG (v2) this server follows.
const (
	BulkDataCapability      = "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"
	BulkDataExport          = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
	BulkDataPatientExport   = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
	bulkExportDocumentation = "FHIR Bulk Data export (NDJSON). Kick off with GET and Prefer: respond-async; _type, _since " +
		"(an instant; resources last updated at or after it) and _outputFormat (application/fhir+ndjson) are supported. " +
		"Poll the Content-Location no faster than Retry-After; files are downloaded with the same credential and expire."
)

// The CapabilityStatement is built from small structs of our own rather
// than the generated models: these have no zero-value enums to leak and no
// required arrays that marshal as null, and omit exactly what is unset.
type capabilityStatement struct {
	ResourceType   string            `json:"resourceType"`
	Instantiates   []string          `json:"instantiates,omitempty"`
	Status         string            `json:"status"`
	Date           string            `json:"date"`
	Kind           string            `json:"kind"`
	Software       capSoftware       `json:"software"`
	Implementation capImplementation `json:"implementation"`
	FhirVersion    string            `json:"fhirVersion"`
	Format         []string          `json:"format"`
	Rest           []capRest         `json:"rest"`
}

type capSoftware struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type capImplementation struct {
	Description string `json:"description"`
	URL         string `json:"url,omitempty"`
}

type capRest struct {
	Mode          string         `json:"mode"`
	Documentation string         `json:"documentation"`
	Security      capSecurity    `json:"security"`
	Resource      []capResource  `json:"resource,omitempty"`
	Operation     []capOperation `json:"operation,omitempty"`
}

type capOperation struct {
	Name          string `json:"name"`
	Definition    string `json:"definition"`
	Documentation string `json:"documentation,omitempty"`
}

type capSecurity struct {
	Extension   []capExtension       `json:"extension,omitempty"`
	Service     []capCodeableConcept `json:"service,omitempty"`
	Description string               `json:"description"`
}

type capExtension struct {
	URL       string         `json:"url"`
	ValueURI  string         `json:"valueUri,omitempty"`
	Extension []capExtension `json:"extension,omitempty"`
}

type capCodeableConcept struct {
	Coding []capCoding `json:"coding"`
	Text   string      `json:"text,omitempty"`
}

type capCoding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// SMART on FHIR's identifiers in a CapabilityStatement.
const (
	oauthURIsExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
	securityServiceCS  = "http://terminology.hl7.org/CodeSystem/restful-security-service"
)

type capResource struct {
	Type              string           `json:"type"`
	SupportedProfile  []string         `json:"supportedProfile,omitempty"`
	Interaction       []capInteraction `json:"interaction"`
	ConditionalCreate bool             `json:"conditionalCreate,omitempty"`
	SearchInclude     []string         `json:"searchInclude,omitempty"`
	SearchRevInclude  []string         `json:"searchRevInclude,omitempty"`
	SearchParam       []capSearchParam `json:"searchParam,omitempty"`
	Operation         []capOperation   `json:"operation,omitempty"`
}

type capInteraction struct {
	Code string `json:"code"`
}

type capSearchParam struct {
	Name          string `json:"name"`
	Definition    string `json:"definition,omitempty"`
	Type          string `json:"type"`
	Documentation string `json:"documentation,omitempty"`
}

// restDoc tells clients the server-wide rules a CapabilityStatement has no
// element for.
var restDoc = "FHIR R4 JSON over a general practice's practice management system. " +
	"Searches are lenient by default: unrecognised parameters are ignored, left out of the self link and reported " +
	"in an OperationOutcome entry (search.mode outcome); send Prefer: handling=strict to have them refused with 400. " +
	"A malformed value is always refused with 400. Dates and times without a time zone are read in the practice's " +
	"local time zone. Paging links (next) are opaque, carry the whole search and expire; run the search again " +
	"when one has expired. _revinclude adds the resources referring to the page's matches, at most " + fmt.Sprint(MaxRevIncluded) +
	" per page; when there are more, the page carries an OperationOutcome warning (search.mode outcome) and a client " +
	"should search those resources directly."

// MaxRevIncluded is the most resources _revinclude adds to one page: the
// HTTP layer stops there and warns, and the CapabilityStatement says so.
const MaxRevIncluded = 1000

// Capability is the server's CapabilityStatement (kind instance, FHIR
// 4.0.1, JSON only) for decls. It advertises exactly what the declarations
// say: per resource, read (when _id is declared, as reads are searches on
// _id), search-type, each declared parameter with its type and, for core
// parameters, the canonical definition (a reference parameter's
// documentation names the chains it takes), each declared _include and
// _revinclude, and the
// result parameters with this resource's limits. Resources are listed by
// type; a type declared twice is listed once, from its first declaration.
func Capability(opt CapabilityOptions, decls []*ResourceDecl) []byte {
	if opt.Software == "" {
		opt.Software = "fhirlink"
	}
	if opt.Description == "" {
		opt.Description = "FHIR R4 API of a general practice, served by " + opt.Software
	}
	if opt.Date.IsZero() {
		opt.Date = time.Now()
	}
	security := "Requests are authenticated with the integrator's API key"
	if opt.APIKeyHeader != "" {
		security += ", sent in the " + opt.APIKeyHeader + " header"
	}
	security += ", and authorised per practice (the practice must have paired with the integrator)."
	sec := capSecurity{}
	if opt.TokenURL != "" {
		security += " SMART Backend Services are supported: get an access token at " + opt.TokenURL +
			" (client_credentials with a private_key_jwt assertion signed RS384 or ES384) and send it as " +
			"Authorization: Bearer. Tokens carry SMART v2 system scopes (system/Patient.rs, system/*.rs; v1 .read and .write " +
			"are accepted): read needs r, search needs s, on the searched type and on every _include'd and _revinclude'd type; " +
			"create needs c and update and patch need u on the written type. " +
			"The API key has full access. The CapabilityStatement needs a credential but no scope."
		sec.Service = []capCodeableConcept{{Coding: []capCoding{{System: securityServiceCS, Code: "SMART-on-FHIR", Display: "SMART-on-FHIR"}},
			Text: "OAuth 2.0 client credentials (SMART Backend Services)"}}
		sec.Extension = []capExtension{{URL: oauthURIsExtension, Extension: []capExtension{{URL: "token", ValueURI: opt.TokenURL}}}}
	}
	sec.Description = security

	rest := capRest{Mode: "server", Documentation: restDoc, Security: sec}
	seen := map[string]bool{}
	for _, d := range decls {
		if d == nil || seen[d.Type] {
			continue
		}
		seen[d.Type] = true
		r := capabilityResource(d)
		w := opt.Writes[d.Type]
		for _, i := range w.Interactions {
			r.Interaction = append(r.Interaction, capInteraction{i})
		}
		r.ConditionalCreate = w.ConditionalCreate
		for _, o := range w.Operations {
			r.Operation = append(r.Operation, capOperation(o))
		}
		rest.Resource = append(rest.Resource, r)
	}
	slices.SortFunc(rest.Resource, func(a, b capResource) int { return strings.Compare(a.Type, b.Type) })
	var instantiates []string
	if opt.BulkExport {
		instantiates = []string{BulkDataCapability}
		rest.Operation = []capOperation{{Name: "export", Definition: BulkDataExport, Documentation: bulkExportDocumentation}}
		for i := range rest.Resource {
			if rest.Resource[i].Type == "Patient" {
				rest.Resource[i].Operation = append(rest.Resource[i].Operation, capOperation{Name: "export", Definition: BulkDataPatientExport,
					Documentation: "Exports every patient's compartment: Patient and the resources referring to a patient. " + bulkExportDocumentation})
			}
		}
	}

	cs := capabilityStatement{
		ResourceType:   "CapabilityStatement",
		Instantiates:   instantiates,
		Status:         "active",
		Date:           opt.Date.UTC().Format(time.RFC3339),
		Kind:           "instance",
		Software:       capSoftware{Name: opt.Software, Version: opt.Version},
		Implementation: capImplementation{Description: opt.Description, URL: opt.Base},
		FhirVersion:    "4.0.1",
		Format:         []string{"application/fhir+json", "json"},
		Rest:           []capRest{rest},
	}
	b, err := json.Marshal(cs)
	if err != nil { // plain strings and slices
		panic(err)
	}
	return b
}

func capabilityResource(d *ResourceDecl) capResource {
	r := capResource{Type: d.Type, SupportedProfile: d.Profiles}
	if _, ok := d.Param("_id"); ok {
		r.Interaction = append(r.Interaction, capInteraction{"read"})
	}
	r.Interaction = append(r.Interaction, capInteraction{"search-type"})
	for _, inc := range d.Includes {
		r.SearchInclude = append(r.SearchInclude, inc.String())
	}
	for _, inc := range d.RevIncludes {
		r.SearchRevInclude = append(r.SearchRevInclude, inc.String())
	}
	for _, p := range d.Params {
		r.SearchParam = append(r.SearchParam, capSearchParam{
			Name: p.Name, Type: string(p.Type), Definition: definitionFor(d.Type, p),
			Documentation: strings.TrimSpace(p.Doc + " " + typeDoc(p)),
		})
	}
	def, most := countBounds(d)
	sorts := strings.Join(append(slices.Clone(d.Sorts), "_id"), ", ")
	r.SearchParam = append(r.SearchParam,
		capSearchParam{Name: "_count", Type: "number", Documentation: fmt.Sprintf(
			"Page size: %d by default, at most %d (a larger value is refused with 400, not reduced). 0 returns the total only.", def, most)},
		capSearchParam{Name: "_sort", Type: "string", Documentation: fmt.Sprintf(
			"Comma-separated sort keys among %s; prefix a key with - for descending. _id ascending is always the last key, so paging is stable.", sorts)},
		capSearchParam{Name: "_summary", Type: "token", Documentation: "true (the summary elements of the FHIR R4 definition, with the mandatory and modifier ones), data (all but the narrative), count (the total without entries) or false; text is not supported. true and data tag the matches SUBSETTED and cannot be combined with _elements."},
		capSearchParam{Name: "_total", Type: "token", Documentation: "accurate adds Bundle.total (an extra count on the practice database); none and estimate give no total."},
		capSearchParam{Name: "_elements", Type: "string", Documentation: "Comma-separated top-level elements to return; mandatory and modifier elements are always returned, and resources are tagged SUBSETTED."},
	)
	return r
}

// typeDoc says how values of a parameter's type are matched.
func typeDoc(p SearchParam) string {
	if p.Name == "_id" {
		return "Matches resource ids; comma-separated ids are ORed; :not supported."
	}
	switch p.Type {
	case TypeString:
		return "Case-insensitive starts-with by default; :exact (case-sensitive, whole value) and :contains supported."
	case TypeToken:
		return "Takes code, system|code, |code or system|; :not supported."
	case TypeDate:
		return "Prefixes eq, ne, gt, lt, ge, le, sa, eb, ap; partial dates (YYYY, YYYY-MM) match their whole period; no time zone means the practice's local time."
	case TypeReference:
		doc := "Takes id or Type/id with Type one of " + targetList(p) + "; absolute URLs are not supported."
		if len(p.Chains) == 0 || len(p.Targets) != 1 {
			return doc + " Chaining is not supported."
		}
		var chains []string
		for _, c := range p.Chains {
			chains = append(chains, p.Name+"."+c.Name+" (or "+p.Name+":"+p.Targets[0]+"."+c.Name+")")
		}
		return doc + " Chained: " + strings.Join(chains, ", ") + " take the values " + p.Targets[0] +
			"'s parameter of that name takes, without modifiers, and match what refers to a matching " + p.Targets[0] + "; no other chain is supported."
	}
	return ""
}
