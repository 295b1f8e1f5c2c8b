// Package fhir is the FHIR R4 REST layer of fhirlink, independent of any
// practice management system: search parameter types, modifiers and
// prefixes, the parsed search, paging tokens, Bundles, OperationOutcome, and
// the CapabilityStatement built from what mappings declare. It knows nothing
// of SQL or of the HTTP router.
package fhir

import (
	"net/url"
	"time"
)

// ParamType is a search parameter's FHIR type.
type ParamType string

// Parameter types fhirlink supports.
const (
	TypeString    ParamType = "string"
	TypeToken     ParamType = "token"
	TypeDate      ParamType = "date"
	TypeReference ParamType = "reference"
)

// SearchParam declares one search parameter of a resource.
type SearchParam struct {
	Name string
	Type ParamType
	// Targets are the resource types a reference parameter points to.
	Targets []string
	// Chains are the parameters of a reference parameter's one target
	// (Targets[0]) it can be chained by, as the target declares them:
	// patient.identifier=system|value, or patient:Patient.identifier,
	// matches the resources whose patient matches identifier=system|value.
	// Chains of chains are not supported, so none of these is a reference.
	Chains []SearchParam
	// Doc says what the parameter matches, for the CapabilityStatement.
	Doc string
}

// Chain returns the declared chain of p named name.
func (p SearchParam) Chain(name string) (SearchParam, bool) {
	for _, c := range p.Chains {
		if c.Name == name {
			return c, true
		}
	}
	return SearchParam{}, false
}

// Include declares an _include a resource supports, as
// Source:Param (e.g. PractitionerRole:practitioner) pointing at Target.
// A _revinclude is declared the same way on its Target:
// Condition:patient on Patient, found by searching Condition by patient.
type Include struct {
	Source, Param, Target string
}

// String is the _include value: "PractitionerRole:practitioner".
func (i Include) String() string { return i.Source + ":" + i.Param }

// ResourceDecl is what a mapping supports for one resource type. The
// CapabilityStatement and the search parser are derived from it, so neither
// can advertise or accept what the mapping does not do.
type ResourceDecl struct {
	Type string // "Patient"
	// Profiles the resources conform to (AU Core canonical URLs).
	Profiles []string
	// Params are the search parameters, _id included when supported.
	Params []SearchParam
	// Sorts are the parameter names usable in _sort; _id is always usable
	// and always the final tie-breaker.
	Sorts    []string
	Includes []Include
	// RevIncludes are the _revinclude values the resource supports, each
	// with Target this type: Source is searched by Param with the ids of
	// a page's matches.
	RevIncludes []Include
	// DefaultCount and MaxCount bound _count.
	DefaultCount, MaxCount int
}

// Param returns the declared parameter named name.
func (d *ResourceDecl) Param(name string) (SearchParam, bool) {
	for _, p := range d.Params {
		if p.Name == name {
			return p, true
		}
	}
	return SearchParam{}, false
}

// Prefix is a date comparison prefix.
type Prefix string

// Date prefixes.
const (
	PrefixEq Prefix = "eq"
	PrefixNe Prefix = "ne"
	PrefixGt Prefix = "gt"
	PrefixLt Prefix = "lt"
	PrefixGe Prefix = "ge"
	PrefixLe Prefix = "le"
	PrefixSa Prefix = "sa"
	PrefixEb Prefix = "eb"
	PrefixAp Prefix = "ap"
)

// String matching modes (string parameters).
const (
	ModifierNone     = ""         // case-insensitive starts-with, the FHIR default
	ModifierExact    = "exact"    // case-sensitive equality of the whole value
	ModifierContains = "contains" // case-insensitive substring
	ModifierNot      = "not"      // token: none of the values
)

// Value is one value of a search parameter, parsed by the parameter's type.
// Only the fields of that type are set.
type Value struct {
	// String parameters: the text to match.
	String string

	// Token parameters. System nil means any system ("code"); a pointer
	// to "" means no system ("|code"); Code "" with a system means any code
	// in that system ("system|"). _id values are tokens with the id in
	// Code and System nil.
	System *string
	Code   string

	// Date parameters: the prefix and the value's range [Lo, Hi), by its
	// precision, in the site's time zone when the value had none
	// (2024 → [2024-01-01T00:00, 2025-01-01T00:00)).
	Prefix Prefix
	Lo, Hi time.Time

	// Reference parameters: "Patient/123" or "123" (Type "").
	RefType, RefID string
}

// Clause is one parameter of a search with its values: it matches when
// any value matches (values are ORed; with ModifierNot, when none does).
//
// A chained clause (patient.identifier=...) has Chain set: Param is the
// reference parameter (patient), Chain the target's parameter
// (identifier), and Modifier and Values are Chain's. It matches the
// resources whose Param refers to a resource matching Chain's values.
type Clause struct {
	Param    SearchParam
	Chain    *SearchParam
	Modifier string
	Values   []Value
}

// SortKey is one _sort key.
type SortKey struct {
	Name string // a declared sort parameter or _id
	Desc bool
}

// Search is a parsed, validated search. Clauses are ANDed.
type Search struct {
	Type     string
	Clauses  []Clause
	Count    int       // page size; 0 when Summary is "count"
	Sort     []SortKey // ends with _id, the stable tie-breaker
	Summary  string    // "" or a _summary mode: SummaryCount, SummaryTrue or SummaryData
	Total    bool      // _total=accurate, or Summary "count": give Bundle.total
	Elements []string
	Include  []Include
	// RevInclude are the _revinclude values asked for, among
	// ResourceDecl.RevIncludes.
	RevInclude []Include
	// After is the cursor of the last row of the previous page: the values
	// of the sort keys, as the mapping formatted them. Nil on page one.
	After []string

	// Applied are the parameters that shaped the result, canonically
	// ordered, for the Bundle's self link; Ignored are the unknown
	// parameters left out in lenient mode.
	Applied url.Values
	Ignored []string

	// now is the instant ap (approximately) ranges were computed from,
	// kept in paging tokens so every page uses the same ranges.
	now time.Time
}

// ParseOptions are what parsing needs beyond the query.
type ParseOptions struct {
	// Strict refuses unknown parameters (Prefer: handling=strict).
	Strict bool
	// Location is the site's time zone, for date values without one;
	// nil means UTC.
	Location *time.Location
	// Now anchors ap (approximately) date ranges; zero means time.Now.
	Now time.Time
}
