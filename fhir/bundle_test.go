package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

const base = "https://fhir.example.test/integrator/sites/s1/fhir/R4"

func TestSelfLink(t *testing.T) {
	s := pageOne(t, "family:exact=O'Brien,a%5C,b&identifier=http://x|1&_sort=-birthdate&famly=x&_count=5")
	self := SelfLink(base+"/", "Patient", s.Applied)
	want := base + "/Patient?_count=5&_sort=-birthdate&family:exact=O%27Brien,a%5C,b&identifier=http://x%7C1"
	if self != want {
		t.Errorf("self\n got %s\nwant %s", self, want)
	}
	// A client following self gets the same search, ignored parameters gone.
	u, err := url.Parse(self)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseSearch(patientDecl, u.Query(), strictOpts())
	if err != nil {
		t.Fatal(err)
	}
	s.Ignored = nil
	if !reflect.DeepEqual(again, s) {
		t.Errorf("self parses to\n %+v\nwant %+v", again, s)
	}
	if got := SelfLink(base, "Patient", nil); got != base+"/Patient" {
		t.Errorf("self without parameters = %s", got)
	}
	// A literal %2C in a value is not turned into a comma.
	if got := SelfLink(base, "Patient", url.Values{"family": {"%2C"}}); got != base+"/Patient?family=%252C" {
		t.Errorf("self = %s", got)
	}
}

func TestNextLink(t *testing.T) {
	s := pageOne(t, "family=smi")
	tok := s.Token(pagingKey, fixedNow.Add(1e12))
	next := NextLink(base, "Patient", tok)
	if next != base+"/Patient?_page_token="+tok {
		t.Errorf("next = %s", next)
	}
	u, _ := url.Parse(next)
	if u.Query().Get("_page_token") != tok {
		t.Error("token does not survive the URL")
	}
}

// bundleOf decodes a Bundle twice: generically, to check the exact shape,
// and into the generated R4 models, whose enum types refuse unknown codes.
func bundleOf(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	if _, err := models.UnmarshalBundle(b); err != nil {
		t.Fatalf("not an R4 Bundle: %v\n%s", err, b)
	}
	if bytes.Contains(b, []byte("null")) {
		t.Errorf("bundle contains null: %s", b)
	}
	return m
}

func TestPageJSON(t *testing.T) {
	total := 42
	patient := json.RawMessage(`{"resourceType":"Patient","id":"1","name":[{"family":"Smith"}]}`)
	doctor := json.RawMessage(`{"resourceType":"Practitioner","id":"7"}`)
	p := &Page{
		Base: base, Self: base + "/Patient?_count=1", Next: base + "/Patient?_page_token=abc", Total: &total,
		Entries: []Entry{
			{FullURL: base + "/Patient/1", Resource: patient, Mode: ModeMatch},
			{Resource: json.RawMessage(`{"resourceType":"Patient","id":"2"}`)}, // fullUrl from Base, mode match
			{FullURL: base + "/Practitioner/7", Resource: doctor, Mode: ModeInclude},
			{FullURL: base + "/Practitioner/7", Resource: doctor, Mode: ModeInclude}, // included twice: once
			{FullURL: base + "/Patient/1", Resource: patient, Mode: ModeInclude},     // included and a match: once
		},
		Ignored: []string{"famly", "foo:exact"},
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	m := bundleOf(t, b)
	if m["resourceType"] != "Bundle" || m["type"] != "searchset" || m["total"] != 42.0 {
		t.Errorf("bundle head: %s", b)
	}
	links := m["link"].([]any)
	if len(links) != 2 || links[0].(map[string]any)["relation"] != "self" || links[0].(map[string]any)["url"] != p.Self ||
		links[1].(map[string]any)["relation"] != "next" || links[1].(map[string]any)["url"] != p.Next {
		t.Errorf("links = %v", links)
	}
	entries := m["entry"].([]any)
	type row struct{ fullURL, mode, typ, id string }
	var got []row
	for _, e := range entries {
		e := e.(map[string]any)
		r := e["resource"].(map[string]any)
		fu, _ := e["fullUrl"].(string)
		id, _ := r["id"].(string)
		got = append(got, row{fu, e["search"].(map[string]any)["mode"].(string), r["resourceType"].(string), id})
	}
	want := []row{
		{"", "outcome", "OperationOutcome", ""},
		{base + "/Patient/1", "match", "Patient", "1"},
		{base + "/Patient/2", "match", "Patient", "2"},
		{base + "/Practitioner/7", "include", "Practitioner", "7"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries\n got %v\nwant %v", got, want)
	}
	oo := entries[0].(map[string]any)["resource"].(map[string]any)["issue"].([]any)[0].(map[string]any)
	if oo["severity"] != "warning" || oo["code"] != "not-supported" || !strings.Contains(oo["diagnostics"].(string), "famly, foo:exact") {
		t.Errorf("outcome issue = %v", oo)
	}
	// Resources are written byte for byte.
	if !bytes.Contains(b, patient) {
		t.Error("resource altered")
	}
	// WriteTo and MarshalJSON agree, and WriteTo counts what it wrote.
	var buf bytes.Buffer
	n, err := p.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) || !bytes.Equal(buf.Bytes(), b) {
		t.Errorf("WriteTo: n %d len %d err %v", n, buf.Len(), err)
	}
	// A Page value marshals the same as a pointer.
	if b2, _ := json.Marshal(*p); !bytes.Equal(b2, b) {
		t.Error("value and pointer marshal differently")
	}
}

func TestPageMinimal(t *testing.T) {
	for name, p := range map[string]Page{
		"empty":             {},
		"self only":         {Self: base + "/Patient?_count=20"},
		"count, no entries": {Self: base + "/Patient?_summary=count", Total: new(int)},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			m := bundleOf(t, b)
			if _, ok := m["entry"]; ok {
				t.Errorf("entry present: %s", b)
			}
			if _, ok := m["link"]; ok != (p.Self != "") {
				t.Errorf("link: %s", b)
			}
			if _, ok := m["total"]; ok != (p.Total != nil) {
				t.Errorf("total: %s", b)
			}
		})
	}
	b, _ := json.Marshal(Page{Self: "s", Total: new(int)})
	if string(b) != `{"resourceType":"Bundle","type":"searchset","total":0,"link":[{"relation":"self","url":"s"}]}` {
		t.Errorf("bundle = %s", b)
	}
}

func TestPageBadEntries(t *testing.T) {
	neg := -1
	for name, p := range map[string]Page{
		"invalid JSON":      {Entries: []Entry{{Resource: json.RawMessage(`{"resourceType":"Patient"`)}}},
		"not an object":     {Entries: []Entry{{Resource: json.RawMessage(`[1]`)}}},
		"null":              {Entries: []Entry{{Resource: nil}}},
		"no resourceType":   {Entries: []Entry{{Resource: json.RawMessage(`{"id":"1"}`)}}},
		"unknown mode":      {Entries: []Entry{{Resource: json.RawMessage(`{"resourceType":"Patient"}`), Mode: "matched"}}},
		"negative total":    {Total: &neg},
		"trailing garbage ": {Entries: []Entry{{Resource: json.RawMessage(`{"resourceType":"Patient"} x`)}}},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := p.WriteTo(&buf)
			wantError(t, err, 500, IssueException)
			if buf.Len() != 0 {
				t.Errorf("wrote %q before failing", buf.String())
			}
			if _, err := json.Marshal(p); err == nil {
				t.Error("MarshalJSON accepted it")
			}
		})
	}
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(b []byte) (int, error) {
	if w.after <= 0 {
		return 0, errors.New("broken pipe")
	}
	w.after--
	return len(b), nil
}

func TestPageWriteError(t *testing.T) {
	p := Page{Self: "s", Entries: []Entry{{Resource: json.RawMessage(`{"resourceType":"Patient","id":"1"}`)}}}
	if _, err := p.WriteTo(&failingWriter{after: 3}); err == nil || err.Error() != "broken pipe" {
		t.Errorf("err = %v", err)
	}
}
