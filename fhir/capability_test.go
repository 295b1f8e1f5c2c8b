package fhir

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

func TestCapability(t *testing.T) {
	date := time.Date(2024, 5, 1, 10, 0, 0, 0, sydney)
	// A declaration with a parameter whose type disagrees with the core
	// definition, and one that is not a core parameter at all.
	odd := &ResourceDecl{Type: "Organization", Params: []SearchParam{
		{Name: "_id", Type: TypeToken},
		{Name: "name", Type: TypeToken},
		{Name: "x-local", Type: TypeString, Doc: "Local."},
	}, Sorts: []string{"name"}, DefaultCount: 5, MaxCount: 10}
	decls := []*ResourceDecl{patientDecl, roleDecl, locationDecl, odd, nil, patientDecl}
	b := Capability(CapabilityOptions{Base: base, Version: "1.2.3", APIKeyHeader: "X-Key", Date: date}, decls)

	if bytes.Contains(b, []byte("null")) {
		t.Errorf("null in %s", b)
	}
	cs, err := models.UnmarshalCapabilityStatement(b)
	if err != nil {
		t.Fatalf("not an R4 CapabilityStatement: %v\n%s", err, b)
	}
	if cs.Status != models.PublicationStatusActive || cs.Kind != models.CapabilityStatementKindInstance ||
		cs.FhirVersion != models.FHIRVersion4_0_1 || cs.Date != "2024-05-01T00:00:00Z" {
		t.Errorf("head: status %s kind %s version %s date %s", cs.Status, cs.Kind, cs.FhirVersion, cs.Date)
	}
	if !reflect.DeepEqual(cs.Format, []string{"application/fhir+json", "json"}) {
		t.Errorf("format = %v", cs.Format)
	}
	if cs.Implementation == nil || cs.Implementation.Url == nil || *cs.Implementation.Url != base || cs.Implementation.Description == "" {
		t.Errorf("implementation = %+v", cs.Implementation)
	}
	if cs.Software == nil || cs.Software.Name != "fhirlink" || cs.Software.Version == nil || *cs.Software.Version != "1.2.3" {
		t.Errorf("software = %+v", cs.Software)
	}
	if len(cs.Rest) != 1 || cs.Rest[0].Mode != models.RestfulCapabilityModeServer {
		t.Fatalf("rest = %+v", cs.Rest)
	}
	rest := cs.Rest[0]
	if rest.Security == nil || rest.Security.Description == nil || !strings.Contains(*rest.Security.Description, "X-Key header") {
		t.Errorf("security = %+v", rest.Security)
	}
	if rest.Documentation == nil || !strings.Contains(*rest.Documentation, "handling=strict") {
		t.Errorf("documentation = %v", rest.Documentation)
	}

	var types []string
	byType := map[string]models.CapabilityStatementRestResource{}
	for _, r := range rest.Resource {
		types = append(types, r.Type.Code())
		byType[r.Type.Code()] = r
	}
	if !reflect.DeepEqual(types, []string{"Location", "Organization", "Patient", "PractitionerRole"}) {
		t.Errorf("resources = %v", types)
	}
	for _, d := range []*ResourceDecl{patientDecl, roleDecl, locationDecl, odd} {
		r := byType[d.Type]
		// Interactions: read only where reads work (_id declared).
		var codes []string
		for _, i := range r.Interaction {
			codes = append(codes, i.Code.Code())
		}
		want := []string{"read", "search-type"}
		if _, ok := d.Param("_id"); !ok {
			want = want[1:]
		}
		if !reflect.DeepEqual(codes, want) {
			t.Errorf("%s interactions = %v, want %v", d.Type, codes, want)
		}
		if !reflect.DeepEqual(r.SupportedProfile, d.Profiles) {
			t.Errorf("%s profiles = %v", d.Type, r.SupportedProfile)
		}
		var incs []string
		for _, inc := range d.Includes {
			incs = append(incs, inc.String())
		}
		if !reflect.DeepEqual(r.SearchInclude, incs) {
			t.Errorf("%s includes = %v, want %v", d.Type, r.SearchInclude, incs)
		}
		// Exactly the declared parameters, then the result parameters.
		var names, wantNames []string
		for _, p := range r.SearchParam {
			names = append(names, p.Name+":"+p.Type.Code())
		}
		for _, p := range d.Params {
			wantNames = append(wantNames, p.Name+":"+string(p.Type))
		}
		wantNames = append(wantNames, "_count:number", "_sort:string", "_summary:token", "_total:token", "_elements:string")
		if !reflect.DeepEqual(names, wantNames) {
			t.Errorf("%s params\n got %v\nwant %v", d.Type, names, wantNames)
		}
	}

	defs := map[string]string{}
	docs := map[string]string{}
	for _, typ := range types {
		for _, p := range byType[typ].SearchParam {
			if p.Definition != nil {
				defs[typ+"."+p.Name] = *p.Definition
			}
			if p.Documentation != nil {
				docs[typ+"."+p.Name] = *p.Documentation
			}
		}
	}
	wantDefs := map[string]string{
		"Patient._id":                   "http://hl7.org/fhir/SearchParameter/Resource-id",
		"Patient.identifier":            "http://hl7.org/fhir/SearchParameter/Patient-identifier",
		"Patient.family":                "http://hl7.org/fhir/SearchParameter/individual-family",
		"Patient.given":                 "http://hl7.org/fhir/SearchParameter/individual-given",
		"Patient.name":                  "http://hl7.org/fhir/SearchParameter/Patient-name",
		"Patient.birthdate":             "http://hl7.org/fhir/SearchParameter/individual-birthdate",
		"Patient.gender":                "http://hl7.org/fhir/SearchParameter/individual-gender",
		"Patient.active":                "http://hl7.org/fhir/SearchParameter/Patient-active",
		"Patient.general-practitioner":  "http://hl7.org/fhir/SearchParameter/Patient-general-practitioner",
		"PractitionerRole._id":          "http://hl7.org/fhir/SearchParameter/Resource-id",
		"PractitionerRole.practitioner": "http://hl7.org/fhir/SearchParameter/PractitionerRole-practitioner",
		"PractitionerRole.identifier":   "http://hl7.org/fhir/SearchParameter/PractitionerRole-identifier",
		"Location.name":                 "http://hl7.org/fhir/SearchParameter/Location-name",
		"Location.address-postalcode":   "http://hl7.org/fhir/SearchParameter/Location-address-postalcode",
		"Organization._id":              "http://hl7.org/fhir/SearchParameter/Resource-id",
		// Organization.name is declared as a token: no definition, and
		// x-local is not a core parameter.
	}
	if !reflect.DeepEqual(defs, wantDefs) {
		t.Errorf("definitions\n got %v\nwant %v", defs, wantDefs)
	}
	for key, frag := range map[string]string{
		"Patient.family":               "Family name. Case-insensitive starts-with",
		"Patient.general-practitioner": "Practitioner, PractitionerRole",
		"Patient.birthdate":            "practice's local time",
		"Patient._count":               "20 by default, at most 100",
		"Patient._sort":                "family, birthdate, _id",
		"Organization._count":          "5 by default, at most 10",
		"Organization._sort":           "name, _id",
		"Location._sort":               "among _id;",
		"Organization.x-local":         "Local.",
	} {
		if !strings.Contains(docs[key], frag) {
			t.Errorf("%s documentation %q lacks %q", key, docs[key], frag)
		}
	}
}

func TestCapabilityDefaults(t *testing.T) {
	b := Capability(CapabilityOptions{}, nil)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, err := time.Parse(time.RFC3339, m["date"].(string)); err != nil {
		t.Errorf("date %v: %v", m["date"], err)
	}
	impl := m["implementation"].(map[string]any)
	if impl["description"] == "" || impl["url"] != nil {
		t.Errorf("implementation = %v", impl)
	}
	rest := m["rest"].([]any)[0].(map[string]any)
	if _, ok := rest["resource"]; ok {
		t.Errorf("resources advertised without declarations: %v", rest)
	}
	if strings.Contains(rest["security"].(map[string]any)["description"].(string), "header") {
		t.Error("names a header it was not given")
	}
}

func TestDefinitionsTable(t *testing.T) {
	for key, d := range definitions {
		if !strings.Contains(key, ".") || d.id == "" || strings.Contains(d.id, "/") {
			t.Errorf("bad entry %s: %+v", key, d)
		}
		switch d.typ {
		case TypeString, TypeToken, TypeDate, TypeReference:
		default:
			t.Errorf("%s has type %s", key, d.typ)
		}
	}
}
